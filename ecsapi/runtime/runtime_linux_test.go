package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// testImage is what make-test-image.sh names its image; task definitions
// say "nginx:latest".
const (
	testImage = "docker.io/library/nginx:latest"
	testPage  = "hello from the vpcsim test image"
)

// requireRoot skips a test that needs root and containerd, or fails it when
// VPCSIM_REQUIRE_ROOT=1 (CI sets it, so these tests cannot be skipped there
// without anyone noticing).
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv("VPCSIM_REQUIRE_ROOT") != "1" {
		t.Skip("runs containers with containerd: not in -short mode")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ip", "python3"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat(testImageScript(t)); err != nil {
		missing = append(missing, "shared/acceptance/make-test-image.sh beside the repository")
	}
	if len(missing) == 0 {
		return
	}
	msg := "needs " + strings.Join(missing, ", ") + " (run `sudo go test ./ecsapi/runtime/` with Debian's containerd and runc)"
	if os.Getenv("VPCSIM_REQUIRE_ROOT") == "1" {
		t.Fatal(msg + ", and VPCSIM_REQUIRE_ROOT=1 forbids skipping it")
	}
	t.Skip(msg + "; set VPCSIM_REQUIRE_ROOT=1 to fail instead of skipping")
}

// testImageScript is shared/acceptance/make-test-image.sh, which lives beside
// the repository (/work/main in development, a clean clone in CI).
func testImageScript(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	if root == "" {
		return ""
	}
	return filepath.Join(root, "..", "shared", "acceptance", "make-test-image.sh")
}

// repoRoot is the directory of go.mod, or "" outside the repository.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// testLogger writes to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newNetns makes a namespace with lo up for one task, as hostnet makes a
// host's: `ip netns add vs-rt<hex>`, deleted when the test ends.
func newNetns(t *testing.T) (path, name string) {
	t.Helper()
	name = "vs-rt" + randHex(4)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return "/run/netns/" + name, name
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// exits records Exited calls.
type exits chan exitEvent

type exitEvent struct {
	name   string
	code   int
	reason string
}

func newExits() exits { return make(exits, 16) }

func (e exits) record(name string, code int, reason string) { e <- exitEvent{name, code, reason} }

// patience bounds the wait for something that must happen. It is generous:
// it is only reached when the thing never happens, and a busy machine (CI
// with both cores taken) may take seconds over what takes milliseconds alone.
const patience = 2 * time.Minute

// wait returns the next exit, failing the test if none comes.
func (e exits) wait(t *testing.T) exitEvent {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(patience):
		t.Fatalf("no container exited within %v", patience)
		return exitEvent{}
	}
}

func (e exits) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-e:
		t.Errorf("unexpected Exited(%q, %d, %q)", ev.name, ev.code, ev.reason)
	case <-time.After(d):
	}
}

func container(name, image string, command ...string) ecsapi.ContainerRun {
	return ecsapi.ContainerRun{
		Def:         ecstypes.ContainerDefinition{Name: ecstypes.Ptr(name), Image: ecstypes.Ptr(image), Essential: ecstypes.Ptr(true)},
		Command:     command,
		StopTimeout: 500 * time.Millisecond,
	}
}

func newTask(ex exits, netns string, cs ...ecsapi.ContainerRun) ecsapi.TaskRun {
	if netns == "" {
		netns = taskNetns // a task always has one
	}
	id := randHex(16)
	return ecsapi.TaskRun{
		TaskID: id, TaskARN: "arn:aws:ecs:us-west-2:000000000000:task/test/" + id,
		NetnsPath: netns, Containers: cs, Exited: ex.record,
	}
}

// assertGone checks that containerd holds no container or container
// snapshot of the task.
func assertGone(t *testing.T, r *Runtime, run ecsapi.TaskRun) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), r.ns)
	conts, err := r.client.Containers(ctx, labelFilter(labelTaskID, run.TaskID))
	if err != nil {
		t.Fatal(err)
	}
	if len(conts) > 0 {
		t.Errorf("%d containers of task %s remain", len(conts), run.TaskID)
	}
	for _, c := range run.Containers {
		id := containerID(run.TaskID, *c.Def.Name)
		if _, err := r.client.SnapshotService(r.snapshotter).Stat(ctx, id); !errdefs.IsNotFound(err) {
			t.Errorf("snapshot %s: %v, want not found", id, err)
		}
	}
}

// testContext is the context of a test's own calls: it ends a minute before
// go test's -timeout would kill the binary, so that a call that hangs fails
// the test and its cleanup (which has a context of its own) still runs.
func testContext(t *testing.T) context.Context {
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Minute))
		t.Cleanup(cancel)
	}
	return ctx
}

