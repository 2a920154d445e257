package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
)

// Stop stops every container of the task (its stop signal, SIGTERM unless the
// image says otherwise; SIGKILL after its stopTimeout), removes the tasks,
// containers and snapshots, and returns each container's exit code. It finds
// the containers by label, so it also stops those of a task this Runtime did
// not start (after a restart). Stopping a task with no containers succeeds.
func (r *Runtime) Stop(ctx context.Context, taskID string) (map[string]int, error) {
	return r.stopTask(namespaces.WithNamespace(ctx, r.ns), taskID, true)
}

// stopTask stops and removes the task's containers in parallel; graceful is
// false when they are killed at once.
func (r *Runtime) stopTask(ctx context.Context, taskID string, graceful bool) (map[string]int, error) {
	r.mu.Lock()
	if ts := r.tasks[taskID]; ts != nil {
		ts.stopping = true
		ts.notify()
		for _, cs := range ts.containers {
			if cs.stopHealth != nil {
				cs.stopHealth()
			}
		}
	}
	r.mu.Unlock()
	conts, err := r.client.Containers(ctx, labelFilter(labelTaskID, taskID))
	if err != nil {
		return nil, err
	}
	type result struct {
		name  string
		code  int
		known bool
		err   error
	}
	results := make(chan result, len(conts))
	for _, c := range conts {
		go func() {
			info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
			if err != nil {
				if errdefs.IsNotFound(err) {
					err = nil // removed meanwhile
				}
				results <- result{err: err}
				return
			}
			code, known, err := r.removeContainer(ctx, c, info.Labels, graceful)
			results <- result{name: info.Labels[labelContainer], code: code, known: known, err: err}
		}()
	}
	codes := map[string]int{}
	var errs []error
	for range conts {
		res := <-results
		if res.err != nil {
			errs = append(errs, res.err)
		}
		if res.known {
			codes[res.name] = res.code
		}
	}
	r.mu.Lock()
	delete(r.tasks, taskID)
	r.mu.Unlock()
	for _, c := range conts {
		r.ooms.forget(c.ID())
	}
	if len(errs) == 0 {
		// The volumes go with the last container that used them; the pause
		// process of pidMode task and the task's cgroup with the containers
		// (while one remains, the kernel refuses to remove the cgroup, and
		// the next Stop or RemoveAll tries again).
		if err := r.removeTaskVolumes(taskID); err != nil {
			errs = append(errs, fmt.Errorf("remove the task's volumes: %w", err))
		}
		errs = append(errs, r.stopPause(taskID), r.cgroups.remove(taskID))
	}
	return codes, errors.Join(errs...)
}

// removeContainer stops one container if it runs and deletes its task,
// itself and its snapshot. known is false when no exit code could be had
// (no task, or it never ran).
func (r *Runtime) removeContainer(ctx context.Context, c containerd.Container, labels map[string]string, graceful bool) (code int, known bool, err error) {
	task, err := c.Task(ctx, nil)
	switch {
	case errdefs.IsNotFound(err):
		code, _, known = recordedExit(labels)
	case err != nil:
		return 0, false, fmt.Errorf("container %s: %w", c.ID(), err)
	default:
		code, known, err = r.stopProcess(ctx, c, task, labels, graceful)
		if err != nil {
			return code, known, fmt.Errorf("stop container %s: %w", c.ID(), err)
		}
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return code, known, fmt.Errorf("delete the task of container %s: %w", c.ID(), err)
		}
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return code, known, fmt.Errorf("delete container %s: %w", c.ID(), err)
	}
	return code, known, nil
}

// stopProcess ends a task's process as `docker stop` does: the stop signal,
// then SIGKILL to every process of the container after the stop timeout.
func (r *Runtime) stopProcess(ctx context.Context, c containerd.Container, task containerd.Task, labels map[string]string, graceful bool) (int, bool, error) {
	st, err := task.Status(ctx)
	if err != nil {
		return 0, false, err
	}
	switch st.Status {
	case containerd.Stopped:
		return int(st.ExitStatus), true, nil
	case containerd.Created, containerd.Unknown:
		return 0, false, nil // never ran; Delete(WithProcessKill) ends it
	}
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return 0, false, err
	}
	timeout := defaultStopTimeout
	if d, err := time.ParseDuration(labels[labelStopTimeout]); err == nil {
		timeout = d
	}
	if graceful && timeout > 0 {
		sig, err := containerd.GetStopSignal(ctx, c, syscall.SIGTERM)
		if err != nil {
			sig = syscall.SIGTERM
		}
		if err := task.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
			return 0, false, err
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case es := <-exitCh:
			return exitCode(es)
		case <-t.C:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return 0, false, err
	}
	select {
	case es := <-exitCh:
		return exitCode(es)
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}

func exitCode(es containerd.ExitStatus) (int, bool, error) {
	if err := es.Error(); err != nil {
		return 0, false, err
	}
	return int(es.ExitCode()), true, nil
}

// RemoveAll kills and deletes every container and task in vpcsim's namespace,
// every container snapshot (vs-…) left without its container, and then the
// tasks' volumes and the task cgroups of the data directory; images, their
// layers and shared volumes stay. For `vpcsim
// down` and test cleanup.
func (r *Runtime) RemoveAll(ctx context.Context) error {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	r.mu.Lock()
	for _, ts := range r.tasks {
		ts.stopping = true
		ts.notify()
		for _, cs := range ts.containers {
			if cs.stopHealth != nil {
				cs.stopHealth()
			}
		}
	}
	r.tasks = map[string]*taskState{}
	r.mu.Unlock()
	conts, err := r.client.Containers(ctx)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
	)
	for _, c := range conts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
			if err == nil {
				_, _, err = r.removeContainer(ctx, c, info.Labels, false)
			}
			if err != nil && !errdefs.IsNotFound(err) {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
			r.ooms.forget(c.ID())
		}()
	}
	wg.Wait()
	sn := r.client.SnapshotService(r.snapshotter)
	var strays []string
	err = sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive && strings.HasPrefix(info.Name, idPrefix) {
			strays = append(strays, info.Name)
		}
		return nil
	})
	errs = append(errs, err)
	for _, key := range strays {
		if err := sn.Remove(ctx, key); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove snapshot %s: %w", key, err))
		}
	}
	if errors.Join(errs...) == nil { // no container is left to use them
		errs = append(errs, r.removeAllTaskVolumes())
	}
	errs = append(errs, r.stopAllPauses(), r.cgroups.removeAll())
	return errors.Join(errs...)
}
