package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// maxUnixPath is the longest path a unix socket address may have on Linux
// (sizeof(sun_path) less the terminating NUL).
const maxUnixPath = 107

// Managed is a containerd daemon that vpcsim starts for itself, with its
// config, root, state and sockets under <data>/containerd, so it never shares
// anything with a containerd the user runs. It is restarted when it dies until
// Close; containers survive a restart because their shims outlive the daemon.
type Managed struct {
	dir     string // <data>/containerd
	address string
	bin     string
	log     *slog.Logger
	logFile *os.File
	lock    *os.File      // flocked while this process manages the daemon
	stop    chan struct{} // closed by Close: no more restarts
	done    chan struct{} // closed when the supervisor has returned

	// mu guards the current daemon process and the channel closed when it exits.
	mu       sync.Mutex
	proc     *os.Process
	procDone chan struct{}
	closed   bool
}

// ErrManagedElsewhere is StartManaged's error when another process (a
// running `vpcsim serve`) manages the data directory's daemon; New then
// shares that daemon.
var ErrManagedElsewhere = errors.New("another vpcsim process manages this data directory's containerd")

// Dir layout of a managed containerd, all under <data>/containerd.
func managedPaths(dataDir string) (dir, sock string) {
	dir = filepath.Join(dataDir, "containerd")
	return dir, filepath.Join(dir, "containerd.sock")
}

// StartManaged writes <data>/containerd/config.toml, starts
// `containerd --config <data>/containerd/config.toml` and returns once the
// daemon answers on its socket (Address). It fails with ErrManagedElsewhere
// when another live process manages this directory's daemon; a daemon left by
// a vpcsim that died is stopped first. Options used: WithContainerdBinary,
// WithLogger.
func StartManaged(ctx context.Context, dataDir string, opts ...Option) (*Managed, error) {
	o := newOptions(opts)
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	dir, sock := managedPaths(dataDir)
	if len(sock)+len(".ttrpc") > maxUnixPath {
		return nil, fmt.Errorf("containerd socket path %s is too long for a unix socket (max %d bytes): use a shorter data directory or --containerd-address", sock, maxUnixPath)
	}
	bin := o.containerdBin
	if bin == "" {
		bin = "containerd"
	}
	if bin, err = exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("containerd: %w (install the containerd and runc packages)", err)
	}
	// The directory is what keeps everyone but root off the daemon's sockets
	// (connecting needs search permission on it): 0700, even when an earlier
	// run left it looser, which MkdirAll would keep.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	// Not through a link, and vpcsim's own: root writes its config there.
	if err := hostpath.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	// One vpcsim process manages a data directory's daemon; the lock goes
	// with the process, however it ends.
	lock, err := hostpath.OpenFile(filepath.Join(dir, "managed.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrManagedElsewhere, sock)
		}
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	cfg := filepath.Join(dir, "config.toml")
	if err := hostpath.WriteFile(cfg, []byte(managedConfig(dir, sock)), 0o600); err != nil {
		return nil, err
	}
	m := &Managed{dir: dir, address: sock, bin: bin, log: o.log, lock: lock, stop: make(chan struct{}), done: make(chan struct{})}
	m.killStale(cfg)
	// Keep the previous run's daemon log for a post-mortem; this run's starts fresh.
	logPath := filepath.Join(dir, "containerd.log")
	_ = os.Rename(logPath, logPath+".1")
	if m.logFile, err = hostpath.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}

	started := make(chan error, 1)
	go m.supervise(cfg, started)
	if err := <-started; err != nil {
		<-m.done
		m.logFile.Close()
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	m.mu.Lock()
	procDone := m.procDone
	m.mu.Unlock()
	ok = true // m.Close releases the lock from here on
	if err := waitServing(ctx, sock, procDone, 30*time.Second); err != nil {
		m.Close()
		return nil, fmt.Errorf("containerd did not start: %w%s", err, m.logTail())
	}
	m.restrictSockets()
	return m, nil
}

// restrictSockets takes the group bits off the daemon's sockets: containerd
// makes them 0660 (for its [grpc] gid), vpcsim wants them 0600. The 0700
// directory already keeps others out; this is so the sockets say so too.
func (m *Managed) restrictSockets() {
	for _, s := range []string{m.address, m.address + ".ttrpc"} {
		// A socket cannot be opened to fchmod it; chmod follows links, so
		// only what is a socket itself is changed.
		if fi, err := os.Lstat(s); err != nil || fi.Mode()&os.ModeSocket == 0 {
			continue
		}
		if err := os.Chmod(s, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("restrict the containerd socket", "socket", s, "err", err)
		}
	}
}

// Address is the daemon's gRPC socket.
func (m *Managed) Address() string { return m.address }

// Pid is the daemon's current process ID, 0 between restarts or after Close.
func (m *Managed) Pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return 0
	}
	return m.proc.Pid
}

