package ecsapi

import (
	"context"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// A task's stored changes are published in order, each once it is stored;
// a refused change publishes nothing.
func TestTaskEvents(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "c5.large", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	events := make(chan TaskChanged, 100)
	sub := bus.On(w.Events(), func(e TaskChanged) { events <- e })
	defer sub.Cancel()

	w.store.FailNext = errTest("disk on fire")
	if _, err := w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}); err == nil {
		t.Fatal("RunTask was not refused")
	}
	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	arn := *run.Tasks[0].TaskArn
	var seen []TaskStatus
	var version int64
	for ev := range events {
		if ev.ARN != arn || ev.Region != "us-west-2" || ev.Cluster != *run.Tasks[0].ClusterArn {
			t.Fatalf("event of another task, or of the refused one: %+v", ev)
		}
		if ev.Version <= version {
			t.Fatalf("version %d after %d", ev.Version, version)
		}
		version = ev.Version
		if len(seen) == 0 || seen[len(seen)-1] != ev.LastStatus {
			seen = append(seen, ev.LastStatus)
		}
		if ev.LastStatus == "RUNNING" {
			break
		}
	}
	if want := []TaskStatus{TaskStatusProvisioning, TaskStatusPending, TaskStatusActivating, TaskStatusRunning}; !slices.Equal(seen, want) {
		t.Fatalf("the task went through %v, want %v", seen, want)
	}
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: &arn}))(t)
	for ev := range events {
		if ev.LastStatus == "STOPPED" {
			if ev.DesiredStatus != "STOPPED" {
				t.Fatalf("stopped event %+v", ev)
			}
			break
		}
	}
}
