package hostnet

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExecIn replaces the calling process with argv[0] (looked up in PATH) running in
// the network namespace at netnsPath, like `ip netns exec` or
// `nsenter --net=PATH`. It returns only on failure, with the calling thread back
// in its own namespace (or, if that fails, locked forever so nothing else runs on
// it). Used by `vpcsim exec INSTANCE -- CMD`.
func ExecIn(netnsPath string, argv []string) error {
	if len(argv) == 0 {
		return errors.New("exec: no command")
	}
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	target, err := openNetns(netnsPath)
	if err != nil {
		return fmt.Errorf("exec in %s: %w", netnsPath, err)
	}
	defer unix.Close(target)

	// execve keeps the namespaces of the thread that calls it, so that thread must
	// be the one that entered the namespace.
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("exec: open the current namespace: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("exec: enter %s: %w", netnsPath, err)
	}
	err = syscall.Exec(bin, argv, os.Environ())
	if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
		return fmt.Errorf("exec %s: %w (and the thread could not leave %s: %v)", bin, err, netnsPath, serr)
	}
	runtime.UnlockOSThread()
	return fmt.Errorf("exec %s: %w", bin, err)
}
