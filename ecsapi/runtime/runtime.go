// Package runtime runs ECS tasks' containers with containerd. It is the only
// package of vpcsim that imports containerd: the ECS domain sees it through
// ecsapi.Runtime.
//
// Everything it makes lives in one containerd namespace ("vpcsim") and is named
// "vs-<task ID>-<container name>" (containers and their rootfs snapshots), and
// labelled with the task, so a task's containers can be found again after a
// restart and strays can be removed.
package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/identifiers"
	ctrlabels "github.com/containerd/containerd/labels"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/plugin"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/fault"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

const (
	// DefaultNamespace is the containerd namespace vpcsim's containers live in.
	DefaultNamespace = "vpcsim"
	// DefaultSnapshotter unpacks images and makes container root filesystems.
	DefaultSnapshotter = "overlayfs"

	idPrefix = "vs-"

	labelTaskID      = "vpcsim.task-id"
	labelTaskARN     = "vpcsim.task-arn"
	labelContainer   = "vpcsim.container-name"
	labelStopTimeout = "vpcsim.stop-timeout"

	// defaultStopTimeout is ECS's, for containers whose label is missing.
	defaultStopTimeout = 30 * time.Second
	// cleanupTimeout bounds a rollback, which runs even when the request's
	// context is cancelled.
	cleanupTimeout = time.Minute
)

// Option configures New and StartManaged.
type Option func(*options)

type options struct {
	address       string
	containerdBin string
	namespace     string
	snapshotter   string
	initBinary    string
	hostPaths     []hostpath.Root
	log           *slog.Logger

	logMaxSize          int64
	taskPidsLimit       int64
	insecureRegistries  []string
	hostDevices         []string
	allowHostNamespaces bool
}

