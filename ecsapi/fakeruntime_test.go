package ecsapi

import (
	"context"
	"errors"
	"fmt"
)

// fakeRuntime is NopRuntime with what this package's tests drive: a start
// that fails, as a failed pull would (FailStart), and a container that ends
// by itself (Exit). ecstest.FakeRuntime cannot serve here: it imports ecsapi.
type fakeRuntime struct {
	*NopRuntime
	FailStart error
	// FailImage fails the start of a task with a container of this image.
	FailImage string
}

func newFakeRuntime() *fakeRuntime { return &fakeRuntime{NopRuntime: NewNopRuntime()} }

func (f *fakeRuntime) Start(ctx context.Context, run TaskRun) (StartResult, error) {
	if f.FailStart != nil {
		return StartResult{}, f.FailStart
	}
	for _, c := range run.Containers {
		if f.FailImage != "" && deref(c.Def.Image) == f.FailImage {
			return StartResult{}, fmt.Errorf("CannotPullContainerError: pull access denied for %s", f.FailImage)
		}
	}
	return f.NopRuntime.Start(ctx, run)
}

// Running reports whether the task's containers are "running".
func (f *fakeRuntime) Running(taskID string) bool {
	_, ok := f.Run(taskID)
	return ok
}

// Exit makes a running container end by itself with code.
func (f *fakeRuntime) Exit(taskID, container string, code int) error {
	run, ok := f.Run(taskID)
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
