package runtime

import (
	"context"
	"errors"
	"fmt"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"

	"github.com/vpcsim/vpcsim/ecsapi"
)

// Container is one container of vpcsim's namespace, as Running reports it.
type Container struct {
	ID       string // the containerd container ID (ECS runtimeId)
	TaskID   string
	TaskARN  string
	Name     string // the container definition's name
	Image    string
	Status   string // containerd's task status: "running", "stopped", "created", "paused", "unknown"; "stopped" too for one whose exit reap recorded; "" when it has no task
	ExitCode int    // when Status is "stopped"
	Pid      uint32
}

// Running lists the containers that exist in vpcsim's namespace, running or
// not, by task ID, so the domain can take them over after a restart (Adopt)
// or stop what it no longer knows.
func (r *Runtime) Running(ctx context.Context) (map[string][]Container, error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	conts, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q", labelTaskID))
	if err != nil {
		return nil, err
	}
	out := map[string][]Container{}
	for _, c := range conts {
		info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if errdefs.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		rc := Container{ID: c.ID(), TaskID: info.Labels[labelTaskID], TaskARN: info.Labels[labelTaskARN], Name: info.Labels[labelContainer], Image: info.Image}
		if code, _, ok := recordedExit(info.Labels); ok {
			rc.Status, rc.ExitCode = string(containerd.Stopped), code
		}
		if task, err := c.Task(ctx, nil); err == nil {
			rc.Pid = task.Pid()
			if st, err := task.Status(ctx); err == nil {
				rc.Status, rc.ExitCode = string(st.Status), int(st.ExitStatus)
			}
		} else if !errdefs.IsNotFound(err) {
			return nil, err
		}
		out[rc.TaskID] = append(out[rc.TaskID], rc)
	}
	return out, nil
}

// Adopt watches the containers of a task that a previous vpcsim started, as
// Start would have: run.Exited is called for each that ends by itself,
// including at once for those that ended while nobody watched, and the
// health checks of running containers resume (reporting their first verdict
// again through run.Health).
func (r *Runtime) Adopt(ctx context.Context, run ecsapi.TaskRun) error {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	conts, err := r.client.Containers(ctx, labelFilter(labelTaskID, run.TaskID))
	if err != nil {
		return err
	}
	ts := &taskState{run: run, containers: map[string]*ctrState{}}
	r.mu.Lock()
	r.tasks[run.TaskID] = ts
	r.mu.Unlock()
	var errs []error
	for _, c := range conts {
		info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs := &ctrState{name: info.Labels[labelContainer], id: c.ID(), c: c}
		r.mu.Lock()
		ts.containers[cs.name] = cs
		r.mu.Unlock()
		task, err := c.Task(ctx, nil)
		if errdefs.IsNotFound(err) {
			r.wg.Add(1)
			if code, _, ok := recordedExit(info.Labels); ok {
				go r.reaped(ts, cs, code)
			} else {
				go r.lost(ts, cs)
			}
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		exitCh, err := task.Wait(r.ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.mu.Lock()
		cs.started = true
		r.mu.Unlock()
		r.wg.Add(1)
		go r.watch(ts, cs, exitCh)
		// Health checks start again, from UNKNOWN.
		for _, rc := range run.Containers {
			if deref(rc.Def.Name) != cs.name {
				continue
			}
			if hp, ok, _ := healthCheckParams(rc.Def.HealthCheck); ok {
				r.startHealthCheck(ts, cs, task, hp)
			}
		}
	}
	return errors.Join(errs...)
}
