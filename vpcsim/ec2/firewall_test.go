package ec2

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// sgFixture is a VPC with a web group (80 open to all, 8080 to members of the
// client group) and two ENIs: web in the web group, client in the client group.
type sgFixture struct {
	tc          *testCloud
	vpc         VPC
	web, client SecurityGroup
	webENI      ENI
	clientENI   ENI
}

func newSGFixture(t *testing.T) sgFixture {
	t.Helper()
	ctx := context.Background()
	tc := newTestCloud(t)
	f := sgFixture{tc: tc, vpc: tc.vpc(t, "10.0.0.0/16")}
	sub := tc.subnet(t, f.vpc.ID, "10.0.1.0/24")
	f.web = must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: f.vpc.ID, Name: "web", Description: "web"}))
	f.client = must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: f.vpc.ID, Name: "client", Description: "client"}))
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
		tcp(80, "0.0.0.0/0"),
		{Protocol: "tcp", FromPort: port(8080), ToPort: port(8080), Groups: []Peer{{Value: f.client.ID}}},
	}}))
	f.webENI = must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{f.web.ID}}))
	f.clientENI = must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{f.client.ID}}))
	return f
}

func (f sgFixture) eni(t *testing.T, id string) netmodel.FirewallENI {
	t.Helper()
	fw := f.tc.dp.Firewall(f.vpc.ID)
	i := slices.IndexFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return e.ID == id })
	if i < 0 {
		t.Fatalf("%s is not in the firewall of %s: %+v", id, f.vpc.ID, fw)
	}
	return fw.ENIs[i]
}

func TestFirewallFollowsTheModel(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	web := f.eni(t, f.webENI.ID)
	if len(web.Ingress) != 2 || web.Ingress[0].Proto != netmodel.ProtoTCP || web.Ingress[0].From != 80 || web.Ingress[0].CIDR != netip.MustParsePrefix("0.0.0.0/0") {
		t.Fatalf("web's ingress: %+v", web.Ingress)
	}
	if web.Ingress[1].PeerGroup != f.client.ID || len(web.Egress) != 1 || web.Egress[0].Proto != -1 {
		t.Fatalf("web's rules: %+v", web)
	}
	if !web.SourceDestCheck || web.Addrs[0] != f.webENI.PrimaryIP() || web.MAC.String() != f.webENI.MAC {
		t.Fatalf("web's identity: %+v", web)
	}
	members := f.tc.dp.Firewall(f.vpc.ID).Members[f.client.ID]
	if len(members) != 1 || members[0] != f.clientENI.PrimaryIP() {
		t.Fatalf("members of the client group: %v", members)
	}

	// The client ENI leaves the group: the reference's set empties at once.
	must1(t, f.tc.ModifyNetworkInterfaceAttribute(ctx, west, f.clientENI.ID, ModifyNetworkInterfaceInput{Groups: []string{f.web.ID}}))
	if m := f.tc.dp.Firewall(f.vpc.ID).Members[f.client.ID]; len(m) != 0 {
		t.Fatalf("a former member is still in the set: %v", m)
	}
	// Revoke takes the rule out of every member ENI.
	must[[]Rule](t)(f.tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{tcp(80, "0.0.0.0/0")}}))
	if got := f.eni(t, f.clientENI.ID).Ingress; len(got) != 1 || got[0].From != 8080 {
		t.Fatalf("after revoke: %+v", got)
	}
	// The source/dest check attribute reaches the anti-spoofing.
	off := false
	must1(t, f.tc.ModifyNetworkInterfaceAttribute(ctx, west, f.webENI.ID, ModifyNetworkInterfaceInput{SourceDestCheck: &off}))
	if f.eni(t, f.webENI.ID).SourceDestCheck {
		t.Fatal("source/dest check still on in the firewall")
	}
	// A deleted ENI leaves the firewall.
	must1(t, f.tc.DeleteNetworkInterface(ctx, west, f.clientENI.ID))
	if fw := f.tc.dp.Firewall(f.vpc.ID); slices.ContainsFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return e.ID == f.clientENI.ID }) {
		t.Fatal("a deleted ENI is still in the firewall")
	}
}

func TestFirewallFailureRefusesTheChange(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	// Both the change and the repair that follows fail: the kernel keeps
	// what it had.
	f.tc.dp.Fail["change-firewall"] = errors.New("nftables said no")
	f.tc.dp.Fail["set-firewall"] = errors.New("nftables said no")
	_, err := f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{tcp(443, "0.0.0.0/0")}})
	if err == nil || !strings.Contains(err.Error(), "nftables said no") {
		t.Fatalf("authorize with a failing firewall: %v", err)
	}
	delete(f.tc.dp.Fail, "change-firewall")
	delete(f.tc.dp.Fail, "set-firewall")
	g := must[[]SecurityGroup](t)(f.tc.DescribeSecurityGroups(ctx, west, []string{f.web.ID}, nil, nil))[0]
	if slices.ContainsFunc(g.Rules, func(r Rule) bool { return r.FromPort == 443 }) {
		t.Fatal("the refused rule was kept")
	}
	if len(f.eni(t, f.webENI.ID).Ingress) != 2 {
		t.Fatal("the kernel's firewall changed")
	}
	// The next change applies normally.
	must[[]Rule](t)(f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{tcp(443, "0.0.0.0/0")}}))
	if len(f.eni(t, f.webENI.ID).Ingress) != 3 {
		t.Fatal("the firewall did not follow the next change")
	}
}

func TestFirewallAfterRestart(t *testing.T) {
	f := newSGFixture(t)
	f.tc.dp.Firewalls = map[string]netmodel.Firewall{} // as after a reboot
	tc := f.tc.reopen(t)
	if len(tc.dp.Firewall(f.vpc.ID).ENIs) != 2 {
		t.Fatalf("start-up did not apply the firewall: %+v", tc.dp.Firewall(f.vpc.ID))
	}
}

