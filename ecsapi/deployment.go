package ecsapi

import (
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Rolling deployments, as ECS's scheduler makes them: the arithmetic here,
// what a pass does with it in scheduler.go.

// rollingBounds are the fewest healthy tasks a deployment keeps and the most
// tasks it runs at once: the desired count times minimumHealthyPercent,
// rounded up, and times maximumPercent, rounded down (ECS's developer guide:
// 4 tasks at 50% may stop 2 first; 3 at 125% may start none first).
func rollingBounds(desired, minPct, maxPct int) (minHealthy, maxTotal int) {
	return (desired*minPct + 99) / 100, desired * maxPct / 100
}

// breakerThreshold is how many tasks of a deployment may fail before the
// circuit breaker marks it FAILED: half the desired count, rounded up, and
// at least 3 and at most 200.
func breakerThreshold(desired int) int {
	return min(200, max(3, (desired+1)/2))
}

// deploymentPercents are a service's percentages (serviceDeploymentConfig
// stored both).
func deploymentPercents(cfg *ecstypes.DeploymentConfiguration) (minPct, maxPct int) {
	return int(deref(cfg.MinimumHealthyPercent)), int(deref(cfg.MaximumPercent))
}

// healthCheckedLocked reports whether a task's definition gives one of its
// essential containers a health check: such a task is healthy when its
// checks say so, others once they have run for ServiceTimers.HealthyWait.
func healthCheckedLocked(m *model, t *taskRec) bool {
	td, _ := m.taskDefs.Get(t.TaskDefARN)
	if td == nil {
		return false
	}
	for _, d := range td.TD.ContainerDefinitions {
		if d.HealthCheck != nil && deref(d.Essential) {
			return true
		}
	}
	return false
}

// healthyLocked reports whether a task counts toward a deployment's
// minimum healthy tasks, and if not yet only for lack of time, when it will.
func (s *Service) healthyLocked(m *model, t *taskRec) (bool, time.Time) {
	if t.status() != TaskStatusRunning || t.desired() != ecstypes.DesiredStatusRunning || t.T.StartedAt == nil {
		return false, time.Time{}
	}
	if healthCheckedLocked(m, t) {
		return t.T.HealthStatus == ecstypes.HealthStatusHealthy, time.Time{}
	}
	at := t.T.StartedAt.Time().Add(s.timers.HealthyWait)
	if s.now().Before(at) {
		return false, at
	}
	return true, time.Time{}
}

// failedLocked reports whether a stopped task of a deployment counts as one
// of its failures for the circuit breaker: it never reached RUNNING, or its
// essential container ended before it was healthy, or it failed its health
// checks (ECS: "can't launch the task, the task doesn't transition to a
// RUNNING state, or if it fails any of its defined health checks and is
// stopped"). A stop someone asked for is no failure.
func (s *Service) failedLocked(m *model, t *taskRec) bool {
	if t.desired() != ecstypes.DesiredStatusStopped {
		return false
	}
	switch t.T.StopCode {
	case ecstypes.TaskStopCodeTaskFailedToStart:
		return true
	case ecstypes.TaskStopCodeServiceSchedulerInitiated:
		return deref(t.T.StoppedReason) == unhealthyReason
	case ecstypes.TaskStopCodeEssentialContainerExited:
		if t.T.StartedAt == nil || t.T.StoppingAt == nil {
			return true
		}
		return !healthCheckedLocked(m, t) && t.T.StoppingAt.Time().Sub(t.T.StartedAt.Time()) < s.timers.HealthyWait
	}
	return false
}

// unhealthyReason is the stoppedReason of a task the scheduler replaced for
// its health checks.
const unhealthyReason = "Task failed container health checks"