func newOptions(opts []Option) options {
	o := options{
		namespace: DefaultNamespace, snapshotter: DefaultSnapshotter, log: slog.New(slog.DiscardHandler),
		logMaxSize: DefaultLogMaxSize, taskPidsLimit: DefaultTaskPidsLimit,
	}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithContainerdAddress uses the containerd already listening on this unix
// socket (`--containerd-address`); no daemon is started. "" (the default)
// starts a managed one under the data directory.
func WithContainerdAddress(path string) Option { return func(o *options) { o.address = path } }

// WithContainerdBinary is the daemon a managed containerd runs (default:
// "containerd" on PATH).
func WithContainerdBinary(path string) Option { return func(o *options) { o.containerdBin = path } }

// WithNamespace changes the containerd namespace (default "vpcsim").
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithSnapshotter changes the snapshotter (default "overlayfs").
func WithSnapshotter(name string) Option { return func(o *options) { o.snapshotter = name } }

// WithInitBinary is the statically linked vpcsim executable that containers
// with linuxParameters.initProcessEnabled run as their init (`vpcsim init`),
// and that holds the PID namespace of a pidMode task task (`vpcsim pause`);
// vpcsim serve passes its own. Without it such containers fail to start.
func WithInitBinary(path string) Option { return func(o *options) { o.initBinary = path } }

// WithHostPaths names the directories the operator opened to the API
// (serve --host-path): local environment files and host volumes' sourcePath
// may lie below them, and nowhere else.
func WithHostPaths(roots []hostpath.Root) Option { return func(o *options) { o.hostPaths = roots } }

// WithLogMaxSize caps each container log file (default DefaultLogMaxSize):
// measured every second, a file past it is rotated to LOG.1, and the one
// before is removed.
func WithLogMaxSize(bytes int64) Option { return func(o *options) { o.logMaxSize = bytes } }

// WithTaskPidsLimit is the most processes (threads included) of all the
// containers of one task together (default DefaultTaskPidsLimit; 0: none).
func WithTaskPidsLimit(n int64) Option { return func(o *options) { o.taskPidsLimit = n } }

// WithInsecureRegistries lists the registries (HOST or HOST:PORT) that may
// be pulled from over plain HTTP or without verifying their certificate, and
// that may be on this machine's loopback. By default none may.
func WithInsecureRegistries(hosts ...string) Option {
	return func(o *options) { o.insecureRegistries = append(o.insecureRegistries, hosts...) }
}

// WithHostDevices lists the host devices (or directories of devices) that
// linuxParameters.devices may map into containers. By default none.
func WithHostDevices(paths ...string) Option {
	return func(o *options) { o.hostDevices = append(o.hostDevices, paths...) }
}

// WithHostNamespaces lets tasks with pidMode or ipcMode host share this
// machine's process or IPC namespace; without it they fail to start.
func WithHostNamespaces(allow bool) Option { return func(o *options) { o.allowHostNamespaces = allow } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// Runtime runs ECS tasks as containerd containers; it implements
// ecsapi.Runtime. Its methods are safe for concurrent use.
type Runtime struct {
	client      *containerd.Client
	managed     *Managed // nil when using a daemon vpcsim does not own
	ns          string
	snapshotter string
	logDir      string // <data>/logs
	data        hostpath.Root
	hostPaths   []hostpath.Root
	runcRoot    string // "" = the shim's default
	initBinary  string // vpcsim itself, for initProcessEnabled
	log         *slog.Logger

	logMaxSize int64
	cgroups    taskCgroups
	hostSec    hostSecurity
	registries *registries
	// hostDevices are the operator's, cleaned; allowHostNamespaces too.
	hostDevices         []string
	allowHostNamespaces bool

	// ctx outlives requests: exit watchers and the OOM subscription run in it
	// until Close. It carries the namespace.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	pulls keyedMutex
	ooms  oomTracker

	// mu guards the tasks this Runtime started or adopted, and their flags.
	mu    sync.Mutex
	tasks map[string]*taskState // task ID →
}

var _ ecsapi.Runtime = (*Runtime)(nil)

// taskState is what the Runtime remembers of a task it watches.
type taskState struct {
	run        ecsapi.TaskRun
	stopping   bool // set by Stop/RemoveAll: exits are then not reported as the container's own
	containers map[string]*ctrState
	// changed is closed (and replaced) whenever a container starts, ends or
	// changes health: Start waits on it for dependencies.
	changed chan struct{}
}

// notify wakes those waiting on changedCh; r.mu is held.
func (ts *taskState) notify() {
	if ts.changed != nil {
		close(ts.changed)
	}
	ts.changed = make(chan struct{})
}

// changedCh is the channel the next notify closes; r.mu is held.
func (ts *taskState) changedCh() <-chan struct{} {
	if ts.changed == nil {
		ts.changed = make(chan struct{})
	}
	return ts.changed
}

// ctrState is one watched container. Its fields after c are guarded by r.mu.
type ctrState struct {
	name, id string
	c        containerd.Container
	reported bool // Exited was called (or must not be)

	started    bool // its process was started
	done       bool // its process ended (by itself or not)
	code       int  // exit code, when done
	health     ecstypes.HealthStatus
	stopHealth context.CancelFunc // ends its health checker; nil without one
}

// New connects to containerd and returns a Runtime whose logs go to
// <dataDir>/logs. Without WithContainerdAddress it first starts a managed
// containerd under <dataDir>/containerd (see StartManaged), which Close
// stops, unless another vpcsim process already manages that one: then it
// shares it (and Managed is nil).
func New(ctx context.Context, dataDir string, opts ...Option) (_ *Runtime, retErr error) {
	o := newOptions(opts)
	if err := identifiers.Validate(o.namespace); err != nil {
		return nil, fmt.Errorf("containerd namespace: %w", err)
	}
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	data, err := hostpath.NewRoot(dataDir)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		ns: o.namespace, snapshotter: o.snapshotter, initBinary: o.initBinary, log: o.log,
		logDir: filepath.Join(dataDir, "logs"), data: data, hostPaths: o.hostPaths,
		logMaxSize:          o.logMaxSize,
		allowHostNamespaces: o.allowHostNamespaces,
		tasks:               map[string]*taskState{},
	}
	if r.logMaxSize <= 0 {
		return nil, fmt.Errorf("container log size cap %d: must be positive", r.logMaxSize)
	}
	for _, d := range o.hostDevices {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("host device %q: not an absolute path", d)
		}
		r.hostDevices = append(r.hostDevices, filepath.Clean(d))
	}
	if r.cgroups, err = newTaskCgroups(r.ns, dataDir, o.taskPidsLimit); err != nil {
		return nil, err
	}
	if r.registries, err = newRegistries(o.insecureRegistries); err != nil {
		return nil, err
	}
	r.hostSec = probeHostSecurity(r.log)
	address := o.address
	if address == "" {
		dir, sock := managedPaths(dataDir)
		// runc's state goes beside the daemon's instead of /run/containerd/runc.
		r.runcRoot = filepath.Join(dir, "runc")
		m, err := StartManaged(ctx, dataDir, opts...)
		switch {
		case errors.Is(err, ErrManagedElsewhere):
			// `vpcsim image import` beside a running `vpcsim serve`: use its daemon.
			if err := waitServing(ctx, sock, nil, 30*time.Second); err != nil {
				return nil, fmt.Errorf("containerd at %s (managed by another vpcsim): %w", sock, err)
			}
			address = sock
		case err != nil:
			return nil, err
		default:
			defer func() {
				if retErr != nil {
					m.Close()
				}
			}()
			r.managed, address = m, m.Address()
		}
	}
	r.client, err = containerd.New(address, containerd.WithDefaultNamespace(r.ns), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", address, err)
	}
	v, err := r.client.Version(ctx)
	if err != nil {
		r.client.Close()
		return nil, fmt.Errorf("containerd at %s: %w", address, err)
	}
	if err := r.checkPlugins(ctx); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("containerd at %s: %w", address, err)
	}
	r.log.Info("containerd runtime ready", "address", address, "version", v.Version, "managed", r.managed != nil, "namespace", r.ns)
	r.ctx, r.cancel = context.WithCancel(namespaces.WithNamespace(context.Background(), r.ns))
	r.ooms.init()
	r.wg.Add(2)
	go r.watchOOM()
	go r.rotateLogs()
	return r, nil
}

