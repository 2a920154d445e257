package hostnet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sort"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Kernel is the real dataplane: it implements netmodel.Dataplane with
// namespaces, bridges and veth pairs. It is safe for concurrent use; changes
// are serialized.
type Kernel struct {
	prefix   string
	log      *slog.Logger
	internet netip.Prefix // vpcsim's internet: public addresses and the machine's (internet.go)
	egress   bool         // WithInternetEgress

	// mu serializes every change: each Ensure reads the kernel's state and then
	// acts on what it read, which only holds if nobody else acts in between.
	mu         sync.Mutex
	conns      map[string]*nsConn      // netns name → netlink handle inside it
	noBridgeNF bool                    // a VPC namespace lacks net.bridge.bridge-nf-call-iptables
	captures   map[string]*flowCapture // VPC netns name → its flow-log capture
	flowSink   func(netmodel.FlowPacket)

	retiring    sync.WaitGroup // deletions of retired veth pairs under way (retire.go)
	retireSlots chan struct{}
}

var _ netmodel.Dataplane = (*Kernel)(nil)

// Option configures a Kernel.
type Option func(*Kernel) error

// WithPrefix sets the prefix of every namespace name (default "vs-"). It must start
// with "vs-"; tests use e.g. "vs-t3f9a-" so that concurrent test runs, and Reconcile
// in each, never touch each other's namespaces.
func WithPrefix(p string) Option {
	return func(k *Kernel) error {
		if err := checkPrefix(p); err != nil {
			return err
		}
		k.prefix = p
		return nil
	}
}

// WithLogger sets where the Kernel reports what it repairs or cannot do
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(k *Kernel) error {
		k.log = l
		return nil
	}
}

// New returns a Kernel. It fails, with a message saying what to do, when the
// process lacks the privileges the dataplane needs (see Privileged). It changes
// nothing in the kernel: objects are made by the Ensure methods and Reconcile.
func New(opts ...Option) (*Kernel, error) {
	k := &Kernel{prefix: DefaultPrefix, log: slog.Default(), internet: DefaultInternet, conns: map[string]*nsConn{}, captures: map[string]*flowCapture{},
		retireSlots: make(chan struct{}, retireWorkers)}
	for _, o := range opts {
		if err := o(k); err != nil {
			return nil, err
		}
	}
	if err := Privileged(); err != nil {
		return nil, err
	}
	return k, nil
}

// Close waits for the retired veth pairs to be deleted, then releases the
// netlink sockets the Kernel holds (they keep namespaces alive in the kernel
// even after their names are gone). Kernel objects stay, and the Kernel may
// still be used: it reopens what it needs.
func (k *Kernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	// Under k.mu, which every retirement is started under (and none of the
	// deleting goroutines takes): no Add races this Wait.
	k.retiring.Wait()
	for name := range k.conns {
		k.dropConnLocked(name)
	}
	for name := range k.captures {
		k.stopCaptureLocked(name)
	}
	return nil
}

// Prefix returns the namespace-name prefix.
func (k *Kernel) Prefix() string { return k.prefix }

// NetnsPath returns the path of the network namespace of a host (instance or task
// ID) or of a VPC (VPC ID): /run/netns/<prefix><name>. Processes started with
// `nsenter --net=PATH` or ExecIn(PATH, …) run inside it.
func (k *Kernel) NetnsPath(name string) string {
	return NetnsPathFor(k.prefix, name)
}

// NetnsPathFor is NetnsPath of a Kernel with the given prefix, for callers that
// have none (e.g. `vpcsim exec`, which finds what `vpcsim serve` made).
func NetnsPathFor(prefix, name string) string {
	return filepath.Join(netnsDir, prefix+name)
}

// Warnings lists what works less well than it should, e.g. a VPC namespace
// without br_netfilter (bridged traffic then bypasses security groups).
func (k *Kernel) Warnings() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var w []string
	if k.noBridgeNF {
		w = append(w, "net.bridge.bridge-nf-call-iptables is missing in VPC namespaces: traffic within a subnet is not filtered (modprobe br_netfilter)")
	}
	return w
}

// nsName returns the namespace name of a VPC or host ID, refusing IDs that cannot
// be file names.
func (k *Kernel) nsName(id string) (string, error) {
	if err := checkNameComponent("name", id); err != nil {
		return "", err
	}
	return k.prefix + id, nil
}

// nsConn is a netlink handle whose sockets live in one named namespace. The
// device and inode tell whether the name still refers to the same namespace.
type nsConn struct {
	name     string
	dev, ino uint64
	h        *netlink.Handle
}

func (c *nsConn) path() string { return filepath.Join(netnsDir, c.name) }

// errNoNetns is wrapped by every error that says a namespace is missing.
var errNoNetns = fmt.Errorf("no such network namespace: %w", fs.ErrNotExist)

// connLocked returns a handle in the named namespace, reusing the cached one while
// the name still refers to the same namespace (a deleted and re-made namespace
// gets a new one). It wraps errNoNetns when the namespace does not exist.
func (k *Kernel) connLocked(name string) (*nsConn, error) {
	path := filepath.Join(netnsDir, name)
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		k.dropConnLocked(name)
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("%s: %w", name, errNoNetns)
		}
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if c := k.conns[name]; c != nil && c.dev == uint64(st.Dev) && c.ino == st.Ino {
		return c, nil
	}
	k.dropConnLocked(name)
	fd, err := openNetns(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", name, err)
	}
	c := &nsConn{name: name, dev: uint64(st.Dev), ino: st.Ino, h: h}
	k.conns[name] = c
	return c, nil
}

// dropConnLocked closes the cached handle of a namespace. Its sockets hold a
// reference on the namespace, so this must happen before the namespace is removed,
// or the kernel would keep it (and the veth pairs in it) alive.
func (k *Kernel) dropConnLocked(name string) {
	if c := k.conns[name]; c != nil {
		c.h.Close()
		delete(k.conns, name)
	}
}

// removeNetnsLocked removes a namespace of this Kernel and everything in it.
// Missing is success.
func (k *Kernel) removeNetnsLocked(ctx context.Context, name string) error {
	k.dropConnLocked(name)
	k.stopCaptureLocked(name)
	return purgeNetns(ctx, filepath.Join(netnsDir, name))
}

// listOwnNetns returns the names of this Kernel's namespaces, sorted.
func (k *Kernel) listOwnNetns() ([]string, error) {
	names, err := listNetns(k.prefix)
	sort.Strings(names)
	return names, err
}
