package hostnet

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A dual-stack subnet: the bridge holds both routers, an ENI both families'
// addresses and default routes, and (with no firewall set) two hosts talk
// over IPv6 and reach the router; taking the subnet's IPv6 range away takes
// its router off the bridge.
func TestDualStackSubnet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.sub.Gateway6 = pfx("fd5e:1:2:301::1/64")
	must(t, w.k.EnsureSubnet(ctx, w.sub))
	must(t, w.k.EnsureSubnet(ctx, w.sub))
	if got, _ := addrsOf(t, w.vpcH, w.bridge); !sameAddrs(got, []netip.Prefix{w.sub.Gateway, w.sub.Gateway6}) {
		t.Fatalf("bridge addresses %v, want %v and %v", got, w.sub.Gateway, w.sub.Gateway6)
	}
	for _, name := range []string{"net/ipv6/conf/all/forwarding", bridgeNF6Sysctl} {
		if v, err := readSysctl(t, w.k.NetnsPath(w.vpc.ID), name); err != nil || v != "1" {
			t.Errorf("VPC namespace %s = %q (%v), want 1", name, v, err)
		}
	}

	dual := func(host string, device int, v4 string, v6 ...string) netmodel.NetENI {
		e := w.eni(host, device, v4)
		e.Gateway6 = w.sub.Gateway6.Addr()
		for _, a := range v6 {
			e.Addrs6 = append(e.Addrs6, pfx(a))
		}
		return e
	}
	e1 := dual(w.host1, 0, "10.0.1.10/24", "fd5e:1:2:301::10/64")
	e2 := dual(w.host2, 0, "10.0.1.11/24", "fd5e:1:2:301::11/64")
	w.ensure(t, e1)
	w.ensure(t, e2)
	w.checkAttached(t, w.h1, e1)
	w.checkAttached(t, w.h2, e2)
	// eth1 has IPv6 too but no default route of either family.
	e3 := dual(w.host1, 1, "10.0.1.12/24", "fd5e:1:2:301::12/64")
	w.ensure(t, e3)
	w.checkAttached(t, w.h1, e3)

	p1 := w.k.NetnsPath(w.host1)
	for _, addr := range []string{"fd5e:1:2:301::11", "fd5e:1:2:301::1", "10.0.1.11"} {
		if err := pingOK(t, p1, addr); err != nil {
			t.Errorf("host1 → %s: %v", addr, err)
		}
	}

	// Assigning and unassigning IPv6 addresses.
	e2.Addrs6 = []netip.Prefix{pfx("fd5e:1:2:301::21/64"), pfx("fd5e:1:2:301::22/64")}
	w.ensure(t, e2)
	w.checkAttached(t, w.h2, e2)
	if err := pingOK(t, p1, "fd5e:1:2:301::22"); err != nil {
		t.Errorf("host1 → an assigned address: %v", err)
	}
	e2.Addrs6, e2.Gateway6 = nil, netip.Addr{}
	w.ensure(t, e2)
	w.checkAttached(t, w.h2, e2)

	// Parked and attached again: the IPv6 addresses come back with it.
	e1.Host = ""
	w.ensure(t, e1)
	w.checkParked(t, e1)
	e1.Host = w.host1
	w.ensure(t, e1)
	w.checkAttached(t, w.h1, e1)

	w.sub.Gateway6 = netip.Prefix{}
	must(t, w.k.EnsureSubnet(ctx, w.sub))
	if got, _ := addrsOf(t, w.vpcH, w.bridge); !sameAddrs(got, []netip.Prefix{w.sub.Gateway}) {
		t.Errorf("bridge addresses %v after the IPv6 range went, want %v", got, w.sub.Gateway)
	}
}

// An IPv6-only subnet's bridge holds its IPv6 router alone.
func TestIPv6OnlySubnet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: w.vpc.ID, Gateway6: pfx("fd5e:1:2:302::1/64")}
	must(t, w.k.EnsureSubnet(ctx, sub))
	name, _ := bridgeName(sub.ID)
	if got, _ := addrsOf(t, w.vpcH, mustLink(t, w.vpcH, name)); !sameAddrs(got, []netip.Prefix{sub.Gateway6}) {
		t.Errorf("bridge addresses %v, want %v", got, sub.Gateway6)
	}
	if err := w.k.EnsureSubnet(ctx, netmodel.NetSubnet{ID: newID("subnet"), VPCID: w.vpc.ID}); err == nil {
		t.Error("a subnet with no router of either family was made")
	}
}
