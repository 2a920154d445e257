package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// buildStaticVpcsim builds cmd/vpcsim as `make build` does, static, into dir:
// the init of containers with initProcessEnabled.
func buildStaticVpcsim(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "vpcsim")
	build := exec.Command("go", "build", "-o", bin, "./cmd/vpcsim")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build vpcsim: %v\n%s", err, out)
	}
	return bin
}

// testInitProcess: with initProcessEnabled the container's PID 1 is vpcsim's
// init, orphans are reaped, SIGTERM reaches a process that ignores it as PID 1,
// and exit codes come through the init unchanged.
func testInitProcess(t *testing.T, ctx context.Context, r *Runtime) {
	withInitProcess := func(c ecsapi.ContainerRun) ecsapi.ContainerRun {
		c.Def.LinuxParameters = &ecstypes.LinuxParameters{InitProcessEnabled: ecstypes.Ptr(true)}
		c.StopTimeout = patience
		return c
	}
	// The subshell leaves its sleep an orphan, which the kernel gives to PID
	// 1. It lives until the test, having seen it, kills it.
	trap := withInitProcess(container("trap", "nginx", "sh", "-c", `trap "exit 5" TERM; (sleep 1000 &); while true; do sleep 0.1; done`))
	web := withInitProcess(container("web", "nginx")) // httpd has no SIGTERM handler
	three := withInitProcess(container("three", "nginx", "sh", "-c", "exit 3"))
	ex := newExits()
	task := newTask(ex, "", trap, web, three)
	if _, err := r.Start(ctx, task); err != nil {
		t.Fatal(err)
	}
	if ev := ex.wait(t); ev != (exitEvent{"three", 3, ""}) {
		t.Errorf("Exited%+v, want three 3 through the init", ev)
	}
	running, err := r.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, c := range running[task.TaskID] {
		pids[c.Name] = int(c.Pid)
	}
	for _, name := range []string{"trap", "web"} {
		pid := pids[name]
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !bytes.HasPrefix(cmdline, []byte(initMount+"\x00init\x00--\x00")) {
			t.Errorf("%s: the container's process runs %q, want vpcsim's init", name, cmdline)
		}
		if ns := nsPid(pid); ns != "1" {
			t.Errorf("%s: the init is pid %q in its namespace, want 1", name, ns)
		}
	}
	// The orphan becomes the init's child, and once it ends the init reaps
	// it: nothing of it stays.
	init := pids["trap"]
	orphan := 0
	for deadline := time.Now().Add(patience); orphan == 0; time.Sleep(20 * time.Millisecond) {
		for _, pid := range childrenOf(init) {
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(cmdline) == "sleep\x001000\x00" {
				orphan = pid
			}
		}
		if orphan == 0 && time.Now().After(deadline) {
			t.Fatalf("the orphan never became a child of the init: its children are %v", childrenOf(init))
		}
	}
	if err := syscall.Kill(orphan, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(patience); slices.Contains(childrenOf(init), orphan); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the killed orphan %d is still the init's child (state %s): not reaped", orphan, procState(orphan))
		}
	}

	// The stop timeout is long: a SIGKILL after it would give 137.
	codes, err := r.Stop(ctx, task.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if codes["trap"] != 5 || codes["web"] != 143 || codes["three"] != 3 {
		t.Errorf("Stop = %v, want trap 5 (its trap), web 143 (SIGTERM through the init), three 3", codes)
	}
	ex.none(t, 100*time.Millisecond)
	assertGone(t, r, task)

	// A vpcsim built with cgo cannot be the init: the start fails and says why.
	saved := r.initBinary
	r.initBinary = "/bin/sh" // dynamically linked on Debian
	defer func() { r.initBinary = saved }()
	task = newTask(ex, "", withInitProcess(container("dyn", "nginx", "true")))
	_, err = r.Start(ctx, task)
	if err == nil || !strings.HasPrefix(err.Error(), "CannotStartContainerError: ") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("Start with a dynamic init binary = %v", err)
	}
	assertGone(t, r, task)
}

// nsPid is the last NSpid of /proc/PID/status: the pid in its own namespace.
func nsPid(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" {
			return f[len(f)-1]
		}
	}
	return ""
}

// childrenOf lists the children of a process: those of each of its threads
// (the init is a Go program, and a child is its forking thread's).
func childrenOf(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, file := range files {
		b, _ := os.ReadFile(file)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// procState is the state letter of /proc/PID/stat ("Z" for a zombie).
func procState(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 {
		return f[0]
	}
	return ""
}
