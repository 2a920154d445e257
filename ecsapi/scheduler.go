package ecsapi

import (
	"context"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// The service scheduler keeps every ACTIVE service at its desired count of
// tasks, as ECS's does: it starts what is missing (placed as ECS places a
// service's tasks, spread over the Availability Zones), replaces tasks that
// stop or fail their health checks, stops what is too many, and takes a
// deleted service's tasks down before the service becomes INACTIVE. It says
// what it did in the service's events.
//
// It works in passes on one goroutine, woken by the events of the services'
// tasks and by commits that change a service or a container instance. A pass
// decides from what is stored, and the tasks it starts are stored in the same
// commit as the service's event that names them: after a crash, the next
// pass counts them, and starts none twice.

// ServiceTimers are the scheduler's waits. The defaults are ECS's; an
// operator may scale them down for tests (serve --service-timer-scale),
// which changes no setting that the API reports.
type ServiceTimers struct {
	// RetryBase is how long the scheduler waits before starting a
	// service's task again once two in a row failed to start (never
	// reached RUNNING); the wait doubles with each further failure, up to
	// RetryMax (15 minutes in ECS).
	RetryBase, RetryMax time.Duration
	// HealthyWait is how long a task with no health check must have run
	// before a deployment counts it healthy (40 seconds in ECS).
	HealthyWait time.Duration
	// RepeatEvents is how long a service event is not repeated, and how
	// often a steady service says so again (six hours in ECS; 0: never).
	RepeatEvents time.Duration
}

// DefaultServiceTimers are ECS's timers. ECS documents only the cap of 15
// minutes; the first wait is vpcsim's choice.
var DefaultServiceTimers = ServiceTimers{RetryBase: 10 * time.Second, RetryMax: 15 * time.Minute, HealthyWait: 40 * time.Second, RepeatEvents: 6 * time.Hour}

// Scaled is t with every wait multiplied by f.
func (t ServiceTimers) Scaled(f float64) ServiceTimers {
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	return ServiceTimers{RetryBase: scale(t.RetryBase), RetryMax: scale(t.RetryMax), HealthyWait: scale(t.HealthyWait), RepeatEvents: scale(t.RepeatEvents)}
}

// WithServiceTimers replaces the scheduler's timers.
func WithServiceTimers(t ServiceTimers) Option { return func(s *Service) { s.timers = t } }

type scheduler struct {
	wake  chan struct{} // a pass is due; made by New
	pass  sync.Mutex    // one pass at a time
	retry *time.Timer   // wakes the scheduler when a throttled service may start again (pass)
	next  time.Time     // when retry fires (zero: it does not; pass)
	sub   *bus.Subscription
	off   bool // guarded by Service.mu: StopAll was called, nothing starts any more
}

// startScheduler starts the scheduler's goroutine, with a pass for what a
// previous run left.
func (s *Service) startScheduler() {
	s.sched.sub = bus.On(s.events, func(ev TaskChanged) {
		if ev.Service != "" {
			s.wakeScheduler()
		}
	})
	s.wakeScheduler()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for {
			select {
			case <-s.closed:
				return
			case <-s.sched.wake:
				s.schedule()
			}
		}
	}()
}

// wakeScheduler asks for a pass; it never blocks.
func (s *Service) wakeScheduler() {
	select {
	case s.sched.wake <- struct{}{}:
	default:
	}
}

// stopScheduler ends what wakes the scheduler (Close, after its goroutine).
func (s *Service) stopScheduler() {
	if s.sched.sub != nil {
		s.sched.sub.Cancel()
	}
	s.sched.pass.Lock()
	if s.sched.retry != nil {
		s.sched.retry.Stop()
	}
	s.sched.pass.Unlock()
}

// schedule makes one pass over the services that are not INACTIVE; it
// reports whether it changed anything.
func (s *Service) schedule() bool {
	s.sched.pass.Lock()
	defer s.sched.pass.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleTimeout)
	defer cancel()
	s.mu.Lock()
	var arns []string
	for _, r := range sortedRecs(s.services.All(), func(r *svcRec) int64 { return r.Seq }) {
		if r.status() != serviceInactive {
			arns = append(arns, *r.S.ServiceArn)
		}
	}
	s.mu.Unlock()
	changed := false
	var next time.Time
	for _, arn := range arns {
		c, retry := s.reconcile(ctx, arn)
		changed = changed || c
		if !retry.IsZero() && (next.IsZero() || retry.Before(next)) {
			next = retry
		}
	}
	if s.sched.retry != nil {
		s.sched.retry.Stop()
	}
	s.sched.next = next
	if !next.IsZero() {
		s.sched.retry = time.AfterFunc(max(next.Sub(s.now()), time.Millisecond), s.wakeScheduler)
	}
	return changed
}

// nextPass is when the scheduler will make a pass on its own, for a wait
// it asked for (a throttled start, a task about to count as healthy); zero
// when it waits for nothing.
func (s *Service) nextPass() time.Time {
	s.sched.pass.Lock()
	defer s.sched.pass.Unlock()
	return s.sched.next
}