// Close stops the daemon (SIGTERM, then SIGKILL after 10 s) and stops
// restarting it. Containers keep running in their shims; the next
// StartManaged on the same data directory picks them up again. Safe to call
// more than once.
func (m *Managed) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		<-m.done
		return nil
	}
	m.closed = true
	close(m.stop)
	p, procDone := m.proc, m.procDone
	m.mu.Unlock()
	if p != nil {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-procDone:
		case <-time.After(10 * time.Second):
			m.log.Warn("containerd did not stop on SIGTERM; killing it", "pid", p.Pid)
			_ = p.Kill()
			<-procDone
		}
	}
	<-m.done
	_ = os.Remove(filepath.Join(m.dir, "containerd.pid"))
	return errors.Join(m.logFile.Close(), m.lock.Close())
}

// supervise starts the daemon and restarts it whenever it exits until Close.
// It holds its OS thread for its whole life: Pdeathsig fires when the thread
// that forked the child ends, so a locked thread that lives as long as the
// daemon makes the daemon die with vpcsim (and never earlier).
func (m *Managed) supervise(cfg string, started chan<- error) {
	defer close(m.done)
	goruntime.LockOSThread()
	// Never unlocked: the thread is discarded with the goroutine.
	first := true
	delay := 250 * time.Millisecond
	for {
		cmd := exec.Command(m.bin, "--config", cfg)
		cmd.Stdout, cmd.Stderr = m.logFile, m.logFile
		cmd.Dir = m.dir
		// Own process group: a ^C on vpcsim's terminal must not reach the
		// daemon directly, vpcsim decides when it stops.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		err := cmd.Start()
		var procDone chan struct{}
		if err == nil {
			procDone = make(chan struct{})
			m.mu.Lock()
			m.proc, m.procDone = cmd.Process, procDone
			if m.closed {
				// Close ran while this restart was under way and saw no process.
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			m.mu.Unlock()
			_ = hostpath.WriteFile(filepath.Join(m.dir, "containerd.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
			if !first {
				// A restarted daemon makes its sockets anew, 0660.
				go func() {
					if waitServing(context.Background(), m.address, procDone, 30*time.Second) == nil {
						m.restrictSockets()
					}
				}()
			}
		}
		if first {
			started <- err
			if err != nil {
				return
			}
			first = false
		} else if err != nil {
			m.log.Error("restart containerd", "err", err)
		}
		if err == nil {
			began := time.Now()
			werr := cmd.Wait()
			m.mu.Lock()
			m.proc = nil
			m.mu.Unlock()
			close(procDone)
			if time.Since(began) > time.Minute {
				delay = 250 * time.Millisecond // it ran fine for a while: not a crash loop
			}
			select {
			case <-m.stop:
				return
			default:
			}
			m.log.Warn("containerd exited; restarting it", "err", werr, "in", delay)
		}
		select {
		case <-m.stop:
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// killStale stops a daemon that a previous vpcsim left behind (it crashed
// without Pdeathsig firing, e.g. SIGKILL of a parent that was not its thread):
// two daemons cannot share one root. Only a process whose command line names
// this config file is touched.
func (m *Managed) killStale(cfg string) {
	b, err := os.ReadFile(filepath.Join(m.dir, "containerd.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(cfg)) {
		return
	}
	m.log.Warn("stopping a containerd left by an earlier vpcsim", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
}

// logTail returns the end of the daemon's log, for errors at start.
func (m *Managed) logTail() string {
	b, err := os.ReadFile(filepath.Join(m.dir, "containerd.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\ncontainerd log (" + filepath.Join(m.dir, "containerd.log") + "):\n" + string(b)
}

// waitServing polls the socket until the daemon answers, it exits, or the
// timeout passes.
func waitServing(ctx context.Context, address string, procDone <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if _, err := os.Stat(address); err == nil {
			c, err := containerd.New(address, containerd.WithTimeout(time.Second))
			if err == nil {
				ok, _ := c.IsServing(ctx)
				c.Close()
				if ok {
					return nil
				}
			}
		}
		select {
		case <-procDone:
			return errors.New("containerd exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// managedConfig is the daemon's config (version 2, as containerd 1.6 and 1.7
// read it). Only what vpcsim uses is loaded: no CRI (slow to start and it
// would want CNI), no snapshotters but overlayfs, no tracing; the opt plugin's
// directory moves out of /opt. The legacy runtime v1 stays: containerd 1.6's
// tasks service will not load without it.
func managedConfig(dir, sock string) string {
	q := strconv.Quote
	return `# Written by vpcsim at every start; edits are lost.
version = 2
root = ` + q(filepath.Join(dir, "root")) + `
state = ` + q(filepath.Join(dir, "state")) + `
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.native",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ` + q(sock) + `

[ttrpc]
  address = ` + q(sock+".ttrpc") + `

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = ` + q(filepath.Join(dir, "opt")) + `
`
}
