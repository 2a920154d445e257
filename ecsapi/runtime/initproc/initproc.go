// Package initproc is `vpcsim init`, the init process of containers whose
// definition sets linuxParameters.initProcessEnabled: what tini is to
// `docker run --init`. The runtime bind-mounts the vpcsim executable into the
// container and runs it as PID 1, with the container's command as its child.
//
// A process that is PID 1 of its PID namespace gets no signal it has no
// handler for, and inherits every orphan of the namespace: an application
// that was not written to be PID 1 would ignore `docker stop`'s SIGTERM and
// leave zombies behind. The init handles every signal and passes it on, reaps
// whatever ends under it, and ends with its child's status.
package initproc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Command is the subcommand of vpcsim that runs Run: the runtime starts
// containers as `<vpcsim> init -- CMD ARGS...`.
const Command = "init"

// Run runs `init -- CMD ARGS...` (the "--" is optional): it starts CMD as its
// child, forwards every signal it receives to it, reaps every process that ends
// under it, and returns when the child has ended: with the child's exit code,
// or 128+N when signal N ended it, as a shell reports it. It returns 127 (126)
// when CMD is not found (not executable), as tini does.
func Run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: vpcsim init -- CMD [ARGS...]")
		return 2
	}
	// As PID 1 the kernel hands us every orphan; elsewhere (a test, a shared
	// PID namespace) this asks for the orphans of our own descendants.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "vpcsim init: become a subreaper:", err)
	}
	// Every signal, from before the child exists: none may take its default
	// action on us (or be lost) while the child starts.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "vpcsim init:", err)
		return startFailure(err)
	}
	child := cmd.Process.Pid
	for sig := range sigs {
		switch sig {
		case unix.SIGCHLD:
			if ws, ended := reap(child); ended {
				return exitStatus(ws)
			}
		case unix.SIGURG:
			// The Go runtime preempts its own threads with SIGURG: not for the child.
		default:
			// The child is not reaped before its last signal here, so its PID
			// cannot have been reused.
			if s, ok := sig.(syscall.Signal); ok {
				unix.Kill(child, s)
			}
		}
	}
	return 1 // not reached: sigs is never closed
}

// reap collects every process that has ended under the init (its child and
// the orphans it inherited) and reports whether the child was among them.
func reap(child int) (status unix.WaitStatus, childEnded bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return status, childEnded // ECHILD: none left; 0: the rest still run
		}
		if pid == child {
			status, childEnded = ws, true
		}
	}
}

// exitStatus is what the init ends with when its child ended with ws.
func exitStatus(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

// startFailure is the exit code for a command that could not be started.
func startFailure(err error) int {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return 127
	case errors.Is(err, fs.ErrPermission):
		return 126
	}
	return 1
}
