package ecsapi

import (
	"context"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// StopAll (serve --stop-tasks-on-exit) takes every task to STOPPED, ENIs and
// all, and reports how many it stopped; STOPPED tasks are left as they were.
func TestStopAll(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "m5.4xlarge", "demo")
	w.settle()
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), Count: ecstypes.Ptr(int32(3)), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	if len(run.Tasks) != 3 {
		t.Fatalf("run %+v", run)
	}
	w.settleTasks()
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: run.Tasks[0].TaskArn, Reason: str("by hand")}))(t)
	w.settleTasks()

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := w.StopAll(stopCtx, "vpcsim stopped")
	if err != nil || n != 2 {
		t.Fatalf("StopAll stopped %d: %v; want 2", n, err)
	}
	for i, task := range run.Tasks {
		got := w.describe(t, "demo", *task.TaskArn)
		reason := "vpcsim stopped"
		if i == 0 {
			reason = "by hand"
		}
		if deref(got.LastStatus) != "STOPPED" || deref(got.StoppedReason) != reason || got.StopCode != ecstypes.TaskStopCodeUserInitiated {
			t.Errorf("task %d after StopAll: %s %q %s", i, deref(got.LastStatus), deref(got.StoppedReason), got.StopCode)
		}
	}
	if enis := must(w.ec2.DescribeNetworkInterfaces(ctx, ec2West, nil, nil))(t); len(enis) != 1 {
		t.Errorf("after StopAll %d ENIs remain, want the instance's own", len(enis))
	}
}
