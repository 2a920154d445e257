package hostnet

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// world is one VPC with one subnet and two hosts, made by a test Kernel.
type world struct {
	k            *Kernel
	vpc          netmodel.NetVPC
	sub          netmodel.NetSubnet
	host1, host2 string
	vpcH         *netlink.Handle
	h1, h2       *netlink.Handle
	bridge       netlink.Link
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := newTestKernel(t)
	ctx := context.Background()
	w := &world{k: k, vpc: netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}, host1: newID("i"), host2: newID("i")}
	w.sub = netmodel.NetSubnet{ID: newID("subnet"), VPCID: w.vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	must(t, k.EnsureVPC(ctx, w.vpc))
	must(t, k.EnsureSubnet(ctx, w.sub))
	must(t, k.EnsureHost(ctx, w.host1))
	must(t, k.EnsureHost(ctx, w.host2))
	w.vpcH = handleIn(t, k.NetnsPath(w.vpc.ID))
	w.h1 = handleIn(t, k.NetnsPath(w.host1))
	w.h2 = handleIn(t, k.NetnsPath(w.host2))
	name, _ := bridgeName(w.sub.ID)
	w.bridge = mustLink(t, w.vpcH, name)
	return w
}

func (w *world) eni(host string, device int, addrs ...string) netmodel.NetENI {
	e := netmodel.NetENI{ID: newID("eni"), VPCID: w.vpc.ID, SubnetID: w.sub.ID, MAC: newMAC(),
		Gateway: w.sub.Gateway.Addr(), Host: host, Device: device}
	for _, a := range addrs {
		e.Addrs = append(e.Addrs, pfx(a))
	}
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ensure calls EnsureENI twice: the second call must find everything in place.
func (w *world) ensure(t *testing.T, e netmodel.NetENI) {
	t.Helper()
	must(t, w.k.EnsureENI(context.Background(), e))
	must(t, w.k.EnsureENI(context.Background(), e))
}

// checkAttached asserts the kernel shows e attached as it says, and returns the
// index of its bridge end.
func (w *world) checkAttached(t *testing.T, h *netlink.Handle, e netmodel.NetENI) int {
	t.Helper()
	dev, _ := deviceName(e.Device)
	l := mustLink(t, h, dev)
	if l.Type() != "veth" || !isUp(l) {
		t.Errorf("%s: type %s, up %v; want an up veth", dev, l.Type(), isUp(l))
	}
	if !bytes.Equal(l.Attrs().HardwareAddr, e.MAC) {
		t.Errorf("%s MAC %s, want %s", dev, l.Attrs().HardwareAddr, e.MAC)
	}
	got, primary := addrsOf(t, h, l)
	if !sameAddrs(got, eniAddrs(e)) || (len(e.Addrs) > 0 && primary != e.Addrs[0]) {
		t.Errorf("%s addresses %v (primary %v), want %v", dev, got, primary, eniAddrs(e))
	}
	if gw6 := defaultGWOf(t, h, l, netlink.FAMILY_V6); (e.Device == 0 && len(e.Addrs6) > 0) != gw6.IsValid() || (gw6.IsValid() && gw6 != e.Gateway6) {
		t.Errorf("%s IPv6 default route via %v; want one via %v on device 0 with IPv6 addresses only", dev, gw6, e.Gateway6)
	}
	gw := defaultGW(t, h, l)
	if e.Device == 0 && len(e.Addrs) > 0 && gw != e.Gateway {
		t.Errorf("%s default route via %v, want via %v", dev, gw, e.Gateway)
	}
	if e.Device != 0 && gw.IsValid() {
		t.Errorf("%s has a default route via %v; only eth0 should", dev, gw)
	}
	names, _ := namesOfENI(e.ID)
	be := mustLink(t, w.vpcH, names.bridgeEnd)
	if be.Attrs().MasterIndex != w.bridge.Attrs().Index || !isUp(be) {
		t.Errorf("%s: master %d up %v; want a port of %s, up", names.bridgeEnd, be.Attrs().MasterIndex, isUp(be), w.bridge.Attrs().Name)
	}
	noLink(t, w.vpcH, names.parked)
	return be.Attrs().Index
}

func (w *world) checkParked(t *testing.T, e netmodel.NetENI) {
	t.Helper()
	names, _ := namesOfENI(e.ID)
	p := mustLink(t, w.vpcH, names.parked)
	if isUp(p) || !bytes.Equal(p.Attrs().HardwareAddr, e.MAC) {
		t.Errorf("%s: up %v MAC %s; want down with %s", names.parked, isUp(p), p.Attrs().HardwareAddr, e.MAC)
	}
	if got, _ := addrsOf(t, w.vpcH, p); len(got) != 0 {
		t.Errorf("parked %s has addresses %v", names.parked, got)
	}
	mustLink(t, w.vpcH, names.bridgeEnd)
}

func TestENIAttachParkMove(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()

	e1 := w.eni(w.host1, 0, "10.0.1.10/24")
	w.ensure(t, e1)
	idx1 := w.checkAttached(t, w.h1, e1)

	// A second ENI as eth1, with a secondary address and no default route.
	e2 := w.eni(w.host1, 1, "10.0.1.11/24", "10.0.1.12/24")
	w.ensure(t, e2)
	idx2 := w.checkAttached(t, w.h1, e2)
	w.checkAttached(t, w.h1, e1)

	// Park e1: eth0 leaves host1 and waits, down, in the VPC.
	e1.Host, e1.Device = "", 0
	w.ensure(t, e1)
	w.checkParked(t, e1)
	noLink(t, w.h1, "eth0")

	// Re-attach: a new pair made with its end in host1 (retire.go), and the
	// parked pair retired and deleted.
	e1.Host = w.host1
	w.ensure(t, e1)
	if got := w.checkAttached(t, w.h1, e1); got == idx1 {
		t.Errorf("re-attach kept the parked pair (bridge end %d): it moves it instead of making a new one", got)
	}
	w.k.retiring.Wait()
	links, err := linkList(w.vpcH)
	must(t, err)
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, retiredPrefix) {
			t.Errorf("retired %s still there", l.Attrs().Name)
		}
	}

	// Move e2 to host2 as eth0: it gets the default route there.
	e2.Host, e2.Device = w.host2, 0
	w.ensure(t, e2)
	if got := w.checkAttached(t, w.h2, e2); got != idx2 {
		t.Errorf("move made a new pair (bridge end %d, was %d)", got, idx2)
	}
	noLink(t, w.h1, "eth1")

	// New addresses, a new primary among them, and a new MAC.
	e2.Addrs = []netip.Prefix{pfx("10.0.1.12/24"), pfx("10.0.1.13/24")}
	e2.MAC = newMAC()
	w.ensure(t, e2)
	w.checkAttached(t, w.h2, e2)

	// Another device index in the same host: renamed, and no default route.
	e2.Device = 2
	w.ensure(t, e2)
	w.checkAttached(t, w.h2, e2)
	noLink(t, w.h2, "eth0")

	// Attaching where another ENI of the VPC still holds the name moves that one
	// aside (its state is stale: a device index belongs to one ENI).
	e2.Host, e2.Device = w.host1, 0
	w.ensure(t, e2)
	w.checkAttached(t, w.h1, e2)
	n1, _ := namesOfENI(e1.ID)
	if l := mustLink(t, w.h1, n1.parked); isUp(l) {
		t.Errorf("displaced %s is up", n1.parked)
	}
	e1.Device = 5
	w.ensure(t, e1)
	w.checkAttached(t, w.h1, e1)

	// A name held by something that is not an ENI is refused, changing nothing.
	must(t, w.h1.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "eth7"}}))
	e3 := e2
	e3.Device = 7
	if err := w.k.EnsureENI(ctx, e3); err == nil {
		t.Error("attaching as eth7 where a bridge eth7 is succeeded")
	}
	w.checkAttached(t, w.h1, e2)
	e5 := w.eni(w.host1, 7, "10.0.1.30/24") // a new one: refused, and not left half-made
	if err := w.k.EnsureENI(ctx, e5); err == nil {
		t.Error("a new ENI as eth7 where a bridge eth7 is succeeded")
	}
	n5, _ := namesOfENI(e5.ID)
	noLink(t, w.vpcH, n5.bridgeEnd)
	// A new ENI takes eth0 from a stale one at once.
	e6 := w.eni(w.host1, 0, "10.0.1.31/24")
	w.ensure(t, e6)
	w.checkAttached(t, w.h1, e6)
	must(t, w.k.DeleteENI(ctx, e6))
	e2.Device = 0
	w.ensure(t, e2)

	// An ENI made parked.
	e4 := w.eni("", 0, "10.0.1.20/24")
	w.ensure(t, e4)
	w.checkParked(t, e4)

	for _, e := range []netmodel.NetENI{e1, e2, e4} {
		for range 2 {
			must(t, w.k.DeleteENI(ctx, e))
		}
		names, _ := namesOfENI(e.ID)
		noLink(t, w.vpcH, names.bridgeEnd)
		noLink(t, w.vpcH, names.parked)
	}
	noLink(t, w.h1, "eth0")
	noLink(t, w.h1, "eth5")
	mustLink(t, w.h1, "eth7") // not ours: left alone
}

func TestENIRepairsDrift(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.eni(w.host1, 0, "10.0.1.10/24")
	w.ensure(t, e)
	l := mustLink(t, w.h1, "eth0")
	must(t, w.h1.AddrAdd(l, &netlink.Addr{IPNet: prefixToIPNet(pfx("10.0.1.99/24"))}))
	must(t, w.h1.LinkSetDown(l))
	names, _ := namesOfENI(e.ID)
	must(t, w.vpcH.LinkSetNoMaster(mustLink(t, w.vpcH, names.bridgeEnd)))
	w.ensure(t, e)
	w.checkAttached(t, w.h1, e)
}
