package hostnet

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// IPv6 through the internet link, untranslated: behind an egress-only
// gateway an instance reaches the machine and the machine cannot reach it;
// behind an internet gateway both; with neither, the link and the machine's
// route to the VPC go.
func TestInternetIPv6(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.140.0/24")
	ctx := context.Background()
	// A block of its own: the machine's routes to VPC blocks are shared by
	// every test that runs at once.
	base := fmt.Sprintf("fd%s:%s:%s00", randHex(2), randHex(4), randHex(2))
	block := pfx(base + "::/56")
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24"),
		Gateway6: pfx(base + ":1::1/64")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	instAddr := netip.MustParseAddr(base + ":1::3")
	inst := attachedHost6(t, k, sub, "10.0.1.10/24", instAddr.String()+"/64")
	must(t, k.EnsureInternet(ctx))
	if want := netip.MustParseAddr("2001:2:0:138c::1"); k.InternetAddr6() != want {
		t.Fatalf("InternetAddr6() = %v, want %v", k.InternetAddr6(), want)
	}
	machine, seen := sourceServer(t, "", k.InternetAddr6())
	instServer, instSeen := sourceServer(t, k.NetnsPath(inst), instAddr)
	br, tableName, _ := k.internetNames()
	_, vpcName, _ := igwNames(vpc.ID)
	ns := k.Prefix() + vpc.ID

	reachesMachine := func(timeout time.Duration) error {
		from, err := dialFrom(k.NetnsPath(inst), machine, timeout)
		if err == nil && from != instAddr.String() {
			err = fmt.Errorf("the machine saw the instance as %s, want %s (untranslated)", from, instAddr)
		}
		if err == nil {
			<-seen
		}
		return err
	}
	machineReaches := func(timeout time.Duration) error {
		from, err := dialFromHost(t, k, instServer, timeout)
		if err == nil && from != k.InternetAddr6().String() {
			err = fmt.Errorf("the instance saw the machine as %s, want %s", from, k.InternetAddr6())
		}
		if err == nil {
			<-instSeen
		}
		return err
	}
	hostRoute := func() string {
		out, err := exec.Command("ip", "-6", "route", "show", block.String()).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -6 route show %s: %v: %s", block, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	// Egress-only: out and back, nothing in.
	r := netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR, IPv6: []netip.Prefix{block},
		Subnets: []netmodel.SubnetRouting{{SubnetID: sub.ID, Routes: []netmodel.Route{{Dest: pfx("::/0"), Target: netmodel.RouteEgressOnly}}}}}
	must(t, k.SetRouting(ctx, r))
	vpcH := handleIn(t, k.NetnsPath(vpc.ID))
	end := mustLink(t, vpcH, vpcName)
	nextHop := linkLocalOf(end.Attrs().HardwareAddr)
	if got, want := hostRoute(), block.String()+" via "+nextHop.String()+" dev "+br; !strings.HasPrefix(got, want) {
		t.Errorf("the machine's route to the VPC: %q, want %q…", got, want)
	}
	if err := eventually(func() error { return reachesMachine(3 * time.Second) }); err != nil {
		t.Fatalf("the instance could not reach the machine through the egress-only gateway: %v", err)
	}
	if !routedToInternet(t, k, instAddr) {
		t.Fatalf("%s is not routed through the internet bridge", instAddr)
	}
	if err := machineReaches(dropWait); err == nil {
		t.Error("the machine opened a connection to an instance behind an egress-only gateway")
	}
	if out := nftTableRules(t, ns, "ip6", igw6TableName); strings.Contains(out, "oifname \"vs-b") {
		t.Errorf("an egress-only subnet takes connections from the internet:\n%s", out)
	}
	hostTable := nftTableRules(t, "", "inet", tableName)
	if !strings.Contains(hostTable, "ip6 daddr "+k.InternetAddr6().String()+" accept") {
		t.Errorf("host table without the machine's IPv6 address:\n%s", hostTable)
	}
	if got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("the same routing again changed the VPC's namespace: %v", got)
	}

	// An internet gateway: the machine reaches the instance too.
	r.Subnets[0].Routes[0].Target = netmodel.RouteInternet
	must(t, k.SetRouting(ctx, r))
	if err := eventually(func() error { return machineReaches(3 * time.Second) }); err != nil {
		t.Errorf("the machine could not reach an instance behind an internet gateway: %v", err)
	}
	if err := reachesMachine(patience); err != nil {
		t.Errorf("the instance could not reach the machine through the internet gateway: %v", err)
	}

	// Neither: the link goes, and the machine's route to the VPC with it.
	r.Subnets[0].Routes[0].Target = netmodel.RouteBlackhole
	must(t, k.SetRouting(ctx, r))
	noLink(t, vpcH, vpcName)
	if got := hostRoute(); got != "" {
		t.Errorf("the machine's route to the VPC stayed: %s", got)
	}
	if out := nftTableRules(t, ns, "ip6", igw6TableName); out != "" {
		t.Errorf("table ip6 %s stayed:\n%s", igw6TableName, out)
	}
	if err := reachesMachine(dropWait); err == nil {
		t.Error("the instance reached the machine with no gateway")
	}

	// Deleting the VPC takes the machine's route to it as well.
	r.Subnets[0].Routes[0].Target = netmodel.RouteEgressOnly
	must(t, k.SetRouting(ctx, r))
	if hostRoute() == "" {
		t.Fatal("no route to the VPC")
	}
	must(t, k.DeleteVPC(ctx, vpc.ID))
	if got := hostRoute(); got != "" {
		t.Errorf("the machine's route to a deleted VPC stayed: %s", got)
	}
	if _, err := netlink.LinkByName(br); err != nil {
		t.Errorf("the internet bridge went: %v", err)
	}
}
