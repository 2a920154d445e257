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
	if out := nftTableRules(t, ns, "ip", aclTableName); out != "" {
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
	out := nftIn(t, ns, "list table ip "+aclTableName)
	if !strings.Contains(out, `log prefix "R `+lab.enis["a"].ID+`" group 4566 snaplen 64`) {
		t.Errorf("nft list table ip %s:\n%s\nwant a's REJECT logged", aclTableName, out)
	}
	t.Logf("nft list table ip %s:\n%s", aclTableName, out)
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
