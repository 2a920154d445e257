package ec2

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// In a dual-stack VPC the firewall has the VPC's IPv6 block, each ENI's
// IPv6 addresses after its IPv4 ones, both families in a group's members,
// and rules of Ipv6Ranges (ICMPv6 as protocol 58); `vpcsim sg explain`
// reads them.
func TestFirewallIPv6(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	web := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	client := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "client", Description: "client"}))
	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: web.ID}, Permissions: []Permission{
		{Protocol: "tcp", FromPort: port(443), ToPort: port(443), CIDRsV6: []Peer{{Value: "::/0"}}},
		{Protocol: "58", FromPort: port(128), ToPort: port(-1), Groups: []Peer{{Value: client.ID}}},
	}}))
	webENI := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{web.ID}, IPv6Count: 1}))
	clientENI := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{client.ID}, IPv6Count: 1}))

	fw := tc.dp.Firewall(v.ID)
	if !slices.Equal(fw.IPv6, []netip.Prefix{block}) {
		t.Errorf("the firewall's IPv6 blocks: %v, want %s", fw.IPv6, block)
	}
	i := slices.IndexFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return e.ID == webENI.ID })
	got := fw.ENIs[i]
	if want := []netip.Addr{webENI.PrimaryIP(), webENI.IPv6[0]}; !slices.Equal(got.Addrs, want) {
		t.Errorf("web's addresses %v, want %v", got.Addrs, want)
	}
	wantIn := []netmodel.FirewallRule{
		{ID: rules[0].ID, GroupID: web.ID, Proto: netmodel.ProtoTCP, From: 443, To: 443, CIDR: netip.MustParsePrefix("::/0")},
		{ID: rules[1].ID, GroupID: web.ID, Proto: netmodel.ProtoICMPv6, From: 128, To: -1, PeerGroup: client.ID},
	}
	if !reflect.DeepEqual(got.Ingress, wantIn) {
		t.Errorf("web's ingress\n%+v\nwant\n%+v", got.Ingress, wantIn)
	}
	if n := len(got.Egress); n != 2 || got.Egress[1].CIDR != allIPv6 || got.Egress[1].Proto != -1 {
		t.Errorf("web's egress (a new group's of a dual-stack VPC: all of both families): %+v", got.Egress)
	}
	want := []netip.Addr{clientENI.PrimaryIP(), clientENI.IPv6[0]}
	slices.SortFunc(want, netip.Addr.Compare)
	if m := fw.Members[client.ID]; !slices.Equal(m, want) {
		t.Errorf("members of client: %v, want %v", m, want)
	}

	// Its IPv6 address goes: the member goes, by a change.
	must[[]netip.Addr](t)(tc.UnassignIPv6Addresses(ctx, west, clientENI.ID, []string{clientENI.IPv6[0].String()}))
	if m := tc.dp.Firewall(v.ID).Members[client.ID]; !slices.Equal(m, []netip.Addr{clientENI.PrimaryIP()}) {
		t.Errorf("members of client once its IPv6 address went: %v", m)
	}
	added := must[[]netip.Addr](t)(tc.AssignIPv6Addresses(ctx, west, AssignIPv6Input{ENIID: clientENI.ID, Count: 1}))

	for _, c := range []struct {
		from  string
		proto int
		port  int
		ok    bool
		line  string
	}{
		{added[0].String(), netmodel.ProtoICMPv6, 128, true, "ADMITTED by " + rules[1].ID},
		{added[0].String(), netmodel.ProtoICMPv6, 1, false, "DENIED"},
		{"2001:db8::1", netmodel.ProtoTCP, 443, true, "outside the VPC (" + block.String() + ")"},
		{"2001:db8::1", netmodel.ProtoTCP, 22, false, "from ::/0: matches the peer, not the protocol or port"},
		{"10.9.9.9", netmodel.ProtoTCP, 443, false, "DENIED"},
	} {
		x := must[Explanation](t)(tc.ExplainSecurityGroups(webENI.ID, netip.MustParseAddr(c.from), c.proto, c.port))
		if x.Admitted != c.ok || !strings.Contains(strings.Join(x.Lines, "\n"), c.line) {
			t.Errorf("explain %s %d/%d: admitted %v, want %v with %q:\n%s", c.from, c.proto, c.port, x.Admitted, c.ok, c.line, strings.Join(x.Lines, "\n"))
		}
	}
	if p, err := ParseProto("icmpv6"); err != nil || p != netmodel.ProtoICMPv6 {
		t.Errorf("ParseProto(icmpv6): %d %v", p, err)
	}
}
