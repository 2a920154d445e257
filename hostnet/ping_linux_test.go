package hostnet

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// attachedHost makes a host in the subnet with one ENI as eth0 holding addr.
func attachedHost(t *testing.T, k *Kernel, sub netmodel.NetSubnet, addr string) string {
	t.Helper()
	return attachedHost6(t, k, sub, addr, "")
}

// attachedHost6 makes a host in the subnet with one ENI as eth0 holding the
// IPv4 address addr and the IPv6 address addr6, either of which may be "",
// with the default route of each family it has.
func attachedHost6(t *testing.T, k *Kernel, sub netmodel.NetSubnet, addr, addr6 string) string {
	t.Helper()
	ctx := context.Background()
	host := newID("i")
	must(t, k.EnsureHost(ctx, host))
	e := netmodel.NetENI{ID: newID("eni"), VPCID: sub.VPCID, SubnetID: sub.ID, MAC: newMAC(), Host: host}
	if addr != "" {
		e.Addrs, e.Gateway = []netip.Prefix{pfx(addr)}, sub.Gateway.Addr()
	}
	if addr6 != "" {
		e.Addrs6, e.Gateway6 = []netip.Prefix{pfx(addr6)}, sub.Gateway6.Addr()
	}
	must(t, k.EnsureENI(ctx, e))
	return host
}

func TestPingAcrossSubnets(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	_, subA, subB := twoSubnets(t, k)
	a := attachedHost(t, k, subA, "10.0.1.10/24")
	b := attachedHost(t, k, subB, "10.0.2.10/24")
	b2 := attachedHost(t, k, subB, "10.0.2.11/24")

	for _, c := range []struct{ from, to string }{
		{a, "10.0.1.1"}, {a, "10.0.2.10"}, {b, "10.0.1.10"}, {b, "10.0.2.11"}, {b2, "10.0.1.10"},
	} {
		if err := pingOK(t, k.NetnsPath(c.from), c.to); err != nil {
			t.Errorf("ping %s from %s: %v", c.to, c.from, err)
		}
	}
}

func TestVPCsAreIsolated(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	var hosts []string
	for i, addr := range []string{"10.0.1.10/24", "10.0.1.20/24"} {
		vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")} // the same CIDR twice
		sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
		must(t, k.EnsureVPC(ctx, vpc))
		must(t, k.EnsureSubnet(ctx, sub))
		hosts = append(hosts, attachedHost(t, k, sub, addr))
		// Each reaches its own router: the network itself works.
		if err := pingOK(t, k.NetnsPath(hosts[i]), "10.0.1.1"); err != nil {
			t.Fatalf("ping own router from VPC %d: %v", i, err)
		}
	}
	if err := ping(t, k.NetnsPath(hosts[0]), "10.0.1.20"); err == nil {
		t.Error("a host reached a host of another VPC")
	}
	if err := ping(t, k.NetnsPath(hosts[1]), "10.0.1.10"); err == nil {
		t.Error("a host reached a host of another VPC")
	}
}

// twoSubnets makes a VPC of 10.0.0.0/16 with subnets 10.0.1.0/24 and
// 10.0.2.0/24.
func twoSubnets(t *testing.T, k *Kernel) (vpc netmodel.NetVPC, subA, subB netmodel.NetSubnet) {
	t.Helper()
	ctx := context.Background()
	vpc = netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	subA = netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	subB = netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.2.0/24"), Gateway: pfx("10.0.2.1/24")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, subA))
	must(t, k.EnsureSubnet(ctx, subB))
	return vpc, subA, subB
}
