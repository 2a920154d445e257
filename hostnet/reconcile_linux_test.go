package hostnet

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

func TestReconcile(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	subA := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	subB := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.2.0/24"), Gateway: pfx("10.0.2.1/24")}
	h1, h2 := newID("i"), newID("task")
	eni := func(sub netmodel.NetSubnet, addr, host string, dev int) netmodel.NetENI {
		return netmodel.NetENI{ID: newID("eni"), VPCID: vpc.ID, SubnetID: sub.ID, MAC: newMAC(),
			Addrs: []netip.Prefix{pfx(addr)}, Gateway: sub.Gateway.Addr(), Host: host, Device: dev}
	}
	want := netmodel.Topology{
		VPCs:    []netmodel.NetVPC{vpc},
		Subnets: []netmodel.NetSubnet{subA, subB},
		Hosts:   []string{h1, h2},
		ENIs: []netmodel.NetENI{
			eni(subA, "10.0.1.10/24", h1, 0),
			eni(subB, "10.0.2.10/24", h2, 0),
			eni(subB, "10.0.2.11/24", h2, 1),
			eni(subA, "10.0.1.12/24", "", 0), // parked
		},
	}
	must(t, k.Reconcile(ctx, want))
	must(t, k.Reconcile(ctx, want))

	vpcH := handleIn(t, k.NetnsPath(vpc.ID))
	brA, _ := bridgeName(subA.ID)
	brB, _ := bridgeName(subB.ID)
	mustLink(t, vpcH, brA)
	mustLink(t, vpcH, brB)
	if err := pingOK(t, k.NetnsPath(h1), "10.0.2.11"); err != nil {
		t.Errorf("after Reconcile, ping across subnets: %v", err)
	}
	parked, _ := namesOfENI(want.ENIs[3].ID)
	mustLink(t, vpcH, parked.parked)

	// Strays with our prefix: a namespace, and a veth in the VPC namespace. And
	// drift: a bridge deleted behind our back.
	stray := newID("i")
	must(t, k.EnsureHost(ctx, stray))
	strayENI, _ := namesOfENI(newID("eni"))
	must(t, vpcH.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: strayENI.bridgeEnd}, PeerName: strayENI.parked}))
	// A retired pair whose deletion a crash cut short (retire.go).
	retired, retiredPeer := retiredPrefix+randomHex(idHexLen), retiredPrefix+randomHex(idHexLen)
	must(t, vpcH.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: retired}, PeerName: retiredPeer}))
	must(t, vpcH.LinkDel(mustLink(t, vpcH, brA)))
	// Not ours: a namespace of another prefix (another vpcsim, another test).
	other := testPrefix(t) + "i-other"
	if _, err := createNetns(filepath.Join(netnsDir, other)); err != nil {
		t.Fatal(err)
	}

	must(t, k.Reconcile(ctx, want))
	if _, err := os.Stat(k.NetnsPath(stray)); !os.IsNotExist(err) {
		t.Errorf("stray namespace survived Reconcile (%v)", err)
	}
	noLink(t, vpcH, strayENI.bridgeEnd)
	noLink(t, vpcH, strayENI.parked)
	noLink(t, vpcH, retired)
	noLink(t, vpcH, retiredPeer)
	br := mustLink(t, vpcH, brA)
	first, _ := namesOfENI(want.ENIs[0].ID)
	if be := mustLink(t, vpcH, first.bridgeEnd); be.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("ENI not back on the re-made bridge (master %d, bridge %d)", be.Attrs().MasterIndex, br.Attrs().Index)
	}
	if err := pingOK(t, k.NetnsPath(h1), "10.0.1.1"); err != nil {
		t.Errorf("after repair, ping the router: %v", err)
	}
	if !isNetns(filepath.Join(netnsDir, other)) {
		t.Error("Reconcile removed a namespace of another prefix")
	}

	// Wanting nothing removes everything of ours.
	must(t, k.Reconcile(ctx, netmodel.Topology{}))
	if names, _ := listNetns(k.Prefix()); len(names) != 0 {
		t.Errorf("after Reconcile(empty): %v", names)
	}
}

func TestReconcileSwapsDevices(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	a := w.eni(w.host1, 0, "10.0.1.10/24")
	b := w.eni(w.host1, 1, "10.0.1.11/24")
	topo := netmodel.Topology{VPCs: []netmodel.NetVPC{w.vpc}, Subnets: []netmodel.NetSubnet{w.sub}, Hosts: []string{w.host1, w.host2}, ENIs: []netmodel.NetENI{a, b}}
	must(t, w.k.Reconcile(ctx, topo))
	// a and b trade places: whichever goes first finds its name held by the
	// other, which is moved aside; one pass is enough.
	topo.ENIs[0].Device, topo.ENIs[1].Device = 1, 0
	must(t, w.k.Reconcile(ctx, topo))
	w.checkAttached(t, w.h1, topo.ENIs[0])
	w.checkAttached(t, w.h1, topo.ENIs[1])
}
