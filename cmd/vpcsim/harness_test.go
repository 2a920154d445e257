package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
	"github.com/vpcsim/vpcsim/hostnet"
	"github.com/vpcsim/vpcsim/vpcsim/awstest/awscli"
)

// The end-to-end tests build the real binary, start `vpcsim serve` with the
// kernel dataplane on a free loopback port, and drive it as a user would. Each
// server gets its own namespace prefix (vs-e<hex>-) so parallel test packages
// never touch each other's objects, and every test removes what it made.
// The servers share one containerd (sharedContainerd), each in a containerd
// namespace of its own, unless a test is about vpcsim's own containerd.

var binary string // built once in TestMain

// testImages are image archives built once in TestMain (no registry is
// reachable): nginx:latest and busybox from Debian's busybox by
// ../shared/acceptance/make-test-image.sh, and vpcsim/echo from
// testdata/images/echo. Every server imports them.
var testImages []string

func TestMain(m *testing.M) {
	flag.Parse()
	if run := flag.Lookup("test.run"); run != nil && run.Value.String() == "^TestNothingLeftBehind$" {
		// make test's first and last steps: the leak check needs neither
		// the binary nor the images, which cost ten CPU seconds to make.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "vpcsim-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "vpcsim")
	build := exec.Command("go", "build", "-o", binary, ".")
	// Static, as `make build` makes it: containers with initProcessEnabled run it.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vpcsim:", err)
		os.Exit(1)
	}
	if script, err := filepath.Abs("../../../shared/acceptance/make-test-image.sh"); err == nil {
		for i, ref := range []string{"docker.io/library/nginx:latest", "docker.io/library/busybox:latest"} {
			tar := filepath.Join(dir, fmt.Sprintf("image%d.tar", i))
			if out, err := exec.Command("bash", script, tar, ref).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build the test image %s: %v %s\n", ref, err, out)
				continue
			}
			testImages = append(testImages, tar)
		}
	}
	if tar, err := buildEchoImage(dir, echoImage); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		testImages = append(testImages, tar)
	}
	code := m.Run()
	if err := stopSharedContainerd(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the shared containerd:", err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// patience bounds the wait for something that must happen: generous, since
// it is only reached when the thing never happens, and CI machines are busy
// (both cores taken) and may be seconds late where a quiet one takes
// milliseconds.
const patience = 3 * time.Minute

// testContext is the context of a test's own calls: it ends a minute before
// go test's -timeout would kill the binary, so that a call that hangs fails
// the test and its cleanups (which take contexts of their own) still run.
func testContext(t *testing.T) context.Context {
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Minute))
		t.Cleanup(cancel)
	}
	return ctx
}

// requireE2E skips (or, with VPCSIM_REQUIRE_E2E=1 as CI sets, fails) when the
// machine cannot run the kernel dataplane.
func requireE2E(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	why := ""
	if err := hostnet.Privileged(); err != nil {
		why = err.Error()
	}
	if why == "" {
		return
	}
	if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
		t.Fatalf("end-to-end test cannot run (VPCSIM_REQUIRE_E2E=1): %s", why)
	}
	t.Skipf("end-to-end test needs root: %s (set VPCSIM_REQUIRE_E2E=1 to make this a failure)", why)
}

