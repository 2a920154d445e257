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
	reads     uint64 // Stats calls, which its figures grow with
}

var (
	_ Runtime     = (*FakeRuntime)(nil)
	_ StatsReader = (*FakeRuntime)(nil)
)

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

// Stats gives each container of a running task made-up figures that grow
// with every reading (CPU by 50 ms of 2 s of two host CPUs), so that tests
// see what two readings make of them. Its memory limit is the container's
// memory, else 2 GiB.
func (f *FakeRuntime) Stats(_ context.Context, taskID string) (map[string]ContainerStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	run, ok := f.running[taskID]
	if !ok {
		return nil, nil
	}
	f.reads++
	n := f.reads
	const ms = uint64(time.Millisecond)
	out := map[string]ContainerStats{}
	for _, c := range run.Containers {
		limit := uint64(2 << 30)
		if c.Def.Memory != nil {
			limit = uint64(*c.Def.Memory) << 20
		}
		out[*c.Def.Name] = ContainerStats{
			Read: time.Now(),
			CPU: CPUStats{
				TotalUsage: 50 * ms * n, UsageInKernelmode: 10 * ms * n, UsageInUsermode: 40 * ms * n,
				PerCPUUsage: []uint64{30 * ms * n, 20 * ms * n}, SystemUsage: 2000 * ms * n, OnlineCPUs: 2,
			},
			Memory: MemoryStats{Usage: 4 << 20, MaxUsage: 6 << 20, Limit: limit, Stats: map[string]uint64{"rss": 3 << 20, "cache": 1 << 20}},
			Pids:   PidsStats{Current: 1},
			BlkIO:  BlkIOStats{ServiceBytes: []BlkIOEntry{{Major: 254, Minor: 0, Op: "Read", Value: 4096 * n}}},
		}
	}
	return out, nil
}
