package ecsapi

import (
	"context"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// One service's part of a scheduler pass: reconcile.

// plan is what a pass finds of one service: its tasks by deployment, which
// are healthy, and how many the PRIMARY deployment may start.
type plan struct {
	prim        *ecstypes.Deployment
	primAlive   []*taskRec // the PRIMARY deployment's tasks, desired RUNNING
	oldAlive    []*taskRec // the other deployments', desired RUNNING
	liveBy      map[string]int
	running     int // lastStatus RUNNING, whatever their desired status
	live        int // not STOPPED
	unhealthy   []*taskRec
	healthy     map[*taskRec]bool
	wakeAt      time.Time // when a task will count as healthy
	minHealthy  int
	maxTotal    int
	canStart    int
	established bool // a PRIMARY task has been healthy
	failed      int  // the PRIMARY deployment's failures, for the circuit breaker
	// failedStarts is how many of the PRIMARY deployment's newest tasks,
	// in a row, were stopped without reaching RUNNING; lastFailure is when
	// the last of them was told to stop.
	failedStarts int
	lastFailure  time.Time
}

func (s *Service) planLocked(m *model, r *svcRec) *plan {
	p := &plan{prim: r.primary(), liveBy: map[string]int{}, healthy: map[*taskRec]bool{}}
	primID := deref(p.prim.Id)
	p.established = slices.Contains(r.Established, primID)
	mine := serviceTasksLocked(m, *r.S.ServiceArn)
	for _, t := range mine {
		status, dep := t.status(), deref(t.T.StartedBy)
		if status == TaskStatusRunning {
			p.running++
		}
		if status != TaskStatusStopped {
			p.live++
			p.liveBy[dep]++
		}
		if t.desired() == ecstypes.DesiredStatusRunning {
			if dep == primID {
				p.primAlive = append(p.primAlive, t)
			} else {
				p.oldAlive = append(p.oldAlive, t)
			}
			if status == TaskStatusRunning && t.T.HealthStatus == ecstypes.HealthStatusUnhealthy && s.graceOver(r, t) {
				p.unhealthy = append(p.unhealthy, t)
			}
			ok, at := s.healthyLocked(m, t)
			p.healthy[t] = ok
			p.wakeAt = earliest(p.wakeAt, at)
			if ok && dep == primID {
				p.established = true
			}
		}
		if dep != primID {
			continue
		}
		if s.failedLocked(m, t) {
			p.failed++
		}
	}
	p.failedStarts, p.lastFailure = startFailures(mine, primID)
	want := int(deref(r.S.DesiredCount))
	minPct, maxPct := deploymentPercents(r.S.DeploymentConfiguration)
	p.minHealthy, p.maxTotal = rollingBounds(want, minPct, maxPct)
	if len(p.oldAlive) == 0 {
		p.maxTotal = max(p.maxTotal, want) // no deployment under way: the count alone
	}
	p.canStart = min(want-len(p.primAlive), p.maxTotal-len(p.primAlive)-len(p.oldAlive))
	if r.status() != serviceActive || p.prim.RolloutState == ecstypes.DeploymentRolloutStateFailed {
		p.canStart = 0 // ECS: "A deployment in FAILED state doesn't launch any new tasks."
	}
	return p
}

// serviceTasksLocked are a service's tasks, newest first.
func serviceTasksLocked(m *model, arn string) []*taskRec {
	var mine []*taskRec
	for t := range m.tasks.All() {
		if t.Service == arn {
			mine = append(mine, t)
		}
	}
	slices.SortFunc(mine, func(a, b *taskRec) int { return int(b.Seq - a.Seq) })
	return mine
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (p *plan) countHealthy(tasks []*taskRec) int {
	n := 0
	for _, t := range tasks {
		if p.healthy[t] {
			n++
		}
	}
	return n
}

// graceOver reports whether a task's health checks count: the service's
// healthCheckGracePeriodSeconds has passed since the task started.
func (s *Service) graceOver(r *svcRec, t *taskRec) bool {
	return !s.now().Before(graceEnd(r, t))
}

// graceEnd is when a task's health checks start to count (zero: a task not
// started has none to wait for).
func graceEnd(r *svcRec, t *taskRec) time.Time {
	if t.T.StartedAt == nil {
		return time.Time{}
	}
	return t.T.StartedAt.Time().Add(time.Duration(deref(r.S.HealthCheckGracePeriodSeconds)) * time.Second)
}

// startFailures counts how many of the newest tasks a deployment or task
// set (id) started, in a row, were stopped without reaching RUNNING, and
// when the last of them was told to stop; tasks come newest first.
func startFailures(newestFirst []*taskRec, id string) (n int, last time.Time) {
	for _, t := range newestFirst {
		if deref(t.T.StartedBy) != id {
			continue
		}
		stopping := t.desired() == ecstypes.DesiredStatusStopped
		switch {
		case stopping && t.T.StopCode == ecstypes.TaskStopCodeServiceSchedulerInitiated:
			// stopped by the scheduler: neither a failure nor a success
		case stopping && t.T.StartedAt == nil:
			n++
			if at := t.T.StoppingAt; at != nil && at.Time().After(last) {
				last = at.Time()
			}
		default:
			return n, last
		}
	}
	return n, last
}

// retryAt is when a service whose tasks failed to start (failedStarts in a
// row, the last at last) may start one again (zero: now).
func (s *Service) retryAt(failedStarts int, last time.Time) time.Time {
	if failedStarts < 2 {
		return time.Time{}
	}
	wait := s.timers.RetryBase
	for range failedStarts - 2 {
		if wait >= s.timers.RetryMax {
			break
		}
		wait *= 2
	}
	return last.Add(min(wait, s.timers.RetryMax))
}

// holdStarts reports whether a service's deployment or task set must wait
// until due before it starts tasks again, and says so in its events.
func (s *Service) holdStarts(arn, who string, due time.Time) bool {
	if !s.now().Before(due) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	if r, ok := m.services.Edit(arn); ok && s.addEvents(r, throttledEvent(who)) {
		s.commitOrLog(m, "a service's event", arn)
	}
	return true
}

// reconcile brings one service a step toward its desired count of tasks of
// its PRIMARY deployment. It answers whether it changed anything, and when
// it wants another pass (zero: not on its own).
func (s *Service) reconcile(ctx context.Context, arn string) (bool, time.Time) {
	s.mu.Lock()
	m := s.begin()
	r, ok := m.services.Get(arn)
	if !ok || r.status() == serviceInactive || s.sched.off {
		s.mu.Unlock()
		return false, time.Time{}
	}
	if r.external() {
		return s.reconcileTaskSets(ctx, m, r)
	}
	edit := func() *svcRec {
		r, _ = m.services.Edit(arn)
		return r
	}
	var msgs []string
	stop := func(tasks []*taskRec, reason func(*taskRec) string) {
		if len(tasks) == 0 {
			return
		}
		for _, t := range tasks {
			s.requestStopLocked(m, *t.T.TaskArn, ecstypes.TaskStopCodeServiceSchedulerInitiated, reason(t))
		}
		msgs = append(msgs, stoppedEvent(r.name(), tasks))
	}
	scaling := func(t *taskRec) string {
		return "Scaling activity initiated by (deployment " + deref(t.T.StartedBy) + ")"
	}
	if r.daemon() {
		// A DAEMON service wants one task on each ACTIVE instance: its
		// desired count follows them, and a task on an instance that is not
		// ACTIVE, or a second one, goes.
		eligible, misplaced := s.daemonLocked(m, r)
		if n := int32(len(eligible)); n != deref(r.S.DesiredCount) {
			r = edit()
			r.S.DesiredCount = ecstypes.Ptr(n)
			r.primary().DesiredCount = ecstypes.Ptr(n)
		}
		stop(misplaced, scaling)
	}
	p := s.planLocked(m, r)

	// A deployment that fails too many tasks is FAILED, and rolled back
	// when the service asks for that.
	if cb := r.S.DeploymentConfiguration.DeploymentCircuitBreaker; cb != nil && deref(cb.Enable) && !p.established &&
		p.prim.RolloutState == ecstypes.DeploymentRolloutStateInProgress && p.failed >= breakerThreshold(int(deref(r.S.DesiredCount))) {
		msgs = append(msgs, s.failDeployment(edit(), deref(cb.Rollback))...)
		p = s.planLocked(m, r)
	}
	if p.established && !slices.Contains(r.Established, deref(p.prim.Id)) {
		edit().Established = append(r.Established, deref(p.prim.Id))
	}
	// A task that failed its health checks is replaced: stopped here, and
	// started again below.
	replaced := len(p.unhealthy)
	for _, t := range p.unhealthy {
		msgs = append(msgs, unhealthyEvent(r.name(), t))
	}
	stop(p.unhealthy, func(*taskRec) string { return unhealthyReason })
	if replaced > 0 {
		p = s.planLocked(m, r)
	}
	want := int(deref(r.S.DesiredCount))
	if extra := len(p.primAlive) - want; extra > 0 {
		stop(scaleInOrder(p.primAlive)[:extra], scaling)
		p = s.planLocked(m, r)
	}
	// The older deployments' tasks go as far as the minimum allows: no
	// stop takes the healthy tasks, nor the RUNNING ones, below it. Those
	// not RUNNING go first, then those failing their health checks or not
	// yet counted healthy, then healthy ones.
	if len(p.oldAlive) > 0 {
		healthyLeft := p.countHealthy(p.primAlive) + p.countHealthy(p.oldAlive)
		runningLeft := 0
		for _, t := range append(slices.Clone(p.primAlive), p.oldAlive...) {
			if t.status() == TaskStatusRunning {
				runningLeft++
			}
		}
		rank := func(t *taskRec) int {
			switch {
			case t.status() != TaskStatusRunning:
				return 0
			case !p.healthy[t]:
				return 1
			}
			return 2
		}
		order := scaleInOrder(p.oldAlive)
		slices.SortStableFunc(order, func(a, b *taskRec) int { return rank(a) - rank(b) })
		var victims []*taskRec
		for _, t := range order {
			switch rank(t) {
			case 0:
				victims = append(victims, t)
			case 1:
				if runningLeft-1 >= p.minHealthy {
					victims, runningLeft = append(victims, t), runningLeft-1
				}
			case 2:
				if runningLeft-1 >= p.minHealthy && healthyLeft-1 >= p.minHealthy {
					victims, runningLeft, healthyLeft = append(victims, t), runningLeft-1, healthyLeft-1
				}
			}
		}
		stop(victims, scaling)
		p = s.planLocked(m, r)
	}
	// A deployment with nothing left alive is INACTIVE: it leaves the list.
	if slices.ContainsFunc(r.S.Deployments, func(d ecstypes.Deployment) bool { return deref(d.Id) != deref(p.prim.Id) && p.liveBy[deref(d.Id)] == 0 }) {
		r = edit()
		r.S.Deployments = slices.DeleteFunc(r.S.Deployments, func(d ecstypes.Deployment) bool {
			return deref(d.Status) != "PRIMARY" && p.liveBy[deref(d.Id)] == 0
		})
		// What is remembered of deployments goes with them (but for the
		// one a rollback would return to).
		r.Established = slices.DeleteFunc(r.Established, func(id string) bool {
			return (r.LastCompleted == nil || deref(r.LastCompleted.Id) != id) &&
				!slices.ContainsFunc(r.S.Deployments, func(d ecstypes.Deployment) bool { return deref(d.Id) == id })
		})
		p = s.planLocked(m, r)
	}
	if r.status() == serviceDraining && p.live == 0 {
		edit().S.Status = str(serviceInactive)
	}
	steady := r.status() == serviceActive && len(r.S.Deployments) == 1 && len(p.primAlive) == want && p.running == want && p.live == want
	if steady != r.Steady {
		edit().Steady = steady
		if d := r.primary(); steady && d.RolloutState == ecstypes.DeploymentRolloutStateInProgress {
			d.RolloutState, d.RolloutStateReason = ecstypes.DeploymentRolloutStateCompleted, str("ECS deployment "+deref(d.Id)+" completed.")
			d.UpdatedAt = ecstypes.NewTimestamp(s.now())
			done := *d
			r.LastCompleted = &done
			s.deploymentCompleted(r)
			msgs = append(msgs, completedEvent(r.name(), deref(d.Id)))
		}
		if steady {
			msgs = append(msgs, steadyEvent(r.name()))
		}
	}
	// A steady service says so again every RepeatEvents, as ECS's does.
	var again time.Time
	if steady && s.timers.RepeatEvents > 0 {
		last := time.Time{}
		for _, e := range r.S.Events {
			if deref(e.Message) == steadyEvent(r.name()) {
				last = e.CreatedAt.Time()
				break
			}
		}
		if again = last.Add(s.timers.RepeatEvents); !last.IsZero() && !s.now().Before(again) && !slices.Contains(msgs, steadyEvent(r.name())) {
			msgs = append(msgs, steadyEvent(r.name()))
			again = s.now().Add(s.timers.RepeatEvents)
		}
	}
	// Neither a start nor a stop is allowed, and nothing is on its way
	// that would change that.
	if p.canStart <= 0 && len(p.primAlive) < want && len(p.oldAlive) > 0 && p.live == len(p.primAlive)+len(p.oldAlive) &&
		p.wakeAt.IsZero() && r.status() == serviceActive && p.prim.RolloutState != ecstypes.DeploymentRolloutStateFailed {
		msgs = append(msgs, stuckEvent(r.name()))
	}
	if len(msgs) > 0 {
		s.addEvents(edit(), msgs...)
	}
	changed := m.tx.Changed()
	if changed {
		s.commitOrLog(m, "the service scheduler's change", arn)
	}
	s.mu.Unlock()
	p.wakeAt = earliest(p.wakeAt, again)
	if p.canStart <= 0 {
		return changed, p.wakeAt
	}
	if due := s.retryAt(p.failedStarts, p.lastFailure); s.holdStarts(arn, r.name(), due) {
		return changed, earliest(due, p.wakeAt)
	}
	return s.startServiceTasks(ctx, arn, deref(p.prim.Id), replaced) || changed, p.wakeAt
}

// failDeployment marks a service's PRIMARY deployment FAILED and, with
// rollback, makes the last deployment that completed PRIMARY again (with its
// own ID, as ECS's events show); it answers the events that say so.
func (s *Service) failDeployment(r *svcRec, rollback bool) []string {
	prim := r.primary()
	id := deref(prim.Id)
	prim.RolloutState, prim.RolloutStateReason, prim.UpdatedAt = ecstypes.DeploymentRolloutStateFailed, str("ECS deployment circuit breaker: tasks failed to start."), ecstypes.NewTimestamp(s.now())
	msgs := []string{failedEvent(r.name(), id)}
	last := r.LastCompleted
	if !rollback || last == nil || deref(last.Id) == id {
		s.deploymentFailed(r, "")
		return msgs
	}
	s.deploymentFailed(r, deref(last.Id))
	s.rollBack(r, "ECS deployment circuit breaker: rolling back to deploymentId "+deref(last.Id)+".")
	return append(msgs, rollbackEvent(r.name(), deref(last.Id)))
}

// rollBack makes the last deployment that completed PRIMARY again, with its
// own ID; the others become ACTIVE, and their tasks go as the rollout allows.
func (s *Service) rollBack(r *svcRec, reason string) {
	target := *r.LastCompleted
	r.S.Deployments = slices.DeleteFunc(r.S.Deployments, func(d ecstypes.Deployment) bool { return deref(d.Id) == deref(target.Id) })
	for i := range r.S.Deployments {
		r.S.Deployments[i].Status = str("ACTIVE")
	}
	target.Status, target.RolloutState, target.UpdatedAt = str("PRIMARY"), ecstypes.DeploymentRolloutStateInProgress, ecstypes.NewTimestamp(s.now())
	target.RolloutStateReason = str(reason)
	target.DesiredCount, target.FailedTasks = r.S.DesiredCount, ecstypes.Ptr(int32(0))
	r.S.Deployments = append([]ecstypes.Deployment{target}, r.S.Deployments...)
	r.S.TaskDefinition = target.TaskDefinition
	r.Steady = false
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
