package runtime

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The task cgroup: every task gets a cgroup of its own, created before its
// containers and removed after them, and each container's cgroup is made
// beneath it (the cgroupsPath of its spec). It holds what ECS limits per task,
// as the ECS agent's task cgroup does (/ecs/<task id>):
//
//   - the task-level memory, a hard limit for all its containers together
//     (memory.max on cgroup v2, memory.limit_in_bytes on v1);
//   - the task-level cpu, a hard limit too: 1024 units are one CPU, a CFS
//     quota of the units/1024 share of every 100 ms period (cpu.max on v2,
//     cpu.cfs_quota_us on v1); without one, CPU shares of the containers' cpu
//     summed, as the agent weighs tasks that set no task-level cpu;
//   - the pids limit, a setting of the operator's (default 4096 per task; the
//     agent's ECS_TASK_PIDS_LIMIT), so a fork bomb stays inside its task.
//
// Limits of a container's own (memory, memoryReservation, cpu) stay on its own
// cgroup beneath. The cgroups live under /<containerd namespace>/<8 hex of the
// data directory>/, so `vpcsim down` and RemoveAll remove those of their data
// directory and no other vpcsim's.

// DefaultTaskPidsLimit is the pids limit of a task's cgroup unless the
// operator sets another (WithTaskPidsLimit).
const DefaultTaskPidsLimit = 4096

// cfsPeriod is the CFS period of task cgroups with a cpu limit, in µs (the
// kernel's default and the agent's); minCFSQuota is the kernel's least quota.
const (
	cfsPeriod   = 100_000
	minCFSQuota = 1_000
)

// cgroupRoot is where the cgroup hierarchy (v2) or hierarchies (v1) are
// mounted, as runc finds them.
const cgroupRoot = "/sys/fs/cgroup"

// taskCgroups makes and removes task cgroups, on cgroup v2 or v1 (where
// runc uses v1: /sys/fs/cgroup is not a cgroup2 mount), by writing the
// cgroup files themselves.
type taskCgroups struct {
	parent    string // "/vpcsim/1a2b3c4d", a path in the hierarchy
	unified   bool   // cgroup v2
	pidsLimit int64  // 0: none
	// v1Mounts are the v1 hierarchies by controller ("memory", "cpu",
	// "pids", "name=systemd", …, and "unified" for the v2 hierarchy of the
	// hybrid layout) → mount point; nil on v2.
	v1Mounts map[string]string
}

func newTaskCgroups(namespace, dataDir string, pidsLimit int64) (taskCgroups, error) {
	c := taskCgroups{parent: CgroupParent(namespace, dataDir), pidsLimit: pidsLimit}
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return c, fmt.Errorf("cgroups: %w", err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		c.unified = true
		return c, nil
	}
	var err error
	c.v1Mounts, err = cgroupV1Mounts()
	return c, err
}