func TestExplain(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	client := f.clientENI.PrimaryIP()
	for _, c := range []struct {
		from     netip.Addr
		proto    int
		port     int
		admitted bool
		says     string
	}{
		{client, netmodel.ProtoTCP, 80, true, "ADMITTED by"},
		{client, netmodel.ProtoTCP, 8080, true, "members of " + f.client.ID},
		{netip.MustParseAddr("192.0.2.7"), netmodel.ProtoTCP, 8080, false, "192.0.2.7 is not a member of " + f.client.ID},
		{client, netmodel.ProtoUDP, 80, false, "matches the peer, not the protocol or port"},
		{netip.MustParseAddr("10.0.1.99"), netmodel.ProtoTCP, 80, false, "dropped as spoofed"},
	} {
		x := must[Explanation](t)(f.tc.ExplainSecurityGroups(f.webENI.ID, c.from, c.proto, c.port))
		if x.Admitted != c.admitted || !strings.Contains(strings.Join(x.Lines, "\n"), c.says) {
			t.Errorf("%s %d/%d: admitted=%v\n%s\nwant admitted=%v and %q", c.from, c.proto, c.port, x.Admitted, strings.Join(x.Lines, "\n"), c.admitted, c.says)
		}
	}
	// ICMP: the type is the port, the code is taken as 0, as the kernel sees echo.
	must[[]Rule](t)(f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
		{Protocol: "icmp", FromPort: port(8), ToPort: port(0), CIDRs: []Peer{{Value: "10.0.0.0/16"}}},
	}}))
	if x := must[Explanation](t)(f.tc.ExplainSecurityGroups(f.webENI.ID, client, netmodel.ProtoICMP, 8)); !x.Admitted {
		t.Errorf("echo request:\n%s", strings.Join(x.Lines, "\n"))
	}
	if x := must[Explanation](t)(f.tc.ExplainSecurityGroups(f.webENI.ID, client, netmodel.ProtoICMP, 13)); x.Admitted {
		t.Errorf("timestamp request admitted:\n%s", strings.Join(x.Lines, "\n"))
	}
	// The sender's egress counts too.
	must[[]Rule](t)(f.tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.client.ID}, Egress: true, Permissions: []Permission{{Protocol: "-1", CIDRs: []Peer{{Value: "0.0.0.0/0"}}}}}))
	x := must[Explanation](t)(f.tc.ExplainSecurityGroups(f.webENI.ID, client, netmodel.ProtoTCP, 80))
	if x.Admitted || !strings.Contains(strings.Join(x.Lines, "\n"), "DENIED by the sender "+f.clientENI.ID) {
		t.Errorf("egress denial:\n%s", strings.Join(x.Lines, "\n"))
	}
	_, err := f.tc.ExplainSecurityGroups("eni-0123456789abcdef0", client, netmodel.ProtoTCP, 80)
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
}

func TestConnectVPC(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	v := must[VPC](t)(f.tc.ConnectVPC(ctx, f.vpc.ID, true))
	if !v.Connected || f.tc.dp.VPCs[f.vpc.ID].Connect != netip.MustParseAddr("10.0.0.3") {
		t.Fatalf("connect: %+v, dataplane %+v", v, f.tc.dp.VPCs[f.vpc.ID])
	}
	if f.tc.dp.Firewall(f.vpc.ID).Host != netip.MustParseAddr("10.0.0.3") {
		t.Fatal("the firewall does not know the connected host")
	}
	x := must[Explanation](t)(f.tc.ExplainSecurityGroups(f.webENI.ID, netip.MustParseAddr("10.0.0.3"), netmodel.ProtoTCP, 8080))
	if x.Admitted || !strings.Contains(strings.Join(x.Lines, "\n"), "this machine") {
		t.Errorf("the host on 8080:\n%s", strings.Join(x.Lines, "\n"))
	}
	// A refused connection leaves the VPC as it was.
	must[VPC](t)(f.tc.ConnectVPC(ctx, f.vpc.ID, false))
	f.tc.dp.Fail["ensure-vpc"] = errors.New("overlaps a route")
	if _, err := f.tc.ConnectVPC(ctx, f.vpc.ID, true); err == nil {
		t.Fatal("connect succeeded although the dataplane refused")
	}
	delete(f.tc.dp.Fail, "ensure-vpc")
	got := must[[]VPC](t)(f.tc.DescribeVpcs(ctx, west, []string{f.vpc.ID}, nil))
	if got[0].Connected || f.tc.dp.Firewall(f.vpc.ID).Host.IsValid() {
		t.Fatal("a refused connect was kept")
	}
	_, err := f.tc.ConnectVPC(ctx, "vpc-0123456789abcdef0", true)
	wantCode(t, err, "InvalidVpcID.NotFound")
}

func must1(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A sync that failed (here the one at start-up) is retried by the next commit
// of any kind, not only by one that changes a group, ENI, VPC or flow log.
func TestFirewallBehindIsRetried(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	f.tc.dp.Firewalls = map[string]netmodel.Firewall{} // as after a reboot
	f.tc.dp.Fail["set-firewall"] = errors.New("nftables said no")
	again := f.tc.reopen(t)
	delete(f.tc.dp.Fail, "set-firewall")
	sub := must[[]Subnet](t)(again.DescribeSubnets(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{f.vpc.ID}}}))[0]
	if err := again.CreateTags(ctx, west, []string{sub.ID}, []Tag{{Key: "k", Value: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.eni(t, f.webENI.ID).Ingress) != 2 {
		t.Fatalf("the next commit did not put the firewall in: %v", f.tc.dp.Firewalls)
	}
}
