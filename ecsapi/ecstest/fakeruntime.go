// Package ecstest is test support only: doubles of the ECS domain's ports for
// the tests of other packages. (ecsapi's own tests have theirs in
// fakeruntime_test.go: they cannot import this package, which imports ecsapi.)
package ecstest

import (
	"context"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
)

// FakeRuntime runs no processes, as ecsapi.NopRuntime: its containers "run"
// from Start until Stop. It also reads made-up resource usage (Stats), for
// the task metadata endpoint's statistics.
type FakeRuntime struct {
	*ecsapi.NopRuntime
	mu    sync.Mutex
	reads uint64 // Stats calls, which its figures grow with
}

var (
	_ ecsapi.Runtime     = (*FakeRuntime)(nil)
	_ ecsapi.StatsReader = (*FakeRuntime)(nil)
)

// NewFakeRuntime returns a FakeRuntime with nothing running.
func NewFakeRuntime() *FakeRuntime { return &FakeRuntime{NopRuntime: ecsapi.NewNopRuntime()} }

// Running reports whether the task's containers are "running".
func (f *FakeRuntime) Running(taskID string) bool {
	_, ok := f.Run(taskID)
	return ok
}

// Stats gives each container of a running task made-up figures that grow
// with every reading (CPU by 50 ms of 2 s of two host CPUs), so that tests
// see what two readings make of them. Its memory limit is the container's
// memory, else 2 GiB.
func (f *FakeRuntime) Stats(_ context.Context, taskID string) (map[string]ecsapi.ContainerStats, error) {
	run, ok := f.Run(taskID)
	if !ok {
		return nil, nil
	}
	f.mu.Lock()
	f.reads++
	n := f.reads
	f.mu.Unlock()
	const ms = uint64(time.Millisecond)
	out := map[string]ecsapi.ContainerStats{}
	for _, c := range run.Containers {
		limit := uint64(2 << 30)
		if c.Def.Memory != nil {
			limit = uint64(*c.Def.Memory) << 20
		}
		out[*c.Def.Name] = ecsapi.ContainerStats{
			Read: time.Now(),
			CPU: ecsapi.CPUStats{
				TotalUsage: 50 * ms * n, UsageInKernelmode: 10 * ms * n, UsageInUsermode: 40 * ms * n,
				PerCPUUsage: []uint64{30 * ms * n, 20 * ms * n}, SystemUsage: 2000 * ms * n, OnlineCPUs: 2,
			},
			Memory: ecsapi.MemoryStats{Usage: 4 << 20, MaxUsage: 6 << 20, Limit: limit, Stats: map[string]uint64{"rss": 3 << 20, "cache": 1 << 20}},
			Pids:   ecsapi.PidsStats{Current: 1},
			BlkIO:  ecsapi.BlkIOStats{ServiceBytes: []ecsapi.BlkIOEntry{{Major: 254, Minor: 0, Op: "Read", Value: 4096 * n}}},
		}
	}
	return out, nil
}
