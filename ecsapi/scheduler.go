package ecsapi

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
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
}

// DefaultServiceTimers are ECS's timers. ECS documents only the cap of 15
// minutes; the first wait is vpcsim's choice.
var DefaultServiceTimers = ServiceTimers{RetryBase: 10 * time.Second, RetryMax: 15 * time.Minute}

// Scaled is t with every wait multiplied by f.
func (t ServiceTimers) Scaled(f float64) ServiceTimers {
	return ServiceTimers{RetryBase: time.Duration(float64(t.RetryBase) * f), RetryMax: time.Duration(float64(t.RetryMax) * f)}
}

// WithServiceTimers replaces the scheduler's timers.
func WithServiceTimers(t ServiceTimers) Option { return func(s *Service) { s.timers = t } }

type scheduler struct {
	wake  chan struct{} // a pass is due; made by New
	pass  sync.Mutex    // one pass at a time
	retry *time.Timer   // wakes the scheduler when a throttled service may start again (pass)
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
	if !next.IsZero() {
		s.sched.retry = time.AfterFunc(max(next.Sub(s.now()), time.Millisecond), s.wakeScheduler)
	}
	return changed
}

// serviceTasks is what a pass counts of one service's tasks.
type serviceTasks struct {
	alive     []*taskRec // desired RUNNING
	running   int        // lastStatus RUNNING, whatever their desired status
	live      int        // not STOPPED
	unhealthy []*taskRec // alive, RUNNING, and a container health check says UNHEALTHY
	// failedStarts is how many of the newest tasks, in a row, were
	// stopped without reaching RUNNING; lastFailure is when the last of
	// them was told to stop.
	failedStarts int
	lastFailure  time.Time
}

func (s *Service) serviceTasksLocked(m *model, r *svcRec) serviceTasks {
	var st serviceTasks
	var mine []*taskRec
	for t := range m.tasks.All() {
		if t.Service == *r.S.ServiceArn {
			mine = append(mine, t)
		}
	}
	slices.SortFunc(mine, func(a, b *taskRec) int { return int(b.Seq - a.Seq) }) // newest first
	counting := true
	for _, t := range mine {
		status := t.status()
		if status == TaskStatusRunning {
			st.running++
		}
		if status != TaskStatusStopped {
			st.live++
		}
		if t.desired() == ecstypes.DesiredStatusRunning {
			st.alive = append(st.alive, t)
			if status == TaskStatusRunning && t.T.HealthStatus == ecstypes.HealthStatusUnhealthy && s.graceOver(r, t) {
				st.unhealthy = append(st.unhealthy, t)
			}
		}
		stopping := t.desired() == ecstypes.DesiredStatusStopped
		switch {
		case !counting:
		case stopping && t.T.StopCode == ecstypes.TaskStopCodeServiceSchedulerInitiated:
			// stopped by the scheduler: neither a failure nor a success
		case stopping && t.T.StartedAt == nil:
			st.failedStarts++
			if at := t.T.StoppingAt; at != nil && at.Time().After(st.lastFailure) {
				st.lastFailure = at.Time()
			}
		default:
			counting = false
		}
	}
	return st
}

// graceOver reports whether a task's health checks count: the service's
// healthCheckGracePeriodSeconds has passed since the task started.
func (s *Service) graceOver(r *svcRec, t *taskRec) bool {
	grace := time.Duration(deref(r.S.HealthCheckGracePeriodSeconds)) * time.Second
	return t.T.StartedAt == nil || !s.now().Before(t.T.StartedAt.Time().Add(grace))
}

// retryAt is when a service whose tasks failed to start may start one again
// (zero: now).
func (s *Service) retryAt(st serviceTasks) time.Time {
	if st.failedStarts < 2 {
		return time.Time{}
	}
	wait := s.timers.RetryBase
	for range st.failedStarts - 2 {
		if wait >= s.timers.RetryMax {
			break
		}
		wait *= 2
	}
	return st.lastFailure.Add(min(wait, s.timers.RetryMax))
}

