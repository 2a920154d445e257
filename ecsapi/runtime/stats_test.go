package runtime

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/vpcsim/vpcsim/ecsapi"
)

func TestParseProcStat(t *testing.T) {
	in := `cpu  100 5 50 800 10 1 2 3 0 0
cpu0 50 2 25 400 5 1 1 2 0 0
cpu1 50 3 25 400 5 0 1 1 0 0
intr 12345
ctxt 678
`
	h, err := parseProcStat(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// user..softirq = 968 ticks of 10 ms; steal is not counted, as Docker counts.
	if h.cpuTime != 968*10_000_000 || h.onlineCPUs != 2 {
		t.Errorf("cpuTime %d, onlineCPUs %d", h.cpuTime, h.onlineCPUs)
	}
	if _, err := parseProcStat(strings.NewReader("intr 1\n")); err == nil {
		t.Error("no cpu line: no error")
	}
}

// anyOf packs metrics as the shim sends them, named by their proto type.
func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return &anypb.Any{TypeUrl: string(m.ProtoReflect().Descriptor().FullName()), Value: b}
}

func TestCgroup1Stats(t *testing.T) {
	st, err := cgroupStats(anyOf(t, &v1.Metrics{
		CPU: &v1.CPUStat{
			Usage:      &v1.CPUUsage{Total: 300, Kernel: 100, User: 200, PerCPU: []uint64{120, 180}},
			Throttling: &v1.Throttle{Periods: 4, ThrottledPeriods: 1, ThrottledTime: 9},
		},
		Memory: &v1.MemoryStat{
			Cache: 10, RSS: 20, PgPgIn: 30, TotalPgMajFault: 40, HierarchicalSwapLimit: 50,
			Usage: &v1.MemoryEntry{Usage: 1 << 20, Max: 2 << 20, Failcnt: 3, Limit: 64 << 20},
		},
		Pids:  &v1.PidsStat{Current: 2, Limit: 100},
		Blkio: &v1.BlkIOStat{IoServiceBytesRecursive: []*v1.BlkIOEntry{{Op: "Read", Major: 8, Minor: 0, Value: 4096}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := ecsapi.CPUStats{TotalUsage: 300, UsageInKernelmode: 100, UsageInUsermode: 200, PerCPUUsage: []uint64{120, 180},
		ThrottlingPeriods: 4, ThrottledPeriods: 1, ThrottledTime: 9}
	if !reflect.DeepEqual(st.CPU, want) {
		t.Errorf("CPU %+v, want %+v", st.CPU, want)
	}
	if m := st.Memory; m.Usage != 1<<20 || m.MaxUsage != 2<<20 || m.Failcnt != 3 || m.Limit != 64<<20 {
		t.Errorf("Memory %+v", m)
	}
	// Docker's 32 names of memory.stat, e.g. pgpgin and hierarchical_memsw_limit.
	if s := st.Memory.Stats; len(s) != 32 || s["cache"] != 10 || s["rss"] != 20 || s["pgpgin"] != 30 ||
		s["total_pgmajfault"] != 40 || s["hierarchical_memsw_limit"] != 50 {
		t.Errorf("memory.stat %v", s)
	}
	if st.Pids != (ecsapi.PidsStats{Current: 2, Limit: 100}) {
		t.Errorf("Pids %+v", st.Pids)
	}
	if !slices.Equal(st.BlkIO.ServiceBytes, []ecsapi.BlkIOEntry{{Major: 8, Op: "Read", Value: 4096}}) || st.BlkIO.Sectors == nil {
		t.Errorf("BlkIO %+v", st.BlkIO)
	}
}

func TestCgroup2Stats(t *testing.T) {
	st, err := cgroupStats(anyOf(t, &v2.Metrics{
		CPU:    &v2.CPUStat{UsageUsec: 3, SystemUsec: 1, UserUsec: 2, NrPeriods: 4, NrThrottled: 1, ThrottledUsec: 9},
		Memory: &v2.MemoryStat{Anon: 10, File: 20, Pgfault: 30, Usage: 1 << 20, UsageLimit: 64 << 20, SwapUsage: 5},
		Pids:   &v2.PidsStat{Current: 2},
		Io:     &v2.IOStat{Usage: []*v2.IOEntry{{Major: 8, Rbytes: 4096, Wbytes: 512, Rios: 2, Wios: 1}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := ecsapi.CPUStats{TotalUsage: 3000, UsageInKernelmode: 1000, UsageInUsermode: 2000,
		ThrottlingPeriods: 4, ThrottledPeriods: 1, ThrottledTime: 9000}
	if !reflect.DeepEqual(st.CPU, want) {
		t.Errorf("CPU %+v, want %+v", st.CPU, want)
	}
	if m := st.Memory; m.Usage != 1<<20 || m.Limit != 64<<20 || m.MaxUsage != 0 {
		t.Errorf("Memory %+v", m)
	}
	if s := st.Memory.Stats; len(s) != 31 || s["anon"] != 10 || s["file"] != 20 || s["pgfault"] != 30 {
		t.Errorf("memory.stat %v, want its 31 fields without usage and swap", s)
	}
	wantIO := []ecsapi.BlkIOEntry{{Major: 8, Op: "read", Value: 4096}, {Major: 8, Op: "write", Value: 512}}
	if !slices.Equal(st.BlkIO.ServiceBytes, wantIO) || len(st.BlkIO.Serviced) != 2 || st.BlkIO.Serviced[0].Value != 2 {
		t.Errorf("BlkIO %+v", st.BlkIO)
	}
	if _, err := cgroupStats(&anypb.Any{TypeUrl: "example.Other"}); err == nil {
		t.Error("metrics of an unknown type: no error")
	}
}
