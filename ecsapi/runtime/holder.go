package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/runtime/initproc"
)

// The PID namespace of a task whose pidMode is task: the ECS agent runs a
// pause container as its PID 1, so the namespace lives as long as the task,
// whichever containers come and go. vpcsim runs `vpcsim pause` (initproc) in a
// new PID namespace instead, before the task's containers, and they join it
// (/proc/<pid>/ns/pid). It is recorded in <data>/pause/<task id> (its PID and
// start time, so a reused PID is never taken for it), so that Stop and
// RemoveAll end it after a restart of vpcsim too.

// pauseDir holds the records and, as root, the empty directory the pause
// processes chroot into.
func (r *Runtime) pauseDir() string { return filepath.Join(filepath.Dir(r.logDir), "pause") }

// startPause starts the task's pause process and answers its PID.
func (r *Runtime) startPause(taskID string) (int, error) {
	if r.initBinary == "" {
		return 0, errors.New("pidMode task: vpcsim was started without its own executable (runtime.WithInitBinary)")
	}
	root := filepath.Join(r.pauseDir(), "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	cmd := exec.Command(r.initBinary, initproc.PauseCommand, root)
	cmd.Dir = "/"
	cmd.Env = []string{}
	// Its own session: a ^C on vpcsim's terminal is not for it; it outlives
	// vpcsim, as the task's containers do.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("pidMode task: start the task's pause process: %w", err)
	}
	pid := cmd.Process.Pid
	// Reaped here while vpcsim lives; after a restart, by init.
	go cmd.Wait()
	start, err := procStartTime(pid)
	if err == nil {
		err = os.WriteFile(filepath.Join(r.pauseDir(), safeName(taskID)), []byte(fmt.Sprintf("%d %d\n", pid, start)), 0o600)
	}
	if err != nil {
		cmd.Process.Kill()
		return 0, err
	}
	return pid, nil
}

// pausePID is the task's pause process, if it runs.
func (r *Runtime) pausePID(taskID string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(r.pauseDir(), safeName(taskID)))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 1 {
		return 0, false
	}
	if now, err := procStartTime(pid); err != nil || now != start {
		return 0, false // ended, and perhaps its PID reused
	}
	return pid, true
}

// stopPause ends the task's pause process (and with it whatever is left in
// its namespace) and forgets it.
func (r *Runtime) stopPause(taskID string) error {
	record := filepath.Join(r.pauseDir(), safeName(taskID))
	if pid, ok := r.pausePID(taskID); ok {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("end the pause process %d of task %s: %w", pid, taskID, err)
		}
		// Gone once reaped (by startPause's Wait, or by init after a restart
		// of vpcsim).
		for i := 0; i < 200 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := os.Remove(record); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// stopAllPauses ends every pause process of the data directory.
func (r *Runtime) stopAllPauses() error {
	entries, err := os.ReadDir(r.pauseDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Type().IsRegular() {
			errs = append(errs, r.stopPause(e.Name()))
		}
	}
	return errors.Join(errs...)
}

// procStartTime is field 22 of /proc/PID/stat: when the process started,
// which tells it from a later process with its PID.
func procStartTime(pid int) (uint64, error) {
	f, err := procStat(pid)
	if err != nil || len(f) < 20 {
		return 0, fmt.Errorf("process %d: %w", pid, errors.Join(err, os.ErrNotExist))
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// procStat is /proc/PID/stat from its third field on (after the command).
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}
