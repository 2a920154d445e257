package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the init: with this variable set it runs Run on
// its arguments instead of the tests.
const asInit = "VPCSIM_INITPROC_TEST_INIT"

func TestMain(m *testing.M) {
	if os.Getenv(asInit) == "1" {
		os.Exit(Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		ws   unix.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},
		{255 << 8, 255},
		{unix.WaitStatus(syscall.SIGKILL), 137},
		{unix.WaitStatus(syscall.SIGTERM), 143},
		{unix.WaitStatus(syscall.SIGSEGV) | 0x80, 139}, // with a core dump
	} {
		if got := exitStatus(tc.ws); got != tc.want {
			t.Errorf("exitStatus(%#x) = %d, want %d", uint32(tc.ws), got, tc.want)
		}
	}
}

func TestStartFailure(t *testing.T) {
	_, notFound := exec.LookPath("vpcsim-no-such-command")
	for _, tc := range []struct {
		err  error
		want int
	}{
		{notFound, 127},
		{&os.PathError{Op: "fork/exec", Path: "/nope", Err: syscall.ENOENT}, 127},
		{&os.PathError{Op: "fork/exec", Path: "/etc/passwd", Err: syscall.EACCES}, 126},
		{errors.New("other"), 1},
	} {
		if got := startFailure(tc.err); got != tc.want {
			t.Errorf("startFailure(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// startInit runs the test binary as `init -- sh -c script`; the script says
// "ready" on stdout once it is set up.
func startInit(t *testing.T, script string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--", "sh", "-c", script)
	cmd.Env = append(os.Environ(), asInit+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that cleanup can end every process it made
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	return cmd, r
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatal("the init did not end")
		return -1
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--", "sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -KILL $$"}, 137},
		{[]string{"--", "vpcsim-no-such-command"}, 127},
		{nil, 2},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), asInit+"=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if got := exitCode(t, cmd); got != tc.want {
			t.Errorf("init %q ended with %d, want %d", tc.args, got, tc.want)
		}
	}
}

// A signal to the init reaches the child, and the child's exit is the init's.
func TestRunForwardsSignals(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{
		{syscall.SIGTERM, 7},
		{syscall.SIGUSR1, 8},
		{syscall.SIGHUP, 128 + int(syscall.SIGHUP)}, // no trap: the default action kills the child
	} {
		cmd, _ := startInit(t, `trap "exit 7" TERM; trap "exit 8" USR1; echo ready; while :; do sleep 0.05; done`)
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		if got := exitCode(t, cmd); got != tc.want {
			t.Errorf("after %v the init ended with %d, want %d", tc.sig, got, tc.want)
		}
	}
}

// An orphan that ends under the init is reaped: no zombie stays its child.
func TestRunReapsOrphans(t *testing.T) {
	// The subshell exits at once, leaving its `sleep 0.5` to the init.
	cmd, out := startInit(t, `echo ready; (sleep 0.5 & echo $!); exec sleep 10`)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := strconv.Atoi(strings.TrimSpace(line))
	deadline := time.Now().Add(5 * time.Second)
	for ppid := parentOf(orphan); ppid != cmd.Process.Pid; ppid = parentOf(orphan) {
		if time.Now().After(deadline) {
			t.Fatalf("the orphan %d has parent %d, want the init %d", orphan, ppid, cmd.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond) // until the subshell has exited
	}
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", orphan)); errors.Is(err, os.ErrNotExist) {
			break // reaped
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orphan %d is still there (state %q)", orphan, stateOf(orphan))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	exitCode(t, cmd)
}

// statFields returns the fields of /proc/PID/stat after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func parentOf(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

func stateOf(pid int) string {
	if f := statFields(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}
