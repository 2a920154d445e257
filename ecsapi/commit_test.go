package ecsapi

import (
	"context"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// A change the store refuses leaves the model as it was, with nothing of it
// running: no task placed, no stop requested, no registration counted.
func TestRefusedCommitLeavesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "c5.large", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	refuse := func() { w.store.FailNext = errTest("disk on fire") }
	refused := func(err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("got %v, want the store's refusal", err)
		}
	}

	refuse()
	_, err := w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID), Count: ecstypes.Ptr(int32(2))})
	refused(err)
	w.settle()
	if list := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo")}))(t); len(list.TaskArns) != 0 {
		t.Fatalf("refused tasks are listed: %v", list.TaskArns)
	}
	if n := w.tasks.Len(); n != 0 {
		t.Fatalf("the model holds %d refused tasks", n)
	}

	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	arn := *run.Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	refuse()
	_, err = w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: &arn})
	refused(err)
	w.settle()
	if got := w.describe(t, "demo", arn); deref(got.DesiredStatus) != "RUNNING" || deref(got.LastStatus) != "RUNNING" {
		t.Fatalf("after a refused StopTask the task is %s (desired %s)", deref(got.LastStatus), deref(got.DesiredStatus))
	}
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	if !w.rt.Running(id) {
		t.Fatal("a refused StopTask stopped the containers")
	}

	refuse()
	_, err = w.RegisterTaskDefinition(ctx, west, &ecstypes.RegisterTaskDefinitionRequest{Family: str("web"), ContainerDefinitions: nginx("web", "").ContainerDefinitions})
	refused(err)
	again := w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	if *again.Revision != 2 {
		t.Fatalf("after a refused registration the next revision is %d, want 2", *again.Revision)
	}

	refuse()
	_, err = w.TagResource(ctx, west, &ecstypes.TagResourceRequest{ResourceArn: &arn, Tags: []ecstypes.Tag{{Key: str("k"), Value: str("v")}}})
	refused(err)
	if tags := must(w.ListTagsForResource(ctx, west, &ecstypes.ListTagsForResourceRequest{ResourceArn: &arn}))(t).Tags; len(tags) != 0 {
		t.Fatalf("a refused TagResource left tags %v", tags)
	}
}
