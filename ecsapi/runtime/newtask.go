package runtime

import (
	"context"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
)

// newTask makes a container's task. When vpcsim was killed while containerd
// was making the task of an earlier attempt of the same container, that
// task's bundle may still be there ("failed to start shim: mkdir …: file
// exists"), or be removed under the new one ("failed to start shim: symlink
// …: no such file or directory"), until containerd has finished with it: the
// earlier task, if it came to be, is killed and removed, and the create is
// tried again, for a few seconds at most.
func (r *Runtime) newTask(ctx context.Context, cont containerd.Container, logIO cio.Creator) (containerd.Task, error) {
	task, err := cont.NewTask(ctx, logIO)
	for wait := 100 * time.Millisecond; err != nil && strings.Contains(err.Error(), "failed to start shim") && wait <= 3200*time.Millisecond; wait *= 2 {
		r.log.Warn("a container's task from before a restart is in the way: removing it and trying again", "container", cont.ID(), "err", err)
		r.removeOrphanTask(ctx, cont.ID())
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		task, err = cont.NewTask(ctx, logIO)
	}
	return task, err
}

// removeOrphanTask kills and deletes the task containerd has under a
// container ID, if it has one; what fails is left to the next try.
func (r *Runtime) removeOrphanTask(ctx context.Context, id string) {
	svc := r.client.TaskService()
	svc.Kill(ctx, &tasks.KillRequest{ContainerID: id, Signal: uint32(syscall.SIGKILL), All: true})
	svc.Delete(ctx, &tasks.DeleteTaskRequest{ContainerID: id})
}