// server is one running `vpcsim serve`.
type server struct {
	t         testing.TB
	endpoint  string
	prefix    string
	dataDir   string
	listen    string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has ended; cmd.ProcessState then says how
	log       *os.File
	logPath   string   // the server's output, outside its data directory
	extraEnv  []string // for the scripts run against it
	bin       string   // the vpcsim that start runs; "" is the test binary
	serveEnv  []string // added to the environment of `vpcsim serve`
	serveArgs []string // added to its arguments
	// publicRange is the server's internet (--public-cidr): this machine
	// has its first address.
	publicRange netip.Prefix
	// apiOnly serves --dataplane none: the API alone, no kernel objects, no
	// containerd; it needs no root and starts in a moment.
	apiOnly bool
	// The containerd of its containers and images, and their namespace in it:
	// the shared one, or (ownContainerd) vpcsim's own under the data directory.
	ctrdAddress, ctrdNamespace string
	ownContainerd              bool
	// knownFailures names checks of a shared script that cannot pass on this
	// machine whatever vpcsim does; runScript accepts exactly these failing.
	knownFailures []string
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serverOption changes how startServer starts a server.
type serverOption func(*server)

// ownContainerd gives the server vpcsim's own containerd under its data
// directory, as a user's vpcsim has it, instead of the shared one: for tests
// of that containerd and of what vpcsim leaves in its directory.
func ownContainerd() serverOption { return func(s *server) { s.ownContainerd = true } }

// withServeEnv adds variables to the environment of `vpcsim serve`.
func withServeEnv(vars ...string) serverOption {
	return func(s *server) { s.serveEnv = append(s.serveEnv, vars...) }
}

// withServeArgs adds arguments (flags) to `vpcsim serve`.
func withServeArgs(args ...string) serverOption {
	return func(s *server) { s.serveArgs = append(s.serveArgs, args...) }
}

// apiOnly serves the API alone (--dataplane none): for tests of what the API
// refuses, stores and answers, and of its HTTP server. It needs no root.
func apiOnly() serverOption { return func(s *server) { s.apiOnly = true } }

// inDataDir serves from dir, which the test made, instead of a fresh one.
func inDataDir(dir string) serverOption { return func(s *server) { s.dataDir = dir } }

// withBinary serves with bin (a wrapper of vpcsim, a build of it) instead of
// the test's build.
func withBinary(bin string) serverOption { return func(s *server) { s.bin = bin } }

// startServer starts vpcsim with a fresh data directory and imports the test
// images; the test's cleanup stops it and removes every kernel object and
// container it made. An apiOnly server has neither, and is skipped with the
// end-to-end tests in -short mode.
func startServer(t testing.TB, opts ...serverOption) *server {
	t.Helper()
	s := &server{t: t, prefix: "vs-e" + randHex(4) + "-", listen: freePort(t), logPath: filepath.Join(t.TempDir(), "server.log")}
	for _, o := range opts {
		o(s)
	}
	if s.apiOnly && testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	if s.dataDir == "" {
		s.dataDir = t.TempDir()
		// vpcsim's own, as `install -d -m 700` would make it.
		if err := os.Chmod(s.dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.endpoint = "http://" + s.listen
	s.publicRange = netip.MustParsePrefix(testPublicRange(t))
	s.serveArgs = append([]string{"--public-cidr", s.publicRange.String()}, s.serveArgs...)
	if s.apiOnly {
		t.Cleanup(func() { s.stopChecked(t) })
		s.start()
		return s
	}
	if s.ownContainerd {
		s.ctrdAddress, s.ctrdNamespace = filepath.Join(s.dataDir, "containerd", "containerd.sock"), ecsrt.DefaultNamespace
	} else {
		s.ctrdAddress, s.ctrdNamespace = sharedContainerd(t), "vpcsim-"+strings.TrimSuffix(s.prefix, "-")
	}
	// Before start: a start or import that fails the test must not leave the
	// server, its containerd or its namespaces running.
	t.Cleanup(func() {
		s.stopChecked(t)
		if out, err := s.vpcsim("down", "--data-dir", s.dataDir); err != nil {
			t.Errorf("vpcsim down: %v %s", err, out)
		}
		if left := s.inUse(t); len(left) > 0 {
			t.Errorf("after vpcsim down, still in use: %v", left)
		}
		if err := hostnet.RemoveAll(context.Background(), s.prefix); err != nil {
			t.Errorf("remove the test's kernel objects: %v", err)
		}
		if left, _ := hostnet.LeftoversWithPrefix(s.prefix); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	s.start()
	s.importImages()
	return s
}

// start runs `vpcsim serve` and waits until it listens.
func (s *server) start() {
	s.t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	s.log = log
	bin := binary
	if s.bin != "" {
		bin = s.bin
	}
	args := []string{"serve", "--listen", s.listen, "--data-dir", s.dataDir, "--netns-prefix", s.prefix, "--region", "us-east-1"}
	if s.apiOnly {
		args = append(args, "--dataplane", "none")
	}
	s.cmd = exec.Command(bin, append(args, s.serveArgs...)...)
	s.cmd.Env = append(s.containerdEnv(os.Environ()), s.serveEnv...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	cmd, exited := s.cmd, make(chan struct{})
	s.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); {
		if c, err := net.DialTimeout("tcp", s.listen, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("vpcsim serve ended (%v) before it listened:\n%s", cmd.ProcessState, s.logText())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("vpcsim did not start listening:\n%s", s.logText())
}

// importImages loads the test images into the server's namespace of its
// containerd, as `vpcsim image import` does. In the shared containerd their
// content is stored once, and only the images' names and unpacked layers are
// the namespace's own.
func (s *server) importImages() {
	s.t.Helper()
	if len(testImages) < 3 {
		s.t.Fatal("the test images could not be built (see TestMain's output)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	rt := s.runtime(ctx)
	defer rt.Close()
	for _, tar := range testImages {
		f, err := os.Open(tar)
		if err != nil {
			s.t.Fatal(err)
		}
		_, err = rt.ImportImage(ctx, f)
		f.Close()
		if err != nil {
			s.t.Fatalf("import %s: %v", tar, err)
		}
	}
}

// runtime connects to the server's containerd namespace, where the test
// reads what the server's containers are; the caller closes it.
func (s *server) runtime(ctx context.Context) *ecsrt.Runtime {
	s.t.Helper()
	rt, err := ecsrt.New(ctx, s.dataDir, ecsrt.WithContainerdAddress(s.ctrdAddress), ecsrt.WithNamespace(s.ctrdNamespace))
	if err != nil {
		s.t.Fatalf("connect to the server's containerd: %v", err)
	}
	return rt
}

// containerdEnv adds to env what points vpcsim's commands (serve, image,
// down) at the server's containerd and namespace.
func (s *server) containerdEnv(env []string) []string {
	if s.ownContainerd || s.ctrdAddress == "" {
		return env
	}
	return append(env, "VPCSIM_CONTAINERD_ADDRESS="+s.ctrdAddress, "VPCSIM_CONTAINERD_NAMESPACE="+s.ctrdNamespace)
}

// stop ends the server with sig (SIGKILL: as a crash).
func (s *server) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	<-s.exited
	s.cmd = nil
	s.log.Close()
}

// stopChecked stops the server with SIGTERM and fails the test if the race
// detector (the crash and load tests' build) saw a race in it.
func (s *server) stopChecked(t testing.TB) {
	s.stop(syscall.SIGTERM)
	if log := s.logText(); strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("the race detector found a race in vpcsim serve:\n%s", log[strings.Index(log, "WARNING: DATA RACE"):])
	}
}

func (s *server) logText() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// env is what the aws CLI and vpcsim exec need to talk to this server.
func (s *server) env(extra ...string) []string {
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-west-2", "AWS_PAGER=",
		"VPCSIM_ENDPOINT="+s.endpoint, "VPCSIM="+binary, "VPCSIM_NETNS_PREFIX="+s.prefix,
		"VPCSIM_DATA_DIR="+s.dataDir) // for the scripts' own `vpcsim image import`
	return append(s.containerdEnv(env), extra...)
}

// vpcsim runs the binary against this server (exec, down, ...).
func (s *server) vpcsim(args ...string) ([]byte, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = s.env()
	return cmd.CombinedOutput()
}

// awsCLIs finds aws-cli v1 (the Python package) and v2 (Debian's /usr/bin/aws),
// each as one executable path, as the acceptance scripts take it: the CLI
// run by a fork server that paid its start once for the test binary
// (awscli), since the scripts make hundreds of calls.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range []string{"v1", "v2"} {
		bin, err := awscli.Path(v)
		if err == nil {
			var ver []byte
			if ver, err = exec.Command(bin, "--version").CombinedOutput(); err == nil && !strings.HasPrefix(string(ver), "aws-cli/"+v[1:]+".") {
				err = fmt.Errorf("it is %s", strings.TrimSpace(string(ver)))
			}
		}
		if err == nil {
			out[v] = bin
			continue
		}
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatalf("aws-cli %s is missing (VPCSIM_REQUIRE_E2E=1): %v; `pip install awscli` gives v1, `apt-get install awscli` v2", v, err)
		}
		t.Logf("aws-cli %s is missing: %v; its runs are skipped", v, err)
	}
	return out
}

// sharedDir is ../shared beside the repository, where the acceptance scripts live.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../../shared/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lib.sh")); err != nil {
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatalf("acceptance scripts not found at %s (VPCSIM_REQUIRE_E2E=1)", dir)
		}
		t.Skipf("acceptance scripts not found at %s", dir)
	}
	return dir
}

