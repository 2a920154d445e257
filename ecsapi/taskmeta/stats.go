package taskmeta

import (
	"context"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
)

// The /stats documents are Docker's stats JSON (the Docker API's
// types.StatsJSON), which the ECS agent serves as Docker gives it; v4 adds
// network_rate_stats to tasks with a network of their own. The "pre" figures
// are those of the reading served before, as in a Docker stats stream.

type statsJSON struct {
	Read             time.Time              `json:"read"`
	Preread          time.Time              `json:"preread"`
	PidsStats        pidsJSON               `json:"pids_stats"`
	BlkioStats       blkioJSON              `json:"blkio_stats"`
	NumProcs         uint32                 `json:"num_procs"`
	StorageStats     struct{}               `json:"storage_stats"`
	CPUStats         cpuJSON                `json:"cpu_stats"`
	PreCPUStats      cpuJSON                `json:"precpu_stats"`
	MemoryStats      memoryJSON             `json:"memory_stats"`
	Name             string                 `json:"name"`
	ID               string                 `json:"id"`
	Networks         map[string]networkJSON `json:"networks,omitempty"`
	NetworkRateStats *networkRateJSON       `json:"network_rate_stats,omitempty"`
}

type pidsJSON struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type blkioJSON struct {
	IoServiceBytesRecursive []blkioEntryJSON `json:"io_service_bytes_recursive"`
	IoServicedRecursive     []blkioEntryJSON `json:"io_serviced_recursive"`
	IoQueuedRecursive       []blkioEntryJSON `json:"io_queue_recursive"`
	IoServiceTimeRecursive  []blkioEntryJSON `json:"io_service_time_recursive"`
	IoWaitTimeRecursive     []blkioEntryJSON `json:"io_wait_time_recursive"`
	IoMergedRecursive       []blkioEntryJSON `json:"io_merged_recursive"`
	IoTimeRecursive         []blkioEntryJSON `json:"io_time_recursive"`
	SectorsRecursive        []blkioEntryJSON `json:"sectors_recursive"`
}

type blkioEntryJSON struct {
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
	Op    string `json:"op"`
	Value uint64 `json:"value"`
}

type cpuJSON struct {
	CPUUsage struct {
		TotalUsage        uint64   `json:"total_usage"`
		PercpuUsage       []uint64 `json:"percpu_usage,omitempty"`
		UsageInKernelmode uint64   `json:"usage_in_kernelmode"`
		UsageInUsermode   uint64   `json:"usage_in_usermode"`
	} `json:"cpu_usage"`
	SystemUsage    uint64 `json:"system_cpu_usage,omitempty"`
	OnlineCPUs     uint32 `json:"online_cpus,omitempty"`
	ThrottlingData struct {
		Periods          uint64 `json:"periods"`
		ThrottledPeriods uint64 `json:"throttled_periods"`
		ThrottledTime    uint64 `json:"throttled_time"`
	} `json:"throttling_data"`
}

type memoryJSON struct {
	Usage    uint64            `json:"usage,omitempty"`
	MaxUsage uint64            `json:"max_usage,omitempty"`
	Stats    map[string]uint64 `json:"stats,omitempty"`
	Failcnt  uint64            `json:"failcnt,omitempty"`
	Limit    uint64            `json:"limit,omitempty"`
}

