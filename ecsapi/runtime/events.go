package runtime

import (
	"fmt"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
)

const (
	// oomReason is the container reason ECS gives when the kernel killed the
	// container for its memory limit.
	oomReason = "OutOfMemoryError: Container killed due to memory usage"
	// lostReason explains an exit whose code nobody could see: the container's
	// task went away while vpcsim was not watching (ECS's agent says
	// "DockerStateError" in that case).
	lostReason = "DockerStateError: containerd no longer knows the container's process"
	lostCode   = 255
	// oomGrace is how long an exit by SIGKILL waits for the OOM event, which
	// travels by another path (the event stream) than the exit (Wait).
	oomGrace = time.Second
)

// watch waits for a container's process to end and reports it as the
// container's own exit unless the task is being stopped. The shim outlives
// containerd, so when the daemon goes away (a managed one is restarted) the
// watch resumes against the new daemon instead of giving up.
func (r *Runtime) watch(ts *taskState, cs *ctrState, exitCh <-chan containerd.ExitStatus) {
	defer r.wg.Done()
	defer r.endHealth(cs)
	for {
		es, ok := <-exitCh
		if ok && es.Error() == nil {
			if !r.stopping(ts) {
				r.endHealth(cs)
				r.reap(cs, es)
			}
			r.exited(ts, cs, int(es.ExitCode()), "")
			return
		}
		if r.ctx.Err() != nil || r.stopping(ts) {
			return
		}
		r.log.Warn("lost the exit watch of a container; waiting again", "container", cs.id, "err", es.Error())
		for exitCh = nil; exitCh == nil; {
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if r.stopping(ts) {
				return
			}
			task, err := cs.c.Task(r.ctx, nil)
			if errdefs.IsNotFound(err) {
				r.exited(ts, cs, lostCode, lostReason)
				return
			}
			if err == nil {
				exitCh, err = task.Wait(r.ctx)
			}
			if err != nil {
				exitCh = nil // containerd still away
			}
		}
	}
}

// lost reports an adopted container that has no process.
func (r *Runtime) lost(ts *taskState, cs *ctrState) {
	defer r.wg.Done()
	r.exited(ts, cs, lostCode, lostReason)
}

// reaped reports an adopted container whose exit reap recorded.
func (r *Runtime) reaped(ts *taskState, cs *ctrState, code int) {
	defer r.wg.Done()
	r.exited(ts, cs, code, "")
}

// endHealth stops the container's health checker, if it has one.
func (r *Runtime) endHealth(cs *ctrState) {
	r.mu.Lock()
	stop := cs.stopHealth
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (r *Runtime) stopping(ts *taskState) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ts.stopping
}

// exited calls run.Exited once per container, outside the lock (the domain
// takes its own and may ask to stop the task from there).
func (r *Runtime) exited(ts *taskState, cs *ctrState, code int, reason string) {
	r.mu.Lock()
	if !cs.done {
		cs.done, cs.code = true, code
		ts.notify()
	}
	if ts.stopping || cs.reported {
		r.mu.Unlock()
		return
	}
	cs.reported = true
	r.mu.Unlock()
	grace := time.Duration(0)
	if code == 128+9 { // SIGKILL, which is how the OOM killer ends a process
		grace = oomGrace
	}
	if reason == "" && r.ooms.wait(cs.id, grace) {
		reason = oomReason
	}
	r.log.Info("container exited", "task", ts.run.TaskID, "container", cs.name, "exitCode", code, "reason", reason)
	if ts.run.Exited != nil {
		ts.run.Exited(cs.name, code, reason)
	}
}

// watchOOM records containerd's /tasks/oom events of vpcsim's namespace,
// subscribing again whenever the stream breaks, until Close.
func (r *Runtime) watchOOM() {
	defer r.wg.Done()
	filter := fmt.Sprintf(`topic=="/tasks/oom",namespace==%q`, r.ns)
	for {
		ch, errs := r.client.Subscribe(r.ctx, filter)
	stream:
		for {
			select {
			case env := <-ch:
				ev, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					continue
				}
				if oom, ok := ev.(*apievents.TaskOOM); ok {
					r.ooms.add(oom.ContainerID)
				}
			case <-errs:
				break stream
			case <-r.ctx.Done():
				return
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// oomTracker remembers the containers the kernel OOM-killed.
type oomTracker struct {
	mu      sync.Mutex
	killed  map[string]bool
	changed chan struct{} // closed and replaced at every add
}

func (o *oomTracker) init() {
	o.killed = map[string]bool{}
	o.changed = make(chan struct{})
}

func (o *oomTracker) add(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.killed[id] = true
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *oomTracker) forget(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.killed, id)
}

// wait reports whether id was OOM-killed, waiting up to d for the event.
func (o *oomTracker) wait(id string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		killed, changed := o.killed[id], o.changed
		o.mu.Unlock()
		if killed || d <= 0 {
			return killed
		}
		select {
		case <-changed:
		case <-deadline.C:
			o.mu.Lock()
			defer o.mu.Unlock()
			return o.killed[id]
		}
	}
}
