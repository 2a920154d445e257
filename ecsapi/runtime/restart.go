package runtime

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/namespaces"
)

// Restart starts a container of a running task that ended by itself again,
// in place, as the ECS agent's restart policy does (docker start): the same
// containerd container and filesystem, a new process, its output appended to
// the same log. Its next exit is reported through the task's Exited again.
func (r *Runtime) Restart(ctx context.Context, taskID, name string) error {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	r.mu.Lock()
	ts := r.tasks[taskID]
	var cs *ctrState
	if ts != nil {
		cs = ts.containers[name]
	}
	switch {
	case ts == nil || cs == nil:
		r.mu.Unlock()
		return fmt.Errorf("restart container %s of task %s: not known", name, taskID)
	case ts.stopping || !cs.done:
		r.mu.Unlock()
		return fmt.Errorf("restart container %s of task %s: the task is stopping or the container still runs", name, taskID)
	}
	r.mu.Unlock()
	// The exit was reaped (its task deleted, its code recorded on the
	// container for a restarted vpcsim): the record goes with the new run.
	if _, err := cs.c.SetLabels(ctx, map[string]string{labelExitCode: "", labelExitedAt: ""}); err != nil {
		return fmt.Errorf("restart container %s: %w", cs.id, err)
	}
	logIO, err := r.logIO(taskID, name)
	if err != nil {
		return err
	}
	task, err := r.newTask(ctx, cs.c, logIO)
	if err != nil {
		return fmt.Errorf("restart container %s: %w", cs.id, err)
	}
	exitCh, err := task.Wait(r.ctx)
	if err != nil {
		return fmt.Errorf("restart container %s: %w", cs.id, err)
	}
	r.mu.Lock()
	cs.done, cs.reported, cs.code = false, false, 0
	r.mu.Unlock()
	r.wg.Add(1)
	go r.watch(ts, cs, exitCh)
	if err := task.Start(ctx); err != nil {
		return fmt.Errorf("restart container %s: %w", cs.id, err)
	}
	for _, c := range ts.run.Containers {
		if deref(c.Def.Name) == name {
			if hp, ok, _ := healthCheckParams(c.Def.HealthCheck); ok {
				r.startHealthCheck(ts, cs, task, hp)
			}
		}
	}
	return nil
}