// checkPlugins fails unless the daemon loaded what the Runtime uses: a
// daemon can answer with some plugins failed (overlayfs on a filesystem
// that cannot hold it, a tasks service without its runtime).
func (r *Runtime) checkPlugins(ctx context.Context) error {
	resp, err := r.client.IntrospectionService().Plugins(ctx, nil)
	if err != nil {
		return err
	}
	need := map[string]bool{
		"io.containerd.grpc.v1.tasks":                   false,
		"io.containerd.runtime.v2.task":                 false,
		"io.containerd.snapshotter.v1." + r.snapshotter: false,
	}
	var errs []error
	for _, p := range resp.Plugins {
		key := p.Type + "." + p.ID
		if _, ok := need[key]; !ok {
			continue
		}
		need[key] = true
		if p.InitErr != nil {
			errs = append(errs, fmt.Errorf("plugin %s failed to load: %s", key, p.InitErr.Message))
		}
	}
	for key, seen := range need {
		if !seen {
			errs = append(errs, fmt.Errorf("plugin %s is missing", key))
		}
	}
	return errors.Join(errs...)
}

// Managed is the daemon the Runtime started, or nil.
func (r *Runtime) Managed() *Managed { return r.managed }

// Close stops watching containers and disconnects; a managed daemon is
// stopped. Containers keep running (as EC2 instances outlive an API outage):
// call RemoveAll first to remove them.
func (r *Runtime) Close() error {
	r.cancel()
	r.wg.Wait()
	err := r.client.Close()
	if r.managed != nil {
		err = errors.Join(err, r.managed.Close())
	}
	return err
}

