package hostnet

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestDeleteHostKillsProcesses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	e := w.eni(w.host1, 0, "10.0.1.10/24")
	w.ensure(t, e)
	path := w.k.NetnsPath(w.host1)

	cmd := commandIn(ctx, path, "sleep", "1000")
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitInNetns(t, cmd.Process.Pid, path)

	for range 2 {
		must(t, w.k.DeleteHost(ctx, w.host1))
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want killed by SIGKILL", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s still exists (%v)", path, err)
	}
	// The ENI went with the host, at once.
	names, _ := namesOfENI(e.ID)
	noLink(t, w.vpcH, names.bridgeEnd)
	// And EnsureENI makes it again, once the host is back.
	must(t, w.k.EnsureHost(ctx, w.host1))
	w.ensure(t, e)
	w.checkAttached(t, handleIn(t, path), e)
}

// waitInNetns waits until process pid has entered the namespace at path (a child
// started by commandIn gets there a moment after Start returns).
func waitInNetns(t *testing.T, pid int, path string) {
	t.Helper()
	want, err := statNetns(path)
	must(t, err)
	for deadline := time.Now().Add(5 * time.Second); ; {
		id, err := statNetns("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err == nil && id == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never entered %s", pid, path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
