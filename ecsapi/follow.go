package ecsapi

import (
	"context"
	"slices"
	"sync"

	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// A TaskFollower acts on the tasks' stored changes, as any subscriber of the
// bus does, on a goroutine of its own (the task metadata endpoints today; a
// service scheduler, target registration and service discovery next). What
// makes it more than a subscriber is that a task's lifecycle may wait for
// it: at each status the follower holds, the task goes no further until the
// follower has handled the change that stored that status. So ECS's agent
// works: a task's metadata endpoint listens before its containers start
// (PENDING holds), and is closed before its network goes (DEPROVISIONING);
// load balancer targets will be registered in ACTIVATING and drained in
// DEACTIVATING the same way.
type TaskFollower interface {
	// TaskChanged hears of every task as it is when the service starts,
	// then of every stored change of a task, one at a time and in commit
	// order (a task's versions only grow; a restart's first look may skip
	// some). It must not wait for a task's lifecycle, which may be waiting
	// for it.
	TaskChanged(s *Service, ev TaskChanged)
}

// WithFollower makes f follow the tasks; their lifecycles wait for it at
// each of holds.
func WithFollower(f TaskFollower, holds ...TaskStatus) Option {
	return func(s *Service) { s.followers = append(s.followers, &follower{f: f, holds: holds}) }
}

// follower is a TaskFollower's subscription and what it has handled.
type follower struct {
	f     TaskFollower
	holds []TaskStatus
	sub   *bus.Subscription

	handling sync.Mutex // one TaskChanged at a time: the first look and the bus's
	mu       sync.Mutex
	seen     map[string]int64 // task ARN → the version last handled
	moved    chan struct{}    // closed, and replaced, when seen changes
}

// startFollowers subscribes every follower, then shows it every task as it
// is (those are the events of the tasks' last changes; one the bus also
// delivers is handled once). New calls it before anything can change a task.
func (s *Service) startFollowers() {
	for _, fl := range s.followers {
		fl.seen, fl.moved = map[string]int64{}, make(chan struct{})
		fl.sub = bus.On(s.events, func(ev TaskChanged) { fl.handle(s, ev) })
	}
	s.mu.Lock()
	var now []TaskChanged
	for t := range s.tasks.All() {
		now = append(now, taskEvent(*t.T.TaskArn, t))
	}
	s.mu.Unlock()
	for _, fl := range s.followers {
		for _, ev := range now {
			fl.handle(s, ev)
		}
	}
}

// stopFollowers ends the followers' subscriptions (Close).
func (s *Service) stopFollowers() {
	for _, fl := range s.followers {
		if fl.sub != nil {
			fl.sub.Cancel()
		}
	}
}

func (fl *follower) handle(s *Service, ev TaskChanged) {
	fl.handling.Lock()
	defer fl.handling.Unlock()
	fl.mu.Lock()
	v, known := fl.seen[ev.ARN]
	fl.mu.Unlock()
	if known && !ev.Deleted && ev.Version <= v {
		return
	}
	fl.f.TaskChanged(s, ev)
	fl.mu.Lock()
	if ev.Deleted {
		delete(fl.seen, ev.ARN)
	} else {
		fl.seen[ev.ARN] = ev.Version
	}
	close(fl.moved)
	fl.moved = make(chan struct{})
	fl.mu.Unlock()
}

// hold waits until every follower that holds status has handled version v
// of the task (the change that stored status), the service closes, or ctx
// ends.
func (s *Service) hold(ctx context.Context, arn string, status TaskStatus, v int64) {
	for _, fl := range s.followers {
		if !slices.Contains(fl.holds, status) {
			continue
		}
		for {
			fl.mu.Lock()
			done, moved := fl.seen[arn] >= v, fl.moved
			fl.mu.Unlock()
			if done {
				break
			}
			select {
			case <-moved:
			case <-ctx.Done():
				return
			case <-s.closed:
				return
			}
		}
	}
}
