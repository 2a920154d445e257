package runtime

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// ECS's healthCheck defaults. Intervals and timeouts below ECS's minimums
// (5 s and 2 s) are accepted as given: the API validates, not the runtime.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 5 * time.Second
	defaultHealthRetries  = 3
)

// healthParams is a container's healthCheck with ECS's defaults applied.
type healthParams struct {
	args                           []string
	interval, timeout, startPeriod time.Duration
	retries                        int
}

// healthCheckParams reads a definition's healthCheck; ok is false when it has
// none (or no command to run).
func healthCheckParams(hc *ecstypes.HealthCheck) (healthParams, bool, error) {
	if hc == nil || len(hc.Command) == 0 {
		return healthParams{}, false, nil
	}
	p := healthParams{
		interval: defaultHealthInterval, timeout: defaultHealthTimeout, retries: defaultHealthRetries,
	}
	if v := deref(hc.Interval); v > 0 {
		p.interval = time.Duration(v) * time.Second
	}
	if v := deref(hc.Timeout); v > 0 {
		p.timeout = time.Duration(v) * time.Second
	}
	if v := deref(hc.Retries); v > 0 {
		p.retries = int(v)
	}
	if v := deref(hc.StartPeriod); v > 0 {
		p.startPeriod = time.Duration(v) * time.Second
	}
	// As Docker: ["CMD", args…] runs args; ["CMD-SHELL", "cmd"] runs
	// /bin/sh -c "cmd"; a bare command is taken as CMD.
	switch cmd := hc.Command; cmd[0] {
	case "CMD":
		p.args = cmd[1:]
	case "CMD-SHELL":
		p.args = []string{"/bin/sh", "-c", strings.Join(cmd[1:], " ")}
	case "NONE":
		return healthParams{}, false, nil
	default:
		p.args = cmd
	}
	if len(p.args) == 0 {
		return healthParams{}, false, fmt.Errorf("healthCheck command %q has nothing to run", hc.Command)
	}
	return p, true, nil
}

var execSeq atomic.Uint64

// startHealthCheck runs the container's healthCheck until the container
// stops (its watch cancels cs.stopHealth) or the Runtime closes.
func (r *Runtime) startHealthCheck(ts *taskState, cs *ctrState, task containerd.Task, p healthParams) {
	ctx, cancel := context.WithCancel(r.ctx)
	r.mu.Lock()
	cs.stopHealth = cancel
	stopped := ts.stopping || cs.done
	r.mu.Unlock()
	if stopped {
		cancel()
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		r.healthLoop(ctx, ts, cs, task, p)
	}()
}

// healthLoop checks every interval, as Docker does (the first check one
// interval after the start): a success makes the container HEALTHY; retries
// consecutive failures, not counting those in the start period, UNHEALTHY.
// The start period ends early at the first success, as ECS documents it:
// from then on every failure counts.
func (r *Runtime) healthLoop(ctx context.Context, ts *taskState, cs *ctrState, task containerd.Task, p healthParams) {
	started := time.Now()
	failures := 0
	passed := false
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ok, err := r.runHealthCommand(ctx, cs, task, p)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Debug("health check could not run", "container", cs.id, "err", err)
		}
		var status ecstypes.HealthStatus
		switch {
		case ok:
			failures, passed = 0, true
			status = ecstypes.HealthStatusHealthy
		case !passed && time.Since(started) < p.startPeriod:
			continue // does not count
		default:
			if failures++; failures < p.retries {
				continue
			}
			status = ecstypes.HealthStatusUnhealthy
		}
		r.setHealth(ts, cs, status)
	}
}

// setHealth records a verdict and reports it when it changed.
func (r *Runtime) setHealth(ts *taskState, cs *ctrState, status ecstypes.HealthStatus) {
	r.mu.Lock()
	if cs.health == status || ts.stopping || cs.done {
		r.mu.Unlock()
		return
	}
	cs.health = status
	ts.notify()
	r.mu.Unlock()
	r.log.Info("container health changed", "task", ts.run.TaskID, "container", cs.name, "health", status)
	if ts.run.Health != nil {
		ts.run.Health(cs.name, status)
	}
}

// runHealthCommand execs the check in the container, with its process's
// environment, user and working directory; ok when it exits 0 within the
// timeout.
func (r *Runtime) runHealthCommand(ctx context.Context, cs *ctrState, task containerd.Task, p healthParams) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	spec, err := cs.c.Spec(ctx)
	if err != nil {
		return false, err
	}
	pspec := *spec.Process
	pspec.Args = p.args
	pspec.Terminal = false
	execID := fmt.Sprintf("health-%d", execSeq.Add(1))
	proc, err := task.Exec(ctx, execID, &pspec, cio.NullIO)
	if err != nil {
		return false, err
	}
	// Without the request's deadline: the process must go even on timeout.
	bg := context.WithoutCancel(ctx)
	defer func() {
		dctx, dcancel := context.WithTimeout(bg, 10*time.Second)
		defer dcancel()
		if _, err := proc.Delete(dctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			r.log.Debug("delete a health check process", "container", cs.id, "err", err)
		}
	}()
	exitCh, err := proc.Wait(bg)
	if err != nil {
		return false, err
	}
	if err := proc.Start(ctx); err != nil {
		return false, err
	}
	select {
	case es := <-exitCh:
		return es.Error() == nil && es.ExitCode() == 0, es.Error()
	case <-ctx.Done():
		kctx, kcancel := context.WithTimeout(bg, 5*time.Second)
		defer kcancel()
		_ = proc.Kill(kctx, syscall.SIGKILL)
		return false, fmt.Errorf("health check timed out after %v", p.timeout)
	}
}
