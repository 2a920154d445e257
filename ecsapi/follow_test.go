package ecsapi

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// recorder is a TaskFollower that notes what it hears, and at PENDING and
// DEPROVISIONING what the task did meanwhile.
type recorder struct {
	rt *fakeRuntime
	mu sync.Mutex
	// heard: the statuses heard, by task ARN; started: whether the
	// containers ran when PENDING was heard, and movedOn whether the task had
	// left DEPROVISIONING when that was (each after a pause that gives a
	// lifecycle that does not wait the time to go on).
	heard            map[string][]TaskStatus
	started, movedOn map[string]bool
}

func newRecorder(rt *fakeRuntime) *recorder {
	return &recorder{rt: rt, heard: map[string][]TaskStatus{}, started: map[string]bool{}, movedOn: map[string]bool{}}
}

func (r *recorder) TaskChanged(s *Service, ev TaskChanged) {
	switch ev.LastStatus {
	case TaskStatusPending:
		time.Sleep(50 * time.Millisecond)
		started := r.rt.Running(ev.ARN[strings.LastIndexByte(ev.ARN, '/')+1:])
		r.mu.Lock()
		r.started[ev.ARN] = started
		r.mu.Unlock()
	case TaskStatusDeprovisioning:
		time.Sleep(50 * time.Millisecond)
		m, _ := s.Metadata(ev.ARN)
		r.mu.Lock()
		r.movedOn[ev.ARN] = deref(m.Task.LastStatus) != string(TaskStatusDeprovisioning)
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard[ev.ARN] = append(r.heard[ev.ARN], ev.LastStatus)
}

func (r *recorder) statuses(arn string) []TaskStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TaskStatus(nil), r.heard[arn]...)
}

// A task's containers start only once the followers that hold PENDING have
// handled it, and it leaves DEPROVISIONING only once those that hold that
// have; after a restart, a follower hears of every task before New returns.
func TestFollowerHoldsAndCatchesUp(t *testing.T) {
	holder := newRecorder(nil)
	w := newWorld(t, WithFollower(holder, TaskStatusPending, TaskStatusDeprovisioning))
	holder.rt = w.rt // before any task: it is read only when one changes
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "c5.large", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t).Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	w.Events().Drain() // the follower too has handled every change
	holder.mu.Lock()
	started, heard := holder.started[arn]
	holder.mu.Unlock()
	if !heard || started {
		t.Fatalf("the containers started before the follower had the task PENDING (heard %v)", holder.statuses(arn))
	}

	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: &arn}))(t)
	w.settle2(t, "demo", arn, "STOPPED")
	w.Events().Drain()
	holder.mu.Lock()
	movedOn, heard := holder.movedOn[arn]
	holder.mu.Unlock()
	if !heard || movedOn {
		t.Fatalf("the task left DEPROVISIONING before its follower had handled it (heard %v)", holder.statuses(arn))
	}

	arn = *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t).Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	w.Close()
	late := newRecorder(w.rt)
	again, err := New(ctx, w.store, w.ec2, w.rt, WithFollower(late))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := late.statuses(arn); len(got) != 1 || got[0] != TaskStatusRunning {
		t.Fatalf("after a restart the follower heard %v, want [RUNNING]", got)
	}
}
