package hostnet

import (
	"context"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// TestForwardHookSeesSubnetBridges checks what the ACL table relies on: with
// br_netfilter in the VPC namespace, the forward hook sees traffic within a
// subnet with its bridge as both interfaces, and routed traffic between
// subnets with each one's bridge on its side.
func TestForwardHookSeesSubnetBridges(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	vpc, subA, subB := twoSubnets(t, k)
	a := attachedHost(t, k, subA, "10.0.1.10/24")
	b := attachedHost(t, k, subB, "10.0.2.10/24")
	attachedHost(t, k, subB, "10.0.2.11/24")
	brA, _ := bridgeName(subA.ID)
	brB, _ := bridgeName(subB.ID)
	ns := k.Prefix() + vpc.ID
	probe := `table ip vs-probe {
		chain forward {
			type filter hook forward priority filter; policy accept;
			icmp type echo-request iifname "` + brB + `" oifname "` + brB + `" counter comment "within"
			icmp type echo-request iifname "` + brA + `" oifname "` + brB + `" counter comment "a-to-b"
			icmp type echo-reply iifname "` + brB + `" oifname "` + brA + `" counter comment "b-to-a"
			icmp type echo-request counter comment "all"
		}
	}`
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(probe)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	if err := pingOK(t, k.NetnsPath(b), "10.0.2.11"); err != nil {
		t.Fatal(err)
	}
	if err := pingOK(t, k.NetnsPath(a), "10.0.2.10"); err != nil {
		t.Fatal(err)
	}
	out := nftIn(t, ns, "list table ip vs-probe")
	counted := func(comment string) int {
		m := regexp.MustCompile(`counter packets (\d+) bytes \d+ comment "` + comment + `"`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no counter %s in\n%s", comment, out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	within, aToB, bToA, all := counted("within"), counted("a-to-b"), counted("b-to-a"), counted("all")
	if within == 0 || aToB == 0 || bToA == 0 || within+aToB != all {
		t.Errorf("echo requests within B %d, A→B %d, replies B→A %d, all requests %d; want each seen, with the bridges as interfaces\n%s",
			within, aToB, bToA, all, out)
	}
}

// aclRouting is the routing of the sgLab's VPC (subnet 1: a and b; subnet 2:
// c) with acl on subnet 1.
func (lab *sgLab) aclRouting(acl *netmodel.NetworkACL, logged map[netip.Addr]string) netmodel.Routing {
	return netmodel.Routing{VPCID: lab.vpc.ID, CIDR: lab.vpc.CIDR, Logged: logged, Subnets: []netmodel.SubnetRouting{
		{SubnetID: lab.enis["a"].SubnetID, ACL: acl},
		{SubnetID: lab.enis["c"].SubnetID},
	}}
}

func aclRule(n int, allow bool, proto, from, to int, cidr string) netmodel.ACLRule {
	return netmodel.ACLRule{Number: n, Allow: allow, Proto: proto, From: from, To: to, CIDR: pfx(cidr)}
}

func TestNetworkACLs(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	ns := lab.k.Prefix() + lab.vpc.ID
	pingFrom := func(from, to string) error { return ping(t, lab.k.NetnsPath(lab.hosts[from]), lab.addrs[to].String()) }
	pingOKFrom := func(from, to string) error {
		return pingOK(t, lab.k.NetnsPath(lab.hosts[from]), lab.addrs[to].String())
	}

	// ICMP in from and out to subnet 2 only.
	acl := &netmodel.NetworkACL{ID: "acl-1",
		Ingress: []netmodel.ACLRule{aclRule(100, true, netmodel.ProtoICMP, -1, -1, "10.0.2.0/24")},
		Egress:  []netmodel.ACLRule{aclRule(100, true, netmodel.ProtoICMP, -1, -1, "10.0.2.0/24")},
	}
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(acl, nil)))
	if err := pingOKFrom("c", "a"); err != nil {
		t.Errorf("c → a with ICMP allowed both ways: %v", err)
	}
	if err := pingOKFrom("a", "c"); err != nil {
		t.Errorf("a → c with ICMP allowed both ways: %v", err)
	}
	lab.expect(t, flow{"c", "a", 80, false}) // TCP: no rule, the implicit deny

	// First match wins: rule 100 denies ICMP before rule 200 allows all.
	acl.Ingress = []netmodel.ACLRule{
		aclRule(100, false, netmodel.ProtoICMP, -1, -1, "0.0.0.0/0"),
		aclRule(200, true, -1, -1, -1, "0.0.0.0/0"),
	}
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(acl, nil)))
	if err := pingFrom("c", "a"); err == nil {
		t.Error("c → a answered with ICMP denied by rule 100")
	}

	// Stateless: TCP to port 80 comes in, but its answers (to an ephemeral
	// port) go out only once egress allows them.
	acl = &netmodel.NetworkACL{ID: "acl-1",
		Ingress: []netmodel.ACLRule{aclRule(100, true, netmodel.ProtoTCP, 80, 80, "10.0.2.0/24")},
		Egress:  []netmodel.ACLRule{aclRule(100, true, netmodel.ProtoICMP, -1, -1, "0.0.0.0/0")},
	}
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(acl, nil)))
	lab.expect(t, flow{"c", "a", 80, false})
	acl.Egress = append(acl.Egress, aclRule(110, true, netmodel.ProtoTCP, 1024, 65535, "10.0.2.0/24"))
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(acl, nil)))
	lab.expect(t,
		flow{"c", "a", 80, true},
		flow{"c", "a", 81, false}, // ingress allows port 80 only
		flow{"a", "c", 80, false}, // a's SYN out to port 80: egress allows ephemeral ports only
	)

	// Within a subnet nothing is judged, even by an ACL that denies all.
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(&netmodel.NetworkACL{ID: "acl-2"}, nil)))
	if err := pingOKFrom("a", "b"); err != nil {
		t.Errorf("a → b within the subnet: %v", err)
	}
	lab.expect(t, flow{"b", "a", 80, true}, flow{"c", "a", 80, false})
	if err := pingFrom("a", "c"); err == nil {
		t.Error("a → c answered through an ACL that denies all")
	}

	// The same routing again changes nothing; without ACLs the table goes,
	// and again nothing changes.
	r := lab.aclRouting(&netmodel.NetworkACL{ID: "acl-2"}, nil)
	if got := changesDuring(t, lab.k.NetnsPath(lab.vpc.ID), func() { must(t, lab.k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("SetRouting again changed %v", got)
	}
	r = lab.aclRouting(nil, nil)
	must(t, lab.k.SetRouting(ctx, r))
	if out := nftTableRules(t, ns, "inet", aclTableName); out != "" {
		t.Errorf("table %s still there without ACLs:\n%s", aclTableName, out)
	}
	if got := changesDuring(t, lab.k.NetnsPath(lab.vpc.ID), func() { must(t, lab.k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("SetRouting again without ACLs changed %v", got)
	}
	lab.expect(t, flow{"c", "a", 80, true})
}

func TestNetworkACLFlowLogs(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	ns := lab.k.Prefix() + lab.vpc.ID
	// The security groups let everything through and capture a's packets.
	allIn := []netmodel.FirewallRule{{ID: "sgr-in", Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")}}
	logs := []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Ingress: allIn, Egress: allOut, FlowLogs: logs},
		"b": {Ingress: allIn, Egress: allOut},
		"c": {Ingress: allIn, Egress: allOut},
	}, nil)))
	acl := &netmodel.NetworkACL{ID: "acl-1",
		Ingress: []netmodel.ACLRule{aclRule(100, false, netmodel.ProtoICMP, -1, -1, "0.0.0.0/0"), aclRule(200, true, -1, -1, -1, "0.0.0.0/0")},
		Egress:  []netmodel.ACLRule{aclRule(100, true, -1, -1, -1, "0.0.0.0/0")},
	}
	must(t, lab.k.SetRouting(ctx, lab.aclRouting(acl, map[netip.Addr]string{lab.addrs["a"]: lab.enis["a"].ID})))
	out := nftIn(t, ns, "list table inet "+aclTableName)
	if !strings.Contains(out, `log prefix "R `+lab.enis["a"].ID+`" group 4566 snaplen 64`) {
		t.Errorf("nft list table inet %s:\n%s\nwant a's REJECT logged", aclTableName, out)
	}
	t.Logf("nft list table inet %s:\n%s", aclTableName, out)
	lab.expect(t, flow{"c", "a", 80, true})
	for len(lab.packets) > 0 {
		<-lab.packets
	}

	deadline := time.After(patience)
	for {
		if err := ping(t, lab.k.NetnsPath(lab.hosts["c"]), lab.addrs["a"].String()); err == nil {
			t.Fatal("c → a answered with ICMP denied")
		}
		select {
		case p := <-lab.packets:
			if p.Proto != 1 {
				continue
			}
			if p.Accept {
				t.Fatalf("the ACL's drop was logged as accepted: %+v", p)
			}
			if p.ENI != lab.enis["a"].ID || p.Src != lab.addrs["c"] || p.Dst != lab.addrs["a"] {
				t.Fatalf("captured %+v, want a's REJECT of c's ping", p)
			}
			return
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatal("no REJECT of the denied ping captured")
		}
	}
}

