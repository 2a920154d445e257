package ecsapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// ECS forgets a task an hour after it stopped, also when an earlier call
// found nothing to forget and a task stopped after it (purgeLocked reads the
// tasks only when one may be due).
func TestStoppedTaskForgottenAfterAnHour(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w := newWorld(t, WithClock(clock))
	ctx := context.Background()
	w.cluster(t, "p")
	w.instance(t, "c5.large", "p")
	w.register(t, nginx("web", ecstypes.NetworkModeBridge))
	// Nothing stopped yet: the next purge is not due for an hour.
	must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("p")}))(t)
	advance(30 * time.Minute)
	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("p"), TaskDefinition: str("web")}))(t).Tasks[0].TaskArn
	w.settleTasks()
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("p"), Task: &arn}))(t)
	w.settleTasks()
	advance(59 * time.Minute) // the first purge is due; the task is not
	if got := w.describe(t, "p", arn); deref(got.LastStatus) != "STOPPED" {
		t.Fatalf("task %s", deref(got.LastStatus))
	}
	advance(2 * time.Minute)
	out := must(w.DescribeTasks(ctx, west, &ecstypes.DescribeTasksRequest{Cluster: str("p"), Tasks: []string{arn}}))(t)
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || deref(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("an hour after it stopped: %+v %+v", out.Tasks, out.Failures)
	}
}
