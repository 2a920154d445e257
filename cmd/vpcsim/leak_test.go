package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/hostnet"
)

// TestNothingLeftBehind runs last in `make test` (VPCSIM_LEAK_CHECK=1), after
// every other package's tests, and fails if anything vpcsim's tests made
// outlived them: namespaces, links and nftables tables named vs-, containerd
// daemons and shims of vpcsim's (whose containers and snapshots live in them),
// and mounts of container root filesystems or snapshots. The processes and
// mounts of a vpcsim serving from the default data directory (`make run`) are
// left out, but its namespaces and links are not told apart from a test's:
// run make test on a machine where no other vpcsim serves, as CI does.
func TestNothingLeftBehind(t *testing.T) {
	if os.Getenv("VPCSIM_LEAK_CHECK") != "1" {
		t.Skip("runs at the end of make test (VPCSIM_LEAK_CHECK=1), when every other test has finished")
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
	for _, l := range left {
		t.Errorf("left behind: %s", l)
	}
}

// ours reports whether s names something of a vpcsim other than the one of
// the default data directory.
func ours(s string) bool {
	return !strings.Contains(s, defaultDataDir()+"/")
}

// vpcsimProcesses lists managed containerd daemons (`containerd --config
// <data>/containerd/config.toml`) and shims of vpcsim's containerd namespace.
func vpcsimProcesses(t *testing.T) []string {
	return processesWhere(func(args []string, cmd string) bool {
		managed := filepath.Base(args[0]) == "containerd" && strings.Contains(cmd, "/containerd/config.toml") && !strings.Contains(cmd, "/etc/containerd/")
		shim := strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") && strings.Contains(cmd, "-namespace vpcsim")
		return (managed || shim) && ours(cmd)
	})
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
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && match(f[4]) {
			out = append(out, "mount "+f[4])
		}
	}
	return out
}