type networkJSON struct {
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

type networkRateJSON struct {
	RxBytesPerSec float64 `json:"rx_bytes_per_sec"`
	TxBytesPerSec float64 `json:"tx_bytes_per_sec"`
}

// statsKeeper reads a task's statistics and keeps each container's last
// reading, the "pre" of the next.
type statsKeeper struct {
	s       *ecsapi.Service
	taskARN string

	// mu serializes readings, so that each one's "pre" is the one before it.
	mu   sync.Mutex
	prev map[string]ecsapi.ContainerStats // by container name
}

// read takes a reading of the task's running containers and renders each, by
// container name.
func (k *statsKeeper) read(ctx context.Context, m ecsapi.TaskMeta, v4 bool) (map[string]*statsJSON, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cur, err := k.s.TaskStats(ctx, k.taskARN)
	if err != nil {
		return nil, err
	}
	out := map[string]*statsJSON{}
	for name, st := range cur {
		prev, seen := k.prev[name]
		out[name] = renderStats(st, prev, seen, v4)
		out[name].Name, out[name].ID = "/"+dockerName(m, name), deref(containerNamed(m, name).RuntimeId)
	}
	k.prev = cur
	return out, nil
}

// renderStats renders a reading, with prev as the one before when seen.
func renderStats(st, prev ecsapi.ContainerStats, seen, v4 bool) *statsJSON {
	out := &statsJSON{
		Read:        st.Read.UTC(),
		PidsStats:   pidsJSON{Current: st.Pids.Current, Limit: st.Pids.Limit},
		BlkioStats:  renderBlkio(st.BlkIO),
		CPUStats:    renderCPU(st.CPU),
		MemoryStats: memoryJSON{Usage: st.Memory.Usage, MaxUsage: st.Memory.MaxUsage, Stats: st.Memory.Stats, Failcnt: st.Memory.Failcnt, Limit: st.Memory.Limit},
	}
	if seen {
		out.Preread, out.PreCPUStats = prev.Read.UTC(), renderCPU(prev.CPU)
	}
	if len(st.Networks) > 0 {
		out.Networks = map[string]networkJSON{}
		for name, n := range st.Networks {
			out.Networks[name] = networkJSON(n)
		}
		if v4 {
			out.NetworkRateStats = networkRate(st, prev, seen)
		}
	}
	return out
}

func renderCPU(c ecsapi.CPUStats) cpuJSON {
	var out cpuJSON
	out.CPUUsage.TotalUsage, out.CPUUsage.PercpuUsage = c.TotalUsage, c.PerCPUUsage
	out.CPUUsage.UsageInKernelmode, out.CPUUsage.UsageInUsermode = c.UsageInKernelmode, c.UsageInUsermode
	out.SystemUsage, out.OnlineCPUs = c.SystemUsage, c.OnlineCPUs
	out.ThrottlingData.Periods, out.ThrottlingData.ThrottledPeriods = c.ThrottlingPeriods, c.ThrottledPeriods
	out.ThrottlingData.ThrottledTime = c.ThrottledTime
	return out
}

// renderBlkio renders every list, empty ones as [] as the agent shows them.
func renderBlkio(b ecsapi.BlkIOStats) blkioJSON {
	list := func(es []ecsapi.BlkIOEntry) []blkioEntryJSON {
		out := make([]blkioEntryJSON, len(es))
		for i, e := range es {
			out[i] = blkioEntryJSON(e)
		}
		return out
	}
	return blkioJSON{
		IoServiceBytesRecursive: list(b.ServiceBytes), IoServicedRecursive: list(b.Serviced),
		IoQueuedRecursive: list(b.Queued), IoServiceTimeRecursive: list(b.ServiceTime),
		IoWaitTimeRecursive: list(b.WaitTime), IoMergedRecursive: list(b.Merged),
		IoTimeRecursive: list(b.Time), SectorsRecursive: list(b.Sectors),
	}
}

// networkRate is the traffic of every interface per second since the reading
// before (none without one).
func networkRate(st, prev ecsapi.ContainerStats, seen bool) *networkRateJSON {
	rate := &networkRateJSON{}
	secs := st.Read.Sub(prev.Read).Seconds()
	if !seen || secs <= 0 {
		return rate
	}
	for name, n := range st.Networks {
		p := prev.Networks[name]
		if n.RxBytes >= p.RxBytes && n.TxBytes >= p.TxBytes { // not reset meanwhile
			rate.RxBytesPerSec += float64(n.RxBytes-p.RxBytes) / secs
			rate.TxBytesPerSec += float64(n.TxBytes-p.TxBytes) / secs
		}
	}
	return rate
}
