package ecsapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// stopSignals wakes a task's lifecycle goroutine when a stop is requested. They
// live in memory only: after a restart, a task whose desired status is STOPPED
// is torn down at once.
type stopSignals struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// get returns the task's channel, made on first use by either side.
func (st *stopSignals) get(arn string) chan struct{} {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ch == nil {
		st.ch = map[string]chan struct{}{}
	}
	ch := st.ch[arn]
	if ch == nil {
		ch = make(chan struct{})
		st.ch[arn] = ch
	}
	return ch
}

// signal closes the task's channel, once.
func (st *stopSignals) signal(arn string) {
	ch := st.get(arn)
	st.mu.Lock()
	defer st.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (st *stopSignals) forget(arn string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.ch, arn)
}

func (s *Service) stopSignal(arn string) { s.stops.signal(arn) }

// waitForStop blocks until the task should stop (true), or the service closes
// (false): tasks then go on running, as they do through an ECS agent restart.
func (s *Service) waitForStop(arn string) bool {
	defer s.stops.forget(arn)
	if _, stop := s.snapshot(arn); stop {
		return true
	}
	select {
	case <-s.stops.get(arn):
		return true
	case <-s.closed:
		return false
	}
}

// Close ends the service's background work without stopping tasks, and waits
// for the work under way to finish.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.instanceSub.Cancel()
		close(s.closed)
	})
	s.bg.Wait()
	s.stopScheduler()
	s.stopFollowers()
}

// StopAll stops every task that is not STOPPED, as StopTask with reason would,
// and waits until all are STOPPED or ctx ends; it returns how many it stopped.
// Tasks then leave nothing behind, which is what `serve --stop-tasks-on-exit`
// wants before Close. The service scheduler starts no task after it: the
// services' tasks would come back.
func (s *Service) StopAll(ctx context.Context, reason string) (int, error) {
	s.mu.Lock()
	s.sched.off = true
	m := s.begin()
	var arns []string
	for t := range m.tasks.All() {
		if t.status() != TaskStatusStopped {
			s.requestStopLocked(m, *t.T.TaskArn, ecstypes.TaskStopCodeUserInitiated, reason)
			arns = append(arns, *t.T.TaskArn)
		}
	}
	err := s.commit(m)
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		left := 0
		s.mu.Lock()
		for _, arn := range arns {
			if t, ok := s.tasks.Get(arn); ok && t.status() != TaskStatusStopped {
				left++
			}
		}
		s.mu.Unlock()
		if left == 0 {
			return len(arns), nil
		}
		select {
		case <-ctx.Done():
			return len(arns) - left, fmt.Errorf("%d of %d tasks did not stop: %w", left, len(arns), ctx.Err())
		case <-tick.C:
		}
	}
}
