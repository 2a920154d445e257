package hostnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// routedThroughUs checks, as every test that sends from the host's own
// namespace must, that the route to addr leaves through a vs- link.
func routedThroughUs(t *testing.T, addr netip.Addr) bool {
	t.Helper()
	out, err := exec.Command("ip", "route", "get", addr.String()).CombinedOutput()
	return err == nil && strings.Contains(string(out), " dev vs-")
}

func TestConnectHost(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.251.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.251.1.0/24"), Gateway: pfx("10.251.1.1/24")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	host := newID("i")
	must(t, k.EnsureHost(ctx, host))
	eni := netmodel.NetENI{ID: newID("eni"), VPCID: vpc.ID, SubnetID: sub.ID, MAC: newMAC(), Addrs: []netip.Prefix{pfx("10.251.1.10/24")}, Gateway: sub.Gateway.Addr(), Host: host}
	must(t, k.EnsureENI(ctx, eni))
	target := netip.MustParseAddr("10.251.1.10")
	for _, port := range []int{80, 81} {
		var ln net.Listener
		must(t, inNetns(k.NetnsPath(host), func() (err error) {
			ln, err = net.Listen("tcp4", fmt.Sprintf("%s:%d", target, port))
			return err
		}))
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, "hello")
				c.Close()
			}
		}()
	}
	hostAddr := ec2sim.ConnectAddr(vpc.CIDR)
	must(t, k.SetFirewall(ctx, netmodel.Firewall{VPCID: vpc.ID, CIDR: vpc.CIDR, Host: hostAddr, ENIs: []netmodel.FirewallENI{{
		ID: eni.ID, MAC: eni.MAC, Addrs: []netip.Addr{target}, SourceDestCheck: true,
		Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}, Egress: allOut,
	}}}))
	if routedThroughUs(t, target) {
		t.Fatalf("%s is routed through a vs- link before connect: another test's leftover?", target)
	}

	vpc.Connect = hostAddr
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureVPC(ctx, vpc)) // again: nothing changes
	if !routedThroughUs(t, target) {
		t.Fatalf("after connect, %s is not routed through vpcsim's link", target)
	}
	dial := func(port int, timeout time.Duration) error {
		if !routedThroughUs(t, target) { // never send off the machine
			return errors.New("not routed through a vs- link")
		}
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("%s:%d", target, port), timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(patience))
		b, err := io.ReadAll(c)
		if err == nil && string(b) != "hello" {
			err = fmt.Errorf("read %q", b)
		}
		return err
	}
	// The admitted port is tried until it answers: a busy machine may lose
	// the first SYN while ARP resolves.
	for deadline := time.Now().Add(patience); ; {
		err := dial(80, 3*time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the host could not reach an admitted port: %v", err)
			break
		}
	}
	if dial(81, dropWait) == nil {
		t.Error("the host reached a port no rule admits")
	}

	vpc.Connect = netip.Addr{}
	must(t, k.EnsureVPC(ctx, vpc))
	if routedThroughUs(t, target) {
		t.Error("the route stayed after disconnect")
	}
	hostName, _, _ := connectNames(vpc.ID)
	if _, err := netlink.LinkByName(hostName); err == nil {
		t.Errorf("%s stayed after disconnect", hostName)
	}
}

func TestConnectRefusesOverlap(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	// A route the host "already has", on a link of the test's own (a veth
	// pair: this kernel has no dummy links).
	dummy := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: k.prefix + "d"}, PeerName: k.prefix + "e"}
	must(t, netlink.LinkAdd(dummy))
	defer netlink.LinkDel(dummy)
	must(t, netlink.LinkSetUp(dummy))
	must(t, netlink.RouteAdd(&netlink.Route{LinkIndex: dummy.Attrs().Index, Dst: prefixToIPNet(pfx("10.252.5.0/24")), Scope: netlink.SCOPE_LINK}))

	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.252.0.0/16"), Connect: netip.MustParseAddr("10.252.0.3")}
	err := k.EnsureVPC(ctx, vpc)
	if !errors.Is(err, ErrRouteOverlap) || !strings.Contains(err.Error(), "10.252.5.0/24") {
		t.Fatalf("connect over a host route: %v", err)
	}
	hostName, _, _ := connectNames(vpc.ID)
	if _, err := netlink.LinkByName(hostName); err == nil {
		t.Errorf("a refused connect left %s", hostName)
	}
}
