package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
	"github.com/vpcsim/vpcsim/hostnet"
)

// TestNothingLeftBehind runs last in `make test` (VPCSIM_LEAK_CHECK=1), after
// every other package's tests, and fails if anything vpcsim's tests made
// outlived them: namespaces, links and nftables tables named vs-, containerd
// daemons and shims of vpcsim's (whose containers and snapshots live in them),
// task cgroups, and mounts of container root filesystems or snapshots. The
// processes, mounts and cgroups of a vpcsim serving from the default data
// directory (`make run`) are left out, but its namespaces and links are not
// told apart from a test's. What was there before the run (a killed run's
// leftovers) is not this run's doing: `make test` starts by recording it
// (VPCSIM_LEAK_CHECK=record) in the file VPCSIM_LEAK_BASELINE names, and
// this check then names it without failing.
func TestNothingLeftBehind(t *testing.T) {
	mode, baseline := os.Getenv("VPCSIM_LEAK_CHECK"), os.Getenv("VPCSIM_LEAK_BASELINE")
	if mode != "1" && mode != "record" {
		t.Skip("runs at the start and the end of make test (VPCSIM_LEAK_CHECK=record, then 1)")
	}
	if err := hostnet.Privileged(); err != nil {
		t.Fatalf("the leak check needs root: %v", err)
	}
	left, err := hostnet.Leftovers()
	if err != nil {
		t.Fatal(err)
	}
	left = append(left, vpcsimProcesses(t)...)
	left = append(left, vpcsimMounts(t)...)
	left = append(left, vpcsimCgroups(t)...)
	if mode == "record" {
		if baseline == "" {
			t.Fatal("VPCSIM_LEAK_CHECK=record needs VPCSIM_LEAK_BASELINE, the file to record in")
		}
		if err := os.WriteFile(baseline, []byte(strings.Join(left, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, l := range left {
			t.Logf("there before this run (not counted against it): %s", l)
		}
		return
	}
	before := map[string]bool{}
	if baseline != "" {
		for _, l := range strings.Split(readFile(t, baseline), "\n") {
			before[l] = true
		}
	}
	for _, l := range left {
		if before[l] {
			t.Logf("there before this run, still there: %s", l)
		} else {
			t.Errorf("left behind: %s", l)
		}
	}
}

// ours reports whether s names something of a vpcsim other than the one of
// the default data directory.
func ours(s string) bool {
	return !strings.Contains(s, defaultDataDir()+"/")
}

// vpcsimProcesses lists managed containerd daemons (`containerd --config
// <data>/containerd/config.toml`), shims of vpcsim's containerd namespaces,
// and vpcsim's own helper beside containers (`vpcsim pause`).
func vpcsimProcesses(t *testing.T) []string {
	return processesWhere(func(args []string, cmd string) bool {
		managed := filepath.Base(args[0]) == "containerd" && strings.Contains(cmd, "/containerd/config.toml") && !strings.Contains(cmd, "/etc/containerd/")
		shim := strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") && strings.Contains(cmd, "-namespace vpcsim")
		helper := strings.Contains(filepath.Base(args[0]), "vpcsim") && len(args) > 1 && args[1] == "pause"
		return (managed || shim || helper) && ours(cmd)
	})
}

// vpcsimCgroups lists vpcsim's cgroups (/NAMESPACE/DATA-DIR-HASH: a data
// directory's task cgroups, and containers' in them) but those of the
// default data directory, and the namespaces' cgroups that hold them but the
// default namespace's.
func vpcsimCgroups(t *testing.T) []string {
	keep := ecsrt.CgroupParent(ecsrt.DefaultNamespace, defaultDataDir())
	var out []string
	for _, hierarchy := range cgroupHierarchies(t) {
		nss, _ := filepath.Glob(filepath.Join(hierarchy, "vpcsim*"))
		for _, ns := range nss {
			if filepath.Base(ns) != ecsrt.DefaultNamespace {
				out = append(out, "cgroup "+ns)
			}
			entries, _ := os.ReadDir(ns)
			for _, e := range entries {
				if p := filepath.Join(ns, e.Name()); e.IsDir() && !strings.HasSuffix(p, keep) {
					out = append(out, "cgroup "+p)
				}
			}
		}
	}
	return out
}

// cgroupHierarchies are the mount points of this machine's cgroup
// hierarchies (one with cgroup v2; one per controller, and a v2 one, in v1's
// hybrid layout).
func cgroupHierarchies(t *testing.T) []string {
	var out []string
	for _, line := range strings.Split(readFile(t, "/proc/self/mountinfo"), "\n") {
		pre, post, _ := strings.Cut(line, " - ")
		if f, fs := strings.Fields(pre), strings.Fields(post); len(f) > 4 && len(fs) > 0 && (fs[0] == "cgroup" || fs[0] == "cgroup2") {
			out = append(out, f[4])
		}
	}
	return out
}

// vpcsimMounts lists mounts of containers in vpcsim's containerd namespaces
// (vpcsim, and vpcsim-… where vpcsims share a containerd) and of their
// snapshots (namespaces' own mounts go with their files, listed above).
func vpcsimMounts(t *testing.T) []string {
	return mountsWhere(t, func(at string) bool {
		return (strings.Contains(at, "/io.containerd.runtime.v2.task/vpcsim") ||
			strings.Contains(at, "/containerd/root/io.containerd.snapshotter.")) && ours(at)
	})
}

// inUse lists what still runs or is mounted for a server: what names its
// data directory (its own containerd, that containerd's shims and mounts) and
// the shims and container mounts of its namespace in the shared containerd.
func (s *server) inUse(t testing.TB) []string {
	left := usingDir(t, s.dataDir)
	if s.ownContainerd {
		return left
	}
	left = append(left, processesWhere(func(_ []string, cmd string) bool {
		return strings.Contains(cmd, " -namespace "+s.ctrdNamespace+" ")
	})...)
	return append(left, mountsWhere(t, func(at string) bool {
		return strings.Contains(at, "/io.containerd.runtime.v2.task/"+s.ctrdNamespace+"/")
	})...)
}

// usingDir lists the processes (containerd, its shims) whose command line
// names dir and the mounts (container root filesystems, snapshots) under it.
func usingDir(t testing.TB, dir string) []string {
	procs := processesWhere(func(_ []string, cmd string) bool { return strings.Contains(cmd, dir) })
	return append(procs, mountsWhere(t, func(at string) bool { return strings.HasPrefix(at, dir) })...)
}

// processesWhere lists the processes whose arguments match, as "process PID:
// COMMAND LINE".
func processesWhere(match func(args []string, cmd string) bool) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		if cmd := strings.Join(args, " "); match(args, cmd) {
			out = append(out, "process "+filepath.Base(filepath.Dir(p))+": "+cmd)
		}
	}
	return out
}

// mountsWhere lists this namespace's mount points that match, as "mount PATH".
func mountsWhere(t testing.TB, match func(at string) bool) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readFile(t, "/proc/self/mountinfo"), "\n") {
		if f := strings.Fields(line); len(f) > 4 && match(f[4]) {
			out = append(out, "mount "+f[4])
		}
	}
	return out
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
