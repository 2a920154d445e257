package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// taskNetns is the network namespace of the tasks that newTask makes without
// one of their own (TestRuntime makes it): a container never runs in the
// machine's own network, so every task needs one.
var taskNetns string

// confinedRuntime is a Runtime with its own managed containerd, the test
// image imported, and its own network namespace for tasks; everything it
// made is removed when the test ends, failed or not.
type confinedRuntime struct {
	*Runtime
	dir, archive, netns string
}

func newConfinedRuntime(t *testing.T, ctx context.Context, opts ...Option) confinedRuntime {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "vsrt") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := buildStaticVpcsim(t, dir)
	r, err := New(ctx, dir, append([]Option{WithInitBinary(bin), WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A fresh context: the test's may be what ran out.
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.RemoveAll(cctx); err != nil {
			t.Errorf("RemoveAll: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := confinedRuntime{Runtime: r, dir: dir, archive: filepath.Join(dir, "image.tar")}
	run(t, testImageScript(t), c.archive, testImage)
	f, err := os.Open(c.archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := r.ImportImage(ctx, f); err != nil {
		t.Fatal(err)
	}
	c.netns, _ = newNetns(t)
	return c
}

// output runs a task of one container to its end and answers what it wrote.
func (c confinedRuntime) output(t *testing.T, ctx context.Context, ctr ecsapi.ContainerRun, edit ...func(*ecsapi.TaskRun)) string {
	t.Helper()
	ex := newExits()
	task := newTask(ex, c.netns, ctr)
	for _, f := range edit {
		f(&task)
	}
	if _, err := c.Start(ctx, task); err != nil {
		t.Fatal(err)
	}
	ex.wait(t)
	if _, err := c.Stop(ctx, task.TaskID); err != nil {
		t.Error(err)
	}
	b, err := os.ReadFile(c.LogPath(task.TaskID, *ctr.Def.Name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// statusField is a field of /proc/PID/status as the output shows it.
func statusField(out, field string) string {
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestContainerConfinement runs real containers and looks at them as the
// kernel sees them: Docker's seccomp profile, which dockerSecurityOptions and
// privileged lift; no_new_privs on request; the task cgroup and its limits; a
// fork bomb held by the pids limit; no container without a namespace of its
// task's; no pull from a loopback registry the operator did not list; logs
// rotated at their cap; systemControls, devices, ipcMode and pidMode applied.
func TestContainerConfinement(t *testing.T) {
	requireRoot(t)
	ctx := testContext(t)
	c := newConfinedRuntime(t, ctx, WithTaskPidsLimit(64), WithLogMaxSize(16<<10), WithHostDevices("/dev/zero"))

	t.Run("seccomp and no_new_privs", func(t *testing.T) {
		// unshare(CLONE_NEWUSER) needs no capability, but Docker's profile
		// allows unshare only to holders of CAP_SYS_ADMIN.
		// unshare's complaint goes to stdout, before the line that ends the
		// probe: the shim copies stdout and stderr to the log each on its own,
		// so a stderr line may reach it after the container's exit is known.
		probe := `busybox grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; busybox unshare -U true 2>&1; echo unshare=$?`
		for _, tc := range []struct {
			name       string
			opts       []string
			privileged bool
			seccomp    string
			nnp        string
			unshare    string
		}{
			{"by default", nil, false, "2", "0", "unshare=1"},
			{"seccomp=unconfined", []string{"seccomp=unconfined"}, false, "0", "0", "unshare=0"},
			{"privileged", nil, true, "0", "0", "unshare=0"},
			{"no-new-privileges", []string{"no-new-privileges"}, false, "2", "1", "unshare=1"},
		} {
			ctr := container("probe", "nginx", "sh", "-c", probe)
			ctr.Def.DockerSecurityOptions, ctr.Def.Privileged = tc.opts, ecstypes.Ptr(tc.privileged)
			out := c.output(t, ctx, ctr)
			if statusField(out, "Seccomp") != tc.seccomp || statusField(out, "NoNewPrivs") != tc.nnp || !strings.Contains(out, tc.unshare) {
				t.Errorf("%s: the container says\n%s\nwant Seccomp %s, NoNewPrivs %s, %s", tc.name, out, tc.seccomp, tc.nnp, tc.unshare)
			}
			if tc.unshare == "unshare=1" && !strings.Contains(out, "Operation not permitted") {
				t.Errorf("%s: unshare failed otherwise than with EPERM:\n%s", tc.name, out)
			}
		}
	})

	t.Run("task cgroup", func(t *testing.T) {
		ex := newExits()
		task := newTask(ex, c.netns, container("app", "nginx", "sleep", "60"), container("side", "nginx", "sleep", "60"))
		task.CPU, task.Memory = 512, 96
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		cg := c.cgroups.path(task.TaskID)
		running, err := c.Running(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ctr := range running[task.TaskID] {
			if got, want := procCgroup(t, int(ctr.Pid)), cg+"/"+ctr.ID; got != want {
				t.Errorf("%s is in the cgroup %s, want %s", ctr.Name, got, want)
			}
		}
		want := map[string]string{"memory.limit_in_bytes": "100663296", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "pids.max": "64"}
		if c.cgroups.unified {
			want = map[string]string{"memory.max": "100663296", "cpu.max": "50000 100000", "pids.max": "64"}
		}
		for file, value := range want {
			if got := c.cgroupFile(t, cg, file); got != value {
				t.Errorf("%s of the task cgroup: %q, want %q", file, got, value)
			}
		}
		if _, err := c.Stop(ctx, task.TaskID); err != nil {
			t.Fatal(err)
		}
		for _, root := range c.cgroups.roots() {
			if _, err := os.Stat(filepath.Join(root, cg)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the task cgroup %s outlives the task: %v", filepath.Join(root, cg), err)
			}
		}
	})

	t.Run("task memory limit", func(t *testing.T) {
		// 64 MiB in a task of 32, no container limit of its own: killed.
		hog := container("hog", "nginx", "sh", "-c", `x=$(busybox head -c 67108864 /dev/zero | busybox tr "\0" a); echo survived`)
		ex := newExits()
		task := newTask(ex, c.netns, hog)
		task.Memory = 32
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev.code != 137 {
			t.Errorf("Exited%+v, want 137: killed at the task's memory limit", ev)
		}
		if _, err := c.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
	})

	t.Run("a fork bomb stays within the pids limit", func(t *testing.T) {
		// 100 processes (a bomb that stops by itself, should the limit fail).
		bomb := container("bomb", "nginx", "sh", "-c",
			`(i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i+1)); done) 2>&1; echo spawned; sleep 60`)
		ex := newExits()
		task := newTask(ex, c.netns, bomb)
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		defer c.Stop(ctx, task.TaskID)
		log := c.LogPath(task.TaskID, "bomb")
		for deadline := time.Now().Add(patience); ; time.Sleep(100 * time.Millisecond) {
			if b, _ := os.ReadFile(log); strings.Contains(string(b), "spawned") {
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(log)
				t.Fatalf("the bomb did not finish:\n%s", b)
			}
		}
		pids := c.cgroupFile(t, c.cgroups.path(task.TaskID), "pids.current")
		if n, err := strconv.Atoi(pids); err != nil || n > 64 || n < 32 {
			t.Errorf("the task holds %q processes, want the limit's 64 at most (and many)", pids)
		}
		if b, _ := os.ReadFile(log); !strings.Contains(string(b), "can't fork") {
			t.Errorf("no fork was refused:\n%s", b)
		}
	})

	t.Run("no network namespace, no container", func(t *testing.T) {
		for path, want := range map[string]string{
			"":                  "the task has no network namespace",
			"/proc/self/ns/net": "is this machine's own network",
			"/etc/hostname":     "is not a namespace",
			"/run/netns/none":   "no such file",
		} {
			task := newTask(newExits(), c.netns, container("web", "nginx"))
			task.NetnsPath = path
			_, err := c.Start(ctx, task)
			if err == nil || !strings.HasPrefix(err.Error(), "CannotStartContainerError: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("NetnsPath %q: Start = %v, want CannotStartContainerError: …%s…", path, err, want)
			}
			assertGone(t, c.Runtime, task)
		}
	})

	t.Run("a loopback registry must be listed", func(t *testing.T) {
		host, hits := serveRegistry(t, c.archive, "vpcsim/private", "1")
		task := newTask(newExits(), c.netns, container("app", host+"/vpcsim/private:1", "true"))
		_, err := c.Start(ctx, task)
		if err == nil || !strings.HasPrefix(err.Error(), "CannotPullContainerError: ") || !strings.Contains(err.Error(), "--insecure-registry "+host) {
			t.Errorf("Start = %v, want CannotPullContainerError naming --insecure-registry %s", err, host)
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the registry was asked %d times", n)
		}
		assertGone(t, c.Runtime, task)
	})

	t.Run("logs rotate at their cap", func(t *testing.T) {
		// 17 lines of 1000 bytes, each in one write, through a 16 KiB cap:
		// the log passes the cap only with its last line, so the rotation
		// (checked every second) cannot come in the middle however slowly
		// they are written. Then two more lines once the rotation is seen;
		// the container runs on.
		writer := container("chatty", "nginx", "sh", "-c",
			`x=$(busybox awk 'BEGIN { while (length(s) < 994) s = s "x"; print s }')
			i=0; while [ $i -lt 17 ]; do printf '%04d %s\n' $i "$x"; i=$((i+1)); done
			while [ ! -f /tmp/more ]; do sleep 0.1; done; echo 0100 more; echo 0101 more; sleep 1000`)
		ex := newExits()
		task := newTask(ex, c.netns, writer)
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		defer c.Stop(ctx, task.TaskID)
		path := c.LogPath(task.TaskID, "chatty")
		waitFor := func(what string, done func() bool) {
			t.Helper()
			for deadline := time.Now().Add(patience); !done(); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("never: %s", what)
				}
			}
		}
		waitFor("a rotation", func() bool { _, err := os.Stat(RotatedLog(path)); return err == nil })
		if err := os.WriteFile(filepath.Join(rootOf(t, ctx, c.Runtime, task.TaskID, "chatty"), "tmp", "more"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor("the lines after the rotation", func() bool { b, _ := os.ReadFile(path); return strings.Contains(string(b), "0101 more") })
		rotated, _ := os.ReadFile(RotatedLog(path))
		current, _ := os.ReadFile(path)
		if len(rotated) < 16<<10 {
			t.Errorf("the rotated file holds %d bytes, want what passed the 16 KiB cap", len(rotated))
		}
		if string(current) != "0100 more\n0101 more\n" {
			t.Errorf("after the rotation the log holds %q, want the two lines written since", current)
		}
		// Nothing lost or repeated: the rotated file holds lines 0-16 whole.
		lines := strings.Split(strings.TrimSuffix(string(rotated), "\n"), "\n")
		if len(lines) != 17 {
			t.Fatalf("the rotated file holds %d lines, want 17", len(lines))
		}
		for i, l := range lines {
			if len(l) != 999 || !strings.HasPrefix(l, fmt.Sprintf("%04d ", i)) {
				t.Fatalf("line %d of the rotated log is %.20q…, want line %04d whole", i, l, i)
			}
		}
	})

	t.Run("systemControls, devices and ipcMode none", func(t *testing.T) {
		probe := container("probe", "nginx", "sh", "-c",
			`cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmni; busybox head -c 4 /dev/xzero | busybox od -An -tx1; ls /dev/shm 2>/dev/null; echo shm=$?`)
		probe.Def.SystemControls = []ecstypes.SystemControl{
			{Namespace: ecstypes.Ptr("net.core.somaxconn"), Value: ecstypes.Ptr("1234")},
			{Namespace: ecstypes.Ptr("kernel.shmmni"), Value: ecstypes.Ptr("555")},
		}
		probe.Def.LinuxParameters = &ecstypes.LinuxParameters{Devices: []ecstypes.Device{{HostPath: ecstypes.Ptr("/dev/zero"), ContainerPath: ecstypes.Ptr("/dev/xzero"), Permissions: []ecstypes.DeviceCgroupPermission{"read"}}}}
		out := c.output(t, ctx, probe, func(r *ecsapi.TaskRun) { r.IpcMode = ecstypes.IpcModeNone })
		for _, want := range []string{"1234\n555\n", "00 00 00 00", "shm=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("the container says\n%s\nwant %q", out, want)
			}
		}
		for _, tc := range []struct {
			edit func(*ecsapi.ContainerRun, *ecsapi.TaskRun)
			want string
		}{
			{func(c *ecsapi.ContainerRun, _ *ecsapi.TaskRun) {
				c.Def.LinuxParameters = &ecstypes.LinuxParameters{Devices: []ecstypes.Device{{HostPath: ecstypes.Ptr("/dev/mem")}}}
			}, "--host-device /dev/mem"},
			{func(c *ecsapi.ContainerRun, _ *ecsapi.TaskRun) {
				c.Def.SystemControls = []ecstypes.SystemControl{{Namespace: ecstypes.Ptr("vm.overcommit_memory"), Value: ecstypes.Ptr("1")}}
			}, "not a namespaced kernel parameter"},
			{func(_ *ecsapi.ContainerRun, r *ecsapi.TaskRun) { r.PidMode = ecstypes.PidModeHost }, "--allow-host-namespaces"},
		} {
			ctr := container("refused", "nginx", "true")
			task := newTask(newExits(), c.netns, ctr)
			tc.edit(&task.Containers[0], &task)
			_, err := c.Start(ctx, task)
			if err == nil || !strings.HasPrefix(err.Error(), "CannotCreateContainerError: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v, want CannotCreateContainerError: …%s…", err, tc.want)
			}
			assertGone(t, c.Runtime, task)
		}
	})

	t.Run("pidMode task", func(t *testing.T) {
		// first ends at once; the namespace outlives it, and second sees
		// third's process and the pause process as PID 1.
		first := container("first", "nginx", "true")
		first.Def.Essential = ecstypes.Ptr(false)
		third := container("third", "nginx", "sleep", "60")
		second := container("second", "nginx", "sh", "-c", `sleep 1; ps -o pid,args; cat /proc/1/status; sleep 60`)
		ex := newExits()
		task := newTask(ex, c.netns, first, third, second)
		task.PidMode = ecstypes.PidModeTask
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		defer c.Stop(ctx, task.TaskID)
		if ev := ex.wait(t); ev.name != "first" {
			t.Fatalf("Exited%+v, want first", ev)
		}
		log := c.LogPath(task.TaskID, "second")
		var out string
		for deadline := time.Now().Add(patience); !strings.Contains(out, "NoNewPrivs"); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("second printed:\n%s", out)
			}
			b, _ := os.ReadFile(log)
			out = string(b)
		}
		if !strings.Contains(out, "sleep 60") || !strings.Contains(out, "pause") || statusField(out, "Uid") != "65534\t65534\t65534\t65534" ||
			statusField(out, "CapEff") != "0000000000000000" || statusField(out, "CapBnd") != "0000000000000000" || statusField(out, "NoNewPrivs") != "1" {
			t.Errorf("second sees\n%s\nwant third's sleep, and the pause process as PID 1, nobody without capabilities", out)
		}
		ex.none(t, 200*time.Millisecond) // second and third live on
		pid, ok := c.pausePID(task.TaskID)
		if !ok {
			t.Fatal("no pause process")
		}
		if _, err := c.Stop(ctx, task.TaskID); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.pausePID(task.TaskID); ok || syscall.Kill(pid, 0) == nil {
			t.Errorf("the pause process %d outlives its task", pid)
		}
	})

	// Last: `vpcsim down` leaves no cgroup of the data directory's behind.
	t.Run("RemoveAll removes the task cgroups and pause processes", func(t *testing.T) {
		task := newTask(newExits(), c.netns, container("app", "nginx", "sleep", "60"))
		task.PidMode = ecstypes.PidModeTask
		if _, err := c.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		pid, _ := c.pausePID(task.TaskID)
		if err := c.RemoveAll(ctx); err != nil {
			t.Fatal(err)
		}
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("the pause process %d outlives RemoveAll", pid)
		}
		for _, root := range c.cgroups.roots() {
			if _, err := os.Stat(filepath.Join(root, c.cgroups.parent)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s outlives RemoveAll: %v", filepath.Join(root, c.cgroups.parent), err)
			}
		}
	})
}

// procCgroup is the cgroup of a process, as its memory controller (v1) or
// the unified hierarchy (v2) places it.
func procCgroup(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (parts[1] == "memory" || parts[0] == "0" && parts[1] == "" && !strings.Contains(string(b), ":memory:")) {
			return parts[2]
		}
	}
	t.Fatalf("no memory cgroup in %s", b)
	return ""
}

// cgroupFile reads a file of a cgroup from the hierarchy that has it.
func (c confinedRuntime) cgroupFile(t *testing.T, cg, file string) string {
	t.Helper()
	for _, root := range c.cgroups.roots() {
		if b, err := os.ReadFile(filepath.Join(root, cg, file)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	t.Errorf("no %s in the cgroup %s", file, cg)
	return ""
}
