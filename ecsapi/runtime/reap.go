package runtime

import (
	"context"
	"strconv"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
)

// The exit of a container whose process ended by itself, recorded on the
// container: its task is deleted then, and Adopt and Stop read it here.
const (
	labelExitCode = "vpcsim.exit-code"
	labelExitedAt = "vpcsim.exited-at"
)

// reap records the exit of a container whose process ended by itself and
// deletes its containerd task. The shim reports the exit as soon as the
// process is gone, while it may still be copying the process's last output
// into the log; deleting the task waits for that copy, so a container is
// reported stopped only once its log is whole (and dependsOn's dependents
// start after it).
func (r *Runtime) reap(cs *ctrState, es containerd.ExitStatus) {
	ctx, cancel := context.WithTimeout(r.ctx, cleanupTimeout)
	defer cancel()
	labels := map[string]string{
		labelExitCode: strconv.Itoa(int(es.ExitCode())),
		labelExitedAt: es.ExitTime().UTC().Format(time.RFC3339Nano),
	}
	if _, err := cs.c.SetLabels(ctx, labels); err != nil && !errdefs.IsNotFound(err) {
		r.log.Warn("record a container's exit", "container", cs.id, "err", err)
	}
	task, err := cs.c.Task(ctx, nil)
	if err == nil {
		_, err = task.Delete(ctx)
	}
	if err != nil && !errdefs.IsNotFound(err) {
		r.log.Warn("delete the task of a container that exited", "container", cs.id, "err", err)
	}
}

// recordedExit is the exit reap recorded on a container, if any.
func recordedExit(labels map[string]string) (code int, at time.Time, ok bool) {
	code, err := strconv.Atoi(labels[labelExitCode])
	if err != nil {
		return 0, time.Time{}, false
	}
	at, _ = time.Parse(time.RFC3339Nano, labels[labelExitedAt])
	return code, at, true
}