// runScript runs an acceptance script and fails the test on any failed check,
// showing its output.
func (s *server) runScript(t *testing.T, script, cli string) {
	t.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = withPathFirst(s.env(append([]string{"AWSCLI=" + cli}, s.extraEnv...)...), s.ipShim(t))
	out, err := cmd.CombinedOutput()
	var summary string
	var unexpected []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.Contains(sc.Text(), " passed, ") {
			summary = sc.Text()
		}
		if name, ok := strings.CutPrefix(sc.Text(), "FAIL - "); ok && !slices.Contains(s.knownFailures, name) {
			unexpected = append(unexpected, name)
		}
	}
	if len(s.knownFailures) > 0 && summary != "" && len(unexpected) == 0 {
		// Only checks that cannot pass on this machine failed (see knownFailures).
		t.Logf("%s with %s: %s; the failures are known: %q", filepath.Base(script), cli, summary, s.knownFailures)
		return
	}
	if err != nil || !strings.HasSuffix(summary, " 0 failed") {
		t.Fatalf("%s with %s: %v\n%s\n--- server log ---\n%s", filepath.Base(script), cli, err, out, tail(s.logText(), 40))
	}
	t.Logf("%s with %s: %s", filepath.Base(script), cli, summary)
}

// ipShim returns a directory with an `ip` whose `ip netns list` lists only
// this server's namespaces and which is the machine's ip otherwise. The
// scripts count namespaces before and after deleting VPCs (01-vpc.sh); with
// other servers making and removing theirs at the same time, only the
// server's own tell what its deletes did.
func (s *server) ipShim(t *testing.T) string {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = netns ] && { [ $# -eq 1 ] || [ "$2" = list ] || [ "$2" = ls ]; }; then
	%s netns list | grep '^%s' || true
	exit 0
fi
exec %s "$@"
`, ip, s.prefix, ip)
	if err := os.WriteFile(filepath.Join(dir, "ip"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withPathFirst puts dir first on the PATH that env gives (the last PATH=
// in it, as exec takes it).
func withPathFirst(env []string, dir string) []string {
	path := os.Getenv("PATH")
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	return append(env, "PATH="+dir+":"+path)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// testPublicRange takes a /24 of 198.19.0.0/17 for one server: vpcsim's
// internet, which servers running at once must not share. It is held (an
// abstract socket, which dies with the process) until the test's other
// cleanups ran; hostnet's tests take theirs from 198.19.128.0/17.
func testPublicRange(t testing.TB) string {
	t.Helper()
	for i := 0; i < 128; i++ {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: fmt.Sprintf("@vpcsim-test/public-range/%d", i), Net: "unix"})
		if err != nil {
			continue
		}
		t.Cleanup(func() { ln.Close() })
		return fmt.Sprintf("198.19.%d.0/24", i)
	}
	t.Fatal("every /24 of 198.19.0.0/17 is taken by a running test server")
	return ""
}