// cgroupV1Mounts reads the v1 hierarchies from /proc/self/mountinfo.
func cgroupV1Mounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(after) < 3 {
			continue
		}
		// The hybrid layout's v2 hierarchy (/sys/fs/cgroup/unified): runc
		// makes each container's cgroup there too.
		if after[0] == "cgroup2" {
			if _, seen := mounts["unified"]; !seen {
				mounts["unified"] = fields[4]
			}
			continue
		}
		if after[0] != "cgroup" {
			continue
		}
		for _, opt := range strings.Split(after[2], ",") {
			switch opt {
			case "rw", "ro":
			default:
				if _, seen := mounts[opt]; !seen {
					mounts[opt] = fields[4]
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if mounts["memory"] == "" || mounts["cpu"] == "" || mounts["pids"] == "" {
		return nil, fmt.Errorf("cgroups: no cgroup v2 at %s, and the v1 memory, cpu or pids hierarchy is not mounted", cgroupRoot)
	}
	return mounts, nil
}

// path is the task's cgroup, as a spec's cgroupsPath names it.
func (c taskCgroups) path(taskID string) string {
	return c.parent + "/" + idPrefix + safeName(taskID)
}

// containerPath is the cgroup of one container of the task.
func (c taskCgroups) containerPath(taskID, containerID string) string {
	return c.path(taskID) + "/" + containerID
}

// taskLimits are what a task cgroup holds.
type taskLimits struct {
	memoryBytes int64  // 0: none
	cpuQuota    int64  // µs per cfsPeriod; 0: none
	cpuShares   uint64 // without a quota
	pids        int64  // 0: none
}

// limitsFor turns the task-level cpu (units) and memory (MiB), 0 when not
// set, into the cgroup's limits; shares are the containers' cpu summed.
func (c taskCgroups) limitsFor(cpu, memory int, shares uint64) taskLimits {
	l := taskLimits{memoryBytes: int64(memory) * mib, pids: c.pidsLimit}
	if cpu > 0 {
		l.cpuQuota = max(int64(cpu)*cfsPeriod/1024, minCFSQuota)
	} else {
		l.cpuShares = max(shares, minCPUShares)
	}
	return l
}

// create makes the task's cgroup with its limits, or sets them again on one
// that exists (a start that was interrupted). Equivalent to, on v2:
//
//	echo "+cpu +memory +pids" > /sys/fs/cgroup/{,vpcsim/,vpcsim/HASH/}cgroup.subtree_control
//	mkdir /sys/fs/cgroup/vpcsim/HASH/vs-TASK && cd $_
//	echo "QUOTA 100000" > cpu.max; echo BYTES > memory.max; echo N > pids.max
//
// and on v1 the same files' v1 names in the memory, cpu and pids hierarchies.
func (c taskCgroups) create(taskID string, l taskLimits) error {
	p := c.path(taskID)
	var err error
	if c.unified {
		err = c.createV2(p, l)
	} else {
		err = c.createV1(p, l)
	}
	if err != nil {
		return fmt.Errorf("create the task cgroup %s: %w", p, err)
	}
	return nil
}

func (c taskCgroups) createV2(p string, l taskLimits) error {
	// Each controller must be enabled in every ancestor for its files to
	// exist in the task's cgroup.
	dir := cgroupRoot
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		if err := enableControllers(dir, "cpu", "memory", "pids"); err != nil {
			return err
		}
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	memory, cpu, pids := "max", fmt.Sprintf("max %d", cfsPeriod), "max"
	if l.memoryBytes > 0 {
		memory = strconv.FormatInt(l.memoryBytes, 10)
	}
	if l.cpuQuota > 0 {
		cpu = fmt.Sprintf("%d %d", l.cpuQuota, cfsPeriod)
	}
	if l.pids > 0 {
		pids = strconv.FormatInt(l.pids, 10)
	}
	// cpu.weight from shares, as runc converts them (2…262144 → 1…10000);
	// the kernel's default (100) beside a quota.
	weight := uint64(100)
	if l.cpuQuota == 0 {
		weight = 1 + (max(l.cpuShares, minCPUShares)-2)*9999/262142
	}
	return writeCgroupFiles(dir, map[string]string{
		"memory.max": memory, "cpu.max": cpu, "cpu.weight": strconv.FormatUint(weight, 10), "pids.max": pids,
	})
}

// enableControllers turns on those of the controllers the cgroup has for its
// children (cgroup.subtree_control).
func enableControllers(dir string, want ...string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return err
	}
	have := strings.Fields(string(b))
	var set []string
	for _, w := range want {
		for _, h := range have {
			if w == h {
				set = append(set, "+"+w)
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(set, " ")), 0)
}

func (c taskCgroups) createV1(p string, l taskLimits) error {
	memory, quota, pids := "-1", "-1", "max"
	if l.memoryBytes > 0 {
		memory = strconv.FormatInt(l.memoryBytes, 10)
	}
	if l.cpuQuota > 0 {
		quota = strconv.FormatInt(l.cpuQuota, 10)
	}
	if l.pids > 0 {
		pids = strconv.FormatInt(l.pids, 10)
	}
	shares := "1024"
	if l.cpuQuota == 0 {
		shares = strconv.FormatUint(max(l.cpuShares, minCPUShares), 10)
	}
	for _, w := range []struct {
		controller string
		files      []string // name, value, … written in this order
	}{
		{"memory", []string{"memory.limit_in_bytes", memory}},
		{"cpu", []string{"cpu.cfs_period_us", strconv.Itoa(cfsPeriod), "cpu.cfs_quota_us", quota, "cpu.shares", shares}},
		{"pids", []string{"pids.max", pids}},
	} {
		dir := filepath.Join(c.v1Mounts[w.controller], p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i := 0; i < len(w.files); i += 2 {
			if err := writeCgroupFiles(dir, map[string]string{w.files[i]: w.files[i+1]}); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeCgroupFiles(dir string, files map[string]string) error {
	for name, value := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0); err != nil {
			return fmt.Errorf("write %s to %s: %w", value, filepath.Join(dir, name), err)
		}
	}
	return nil
}

// remove deletes the task's cgroup; its containers' cgroups must be gone
// (containerd deletes them with the containers). A cgroup that is not there
// is removed already.
func (c taskCgroups) remove(taskID string) error {
	return c.removePath(c.path(taskID))
}

// removePath removes one cgroup from every hierarchy that has it (runc
// creates a container's in all v1 hierarchies, and so its parents).
func (c taskCgroups) removePath(p string) error {
	var errs []error
	for _, root := range c.roots() {
		errs = append(errs, rmdirCgroup(filepath.Join(root, p)))
	}
	return errors.Join(errs...)
}

// roots are the hierarchies' mount points.
func (c taskCgroups) roots() []string {
	if c.unified {
		return []string{cgroupRoot}
	}
	seen := map[string]bool{}
	var roots []string
	for _, m := range c.v1Mounts {
		if !seen[m] {
			seen[m] = true
			roots = append(roots, m)
		}
	}
	return roots
}

// rmdirCgroup removes an empty cgroup, retrying while the kernel still
// counts processes that are exiting (EBUSY).
func rmdirCgroup(dir string) error {
	delay := 10 * time.Millisecond
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		switch {
		case err == nil || errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY) && i < 6:
			time.Sleep(delay)
			delay *= 2
		default:
			return fmt.Errorf("remove the cgroup %s: %w", dir, err)
		}
	}
}

// CgroupParent is the cgroup (below each hierarchy's root) that holds the
// task cgroups of a data directory's vpcsim: /NAMESPACE/HASH, the hash of
// the directory's path.
func CgroupParent(namespace, dataDir string) string {
	h := sha256.Sum256([]byte(dataDir))
	return "/" + namespace + "/" + hex.EncodeToString(h[:4])
}

// removeAll deletes every task cgroup of this data directory, then their
// parent, and the namespace's cgroup when no other data directory's is left
// in it: what containers they held must be gone.
func (c taskCgroups) removeAll() error {
	seen := map[string]bool{}
	var errs []error
	for _, root := range c.roots() {
		entries, err := os.ReadDir(filepath.Join(root, c.parent))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), idPrefix) && !seen[e.Name()] {
				seen[e.Name()] = true
				errs = append(errs, c.removePath(c.parent+"/"+e.Name()))
			}
		}
	}
	errs = append(errs, c.removePath(c.parent))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, root := range c.roots() {
		unix.Rmdir(filepath.Join(root, filepath.Dir(c.parent))) // fails, and stays, while another's is in it
	}
	return nil
}

// onlyBusyCgroups reports whether err is made only of cgroups that the kernel
// would not remove yet (EBUSY).
func onlyBusyCgroups(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyBusyCgroups(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, unix.EBUSY)
}