// reconcile brings one service toward its desired count. It answers whether
// it changed anything, and when it wants another pass (zero: not on its own).
func (s *Service) reconcile(ctx context.Context, arn string) (bool, time.Time) {
	s.mu.Lock()
	m := s.begin()
	r, ok := m.services.Get(arn)
	if !ok || r.status() == serviceInactive || s.sched.off {
		s.mu.Unlock()
		return false, time.Time{}
	}
	st := s.serviceTasksLocked(m, r)
	want := int(deref(r.S.DesiredCount))
	depID := deref(r.primary().Id)
	var msgs []string
	stop := func(tasks []*taskRec, code ecstypes.TaskStopCode, reason string) {
		for _, t := range tasks {
			s.requestStopLocked(m, *t.T.TaskArn, code, reason)
		}
		msgs = append(msgs, stoppedEvent(r.name(), tasks))
	}
	// A task that failed its health checks is replaced: stopped here, and
	// started again below.
	replaced := len(st.unhealthy)
	for _, t := range st.unhealthy {
		msgs = append(msgs, unhealthyEvent(r.name(), t))
	}
	if replaced > 0 {
		stop(st.unhealthy, ecstypes.TaskStopCodeServiceSchedulerInitiated, "Task failed container health checks")
		st.alive = slices.DeleteFunc(st.alive, func(t *taskRec) bool { return slices.Contains(st.unhealthy, t) })
	}
	if extra := len(st.alive) - want; extra > 0 {
		stop(scaleInOrder(st.alive)[:extra], ecstypes.TaskStopCodeServiceSchedulerInitiated, "Scaling activity initiated by (deployment "+depID+")")
		st.alive = st.alive[:want]
	}
	steady := r.status() == serviceActive && len(st.alive) == want && st.running == want && st.live == want
	if r.status() == serviceDraining && st.live == 0 {
		r, _ = m.services.Edit(arn)
		r.S.Status = str(serviceInactive)
	}
	if steady != r.Steady {
		r, _ = m.services.Edit(arn)
		r.Steady = steady
		if d := r.primary(); steady && d.RolloutState == ecstypes.DeploymentRolloutStateInProgress {
			d.RolloutState, d.RolloutStateReason = ecstypes.DeploymentRolloutStateCompleted, str("ECS deployment "+depID+" completed.")
			d.UpdatedAt = ecstypes.NewTimestamp(s.now())
			msgs = append(msgs, completedEvent(r.name(), depID))
		}
		if steady {
			msgs = append(msgs, steadyEvent(r.name()))
		}
	}
	if len(msgs) > 0 {
		r, _ = m.services.Edit(arn)
		s.addEvents(r, msgs...)
	}
	changed := m.tx.Changed()
	if changed {
		s.commitOrLog(m, "the service scheduler's change", arn)
	}
	short := r.status() == serviceActive && len(st.alive) < want
	s.mu.Unlock()
	if !short {
		return changed, time.Time{}
	}
	if due := s.retryAt(st); s.now().Before(due) {
		s.mu.Lock()
		m = s.begin()
		if r, ok := m.services.Get(arn); ok {
			r, _ = m.services.Edit(arn)
			if s.addEvents(r, throttledEvent(r.name())) {
				s.commitOrLog(m, "a service's event", arn)
			}
		}
		s.mu.Unlock()
		return changed, due
	}
	return s.startServiceTasks(ctx, arn, replaced) || changed, time.Time{}
}

// scaleInOrder is the order in which a service's tasks are stopped when it
// has too many: those not yet RUNNING first, then from the Availability
// Zone, and the instance, with the most of the service's tasks (the mirror
// of how they were placed), the newest first.
func scaleInOrder(alive []*taskRec) []*taskRec {
	perAZ, perInstance := map[string]int{}, map[string]int{}
	for _, t := range alive {
		perAZ[deref(t.T.AvailabilityZone)]++
		perInstance[t.InstanceARN]++
	}
	out := slices.Clone(alive)
	slices.SortStableFunc(out, func(a, b *taskRec) int {
		ra, rb := a.status() == TaskStatusRunning, b.status() == TaskStatusRunning
		switch {
		case ra != rb:
			if rb {
				return -1
			}
			return 1
		case perAZ[deref(a.T.AvailabilityZone)] != perAZ[deref(b.T.AvailabilityZone)]:
			return perAZ[deref(b.T.AvailabilityZone)] - perAZ[deref(a.T.AvailabilityZone)]
		case perInstance[a.InstanceARN] != perInstance[b.InstanceARN]:
			return perInstance[b.InstanceARN] - perInstance[a.InstanceARN]
		}
		return int(b.Seq - a.Seq)
	})
	return out
}
