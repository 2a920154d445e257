package ecsapi

import (
	"context"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// An EXTERNAL service's part of a scheduler pass: each task set is kept at
// its share of the service's desired count, with no rollout between them
// (the controller outside does that by scaling them).

// taskSetWho is how a service's events name one of its task sets.
func taskSetWho(service, id string) string { return service + ", taskSet " + id }

func taskSetSteadyEvent(service, id string) string {
	return "(service " + taskSetWho(service, id) + ") updated state to STEADY_STATE."
}

// shortLocked is how many tasks a service's deployment or task set (id) may
// start now.
func (s *Service) shortLocked(m *model, r *svcRec, id string) int {
	if !r.external() {
		return s.planLocked(m, r).canStart
	}
	ts := r.taskSet(id)
	if ts == nil {
		return 0
	}
	n := 0
	for t := range m.tasks.All() {
		if t.Service == *r.S.ServiceArn && deref(t.T.StartedBy) == id && t.desired() == ecstypes.DesiredStatusRunning {
			n++
		}
	}
	return computedDesired(r, ts) - n
}

// reconcileTaskSets brings an EXTERNAL service's task sets a step toward
// their counts: unhealthy tasks replaced, extra ones stopped, missing ones
// started, DRAINING task sets dropped once their tasks are gone. It answers
// as reconcile does, which hands it the service and its transaction with
// s.mu held; it releases s.mu.
func (s *Service) reconcileTaskSets(ctx context.Context, m *model, r *svcRec) (bool, time.Time) {
	arn := *r.S.ServiceArn
	edit := func() *svcRec {
		r, _ = m.services.Edit(arn)
		return r
	}
	var msgs []string
	mine := serviceTasksLocked(m, arn)
	alive := map[string][]*taskRec{}
	sick := map[string]bool{} // task sets with a task failing its health checks
	replaced := map[string]int{}
	var wake time.Time // when a task's grace period ends
	for _, t := range mine {
		if t.desired() != ecstypes.DesiredStatusRunning {
			continue
		}
		id := deref(t.T.StartedBy)
		if t.T.HealthStatus == ecstypes.HealthStatusUnhealthy {
			sick[id] = true
			if t.status() == TaskStatusRunning && !s.graceOver(r, t) {
				wake = earliest(wake, graceEnd(r, t))
			}
			if t.status() == TaskStatusRunning && s.graceOver(r, t) {
				msgs = append(msgs, unhealthyEvent(taskSetWho(r.name(), id), t))
				s.requestStopLocked(m, *t.T.TaskArn, ecstypes.TaskStopCodeServiceSchedulerInitiated, unhealthyReason)
				replaced[id]++
				continue
			}
		}
		alive[id] = append(alive[id], t)
	}
	// Each task set keeps its share; tasks of one that is gone go too.
	for id, tasks := range alive {
		want := 0
		if ts := r.taskSet(id); ts != nil {
			want = computedDesired(r, ts)
		}
		if extra := len(tasks) - want; extra > 0 {
			victims := scaleInOrder(tasks)[:extra]
			for _, t := range victims {
				s.requestStopLocked(m, *t.T.TaskArn, ecstypes.TaskStopCodeServiceSchedulerInitiated, "Scaling activity initiated by (deployment "+id+")")
			}
			msgs = append(msgs, stoppedEvent(taskSetWho(r.name(), id), victims))
			alive[id] = tasks[:0:0]
			for _, t := range tasks {
				if !slices.Contains(victims, t) {
					alive[id] = append(alive[id], t)
				}
			}
		}
	}
	all, per := s.countTasksLocked(m, r)
	// A DRAINING task set with nothing left leaves the list.
	if slices.ContainsFunc(r.S.TaskSets, func(ts ecstypes.TaskSet) bool {
		return deref(ts.Status) == taskSetDraining && per.of(deref(ts.Id)).live == 0
	}) {
		r = edit()
		r.S.TaskSets = slices.DeleteFunc(r.S.TaskSets, func(ts ecstypes.TaskSet) bool {
			return deref(ts.Status) == taskSetDraining && per.of(deref(ts.Id)).live == 0
		})
	}
	// A task set is steady with its count RUNNING, nothing else alive, and
	// no task failing its health checks; the service, when it has task sets
	// and all of them are (with none it runs nothing it was asked for yet).
	steady := r.status() == serviceActive && len(r.S.TaskSets) > 0
	for i := range r.S.TaskSets {
		ts := &r.S.TaskSets[i]
		id, want, n := deref(ts.Id), int32(computedDesired(r, ts)), per.of(deref(ts.Id))
		status := ecstypes.StabilityStatusStabilizing
		if n.running == want && n.live == want && !sick[id] {
			status = ecstypes.StabilityStatusSteadyState
		}
		if ts.StabilityStatus != status {
			r = edit()
			ts = &r.S.TaskSets[i]
			ts.StabilityStatus, ts.StabilityStatusAt = status, ecstypes.NewTimestamp(s.now())
			if status == ecstypes.StabilityStatusSteadyState {
				msgs = append(msgs, taskSetSteadyEvent(r.name(), id))
			}
		}
		steady = steady && status == ecstypes.StabilityStatusSteadyState
	}
	if steady != r.Steady {
		edit().Steady = steady
		if steady {
			msgs = append(msgs, steadyEvent(r.name()))
		}
	}
	if r.status() == serviceDraining && all.live == 0 {
		edit().S.Status = str(serviceInactive)
	}
	if len(msgs) > 0 {
		s.addEvents(edit(), msgs...)
	}
	changed := m.tx.Changed()
	if changed {
		s.commitOrLog(m, "the service scheduler's change", arn)
	}
	type start struct {
		id  string
		due time.Time // when it may start again after failed starts
	}
	var starts []start
	for _, ts := range r.S.TaskSets {
		if id := deref(ts.Id); computedDesired(r, &ts) > len(alive[id]) {
			starts = append(starts, start{id, s.retryAt(startFailures(mine, id))})
		}
	}
	s.mu.Unlock()
	for _, st := range starts {
		if s.holdStarts(arn, taskSetWho(r.name(), st.id), st.due) {
			wake = earliest(wake, st.due)
		} else if s.startServiceTasks(ctx, arn, st.id, replaced[st.id]) {
			changed = true
		}
	}
	return changed, wake
}
