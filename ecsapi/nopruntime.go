package ecsapi

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// NopRuntime is the runtime of `--dataplane none`: it runs no processes. A
// task's containers "run" from Start until Stop, which reports each one's end
// as a graceful exit, so tasks go through their whole lifecycle. It is safe
// for concurrent use.
type NopRuntime struct {
	mu      sync.Mutex
	running map[string]TaskRun
}

var _ Runtime = (*NopRuntime)(nil)

// NewNopRuntime returns a NopRuntime with nothing running.
func NewNopRuntime() *NopRuntime { return &NopRuntime{running: map[string]TaskRun{}} }

// Start "pulls" at once and gives each container a runtime ID of its task's
// ID and its name, and an image digest of zeros.
func (r *NopRuntime) Start(_ context.Context, run TaskRun) (StartResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	res := StartResult{PullStarted: now, PullStopped: now, RuntimeIDs: map[string]string{}, ImageDigests: map[string]string{}}
	for _, c := range run.Containers {
		res.RuntimeIDs[*c.Def.Name] = run.TaskID + "-" + *c.Def.Name
		res.ImageDigests[*c.Def.Name] = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	}
	r.running[run.TaskID] = run
	return res, nil
}

// Stop reports exit code 0 for each container of a running task, as after a
// graceful exit on SIGTERM, and none for a task it does not run.
func (r *NopRuntime) Stop(_ context.Context, taskID string) (map[string]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	codes := map[string]int{}
	if run, ok := r.running[taskID]; ok {
		for _, c := range run.Containers {
			codes[*c.Def.Name] = 0
		}
	}
	delete(r.running, taskID)
	return codes, nil
}

// Run returns what a running task was started with.
func (r *NopRuntime) Run(taskID string) (TaskRun, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run, ok := r.running[taskID]
	return run, ok
}

// Restart "starts" a container again: it runs until it exits again.
func (r *NopRuntime) Restart(_ context.Context, taskID, container string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.running[taskID]; !ok {
		return fmt.Errorf("restart container %s of task %s: not running", container, taskID)
	}
	return nil
}
