package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// FakeRuntime runs no processes: its containers "run" from Start until Stop or
// until a test calls Exit. FailStart makes Start refuse, as a failed pull would.
type FakeRuntime struct {
	mu        sync.Mutex
	running   map[string]TaskRun
	FailStart error
	Started   []string // task IDs, in the order they started
	Stopped   []string
}

var _ Runtime = (*FakeRuntime)(nil)

// NewFakeRuntime returns a FakeRuntime with nothing running.
func NewFakeRuntime() *FakeRuntime { return &FakeRuntime{running: map[string]TaskRun{}} }

func (f *FakeRuntime) Start(_ context.Context, run TaskRun) (StartResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FailStart != nil {
		return StartResult{}, f.FailStart
	}
	now := time.Now()
	res := StartResult{PullStarted: now, PullStopped: now, RuntimeIDs: map[string]string{}, ImageDigests: map[string]string{}}
	for _, c := range run.Containers {
		res.RuntimeIDs[*c.Def.Name] = run.TaskID + "-" + *c.Def.Name
		res.ImageDigests[*c.Def.Name] = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	}
	f.running[run.TaskID] = run
	f.Started = append(f.Started, run.TaskID)
	return res, nil
}

func (f *FakeRuntime) Stop(_ context.Context, taskID string) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	codes := map[string]int{}
	if run, ok := f.running[taskID]; ok {
		for _, c := range run.Containers {
			codes[*c.Def.Name] = 0 // a graceful exit on SIGTERM
		}
	}
	delete(f.running, taskID)
	f.Stopped = append(f.Stopped, taskID)
	return codes, nil
}

// Exit makes a running container end by itself with code.
func (f *FakeRuntime) Exit(taskID, container string, code int) error {
	f.mu.Lock()
	run, ok := f.running[taskID]
	f.mu.Unlock()
	if !ok {
		return errors.New("fake runtime: task not running: " + taskID)
	}
	for _, c := range run.Containers {
		if *c.Def.Name == container {
			run.Exited(container, code, "")
			return nil
		}
	}
	return fmt.Errorf("fake runtime: task %s has no container %s", taskID, container)
}

// Running reports whether the task's containers are "running".
func (f *FakeRuntime) Running(taskID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.running[taskID]
	return ok
}

// Run returns what a running task was started with.
func (f *FakeRuntime) Run(taskID string) (TaskRun, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	run, ok := f.running[taskID]
	return run, ok
}
