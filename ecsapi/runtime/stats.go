package runtime

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/ecsapi"
)

var _ ecsapi.StatsReader = (*Runtime)(nil)

// Stats reads the cgroup figures of every running (or paused) container of
// the task from containerd, with what Docker adds to each reading from the
// host: its CPU time, its online CPUs, and its memory as the ceiling of the
// limit. A container without a process has no reading.
func (r *Runtime) Stats(ctx context.Context, taskID string) (map[string]ecsapi.ContainerStats, error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	conts, err := r.client.Containers(ctx, labelFilter(labelTaskID, taskID))
	if err != nil {
		return nil, err
	}
	host, err := readHost()
	if err != nil {
		return nil, err
	}
	out := map[string]ecsapi.ContainerStats{}
	for _, c := range conts {
		st, ok, err := containerStats(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("statistics of container %s: %w", c.ID(), err)
		}
		if !ok {
			continue
		}
		st.CPU.SystemUsage, st.CPU.OnlineCPUs = host.cpuTime, host.onlineCPUs
		if st.Memory.Limit == 0 || st.Memory.Limit > host.memory {
			st.Memory.Limit = host.memory // "no limit" is the host's memory, as Docker says
		}
		out[st.name] = st.ContainerStats
	}
	return out, nil
}

type namedStats struct {
	name string
	ecsapi.ContainerStats
}

// containerStats reads one container's metrics; ok is false when it has no
// process (not started, ended, or removed meanwhile).
func containerStats(ctx context.Context, c containerd.Container) (_ namedStats, ok bool, _ error) {
	info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
	if errdefs.IsNotFound(err) {
		return namedStats{}, false, nil
	} else if err != nil {
		return namedStats{}, false, err
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return namedStats{}, false, nil
	} else if err != nil {
		return namedStats{}, false, err
	}
	if s, err := task.Status(ctx); err != nil || (s.Status != containerd.Running && s.Status != containerd.Paused) {
		return namedStats{}, false, nil
	}
	read := time.Now()
	m, err := task.Metrics(ctx)
	if errdefs.IsNotFound(err) {
		return namedStats{}, false, nil
	} else if err != nil {
		return namedStats{}, false, err
	}
	st, err := cgroupStats(m.GetData())
	if err != nil {
		return namedStats{}, false, err
	}
	st.Read = read
	return namedStats{name: info.Labels[labelContainer], ContainerStats: st}, true, nil
}

// host is what Docker reads of the host for each reading.
type host struct {
	cpuTime    uint64 // ns of CPU time of every CPU since boot, all states
	onlineCPUs uint32
	memory     uint64 // bytes of RAM
}

func readHost() (host, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return host{}, err
	}
	defer f.Close()
	h, err := parseProcStat(f)
	if err != nil {
		return host{}, fmt.Errorf("/proc/stat: %w", err)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return host{}, fmt.Errorf("sysinfo: %w", err)
	}
	h.memory = uint64(si.Totalram) * uint64(si.Unit)
	return h, nil
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux
// architecture Docker supports, which assumes it too.
const clockTicks = 100

// parseProcStat reads the host's CPU time as Docker does: the first seven
// fields of the "cpu" line (user to softirq), and one CPU per "cpuN" line.
func parseProcStat(r io.Reader) (host, error) {
	var h host
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0 || !strings.HasPrefix(f[0], "cpu"):
		case f[0] == "cpu":
			if len(f) < 8 {
				return host{}, fmt.Errorf("short cpu line %q", sc.Text())
			}
			var ticks uint64
			for _, s := range f[1:8] {
				v, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return host{}, err
				}
				ticks += v
			}
			h.cpuTime, found = ticks*uint64(time.Second)/clockTicks, true
		default:
			h.onlineCPUs++
		}
	}
	if err := sc.Err(); err != nil {
		return host{}, err
	}
	if !found {
		return host{}, fmt.Errorf("no cpu line")
	}
	return h, nil
}
