package ecsapi

import (
	"context"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Container restart policies, as the ECS agent applies them: a container
// that ends by itself while its task should run is started again in place,
// unless its exit code is one the policy ignores or it was last (re)started
// less than restartAttemptPeriod ago; the task does not see the exit.

// containerRestarts is what a task remembers of one container's restarts.
type containerRestarts struct {
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// defaultRestartAttemptPeriod is ECS's, in seconds.
const defaultRestartAttemptPeriod = 300

// shouldRestartLocked decides, for a container that ended with code, whether
// its policy restarts it, in the agent's order of checks.
func (s *Service) shouldRestartLocked(m *model, t *taskRec, name string, code int) bool {
	if t.desired() != ecstypes.DesiredStatusRunning || t.T.StartedAt == nil {
		return false
	}
	if _, ok := s.rt.(Restarter); !ok {
		return false
	}
	td, _ := m.taskDefs.Get(t.TaskDefARN)
	if td == nil {
		return false
	}
	i := slices.IndexFunc(td.TD.ContainerDefinitions, func(d ecstypes.ContainerDefinition) bool { return deref(d.Name) == name })
	if i < 0 {
		return false
	}
	p := td.TD.ContainerDefinitions[i].RestartPolicy
	if p == nil || !deref(p.Enabled) || slices.Contains(p.IgnoredExitCodes, int32(code)) {
		return false
	}
	period := time.Duration(defaultRestartAttemptPeriod) * time.Second
	if p.RestartAttemptPeriod != nil {
		period = time.Duration(*p.RestartAttemptPeriod) * time.Second
	}
	last := t.T.StartedAt.Time()
	if r, ok := t.Restarts[name]; ok {
		last = r.Last
	}
	return !s.now().Before(last.Add(period))
}

// restartContainer starts a container again through the runtime, outside
// s.mu; when that fails, the exit counts as it would have without the
// policy.
func (s *Service) restartContainer(arn, taskID, name string, code int, reason string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), lifecycleTimeout)
		defer cancel()
		if err := s.rt.(Restarter).Restart(ctx, taskID, name); err != nil {
			s.log.Warn("a container's restart policy could not start it again", "task", arn, "container", name, "err", err)
			s.recordExit(arn, name, code, reason)
		}
	}()
}

// checkRestartPolicy applies ECS's bounds to a container's restart policy.
func checkRestartPolicy(p *ecstypes.ContainerRestartPolicy) error {
	switch {
	case p == nil:
		return nil
	case p.Enabled == nil:
		return invalidParam("A container restart policy requires enabled.")
	case len(p.IgnoredExitCodes) > 50:
		return invalidParam("A container restart policy can ignore at most 50 exit codes.")
	case p.RestartAttemptPeriod != nil && (*p.RestartAttemptPeriod < 60 || *p.RestartAttemptPeriod > 1800):
		return invalidParam("The restartAttemptPeriod of a container restart policy must be between 60 and 1800 seconds.")
	}
	return nil
}
