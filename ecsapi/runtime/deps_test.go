package runtime

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestHealthCheckParams(t *testing.T) {
	p, ok, err := healthCheckParams(&ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "curl -f", "http://x/"}})
	if !ok || err != nil || !slices.Equal(p.args, []string{"/bin/sh", "-c", "curl -f http://x/"}) ||
		p.interval != 30*time.Second || p.timeout != 5*time.Second || p.retries != 3 || p.startPeriod != 0 {
		t.Errorf("CMD-SHELL defaults = %+v, %v, %v", p, ok, err)
	}
	p, ok, err = healthCheckParams(&ecstypes.HealthCheck{Command: []string{"CMD", "true"}, Interval: ecstypes.Ptr(int32(1)),
		Timeout: ecstypes.Ptr(int32(2)), Retries: ecstypes.Ptr(int32(4)), StartPeriod: ecstypes.Ptr(int32(9))})
	if !ok || err != nil || !slices.Equal(p.args, []string{"true"}) || p.interval != time.Second ||
		p.timeout != 2*time.Second || p.retries != 4 || p.startPeriod != 9*time.Second {
		t.Errorf("CMD = %+v, %v, %v", p, ok, err)
	}
	if _, ok, _ := healthCheckParams(nil); ok {
		t.Error("nil healthCheck runs")
	}
	if _, ok, err := healthCheckParams(&ecstypes.HealthCheck{Command: []string{"CMD"}}); ok || err == nil {
		t.Error("empty CMD accepted")
	}
}

func TestCheckDependencies(t *testing.T) {
	dep := func(name string, cond ecstypes.ContainerCondition) ecstypes.ContainerDependency {
		return ecstypes.ContainerDependency{ContainerName: ecstypes.Ptr(name), Condition: cond}
	}
	ctr := func(name string, hc bool, deps ...ecstypes.ContainerDependency) ecsapi.ContainerRun {
		c := ecsapi.ContainerRun{Def: ecstypes.ContainerDefinition{Name: ecstypes.Ptr(name), DependsOn: deps}}
		if hc {
			c.Def.HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD", "true"}}
		}
		return c
	}
	for _, tc := range []struct {
		name string
		cs   []ecsapi.ContainerRun
		want string // "" = valid
	}{
		{"chain", []ecsapi.ContainerRun{ctr("a", true), ctr("b", false, dep("a", "HEALTHY")), ctr("c", false, dep("b", "SUCCESS"), dep("a", "START"))}, ""},
		{"unknown", []ecsapi.ContainerRun{ctr("a", false, dep("x", "START"))}, "does not exist"},
		{"self", []ecsapi.ContainerRun{ctr("a", false, dep("a", "START"))}, "itself"},
		{"cycle", []ecsapi.ContainerRun{ctr("a", false, dep("b", "START")), ctr("b", false, dep("a", "COMPLETE"))}, "cycle"},
		{"healthy without check", []ecsapi.ContainerRun{ctr("a", false), ctr("b", false, dep("a", "HEALTHY"))}, "no healthCheck"},
		{"bad condition", []ecsapi.ContainerRun{ctr("a", false), ctr("b", false, dep("a", "READY"))}, "unknown condition"},
	} {
		err := checkDependencies(ecsapi.TaskRun{Containers: tc.cs})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