// cleanupContext is the context of a cleanup: fresh, since the test's own
// may have ended, which is often why the test is failing.
func cleanupContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestRuntime drives one managed containerd through the Runtime: it is
// started once (about a second) and its subtests share it.
func TestRuntime(t *testing.T) {
	requireRoot(t)
	ctx := testContext(t)
	// Unix socket paths are limited to 108 bytes: a short directory of our own.
	dir, err := os.MkdirTemp("/tmp", "vsrt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	initBinary := buildStaticVpcsim(t, dir)
	r, err := New(ctx, dir, WithInitBinary(initBinary), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	taskNetns, _ = newNetns(t)
	closed := false
	t.Cleanup(func() {
		if closed {
			return
		}
		// Shims outlive their containerd: the containers go first.
		if err := r.RemoveAll(cleanupContext(t)); err != nil {
			t.Errorf("cleanup: remove the test's containers: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("cleanup: stop containerd: %v", err)
		}
	})

	archive := filepath.Join(dir, "image.tar")
	run(t, testImageScript(t), archive, testImage)
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	names, err := r.ImportImage(ctx, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{testImage}) {
		t.Fatalf("ImportImage = %q, want [%s]", names, testImage)
	}
	imgs, err := r.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].Name != testImage || !imgs[0].Unpacked || !strings.HasPrefix(imgs[0].Digest, "sha256:") {
		t.Fatalf("ListImages = %+v", imgs)
	}

	t.Run("docker archive and short names", func(t *testing.T) {
		for _, tc := range []struct {
			format, name, want string
		}{
			{"docker", "vpcsim-test/docker:1", "docker.io/vpcsim-test/docker:1"},
			{"oci", "vpcsim-short:2", "docker.io/library/vpcsim-short:2"},
		} {
			out := filepath.Join(dir, tc.format+".tar")
			rewriteArchive(t, archive, out, tc.format, tc.name)
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			names, err := r.ImportImage(ctx, f)
			f.Close()
			if err != nil || !slices.Equal(names, []string{tc.want}) {
				t.Fatalf("import %s archive named %s = %q, %v; want [%s]", tc.format, tc.name, names, err, tc.want)
			}
			ex := newExits()
			task := newTask(ex, "", container("cat", tc.name, "sh", "-c", "cat /www/index.html"))
			if _, err := r.Start(ctx, task); err != nil {
				t.Fatal(err)
			}
			if ev := ex.wait(t); ev.code != 0 {
				t.Errorf("Exited%+v", ev)
			}
			if _, err := r.Stop(ctx, task.TaskID); err != nil {
				t.Error(err)
			}
			if b, _ := os.ReadFile(r.LogPath(task.TaskID, "cat")); !strings.Contains(string(b), testPage) {
				t.Errorf("log %q", b)
			}
		}
		imgs, err := r.ListImages(ctx)
		if err != nil || len(imgs) != 3 {
			t.Errorf("ListImages = %+v, %v; want 3 images", imgs, err)
		}
	})

	t.Run("pull from a registry", func(t *testing.T) {
		host, hits := serveRegistry(t, archive, "vpcsim/pulled", "1")
		ref := host + "/vpcsim/pulled:1"
		// A registry on loopback, over plain HTTP: the operator must list it.
		r, err := New(ctx, dir, WithInsecureRegistries(host), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i := range 2 {
			ex := newExits()
			task := newTask(ex, "", container("pulled", ref, "sh", "-c", "cat /www/index.html"))
			res, err := r.Start(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			if ev := ex.wait(t); ev.code != 0 {
				t.Errorf("Exited%+v", ev)
			}
			if res.ImageDigests["pulled"] != imgs[0].Digest {
				t.Errorf("digest %s, want %s", res.ImageDigests["pulled"], imgs[0].Digest)
			}
			if _, err := r.Stop(ctx, task.TaskID); err != nil {
				t.Error(err)
			}
			if b, _ := os.ReadFile(r.LogPath(task.TaskID, "pulled")); !strings.Contains(string(b), testPage) {
				t.Errorf("run %d: log %q", i, b)
			}
		}
		if n := hits.Load(); n == 0 || n > 2 {
			t.Errorf("%d manifest requests: want one pull, then the stored image", n)
		}
	})

	t.Run("awsvpc task shares localhost", func(t *testing.T) {
		netns, nsName := newNetns(t)
		ex := newExits()
		web := container("web", "nginx:latest") // the image's CMD: httpd on :80
		client := container("client", "nginx:latest", "sh", "-c",
			`i=0; while [ $i -lt 600 ]; do wget -q -O - http://127.0.0.1:80/ && exit 0; sleep 0.2; i=$((i+1)); done; exit 1`)
		task := newTask(ex, netns, web, client)
		res, err := r.Start(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"web", "client"} {
			if res.RuntimeIDs[n] != containerID(task.TaskID, n) || res.ImageDigests[n] != imgs[0].Digest {
				t.Errorf("%s: runtime ID %q, digest %q", n, res.RuntimeIDs[n], res.ImageDigests[n])
			}
		}
		if res.PullStarted.IsZero() || res.PullStopped.Before(res.PullStarted) {
			t.Errorf("pull times %v, %v", res.PullStarted, res.PullStopped)
		}
		if ev := ex.wait(t); ev != (exitEvent{"client", 0, ""}) {
			t.Errorf("Exited%+v, want the client's own exit 0", ev)
		}
		out := run(t, "ip", "netns", "exec", nsName, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1/")
		if strings.TrimSpace(out) != testPage {
			t.Errorf("httpd in the task's namespace answered %q", out)
		}
		logged, err := os.ReadFile(r.LogPath(task.TaskID, "client"))
		if err != nil || !strings.Contains(string(logged), testPage) {
			t.Errorf("client log %q, %v", logged, err)
		}
		if p := filepath.Join(dir, "logs", task.TaskID, "client.log"); r.LogPath(task.TaskID, "client") != p {
			t.Errorf("LogPath = %s, want %s", r.LogPath(task.TaskID, "client"), p)
		}
		running, err := r.Running(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, c := range running[task.TaskID] {
			states = append(states, c.Name+"="+c.Status)
		}
		slices.Sort(states)
		if !slices.Equal(states, []string{"client=stopped", "web=running"}) {
			t.Errorf("Running = %v", states)
		}

		began := time.Now()
		codes, err := r.Stop(ctx, task.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		// httpd is PID 1 without a SIGTERM handler: SIGTERM does nothing and
		// SIGKILL follows after the stop timeout.
		if codes["web"] != 137 || codes["client"] != 0 {
			t.Errorf("Stop = %v, want web 137 (killed), client 0", codes)
		}
		if d := time.Since(began); d < web.StopTimeout {
			t.Errorf("Stop took %v with a %v stop timeout: it did not wait for SIGTERM to work", d, web.StopTimeout)
		}
		ex.none(t, 200*time.Millisecond) // a stop is not the container's own exit
		assertGone(t, r, task)
	})

	t.Run("own exit code", func(t *testing.T) {
		// The exit is reported once the log holds the last line: a burst of
		// stderr just before the exit is still being copied by the shim when
		// the process is gone.
		ex := newExits()
		burst := `i=0; while [ $i -lt 3000 ]; do echo "line $i of the burst" >&2; i=$((i+1)); done; echo bye >&2; exit 3`
		task := newTask(ex, "", container("three", "nginx", "sh", "-c", burst))
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev != (exitEvent{"three", 3, ""}) {
			t.Errorf("Exited%+v, want three 3", ev)
		}
		if b, _ := os.ReadFile(r.LogPath(task.TaskID, "three")); !strings.HasSuffix(string(b), "bye\n") {
			t.Errorf("when the exit was reported, the log ended %q; want its last line, bye", b[max(0, len(b)-40):])
		}
		// Another Runtime (vpcsim restarted) learns the exit from the container.
		r2, err := New(ctx, t.TempDir(), WithContainerdAddress(r.Managed().Address()), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		ex2 := newExits()
		adopted := task
		adopted.Exited = ex2.record
		if err := r2.Adopt(ctx, adopted); err != nil {
			t.Fatal(err)
		}
		if ev := ex2.wait(t); ev != (exitEvent{"three", 3, ""}) {
			t.Errorf("adopted Exited%+v, want three 3", ev)
		}
		r2.mu.Lock()
		delete(r2.tasks, task.TaskID) // r stops it
		r2.mu.Unlock()
		codes, err := r.Stop(ctx, task.TaskID)
		if err != nil || codes["three"] != 3 {
			t.Errorf("Stop = %v, %v", codes, err)
		}
		assertGone(t, r, task)
		if codes, err := r.Stop(ctx, task.TaskID); err != nil || len(codes) != 0 {
			t.Errorf("second Stop = %v, %v; want nothing, no error", codes, err)
		}
	})

	t.Run("restart in place", func(t *testing.T) {
		// Each run counts itself in a file of the container's own
		// filesystem and exits with 10 plus the count: a second exit of
		// 12 shows a new process on the same filesystem.
		ex := newExits()
		count := `n=$(cat /runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > /runs; echo run $n; exit $((10+n))`
		task := newTask(ex, "", container("again", "nginx", "sh", "-c", count))
		defer r.Stop(context.Background(), task.TaskID)
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev != (exitEvent{"again", 11, ""}) {
			t.Fatalf("first Exited%+v, want again 11", ev)
		}
		if err := r.Restart(ctx, task.TaskID, "again"); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev != (exitEvent{"again", 12, ""}) {
			t.Fatalf("after Restart, Exited%+v, want again 12", ev)
		}
		if b, _ := os.ReadFile(r.LogPath(task.TaskID, "again")); string(b) != "run 1\nrun 2\n" {
			t.Errorf("the log %q, want both runs", b)
		}
		codes, err := r.Stop(ctx, task.TaskID)
		if err != nil || codes["again"] != 12 {
			t.Errorf("Stop = %v, %v", codes, err)
		}
		assertGone(t, r, task)
	})

	t.Run("SIGTERM ends a process that handles it", func(t *testing.T) {
		ex := newExits()
		c := container("trap", "nginx", "sh", "-c", `trap "exit 0" TERM; echo trapped; while true; do sleep 0.1; done`)
		c.StopTimeout = patience // a SIGKILL after it would end the shell with 137
		task := newTask(ex, "", c)
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		waitLogged(t, r, task.TaskID, "trap", "trapped")
		codes, err := r.Stop(ctx, task.TaskID)
		if err != nil || codes["trap"] != 0 {
			t.Errorf("Stop = %v, %v; want trap 0, from its trap of SIGTERM", codes, err)
		}
		ex.none(t, 100*time.Millisecond)
	})

	t.Run("initProcessEnabled", func(t *testing.T) { testInitProcess(t, ctx, r) })
	t.Run("capabilities", func(t *testing.T) { testCapabilities(t, ctx, r) })

	t.Run("Stats", func(t *testing.T) {
		ex := newExits()
		busy := container("busy", "nginx", "sh", "-c", `i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo counted; sleep 60`)
		busy.Def.Memory = ecstypes.Ptr(int32(64))
		task := newTask(ex, "", busy, container("done", "nginx", "true"))
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev.name != "done" {
			t.Fatalf("Exited%+v", ev)
		}
		waitLogged(t, r, task.TaskID, "busy", "counted")
		stats, err := r.Stats(ctx, task.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := stats["busy"]
		if len(stats) != 1 || !ok {
			t.Fatalf("Stats has %d readings, want busy's only (done has no process)", len(stats))
		}
		t.Logf("busy: %+v", st)
		if st.CPU.TotalUsage == 0 || st.CPU.UsageInUsermode+st.CPU.UsageInKernelmode == 0 || st.CPU.SystemUsage < st.CPU.TotalUsage || st.CPU.OnlineCPUs == 0 {
			t.Errorf("CPU %+v", st.CPU)
		}
		if st.Memory.Usage == 0 || st.Memory.Limit != 64<<20 || len(st.Memory.Stats) == 0 {
			t.Errorf("Memory usage %d, limit %d, %d stats", st.Memory.Usage, st.Memory.Limit, len(st.Memory.Stats))
		}
		if st.Pids.Current == 0 {
			t.Errorf("Pids %+v", st.Pids)
		}
		if d := time.Since(st.Read); d < 0 || d > patience {
			t.Errorf("Read %v", st.Read)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Fatal(err)
		}
		if stats, err := r.Stats(ctx, task.TaskID); err != nil || len(stats) != 0 {
			t.Errorf("Stats of a stopped task = %v, %v", stats, err)
		}
	})

	t.Run("OOM kill", func(t *testing.T) {
		ex := newExits()
		c := container("hog", "nginx", "sh", "-c", `x=$(busybox head -c 268435456 /dev/zero | busybox tr "\0" a); echo survived`)
		c.Def.Memory = ecstypes.Ptr(int32(16))
		task := newTask(ex, "", c)
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		ev := ex.wait(t)
		if ev.code != 137 || ev.reason != oomReason {
			t.Errorf("Exited%+v, want 137 with %q", ev, oomReason)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
	})

	t.Run("missing image and unreachable registry", func(t *testing.T) {
		ex := newExits()
		task := newTask(ex, "", container("ok", "nginx", "true"), container("x", "registry.invalid/x:1"))
		_, err := r.Start(ctx, task)
		if err == nil || !strings.HasPrefix(err.Error(), "CannotPullContainerError: ") {
			t.Fatalf("Start = %v, want CannotPullContainerError: …", err)
		}
		t.Log(err)
		assertGone(t, r, task)
		ex.none(t, 100*time.Millisecond)
	})

	t.Run("entryPoint drops the image CMD", func(t *testing.T) {
		c := container("ep", "nginx")
		c.Def.EntryPoint = []string{"/bin/sh", "-c", "exit 4"} // entryPoint drops the image's CMD
		ex := newExits()
		task := newTask(ex, "", c)
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev.code != 4 {
			t.Errorf("Exited%+v, want 4", ev)
		}
		r.Stop(ctx, task.TaskID)
	})

	t.Run("healthCheck reports HEALTHY then UNHEALTHY", func(t *testing.T) {
		ex := newExits()
		c := container("checked", "nginx", "sleep", "1000")
		// The test makes and removes /tmp/ok itself. The start period keeps
		// the failures before it is made from counting, however late that is;
		// once a check passes, failures count again.
		c.Def.HealthCheck = &ecstypes.HealthCheck{
			Command: []string{"CMD-SHELL", "test -f /tmp/ok"}, Interval: ecstypes.Ptr(int32(1)),
			Timeout: ecstypes.Ptr(int32(2)), Retries: ecstypes.Ptr(int32(2)), StartPeriod: ecstypes.Ptr(int32(300)),
		}
		type verdict struct {
			name   string
			status ecstypes.HealthStatus
			at     time.Time
		}
		verdicts := make(chan verdict, 8)
		task := newTask(ex, "", c)
		task.Health = func(name string, s ecstypes.HealthStatus) { verdicts <- verdict{name, s, time.Now()} }
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		next := func() verdict {
			t.Helper()
			select {
			case v := <-verdicts:
				t.Logf("%s %s", v.name, v.status)
				return v
			case <-time.After(patience):
				t.Fatalf("no health verdict within %v", patience)
				return verdict{}
			}
		}
		ok := filepath.Join(rootOf(t, ctx, r, task.TaskID, "checked"), "tmp", "ok")
		if err := os.WriteFile(ok, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if v := next(); v.name != "checked" || v.status != ecstypes.HealthStatusHealthy {
			t.Errorf("first verdict %+v, want checked HEALTHY", v)
		}
		removed := time.Now()
		if err := os.Remove(ok); err != nil {
			t.Fatal(err)
		}
		if v := next(); v.name != "checked" || v.status != ecstypes.HealthStatusUnhealthy {
			t.Errorf("second verdict %+v, want checked UNHEALTHY", v)
		} else if v.at.Before(removed) {
			t.Errorf("UNHEALTHY at %v, before the file went away at %v", v.at, removed)
		}
		// Only changes are reported.
		select {
		case v := <-verdicts:
			t.Errorf("unexpected verdict %+v", v)
		case <-time.After(1500 * time.Millisecond):
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
		// The checker stopped with the container.
		select {
		case v := <-verdicts:
			t.Errorf("verdict %+v after Stop", v)
		case <-time.After(1500 * time.Millisecond):
		}
		ex.none(t, 100*time.Millisecond)
		assertGone(t, r, task)
	})

	t.Run("healthCheck start period and CMD form", func(t *testing.T) {
		ex := newExits()
		c := container("slow", "nginx", "sleep", "1000")
		// CMD runs its argv as it is, with no shell put in front; this one
		// notes each run in /tmp/checks. With retries 1 the first failure
		// would be UNHEALTHY, but the start period covers it.
		c.Def.HealthCheck = &ecstypes.HealthCheck{
			Command:  []string{"CMD", "busybox", "sh", "-c", "echo >> /tmp/checks; test -f /tmp/ok"},
			Interval: ecstypes.Ptr(int32(1)), Retries: ecstypes.Ptr(int32(1)), StartPeriod: ecstypes.Ptr(int32(300)),
		}
		verdicts := make(chan ecstypes.HealthStatus, 8)
		task := newTask(ex, "", c)
		task.Health = func(_ string, s ecstypes.HealthStatus) { verdicts <- s }
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		root := rootOf(t, ctx, r, task.TaskID, "slow")
		for deadline := time.Now().Add(patience); ; time.Sleep(50 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(root, "tmp", "checks")); len(b) >= 2 {
				break // two checks have failed
			}
			if time.Now().After(deadline) {
				t.Fatal("the health check did not run twice")
			}
		}
		select {
		case s := <-verdicts:
			t.Fatalf("verdict %s in the start period, want none (its failures do not count)", s)
		default:
		}
		if err := os.WriteFile(filepath.Join(root, "tmp", "ok"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-verdicts:
			if s != ecstypes.HealthStatusHealthy {
				t.Errorf("verdict %s, want HEALTHY", s)
			}
		case <-time.After(patience):
			t.Fatalf("no health verdict within %v", patience)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
	})

	t.Run("dependsOn SUCCESS waits for the exit", func(t *testing.T) {
		netns, _ := newNetns(t)
		type exitAt struct {
			exitEvent
			at time.Time
		}
		exited := make(chan exitAt, 8)
		a := container("a", "nginx", "sh", "-c", "sleep 1; exit 0")
		a.Def.Essential = ecstypes.Ptr(false)
		b := container("b", "nginx", "sh", "-c", "sleep 30")
		b.Def.DependsOn = []ecstypes.ContainerDependency{{ContainerName: ecstypes.Ptr("a"), Condition: ecstypes.ContainerConditionSuccess}}
		task := newTask(nil, netns, b, a) // b first: order comes from dependsOn
		task.Exited = func(name string, code int, reason string) {
			exited <- exitAt{exitEvent{name, code, reason}, time.Now()}
		}
		began := time.Now()
		res, err := r.Start(ctx, task)
		returned := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-exited:
			if ev.exitEvent != (exitEvent{"a", 0, ""}) {
				t.Errorf("Exited%+v, want a 0", ev.exitEvent)
			}
		case <-time.After(patience):
			t.Fatal("a's exit was never reported")
		}
		if d := returned.Sub(began); d < time.Second {
			t.Errorf("Start returned after %v, before a's 1 s", d)
		}
		if res.RuntimeIDs["a"] == "" || res.RuntimeIDs["b"] == "" {
			t.Fatalf("RuntimeIDs %v", res.RuntimeIDs)
		}
		// b started after a exited: containerd made it after a's process
		// ended, both by containerd's clock.
		cctx := namespaces.WithNamespace(ctx, r.ns)
		ca, err := r.client.LoadContainer(cctx, res.RuntimeIDs["a"])
		if err != nil {
			t.Fatal(err)
		}
		infoA, err := ca.Info(cctx)
		if err != nil {
			t.Fatal(err)
		}
		code, exitedAt, ok := recordedExit(infoA.Labels)
		if !ok || code != 0 {
			t.Fatalf("a's recorded exit: %d, %v; want 0", code, ok)
		}
		if _, err := ca.Task(cctx, nil); !errdefs.IsNotFound(err) {
			t.Errorf("a's task after its exit: %v; want it deleted", err)
		}
		cb, err := r.client.LoadContainer(cctx, res.RuntimeIDs["b"])
		if err != nil {
			t.Fatal(err)
		}
		info, err := cb.Info(cctx)
		if err != nil {
			t.Fatal(err)
		}
		if !info.CreatedAt.After(exitedAt) {
			t.Errorf("b created at %v, before a exited at %v", info.CreatedAt, exitedAt)
		}
		codes, err := r.Stop(ctx, task.TaskID)
		if err != nil || codes["a"] != 0 || codes["b"] != 137 && codes["b"] != 143 {
			t.Errorf("Stop = %v, %v", codes, err)
		}
		assertGone(t, r, task)
	})

	t.Run("dependsOn SUCCESS on a failing container fails Start", func(t *testing.T) {
		ex := newExits()
		a := container("a", "nginx", "sh", "-c", "exit 1")
		a.Def.Essential = ecstypes.Ptr(false)
		b := container("b", "nginx", "true")
		b.Def.DependsOn = []ecstypes.ContainerDependency{{ContainerName: ecstypes.Ptr("a"), Condition: ecstypes.ContainerConditionSuccess}}
		task := newTask(ex, "", a, b)
		_, err := r.Start(ctx, task)
		want := "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [a] for target [b] as dependency did not exit successfully"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("Start = %v, want %s…", err, want)
		}
		t.Log(err)
		if ev := ex.wait(t); ev != (exitEvent{"a", 1, ""}) {
			t.Errorf("Exited%+v, want a 1", ev)
		}
		ex.none(t, 200*time.Millisecond) // b never ran
		assertGone(t, r, task)
	})

	t.Run("dependsOn HEALTHY, COMPLETE and START", func(t *testing.T) {
		ex := newExits()
		db := container("db", "nginx", "sh", "-c", "sleep 1; touch /tmp/ok; sleep 100")
		// The start period: however late the file comes, db becomes HEALTHY.
		db.Def.HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "test -f /tmp/ok"}, Interval: ecstypes.Ptr(int32(1)),
			StartPeriod: ecstypes.Ptr(int32(300))}
		migrate := container("migrate", "nginx", "sh", "-c", "exit 2")
		migrate.Def.Essential = ecstypes.Ptr(false)
		migrate.Def.DependsOn = []ecstypes.ContainerDependency{{ContainerName: ecstypes.Ptr("db"), Condition: ecstypes.ContainerConditionHealthy}}
		app := container("app", "nginx", "sleep", "100")
		app.Def.DependsOn = []ecstypes.ContainerDependency{
			{ContainerName: ecstypes.Ptr("migrate"), Condition: ecstypes.ContainerConditionComplete},
			{ContainerName: ecstypes.Ptr("db"), Condition: ecstypes.ContainerConditionStart},
		}
		var healthy atomic.Bool
		task := newTask(ex, "", app, migrate, db)
		task.Health = func(name string, s ecstypes.HealthStatus) {
			if name == "db" && s == ecstypes.HealthStatusHealthy {
				healthy.Store(true)
			}
		}
		res, err := r.Start(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		if !healthy.Load() {
			t.Error("Start returned before db was HEALTHY")
		}
		if ev := ex.wait(t); ev != (exitEvent{"migrate", 2, ""}) {
			t.Errorf("Exited%+v, want migrate 2 (before Start returned)", ev)
		}
		if len(res.RuntimeIDs) != 3 {
			t.Errorf("RuntimeIDs %v", res.RuntimeIDs)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
		assertGone(t, r, task)
	})

	t.Run("dependsOn startTimeout", func(t *testing.T) {
		ex := newExits()
		a := container("a", "nginx", "sleep", "100")
		b := container("b", "nginx", "true")
		b.Def.StartTimeout = ecstypes.Ptr(int32(1))
		b.Def.DependsOn = []ecstypes.ContainerDependency{{ContainerName: ecstypes.Ptr("a"), Condition: ecstypes.ContainerConditionComplete}}
		task := newTask(ex, "", a, b)
		_, err := r.Start(ctx, task)
		if err == nil || !strings.Contains(err.Error(), "startTimeout") {
			t.Fatalf("Start = %v, want a startTimeout error", err)
		}
		ex.none(t, 200*time.Millisecond)
		assertGone(t, r, task)
	})

	t.Run("another Runtime adopts running containers", func(t *testing.T) {
		ex := newExits()
		task := newTask(ex, "", container("sleeper", "nginx", "sleep", "60"))
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		// A second vpcsim on the same data directory (`vpcsim image ls`
		// beside `vpcsim serve`) shares the daemon and leaves it running.
		pid := r.Managed().Pid()
		shared, err := New(ctx, dir, WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		if shared.Managed() != nil {
			t.Error("a second Runtime on the data directory started its own daemon")
		}
		if imgs, err := shared.ListImages(ctx); err != nil || len(imgs) == 0 {
			t.Errorf("shared ListImages = %v, %v", imgs, err)
		}
		if err := shared.Close(); err != nil {
			t.Error(err)
		}
		if r.Managed().Pid() != pid || syscall.Kill(pid, 0) != nil {
			t.Errorf("the shared daemon (pid %d) was disturbed: now %d", pid, r.Managed().Pid())
		}

		r2dir := t.TempDir()
		r2, err := New(ctx, r2dir, WithContainerdAddress(r.Managed().Address()), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		if r2.Managed() != nil {
			t.Error("WithContainerdAddress started a daemon")
		}
		running, err := r2.Running(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cs := running[task.TaskID]; len(cs) != 1 || cs[0].Name != "sleeper" || cs[0].Status != "running" || cs[0].TaskARN != task.TaskARN {
			t.Fatalf("Running = %+v", running)
		}
		ex2 := newExits()
		adopted := task
		adopted.Exited = ex2.record
		if err := r2.Adopt(ctx, adopted); err != nil {
			t.Fatal(err)
		}
		// The first Runtime's kill is, for the second, the container's own end.
		c, err := r.client.LoadContainer(namespaces.WithNamespace(ctx, r.ns), containerID(task.TaskID, "sleeper"))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := c.Task(namespaces.WithNamespace(ctx, r.ns), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		r.tasks[task.TaskID].stopping = true // so that only r2 reports
		r.mu.Unlock()
		if err := tk.Kill(namespaces.WithNamespace(ctx, r.ns), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if ev := ex2.wait(t); ev.name != "sleeper" || ev.code != 137 {
			t.Errorf("adopted Exited%+v", ev)
		}
		if _, err := r2.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
		assertGone(t, r, task)
	})

	t.Run("containerd restarts and watches resume", func(t *testing.T) {
		m := r.Managed()
		ex := newExits()
		task := newTask(ex, "", container("later", "nginx", "sh", "-c", "sleep 4; exit 7"))
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		old := m.Pid()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(patience)
		for m.Pid() == 0 || m.Pid() == old {
			if time.Now().After(deadline) {
				t.Fatal("containerd was not restarted")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ev := ex.wait(t); ev != (exitEvent{"later", 7, ""}) {
			t.Errorf("Exited%+v after a containerd restart, want later 7", ev)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
		assertGone(t, r, task)
	})

	t.Run("RemoveAll", func(t *testing.T) {
		netns, _ := newNetns(t)
		ex := newExits()
		task := newTask(ex, netns, container("a", "nginx"), container("b", "nginx", "sleep", "60"))
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if err := r.RemoveAll(ctx); err != nil {
			t.Fatal(err)
		}
		ex.none(t, 200*time.Millisecond)
		assertNothingLeft(t, r)
	})

	// Last: the managed daemon goes away with Close, leaving nothing behind.
	// (Not in ctx: it may be what ran out. If this fails, the cleanup tries
	// again before it closes the daemon.)
	if err := r.RemoveAll(cleanupContext(t)); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, r)
	pid, sock := r.Managed().Pid(), r.Managed().Address()
	closed = true
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("containerd (pid %d) still there after Close: %v", pid, err)
	}
	if c, err := containerd.New(sock, containerd.WithTimeout(200*time.Millisecond)); err == nil {
		c.Close()
		t.Error("the socket still answers after Close")
	}
}

// rootOf is the root filesystem of a running container, as its process sees
// it (/proc/PID/root): the test reads and writes the container's files there.
func rootOf(t *testing.T, ctx context.Context, r *Runtime, taskID, name string) string {
	t.Helper()
	running, err := r.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range running[taskID] {
		if c.Name == name && c.Pid > 0 {
			return fmt.Sprintf("/proc/%d/root", c.Pid)
		}
	}
	t.Fatalf("container %s of task %s is not running: %+v", name, taskID, running[taskID])
	return ""
}

// waitLogged waits until the container's log holds text.
func waitLogged(t *testing.T, r *Runtime, taskID, name, text string) {
	t.Helper()
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(r.LogPath(taskID, name)); strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged %q", name, text)
		}
	}
}

// assertNothingLeft checks that vpcsim's namespace has no container and no
// container snapshot.
func assertNothingLeft(t *testing.T, r *Runtime) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), r.ns)
	conts, err := r.client.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conts {
		t.Errorf("container %s remains", c.ID())
	}
	err = r.client.SnapshotService(r.snapshotter).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if strings.HasPrefix(info.Name, idPrefix) {
			t.Errorf("snapshot %s remains", info.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if running, err := r.Running(ctx); err != nil || len(running) != 0 {
		t.Errorf("Running = %v, %v", running, err)
	}
}

// rewriteArchive turns make-test-image.sh's OCI archive into a `docker save`
// archive (format "docker") or an OCI archive whose io.containerd.image.name
// is name as written (format "oci"), both naming the image name.
func rewriteArchive(t *testing.T, src, dst, format, name string) {
	t.Helper()
	files := readArchive(t, src)
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	blob := func(d digest.Digest) []byte { return files["blobs/sha256/"+d.Encoded()] }
	out := map[string][]byte{}
	switch format {
	case "oci":
		for k, v := range files {
			out[k] = v
		}
		idx.Manifests[0].Annotations = map[string]string{images.AnnotationImageName: name}
		out["index.json"], _ = json.Marshal(idx)
	case "docker":
		var m ocispec.Manifest
		if err := json.Unmarshal(blob(idx.Manifests[0].Digest), &m); err != nil {
			t.Fatal(err)
		}
		entry := map[string]any{"Config": m.Config.Digest.Encoded() + ".json", "RepoTags": []string{name}}
		out[m.Config.Digest.Encoded()+".json"] = blob(m.Config.Digest)
		var layers []string
		for _, l := range m.Layers {
			p := l.Digest.Encoded() + "/layer.tar"
			out[p] = blob(l.Digest)
			layers = append(layers, p)
		}
		entry["Layers"] = layers
		out["manifest.json"], _ = json.Marshal([]any{entry})
	}
	w, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tw := tar.NewWriter(w)
	for p, b := range out {
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// readArchive returns the regular files of a tar archive by path.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, "./")] = b
		}
	}
}

// serveRegistry serves the OCI archive's image as repo:tag from a registry
// on 127.0.0.1 (plain HTTP, which the runtime pulls from only when the
// registry is listed: WithInsecureRegistries), and counts the manifest
// requests.
func serveRegistry(t *testing.T, archive, repo, tag string) (host string, manifestHits *atomic.Int32) {
	t.Helper()
	files := readArchive(t, archive)
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	man := idx.Manifests[0]
	hits := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.Path
		prefix := "/v2/" + repo + "/"
		var (
			body  []byte
			dgst  digest.Digest
			ctype = "application/octet-stream"
		)
		switch {
		case p == "/v2/":
			w.WriteHeader(http.StatusOK)
			return
		case p == prefix+"manifests/"+tag || p == prefix+"manifests/"+man.Digest.String():
			hits.Add(1)
			dgst, ctype = man.Digest, man.MediaType
		case strings.HasPrefix(p, prefix+"blobs/"):
			dgst = digest.Digest(strings.TrimPrefix(p, prefix+"blobs/"))
		default:
			http.NotFound(w, req)
			return
		}
		if dgst.Validate() != nil {
			http.NotFound(w, req)
			return
		}
		if body = files["blobs/sha256/"+dgst.Encoded()]; body == nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Docker-Content-Digest", dgst.String())
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), hits
}

// TestManagedReplacesStaleDaemon: a daemon that outlived its vpcsim (no
// lock holder) is stopped before a new one starts on the same root.
func TestManagedReplacesStaleDaemon(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dataDir, err := os.MkdirTemp("/tmp", "vsrt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	dir, sock := managedPaths(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(managedConfig(dir, sock)), 0o600); err != nil {
		t.Fatal(err)
	}
	stale := exec.Command("containerd", "--config", cfg)
	if err := stale.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- stale.Wait() }()
	t.Cleanup(func() { stale.Process.Kill() })
	if err := os.WriteFile(filepath.Join(dir, "containerd.pid"), []byte(strconv.Itoa(stale.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(ctx, sock, nil, patience); err != nil {
		t.Fatal(err)
	}
	// As an older vpcsim, or a user, may have left it: StartManaged tightens it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := StartManaged(ctx, dataDir, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, sock: 0o600, sock + ".ttrpc": 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	select {
	case <-exited:
	case <-time.After(patience):
		t.Error("the stale daemon is still running")
	}
	if m.Pid() == 0 || m.Pid() == stale.Process.Pid {
		t.Errorf("managed pid %d", m.Pid())
	}
	if _, err := StartManaged(ctx, dataDir); !errors.Is(err, ErrManagedElsewhere) {
		t.Errorf("a second StartManaged = %v, want ErrManagedElsewhere", err)
	}
	pid := m.Pid()
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("containerd (pid %d) still there after Close: %v", pid, err)
	}
}
