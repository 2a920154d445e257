package ecsapi

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// fakeTaskNet records what the domain asks of the dataplane for non-awsvpc tasks.
type fakeTaskNet struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeTaskNet) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeTaskNet) AttachBridgeTask(_ context.Context, instance, task string, addr netip.Addr, ports []PortForward) error {
	f.add("attach %s %s %v", instance, addr, ports)
	return nil
}
func (f *fakeTaskNet) DetachBridgeTask(_ context.Context, instance, task string) error {
	f.add("detach %s %s", instance, task)
	return nil
}
func (f *fakeTaskNet) EnsureHost(_ context.Context, host string) error {
	f.add("ensure %s", host)
	return nil
}
func (f *fakeTaskNet) DeleteHost(_ context.Context, host string) error {
	f.add("delete %s", host)
	return nil
}

func TestBridgeHostNoneModes(t *testing.T) {
	w := newWorld(t)
	net := &fakeTaskNet{}
	w.taskNet = net
	w.netns = func(host string) string { return "/run/netns/vs-" + host }
	ctx := context.Background()
	w.cluster(t, "m")
	inst := w.instance(t, "m5.xlarge", "m")
	w.register(t, nginx("dyn", ecstypes.NetworkModeBridge))
	w.register(t, nginx("onhost", ecstypes.NetworkModeHost))
	w.register(t, nginx("alone", ecstypes.NetworkModeNone))

	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("m"), TaskDefinition: str("dyn"), Count: ecstypes.Ptr(int32(2))}))(t)
	w.settleTasks()
	slices.Sort(net.calls) // the two tasks come up concurrently
	if len(net.calls) != 2 || !strings.Contains(net.calls[0], "172.17.0.2 [{tcp 49153 80}]") || !strings.Contains(net.calls[1], "172.17.0.3 [{tcp 49154 80}]") {
		t.Fatalf("bridge attach calls %v", net.calls)
	}
	id := (*run.Tasks[0].TaskArn)[len(*run.Tasks[0].TaskArn)-32:]
	if r, _ := w.rt.Run(id); r.NetnsPath != "/run/netns/vs-task-"+id {
		t.Fatalf("a bridge task's containers join %q", r.NetnsPath)
	}
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("m"), Task: run.Tasks[0].TaskArn}))(t)
	w.settleTasks()
	if last := net.calls[len(net.calls)-1]; last != "detach "+inst.ID+" task-"+id {
		t.Fatalf("stop did not detach: %v", net.calls)
	}

	h := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("m"), TaskDefinition: str("onhost")}))(t)
	w.settleTasks()
	hid := (*h.Tasks[0].TaskArn)[len(*h.Tasks[0].TaskArn)-32:]
	if r, _ := w.rt.Run(hid); r.NetnsPath != "/run/netns/vs-"+inst.ID {
		t.Fatalf("a host task's containers join %q, want the instance's namespace", r.NetnsPath)
	}
	if b := h.Tasks[0].Containers[0].NetworkBindings; len(b) != 1 || deref(b[0].HostPort) != 80 {
		t.Fatalf("host mode binding %+v", b)
	}
	n := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("m"), TaskDefinition: str("alone")}))(t)
	w.settleTasks()
	nid := (*n.Tasks[0].TaskArn)[len(*n.Tasks[0].TaskArn)-32:]
	if last := net.calls[len(net.calls)-1]; last != "ensure task-"+nid {
		t.Fatalf("none mode: %v", net.calls)
	}
	// A restart must keep the namespaces of the live bridge and none tasks
	// (not the stopped one's, nor host mode's, which is the instance's):
	// they are claimed in EC2's model, which the reconciliation makes true.
	var hosts []string
	for _, c := range w.ec2.HostClaims() {
		hosts = append(hosts, c.Host)
	}
	slices.Sort(hosts)
	bid := (*run.Tasks[1].TaskArn)[len(*run.Tasks[1].TaskArn)-32:]
	want := []string{"task-" + bid, "task-" + nid}
	slices.Sort(want)
	if !slices.Equal(hosts, want) {
		t.Fatalf("live hosts %v, want %v", hosts, want)
	}
}
