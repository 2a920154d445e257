package ecsapi

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// The lifecycle's table is a state machine with one end: every state is
// reached from a new task, STOPPED is reached from every state and leads
// nowhere.
func TestTaskTransitionTable(t *testing.T) {
	all := []TaskStatus{TaskStatusProvisioning, TaskStatusPending, TaskStatusActivating, TaskStatusRunning,
		TaskStatusDeactivating, TaskStatusStopping, TaskStatusDeprovisioning, TaskStatusStopped}
	for from, tos := range taskTransitions {
		if from != "" && !slices.Contains(all, from) {
			t.Errorf("unknown state %q", from)
		}
		for _, to := range tos {
			if _, ok := taskTransitions[to]; !ok {
				t.Errorf("%s → %s: %s has no row", from, to, to)
			}
		}
	}
	reach := func(from TaskStatus) map[TaskStatus]bool {
		seen := map[TaskStatus]bool{}
		next := []TaskStatus{from}
		for len(next) > 0 {
			st := next[0]
			next = next[1:]
			for _, to := range taskTransitions[st] {
				if !seen[to] {
					seen[to] = true
					next = append(next, to)
				}
			}
		}
		return seen
	}
	fromNew := reach("")
	for _, st := range all {
		if !fromNew[st] {
			t.Errorf("%s is never reached", st)
		}
		if st != TaskStatusStopped && !reach(st)[TaskStatusStopped] {
			t.Errorf("%s never reaches STOPPED", st)
		}
	}
	if len(taskTransitions[TaskStatusStopped]) != 0 || len(desiredTransitions[ecstypes.DesiredStatusStopped]) != 0 {
		t.Error("STOPPED is not final")
	}
}

// An illegal transition leaves the task as it was and says what it was.
func TestIllegalTransition(t *testing.T) {
	r := &taskRec{T: ecstypes.Task{TaskArn: str("arn:t")}}
	if err := r.setStatus(TaskStatusRunning); err == nil || r.T.LastStatus != nil {
		t.Fatalf("a new task went RUNNING: %v", err)
	}
	must(struct{}{}, r.setStatus(TaskStatusPending))(t)
	must(struct{}{}, r.setDesired(ecstypes.DesiredStatusRunning))(t)
	must(struct{}{}, r.setDesired(ecstypes.DesiredStatusStopped))(t)
	err := r.setDesired(ecstypes.DesiredStatusRunning)
	var ill *illegalTransition
	if !errors.As(err, &ill) || ill.From != "STOPPED" || ill.To != "RUNNING" || ill.What != "desiredStatus" || r.desired() != ecstypes.DesiredStatusStopped {
		t.Fatalf("STOPPED → RUNNING desired: %v, now %s", err, r.desired())
	}
	if err.Error() != "illegal task desiredStatus transition STOPPED → RUNNING of arn:t" {
		t.Fatalf("message %q", err)
	}
}

// The lifecycle refuses to store an illegal step: a STOPPED task stays
// STOPPED, its version unchanged.
func TestLifecycleRefusesIllegalStep(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "c5.large", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	arn := *run.Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: &arn}))(t)
	w.settle2(t, "demo", arn, "STOPPED")
	before := w.describe(t, "demo", arn)
	w.advance(ctx, arn, TaskStatusRunning, nil)
	after := w.describe(t, "demo", arn)
	if deref(after.LastStatus) != "STOPPED" || deref(after.Version) != deref(before.Version) {
		t.Fatalf("STOPPED → RUNNING was stored: %s, version %d → %d", deref(after.LastStatus), deref(before.Version), deref(after.Version))
	}
}
