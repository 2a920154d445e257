package ecsapi

import (
	"context"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// The statistics of the task metadata endpoint (/stats, /task/stats): what
// Docker's stats API reports of each container, which the ECS agent passes on.
// The runtime reads the cgroup figures; the dataplane reads the counters of
// the task's network links.

// StatsReader is a Runtime that can read the resource usage of a task's
// running containers (an optional interface: without it the endpoint has no
// figures to show).
type StatsReader interface {
	// Stats returns one reading of each running container of the task, by
	// container name; a container that is not running has none.
	Stats(ctx context.Context, taskID string) (map[string]ContainerStats, error)
}

// ContainerStats is one reading of a container's resource usage: the
// cumulative counters of its cgroup, in bytes and nanoseconds, as Docker
// reports them.
type ContainerStats struct {
	Read     time.Time
	CPU      CPUStats
	Memory   MemoryStats
	Pids     PidsStats
	BlkIO    BlkIOStats
	Networks map[string]NetworkStats // by interface; nil without a network of its own
}

// CPUStats is the CPU time a container used, and the host's, so that a
// reader can turn two readings into a share of the host.
type CPUStats struct {
	TotalUsage, UsageInKernelmode, UsageInUsermode uint64
	PerCPUUsage                                    []uint64 // cgroup v1 only
	SystemUsage                                    uint64   // the host's CPU time, every CPU and state
	OnlineCPUs                                     uint32
	ThrottlingPeriods, ThrottledPeriods            uint64
	ThrottledTime                                  uint64
}

// MemoryStats is a container's memory use; Stats are the cgroup's memory.stat
// fields by Docker's names.
type MemoryStats struct {
	Usage, MaxUsage, Failcnt uint64 // MaxUsage and Failcnt: cgroup v1 only
	Limit                    uint64 // the cgroup's limit, at most the host's memory
	Stats                    map[string]uint64
}

// PidsStats counts a container's processes and threads; Limit 0 is none.
type PidsStats struct {
	Current, Limit uint64
}

// BlkIOStats are a container's block I/O counters by device and operation
// (Docker's blkio_stats); cgroup v2 fills only ServiceBytes and Serviced.
type BlkIOStats struct {
	ServiceBytes, Serviced, Queued, ServiceTime []BlkIOEntry
	WaitTime, Merged, Time, Sectors             []BlkIOEntry
}

// BlkIOEntry is one counter of one block device.
type BlkIOEntry struct {
	Major, Minor uint64
	Op           string // "Read", "Write", …
	Value        uint64
}

// NetworkStats are the counters of one network interface.
type NetworkStats struct {
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// WithLinkStats gives the endpoint the network counters of tasks: f returns
// those of every link but loopback in the namespace at netnsPath, by name.
func WithLinkStats(f func(netnsPath string) (map[string]NetworkStats, error)) Option {
	return func(s *Service) { s.linkStats = f }
}

// TaskStats reads the resource usage of a task's running containers, by
// container name: nothing (and no error) when the runtime cannot tell. A task
// with a namespace of its own (awsvpc, bridge) reports its links' counters
// shared equally among its containers, as the ECS agent reports an awsvpc
// task's, so that their sum is the task's traffic.
func (s *Service) TaskStats(ctx context.Context, taskARN string) (map[string]ContainerStats, error) {
	sr, ok := s.rt.(StatsReader)
	s.mu.Lock()
	t, found := s.tasks.Get(taskARN)
	if !found || !ok {
		s.mu.Unlock()
		return nil, nil
	}
	id, containers := t.ID, len(t.T.Containers)
	netnsPath := ""
	if s.linkStats != nil && (t.AWSVPC || t.Mode == ecstypes.NetworkModeBridge && t.BridgeAddr != "" && s.taskNet != nil) {
		netnsPath = s.netns(t.host())
	}
	s.mu.Unlock()

	stats, err := sr.Stats(ctx, id)
	if err != nil || netnsPath == "" || len(stats) == 0 {
		return stats, err
	}
	links, err := s.linkStats(netnsPath)
	if err != nil {
		return nil, err
	}
	for name, st := range stats {
		st.Networks = map[string]NetworkStats{}
		for link, n := range links {
			st.Networks[link] = n.share(uint64(containers))
		}
		stats[name] = st
	}
	return stats, nil
}

// share is the part of the counters that falls to one of n containers.
func (n NetworkStats) share(k uint64) NetworkStats {
	if k <= 1 {
		return n
	}
	return NetworkStats{
		RxBytes: n.RxBytes / k, RxPackets: n.RxPackets / k, RxErrors: n.RxErrors / k, RxDropped: n.RxDropped / k,
		TxBytes: n.TxBytes / k, TxPackets: n.TxPackets / k, TxErrors: n.TxErrors / k, TxDropped: n.TxDropped / k,
	}
}
