package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// defaultStartTimeout is how long a container waits for its dependencies
// without a startTimeout (the ECS agent's ECS_CONTAINER_START_TIMEOUT).
const defaultStartTimeout = 3 * time.Minute

// checkDependencies rejects dependsOn that could never resolve: unknown
// containers, unknown conditions, HEALTHY on a container without a
// healthCheck, and cycles.
func checkDependencies(run ecsapi.TaskRun) error {
	byName := map[string]ecstypes.ContainerDefinition{}
	for _, c := range run.Containers {
		byName[deref(c.Def.Name)] = c.Def
	}
	for _, c := range run.Containers {
		name := deref(c.Def.Name)
		for _, d := range c.Def.DependsOn {
			dep := deref(d.ContainerName)
			def, ok := byName[dep]
			switch {
			case !ok:
				return fmt.Errorf("dependency graph: container ordering dependency [%s] for target [%s] does not exist", dep, name)
			case dep == name:
				return fmt.Errorf("dependency graph: container [%s] depends on itself", name)
			}
			switch d.Condition {
			case ecstypes.ContainerConditionStart, ecstypes.ContainerConditionComplete, ecstypes.ContainerConditionSuccess:
			case ecstypes.ContainerConditionHealthy:
				if _, ok, _ := healthCheckParams(def.HealthCheck); !ok {
					return fmt.Errorf("dependency graph: container [%s] depends on [%s] being HEALTHY, which has no healthCheck", name, dep)
				}
			default:
				return fmt.Errorf("dependency graph: unknown condition %q of the dependency of [%s] on [%s]", d.Condition, name, dep)
			}
		}
	}
	// Cycles: depth-first, 1 = on the path, 2 = done.
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("dependency graph: container [%s] is part of a dependency cycle", name)
		case 2:
			return nil
		}
		state[name] = 1
		for _, d := range byName[name].DependsOn {
			if err := visit(deref(d.ContainerName)); err != nil {
				return err
			}
		}
		state[name] = 2
		return nil
	}
	for _, c := range run.Containers {
		if err := visit(deref(c.Def.Name)); err != nil {
			return err
		}
	}
	return nil
}

// errWaiting is depsResolved's answer while a dependency may still resolve.
var errWaiting = errors.New("waiting")

// depsResolved reports whether c may start now (nil), may later
// (errWaiting), or never will (the reason, as the ECS agent words it); r.mu
// is held.
func depsResolved(ts *taskState, c ecsapi.ContainerRun) error {
	name := deref(c.Def.Name)
	for _, d := range c.Def.DependsOn {
		dep := deref(d.ContainerName)
		cs := ts.containers[dep]
		if cs == nil || !cs.started {
			return errWaiting
		}
		switch d.Condition {
		case ecstypes.ContainerConditionStart:
		case ecstypes.ContainerConditionComplete:
			if !cs.done {
				return errWaiting
			}
		case ecstypes.ContainerConditionSuccess:
			if !cs.done {
				return errWaiting
			}
			if cs.code != 0 {
				return fmt.Errorf("dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency did not exit successfully (exit code %d)", dep, name, cs.code)
			}
		case ecstypes.ContainerConditionHealthy:
			switch {
			case cs.health == ecstypes.HealthStatusHealthy:
			case cs.health == ecstypes.HealthStatusUnhealthy:
				return fmt.Errorf("dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency is UNHEALTHY", dep, name)
			case cs.done:
				return fmt.Errorf("dependency graph: failed to resolve container ordering dependency [%s] for target [%s] as dependency stopped before it was HEALTHY", dep, name)
			default:
				return errWaiting
			}
		}
	}
	return nil
}

// startInOrder calls start(i) for each container of the task once its
// dependsOn conditions hold, in definition order among those ready at the
// same time, and returns when all have started. It fails when a dependency
// cannot resolve any more (a SUCCESS dependency exited non-zero, a HEALTHY
// one stopped or became unhealthy), when a container waited longer than its
// startTimeout (default 3 minutes), or when ctx ends. Errors begin with
// CannotStartContainerError, as other start failures do.
func (r *Runtime) startInOrder(ctx context.Context, ts *taskState, start func(i int) error) error {
	run := ts.run
	if err := checkDependencies(run); err != nil {
		return fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	begun := time.Now()
	pending := make([]int, len(run.Containers))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		var ready, waiting []int
		r.mu.Lock()
		changed := ts.changedCh()
		stopping := ts.stopping
		var failed error
		for _, i := range pending {
			switch err := depsResolved(ts, run.Containers[i]); {
			case err == nil:
				ready = append(ready, i)
			case errors.Is(err, errWaiting):
				waiting = append(waiting, i)
			case failed == nil:
				failed = err
			}
		}
		r.mu.Unlock()
		if stopping {
			return errors.New("CannotStartContainerError: the task was stopped while its containers were starting")
		}
		if failed != nil {
			return fmt.Errorf("CannotStartContainerError: %w", failed)
		}
		for _, i := range ready {
			if err := start(i); err != nil {
				return err
			}
		}
		pending = waiting
		if len(ready) > 0 || len(pending) == 0 {
			continue
		}
		// Nothing could start: wait for a change, up to the first deadline.
		first, deadline := -1, time.Time{}
		for _, i := range pending {
			d := defaultStartTimeout
			if s := deref(run.Containers[i].Def.StartTimeout); s > 0 {
				d = time.Duration(s) * time.Second
			}
			if first < 0 || begun.Add(d).Before(deadline) {
				first, deadline = i, begun.Add(d)
			}
		}
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-changed:
			timer.Stop()
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("CannotStartContainerError: waiting for the dependencies of container %s: %w", deref(run.Containers[first].Def.Name), ctx.Err())
		case <-timer.C:
			return fmt.Errorf("CannotStartContainerError: dependency graph: container [%s] could not resolve its dependencies within its startTimeout of %v",
				deref(run.Containers[first].Def.Name), deadline.Sub(begun))
		}
	}
	return nil
}