// Start pulls the task's images (ECS pulls them all before it creates any
// container), then creates and starts its containers in definition order,
// except that a container with dependsOn waits until its dependencies meet
// their conditions (see startInOrder): Start returns once all have started. On
// any failure it removes what it made and returns an error whose text begins
// with ECS's reason: CannotPullContainerError, CannotCreateContainerError or
// CannotStartContainerError.
func (r *Runtime) Start(ctx context.Context, run ecsapi.TaskRun) (_ ecsapi.StartResult, retErr error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	res := ecsapi.StartResult{RuntimeIDs: map[string]string{}, ImageDigests: map[string]string{}}

	res.PullStarted = time.Now()
	imgs := make([]containerd.Image, len(run.Containers))
	for i, c := range run.Containers {
		img, err := r.image(ctx, deref(c.Def.Image))
		if err != nil {
			return res, err
		}
		imgs[i] = img
	}
	res.PullStopped = time.Now()

	// Environment files, as the agent downloads them: before any container
	// is made, so that a failure leaves nothing to remove.
	run.Containers = slices.Clone(run.Containers)
	for i, c := range run.Containers {
		fileEnv, err := r.envFiles(c.Def.EnvironmentFiles)
		if err != nil {
			return res, err
		}
		run.Containers[i].Environment = append(fileEnv, c.Environment...)
	}

	r.mu.Lock()
	old := r.tasks[run.TaskID]
	r.mu.Unlock()
	if old != nil && !old.stopping {
		return res, fmt.Errorf("CannotCreateContainerError: task %s is already running", run.TaskID)
	}
	// Leftovers of an earlier attempt (vpcsim stopped mid-start) would collide.
	// Their cgroup may still count processes that are exiting (a container
	// killed mid-create, under load): the new containers can share it, and
	// the task's stop removes it.
	if _, err := r.stopTask(ctx, run.TaskID, false); err != nil && !onlyBusyCgroups(err) {
		return res, fmt.Errorf("CannotCreateContainerError: remove the task's old containers: %w", err)
	} else if err != nil {
		r.log.Warn("the cgroup of a task's earlier attempt is still busy: the task starts in it", "task", run.TaskID, "err", err)
	}
	ts := &taskState{run: run, containers: map[string]*ctrState{}}
	r.mu.Lock()
	r.tasks[run.TaskID] = ts
	r.mu.Unlock()
	defer func() {
		if retErr == nil {
			return
		}
		// A fresh context: the request's may be what failed.
		cctx, cancel := context.WithTimeout(r.ctx, cleanupTimeout)
		defer cancel()
		if _, err := r.stopTask(cctx, run.TaskID, false); err != nil {
			r.log.Error("remove the containers of a task that failed to start", "task", run.TaskID, "err", err)
		}
	}()

	// The lease keeps new snapshots from the garbage collector until the
	// containers that use them exist.
	ctx, done, err := r.client.WithLease(ctx)
	if err != nil {
		return res, fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	defer done(context.WithoutCancel(ctx))

	if err := r.makeLogDir(run.TaskID); err != nil {
		return res, fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	mounts, err := r.volumeMounts(run)
	if err != nil {
		return res, err
	}
	// The task's cgroup, with the task-level limits, before any container
	// (stopTask removes it).
	var shares uint64
	for _, c := range run.Containers {
		shares += uint64(max(deref(c.Def.Cpu), 0))
	}
	if err := r.cgroups.create(run.TaskID, r.cgroups.limitsFor(run.CPU, run.Memory, shares)); err != nil {
		return res, fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	// pidMode task: the namespace's PID 1, before the containers that join it.
	if run.PidMode == ecstypes.PidModeTask {
		if _, err := r.startPause(run.TaskID); err != nil {
			return res, fmt.Errorf("CannotCreateContainerError: %w", err)
		}
	}
	err = r.startInOrder(ctx, ts, func(i int) error {
		c := run.Containers[i]
		name := deref(c.Def.Name)
		id, err := r.startContainer(ctx, ts, c, imgs[i], mounts[name])
		if err != nil {
			return err
		}
		res.RuntimeIDs[name] = id
		res.ImageDigests[name] = imgs[i].Target().Digest.String()
		return nil
	})
	return res, err
}

// startContainer creates one container and its task and starts it; the exit
// watcher is in place before the process runs so no exit is missed.
func (r *Runtime) startContainer(ctx context.Context, ts *taskState, c ecsapi.ContainerRun, img containerd.Image, mounts []specs.Mount) (string, error) {
	run := ts.run
	name := deref(c.Def.Name)
	id := containerID(run.TaskID, name)
	ic, err := img.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: read the image config of %s: %w", img.Name(), err)
	}
	if initEnabled(c.Def) {
		if err := checkInitBinary(r.initBinary); err != nil {
			return "", fmt.Errorf("CannotStartContainerError: %w", err)
		}
	}
	if !deref(c.Def.DisableNetworking) {
		if err := checkNetns(run.NetnsPath); err != nil {
			return "", fmt.Errorf("CannotStartContainerError: %w", err)
		}
	}
	specOpts, err := containerSpec(run, c, img, imageConfig{Entrypoint: ic.Config.Entrypoint, Cmd: ic.Config.Cmd}, r.initBinary)
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	if len(mounts) > 0 {
		specOpts = append(specOpts, oci.WithMounts(mounts))
	}
	taskOpts, err := r.taskSpec(run, c, id)
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	specOpts = append(specOpts, taskOpts...)
	logIO, err := r.logIO(run.TaskID, name)
	if err != nil {
		return "", fmt.Errorf("CannotStartContainerError: %w", err)
	}
	var runtimeOpts any
	if r.runcRoot != "" {
		runtimeOpts = &runcoptions.Options{Root: r.runcRoot}
	}
	labels := map[string]string{
		labelTaskID: run.TaskID, labelTaskARN: run.TaskARN, labelContainer: name,
		labelStopTimeout: c.StopTimeout.String(),
	}
	// dockerLabels become container labels, except those containerd itself
	// reads (containerd.io/…: GC references) and ours.
	for k, v := range c.Def.DockerLabels {
		if _, ours := labels[k]; !ours && !ctrlabels.IsReserved(k) && ctrlabels.Validate(k, v) == nil {
			labels[k] = v
		}
	}
	cont, err := r.client.NewContainer(ctx, id,
		containerd.WithContainerLabels(labels),
		containerd.WithImage(img),
		containerd.WithImageStopSignal(img, "SIGTERM"),
		containerd.WithSnapshotter(r.snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithRuntime(plugin.RuntimeRuncV2, runtimeOpts),
		containerd.WithNewSpec(specOpts...),
	)
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	fault.Point(fault.ContainerCreated)
	cs := &ctrState{name: name, id: id, c: cont}
	r.mu.Lock()
	ts.containers[name] = cs
	r.mu.Unlock()

	task, err := r.newTask(ctx, cont, logIO)
	if err != nil {
		return "", fmt.Errorf("CannotStartContainerError: %w", err)
	}
	exitCh, err := task.Wait(r.ctx)
	if err != nil {
		return "", fmt.Errorf("CannotStartContainerError: %w", err)
	}
	r.wg.Add(1)
	go r.watch(ts, cs, exitCh)
	if err := task.Start(ctx); err != nil {
		return "", fmt.Errorf("CannotStartContainerError: %w", err)
	}
	r.mu.Lock()
	cs.started = true
	ts.notify()
	r.mu.Unlock()
	if hp, ok, _ := healthCheckParams(c.Def.HealthCheck); ok {
		r.startHealthCheck(ts, cs, task, hp)
	}
	return id, nil
}

// unsafeChars are what containerd IDs and file names must not contain.
var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// containerID is "vs-<task ID>-<container name>" when containerd accepts it
// (at most 76 characters, no runs of separators); other ECS names keep a
// cleaned prefix and gain a hash of the name, so IDs stay unique.
func containerID(taskID, name string) string {
	id := idPrefix + taskID + "-" + name
	if identifiers.Validate(id) == nil {
		return id
	}
	h := sha256.Sum256([]byte(taskID + "\x00" + name))
	sum := hex.EncodeToString(h[:4])
	head := idPrefix + strings.Trim(unsafeChars.ReplaceAllString(taskID, "-"), "-") + "-"
	if len(head)+len(sum) > 70 {
		return idPrefix + hex.EncodeToString(h[:16])
	}
	clean := strings.Trim(unsafeChars.ReplaceAllString(name, "-"), "-")
	if room := 76 - len(head) - len(sum) - 1; len(clean) > room {
		clean = strings.TrimRight(clean[:room], "-")
	}
	if clean == "" {
		return head + sum
	}
	return head + clean + "-" + sum
}

// labelFilter is a containerd filter matching a label value.
func labelFilter(key, value string) string {
	return fmt.Sprintf("labels.%q==%q", key, value)
}

// keyedMutex serializes work per key (pulls of one image).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
