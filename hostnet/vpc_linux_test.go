package hostnet

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

func TestVPCAndSubnet(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}

	for range 2 { // the second time finds everything in place
		if err := k.EnsureVPC(ctx, vpc); err != nil {
			t.Fatal(err)
		}
	}
	path := k.NetnsPath(vpc.ID)
	if !isNetns(path) {
		t.Fatalf("%s is not a namespace", path)
	}
	if v, err := readSysctl(t, path, "net/ipv4/ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward in the VPC = %q, %v; want 1", v, err)
	}
	if _, err := os.Stat("/proc/sys/" + bridgeNFSysctl); err == nil {
		if v, err := readSysctl(t, path, bridgeNFSysctl); err != nil || v != "1" {
			t.Errorf("bridge-nf-call-iptables in the VPC = %q, %v; want 1", v, err)
		}
	} else {
		t.Logf("br_netfilter unavailable on this machine; warnings: %v", k.Warnings())
	}
	h := handleIn(t, path)
	if !isUp(mustLink(t, h, "lo")) {
		t.Error("lo is down in the VPC namespace")
	}

	for range 2 {
		if err := k.EnsureSubnet(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	name, _ := bridgeName(sub.ID)
	br := mustLink(t, h, name)
	if br.Type() != "bridge" || !isUp(br) {
		t.Fatalf("%s: type %s, up %v; want an up bridge", name, br.Type(), isUp(br))
	}
	if got, _ := addrsOf(t, h, br); !sameAddrs(got, []netip.Prefix{sub.Gateway}) {
		t.Errorf("bridge addresses %v, want %v", got, sub.Gateway)
	}
	if !bytes.Equal(br.Attrs().HardwareAddr, bridgeMAC(sub.ID)) {
		t.Errorf("bridge MAC %s, want %s", br.Attrs().HardwareAddr, bridgeMAC(sub.ID))
	}

	// Drift is repaired: a foreign address goes, the bridge comes back up.
	if err := h.AddrAdd(br, &netlink.Addr{IPNet: prefixToIPNet(pfx("10.0.1.2/24"))}); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetDown(br); err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureSubnet(ctx, sub); err != nil {
		t.Fatal(err)
	}
	br = mustLink(t, h, name)
	if got, _ := addrsOf(t, h, br); !sameAddrs(got, []netip.Prefix{sub.Gateway}) || !isUp(br) {
		t.Errorf("after repair: addresses %v, up %v; want [%v], up", got, isUp(br), sub.Gateway)
	}

	for range 2 {
		if err := k.DeleteSubnet(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	noLink(t, h, name)
	for range 2 {
		if err := k.DeleteVPC(ctx, vpc.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s still exists after DeleteVPC (%v)", path, err)
	}
	// Deleting a subnet of a VPC that is gone is fine too.
	if err := k.DeleteSubnet(ctx, sub); err != nil {
		t.Error(err)
	}
}

func TestEnsureNeedsParents(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpcID := newID("vpc")
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpcID, Gateway: pfx("10.0.1.1/24")}
	if err := k.EnsureSubnet(ctx, sub); err == nil {
		t.Error("EnsureSubnet without its VPC succeeded")
	}
	if err := k.EnsureVPC(ctx, netmodel.NetVPC{ID: vpcID}); err != nil {
		t.Fatal(err)
	}
	eni := netmodel.NetENI{ID: newID("eni"), VPCID: vpcID, SubnetID: sub.ID, MAC: newMAC()}
	if err := k.EnsureENI(ctx, eni); err == nil {
		t.Error("EnsureENI without its subnet succeeded")
	}
	if err := k.EnsureSubnet(ctx, sub); err != nil {
		t.Fatal(err)
	}
	eni.Host = newID("i")
	if err := k.EnsureENI(ctx, eni); err == nil {
		t.Error("EnsureENI into a missing host succeeded")
	}
	// Nothing half-made is left behind by the failure.
	names, _ := namesOfENI(eni.ID)
	noLink(t, handleIn(t, k.NetnsPath(vpcID)), names.bridgeEnd)
	if err := k.EnsureVPC(ctx, netmodel.NetVPC{ID: "../etc"}); err == nil {
		t.Error("EnsureVPC accepted a path as ID")
	}
}

func TestDeleteVPCTakesENIs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.ensure(t, w.eni(w.host1, 0, "10.0.1.10/24"))
	mustLink(t, w.h1, "eth0")
	must(t, w.k.DeleteVPC(ctx, w.vpc.ID))
	// At once, not whenever the kernel gets round to freeing the namespace.
	noLink(t, w.h1, "eth0")
	must(t, w.k.DeleteVPC(ctx, w.vpc.ID))
	// ENIs and subnets of a VPC that is gone are gone: deleting them succeeds.
	must(t, w.k.DeleteENI(ctx, w.eni(w.host1, 0)))
	must(t, w.k.DeleteSubnet(ctx, w.sub))
}
