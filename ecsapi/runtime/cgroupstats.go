package runtime

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/vpcsim/vpcsim/ecsapi"
)

// cgroupStats turns the metrics containerd's shim reads from a container's
// cgroup (v1 or v2) into Docker's figures, as dockerd turns them.
func cgroupStats(data *anypb.Any) (ecsapi.ContainerStats, error) {
	url := data.GetTypeUrl()
	name := protoreflect.FullName(url[strings.LastIndexByte(url, '/')+1:])
	switch name {
	case (*v1.Metrics)(nil).ProtoReflect().Descriptor().FullName():
		var m v1.Metrics
		if err := proto.Unmarshal(data.GetValue(), &m); err != nil {
			return ecsapi.ContainerStats{}, err
		}
		return fromCgroup1(&m), nil
	case (*v2.Metrics)(nil).ProtoReflect().Descriptor().FullName():
		var m v2.Metrics
		if err := proto.Unmarshal(data.GetValue(), &m); err != nil {
			return ecsapi.ContainerStats{}, err
		}
		return fromCgroup2(&m), nil
	}
	return ecsapi.ContainerStats{}, fmt.Errorf("metrics of an unknown type %q", url)
}

// memoryStatNames1 turns cgroup v1 memory.stat field names as containerd
// spells them into the files' own, which Docker uses ("pg_pg_in" → "pgpgin").
var memoryStatNames1 = strings.NewReplacer("pg_pg_", "pgpg", "pg_fault", "pgfault", "pg_maj_fault", "pgmajfault",
	"hierarchical_swap_limit", "hierarchical_memsw_limit")

func fromCgroup1(m *v1.Metrics) ecsapi.ContainerStats {
	var st ecsapi.ContainerStats
	if u := m.GetCPU().GetUsage(); u != nil {
		st.CPU.TotalUsage, st.CPU.UsageInKernelmode, st.CPU.UsageInUsermode = u.Total, u.Kernel, u.User
		st.CPU.PerCPUUsage = u.PerCPU
	}
	if t := m.GetCPU().GetThrottling(); t != nil {
		st.CPU.ThrottlingPeriods, st.CPU.ThrottledPeriods, st.CPU.ThrottledTime = t.Periods, t.ThrottledPeriods, t.ThrottledTime
	}
	if mem := m.GetMemory(); mem != nil {
		u := mem.GetUsage()
		st.Memory = ecsapi.MemoryStats{Usage: u.GetUsage(), MaxUsage: u.GetMax(), Failcnt: u.GetFailcnt(), Limit: u.GetLimit(),
			Stats: uint64Fields(mem, func(n string) string { return memoryStatNames1.Replace(n) })}
	}
	st.Pids = ecsapi.PidsStats{Current: m.GetPids().GetCurrent(), Limit: m.GetPids().GetLimit()}
	if b := m.GetBlkio(); b != nil {
		st.BlkIO = ecsapi.BlkIOStats{
			ServiceBytes: blkio1(b.IoServiceBytesRecursive), Serviced: blkio1(b.IoServicedRecursive),
			Queued: blkio1(b.IoQueuedRecursive), ServiceTime: blkio1(b.IoServiceTimeRecursive),
			WaitTime: blkio1(b.IoWaitTimeRecursive), Merged: blkio1(b.IoMergedRecursive),
			Time: blkio1(b.IoTimeRecursive), Sectors: blkio1(b.SectorsRecursive),
		}
	}
	return st
}

func blkio1(es []*v1.BlkIOEntry) []ecsapi.BlkIOEntry {
	out := make([]ecsapi.BlkIOEntry, len(es))
	for i, e := range es {
		out[i] = ecsapi.BlkIOEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value}
	}
	return out
}

// memoryFigures2 are the fields of v2's MemoryStat that are not memory.stat's
// (Docker reports usage and limit apart, and no swap).
var memoryFigures2 = []string{"usage", "usage_limit", "swap_usage", "swap_limit"}

func fromCgroup2(m *v2.Metrics) ecsapi.ContainerStats {
	var st ecsapi.ContainerStats
	const us = 1000 // cgroup v2 counts CPU time in µs, Docker in ns
	if c := m.GetCPU(); c != nil {
		st.CPU = ecsapi.CPUStats{
			TotalUsage: c.UsageUsec * us, UsageInKernelmode: c.SystemUsec * us, UsageInUsermode: c.UserUsec * us,
			ThrottlingPeriods: c.NrPeriods, ThrottledPeriods: c.NrThrottled, ThrottledTime: c.ThrottledUsec * us,
		}
	}
	if mem := m.GetMemory(); mem != nil {
		st.Memory = ecsapi.MemoryStats{Usage: mem.Usage, Limit: mem.UsageLimit, Stats: uint64Fields(mem, func(n string) string {
			if slices.Contains(memoryFigures2, n) {
				return ""
			}
			return n
		})}
	}
	st.Pids = ecsapi.PidsStats{Current: m.GetPids().GetCurrent(), Limit: m.GetPids().GetLimit()}
	for _, e := range m.GetIo().GetUsage() {
		st.BlkIO.ServiceBytes = append(st.BlkIO.ServiceBytes,
			ecsapi.BlkIOEntry{Major: e.Major, Minor: e.Minor, Op: "read", Value: e.Rbytes},
			ecsapi.BlkIOEntry{Major: e.Major, Minor: e.Minor, Op: "write", Value: e.Wbytes})
		st.BlkIO.Serviced = append(st.BlkIO.Serviced,
			ecsapi.BlkIOEntry{Major: e.Major, Minor: e.Minor, Op: "read", Value: e.Rios},
			ecsapi.BlkIOEntry{Major: e.Major, Minor: e.Minor, Op: "write", Value: e.Wios})
	}
	return st
}

// uint64Fields maps the single uint64 fields of a message by name, renamed
// (a field renamed to "" is left out): memory.stat, whose many fields the
// message mirrors one for one.
func uint64Fields(msg proto.Message, rename func(string) string) map[string]uint64 {
	out := map[string]uint64{}
	m := msg.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.Uint64Kind || fd.IsList() {
			continue
		}
		if name := rename(string(fd.Name())); name != "" {
			out[name] = m.Get(fd).Uint()
		}
	}
	return out
}
