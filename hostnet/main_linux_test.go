package hostnet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// execInEnv makes the test binary act as `ExecIn($VPCSIM_TEST_EXECIN, os.Args[1:])`,
// so tests run programs inside their namespaces with the code under test.
const execInEnv = "VPCSIM_TEST_EXECIN"

var (
	prefixesMu sync.Mutex
	prefixes   []string // every prefix a test used, checked for leftovers at the end
)

func TestMain(m *testing.M) {
	if path := os.Getenv(execInEnv); path != "" {
		err := ExecIn(path, os.Args[1:])
		fmt.Fprintln(os.Stderr, err)
		os.Exit(127)
	}
	code := m.Run()
	prefixesMu.Lock()
	defer prefixesMu.Unlock()
	for _, p := range prefixes {
		left, err := leftovers(p, p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "leftovers of %s: %v\n", p, err)
			code = 1
		}
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "tests left kernel objects behind: %v\n", left)
			down(context.Background(), p, p)
			code = 1
		}
	}
	os.Exit(code)
}

// requireRoot skips a test that needs root, or fails it when VPCSIM_REQUIRE_ROOT=1
// (CI sets it, so these tests can never be skipped there without anyone noticing).
func requireRoot(t testing.TB) {
	t.Helper()
	if Privileged() == nil {
		return
	}
	if os.Getenv("VPCSIM_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), and VPCSIM_REQUIRE_ROOT=1 forbids skipping it")
	}
	t.Skip("needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN); run `sudo go test ./hostnet/`, or set VPCSIM_REQUIRE_ROOT=1 to fail instead of skipping")
}

// testPrefix returns a fresh "vs-t<4 hex>-" prefix whose objects are removed when
// the test ends, and checked once more after all tests.
func testPrefix(t testing.TB) string {
	t.Helper()
	p := "vs-t" + randHex(4) + "-"
	prefixesMu.Lock()
	prefixes = append(prefixes, p)
	prefixesMu.Unlock()
	t.Cleanup(func() {
		if err := down(context.Background(), p, p); err != nil {
			t.Errorf("clean up %s: %v", p, err)
		}
		if left, _ := leftovers(p, p); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	return p
}

// newTestKernel returns a Kernel with a prefix of its own; see testPrefix.
func newTestKernel(t *testing.T) *Kernel {
	t.Helper()
	requireRoot(t)
	p := testPrefix(t)
	k, err := New(WithPrefix(p), WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() }) // runs before testPrefix's cleanup
	return k
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func newID(kind string) string { return kind + "-" + randHex(17) }

func newMAC() net.HardwareAddr {
	b := make([]byte, 6)
	rand.Read(b)
	b[0] = 0x0a
	return b
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// handleIn opens a netlink handle of the test's own in the namespace at path.
func handleIn(t *testing.T, path string) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// mustLink returns the named link, failing the test if it is missing.
func mustLink(t *testing.T, h *netlink.Handle, name string) netlink.Link {
	t.Helper()
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatalf("link %s: %v", name, err)
	}
	return l
}

func noLink(t *testing.T, h *netlink.Handle, name string) {
	t.Helper()
	if l, err := h.LinkByName(name); err == nil {
		t.Fatalf("link %s (%s) exists, want none", name, l.Type())
	}
}

func isUp(l netlink.Link) bool { return l.Attrs().Flags&net.FlagUp != 0 }

// addrsOf returns the link's addresses but IPv6 link-local ones, primary IPv4
// first, and which one the kernel treats as primary.
func addrsOf(t *testing.T, h *netlink.Handle, l netlink.Link) (all []netip.Prefix, primary netip.Prefix) {
	t.Helper()
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		p, _ := ipNetToPrefix(a.IPNet)
		if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
			continue
		}
		all = append(all, p)
		if p.Addr().Is4() && a.Flags&unix.IFA_F_SECONDARY == 0 && !primary.IsValid() {
			primary = p
		}
	}
	return all, primary
}

func sameAddrs(got, want []netip.Prefix) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[netip.Prefix]bool{}
	for _, p := range got {
		m[p] = true
	}
	for _, p := range want {
		if !m[p] {
			return false
		}
	}
	return true
}

// defaultGW returns the gateway of the default route through link, if any.
func defaultGW(t *testing.T, h *netlink.Handle, l netlink.Link) netip.Addr {
	t.Helper()
	return defaultGWOf(t, h, l, netlink.FAMILY_V4)
}

// defaultGWOf is the gateway of the link's default route of a family.
func defaultGWOf(t *testing.T, h *netlink.Handle, l netlink.Link, family int) netip.Addr {
	t.Helper()
	routes, err := h.RouteList(l, family)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if isDefault(r) && r.Gw != nil {
			a, _ := netip.AddrFromSlice(r.Gw)
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// readSysctl reads a sysctl inside the namespace at path.
func readSysctl(t *testing.T, path, name string) (string, error) {
	t.Helper()
	var v string
	err := inNetns(path, func() error {
		b, err := os.ReadFile("/proc/sys/" + name)
		v = strings.TrimSpace(string(b))
		return err
	})
	return v, err
}

// commandIn returns a command that runs argv inside the namespace at path, through
// ExecIn (the test binary re-executes itself; see TestMain).
func commandIn(ctx context.Context, path string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], argv...)
	cmd.Env = append(os.Environ(), execInEnv+"="+path)
	return cmd
}

// ping sends one echo request from inside the namespace at path, with busybox
// (or ping) — only ever to addresses in the test's own namespaces.
// pingOK pings until an answer comes, within patience: for an address that
// must answer, whose first echo a busy machine may lose while ARP resolves.
func pingOK(t *testing.T, path, addr string) error {
	t.Helper()
	for deadline := time.Now().Add(patience); ; {
		err := ping(t, path, addr)
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

// ping sends one echo request and waits a second for the answer: for an
// address that must not answer, or once through pingOK.
func ping(t *testing.T, path, addr string) error {
	t.Helper()
	var argv []string
	if _, err := exec.LookPath("busybox"); err == nil {
		argv = []string{"busybox", "ping", "-c", "1", "-W", "1", addr}
	} else if _, err := exec.LookPath("ping"); err == nil {
		argv = []string{"ping", "-c", "1", "-W", "1", addr}
	} else {
		t.Skip("neither busybox nor ping on PATH (apt-get install -y busybox-static)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := commandIn(ctx, path, argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
