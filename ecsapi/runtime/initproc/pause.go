package initproc

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// PauseCommand is the subcommand of vpcsim that runs Pause: the runtime
// starts `<vpcsim> pause EMPTY-DIR` in a new PID namespace for a task whose
// pidMode is task, and the task's containers join that namespace.
const PauseCommand = "pause"

// nobody is the user the pause process runs as once it has set itself up.
const nobody = 65534

// Pause is what the ECS agent's pause container is to pidMode task: PID 1 of
// the PID namespace the task's containers share, so that the namespace lives
// as long as the task and not as long as its first container. It reaps the
// orphans the kernel gives it and ends on SIGTERM or SIGINT (which ends every
// process of the namespace).
//
// It runs on the host, so first it gives up what a container of the task
// could reach through it (it is their /proc/1): it makes an empty directory
// its root, becomes nobody with no capabilities, and sets no_new_privs.
func Pause(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: vpcsim pause EMPTY-DIR")
		return 2
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGCHLD)
	if err := confine(args[0]); err != nil {
		fmt.Fprintln(os.Stderr, "vpcsim pause:", err)
		return 1
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			return 0
		}
		reap(0)
	}
	return 1 // not reached
}

// confine chroots into dir and drops to nobody without capabilities. The
// syscall package applies the credentials to every thread of the process.
func confine(dir string) error {
	if err := unix.Chroot(dir); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	// Every capability out of the bounding set too (EINVAL past the last
	// the kernel knows).
	for c := 0; c <= 63; c++ {
		if err := prctlAllThreads(unix.PR_CAPBSET_DROP, uintptr(c)); err != nil {
			break
		}
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(nobody); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	// Leaving uid 0 clears the permitted and effective capabilities.
	if err := syscall.Setuid(nobody); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return prctlAllThreads(unix.PR_SET_NO_NEW_PRIVS, 1)
}

// prctlAllThreads applies a per-thread prctl to every thread of the process
// (the Go runtime runs several). A binary built with cgo cannot: then it
// applies to the calling thread, which is enough here, as the pause process
// never executes anything (the bounding set and no_new_privs matter at exec).
func prctlAllThreads(option int, arg uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, uintptr(option), arg, 0)
	if errno == syscall.ENOTSUP {
		return unix.Prctl(option, arg, 0, 0, 0)
	}
	if errno != 0 {
		return errno
	}
	return nil
}