// IPv6 entries judge IPv6 as IPv4 entries IPv4, and neither the other
// family; neighbour discovery and traffic within a subnet are never judged.
func TestNetworkACLsIPv6(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc, subA, subB := twoSubnets(t, k)
	block, _ := dualStack(t, k, vpc, &subA, &subB)
	a := attachedHost6(t, k, subA, "10.0.1.10/24", "fd5e:1:2:301::10/64")
	attachedHost6(t, k, subA, "10.0.1.11/24", "fd5e:1:2:301::11/64")
	c := attachedHost6(t, k, subB, "10.0.2.10/24", "fd5e:1:2:302::10/64")
	const a6, a26, c6, router6 = "fd5e:1:2:301::10", "fd5e:1:2:301::11", "fd5e:1:2:302::10", "fd5e:1:2:301::1"
	ns := k.Prefix() + vpc.ID
	// An older vpcsim's IPv4-only table: the inet one takes its place.
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader("table ip " + aclTableName + " { chain forward { type filter hook forward priority filter - 1; policy drop;\n}\n}\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	routing := func(acl *netmodel.NetworkACL) netmodel.Routing {
		return netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR, IPv6: []netip.Prefix{block},
			Logged:  map[netip.Addr]string{netip.MustParseAddr(a6): "eni-a"},
			Subnets: []netmodel.SubnetRouting{{SubnetID: subA.ID, ACL: acl}, {SubnetID: subB.ID}}}
	}
	pings := func(from, to string, want bool) {
		t.Helper()
		if want {
			if err := pingOK(t, k.NetnsPath(from), to); err != nil {
				t.Errorf("%s → %s: %v", from, to, err)
			}
		} else if err := ping(t, k.NetnsPath(from), to); err == nil {
			t.Errorf("%s → %s answered", from, to)
		}
	}

	// ICMPv6 in from and out to subnet B's /64: pings pass both ways over
	// IPv6, none over IPv4 (no IPv4 entry: the implicit deny).
	allowB := []netmodel.ACLRule{aclRule(100, true, netmodel.ProtoICMPv6, -1, -1, "fd5e:1:2:302::/64")}
	must(t, k.SetRouting(ctx, routing(&netmodel.NetworkACL{ID: "acl-1", Ingress: allowB, Egress: allowB})))
	if out := nftTableRules(t, ns, "ip", aclTableName); out != "" {
		t.Errorf("the IPv4-only table stayed:\n%s", out)
	}
	if out := nftIn(t, ns, "list map inet "+aclTableName+" logged6"); !strings.Contains(out, a6+" : jump r-eni-a") {
		t.Errorf("a's IPv6 address is not flow-logged:\n%s", out)
	}
	pings(c, a6, true)
	pings(a, c6, true)
	pings(a, "10.0.2.10", false)
	pings(c, "10.0.1.10", false)

	// First match by number, ICMPv6 by type: echo requests in are denied
	// (rule 100) before all else is allowed (200), so a's pings out get
	// their replies and c's in get nowhere.
	acl := &netmodel.NetworkACL{ID: "acl-1",
		Ingress: []netmodel.ACLRule{aclRule(200, true, -1, -1, -1, "::/0"), aclRule(100, false, netmodel.ProtoICMPv6, 128, -1, "::/0")},
		Egress:  []netmodel.ACLRule{aclRule(100, true, -1, -1, -1, "::/0")},
	}
	must(t, k.SetRouting(ctx, routing(acl)))
	pings(a, c6, true)
	pings(c, a6, false)

	// IPv4 entries only: IPv4 passes, IPv6 meets the implicit deny.
	all4 := []netmodel.ACLRule{aclRule(100, true, -1, -1, -1, "0.0.0.0/0")}
	must(t, k.SetRouting(ctx, routing(&netmodel.NetworkACL{ID: "acl-1", Ingress: all4, Egress: all4})))
	pings(a, "10.0.2.10", true)
	pings(a, c6, false)

	// An ACL that denies all: with the neighbour caches emptied, a still
	// finds its router and a host of its own subnet over IPv6.
	r := routing(&netmodel.NetworkACL{ID: "acl-2"})
	must(t, k.SetRouting(ctx, r))
	for _, n := range []string{ns, k.Prefix() + a} {
		if out, err := exec.Command("ip", "-n", n, "-6", "neigh", "flush", "all").CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s -6 neigh flush all: %v: %s", n, err, out)
		}
	}
	pings(a, router6, true)
	pings(a, a26, true)
	pings(a, c6, false)
	if got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("SetRouting again changed %v", got)
	}
}
