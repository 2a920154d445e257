package hostnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// killWait bounds how long killNetnsProcs waits for SIGKILLed processes to exit.
const killWait = 5 * time.Second

// procsInNetns returns the PIDs whose network namespace is the one at path. The
// calling process is never listed: a thread of ours may sit in the namespace, and
// vpcsim must not kill itself.
func procsInNetns(path string) ([]int, error) {
	want, err := statNetns(path)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		// Fails for processes that are gone or zombies (their namespaces are
		// released at exit): both are no longer in the namespace.
		id, err := statNetns(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err == nil && id == want {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killNetnsProcs SIGKILLs every process in the namespace at path and waits until
// none is left (they may fork while dying, so it kills again until the list is
// empty). Safe to call again.
func killNetnsProcs(ctx context.Context, path string) error {
	deadline := time.Now().Add(killWait)
	pause := time.Millisecond
	for {
		pids, err := procsInNetns(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("processes in %s: %w", path, err)
		}
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("kill %d in %s: %w", pid, path, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in %s did not exit after SIGKILL", pids, path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for processes %v in %s to exit: %w", pids, path, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}
