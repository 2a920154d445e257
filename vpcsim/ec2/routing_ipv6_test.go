package ec2

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The routing of a dual-stack VPC: its IPv6 block local, IPv6-only subnets
// routed too, IPv6 routes to an egress-only gateway (a blackhole once it
// goes), through an ENI (via its first IPv6 address; a blackhole when it
// has none) and to the internet gateway, whose link an IPv6 address alone
// brings up.
func TestRoutingIPv6(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	native := must[Subnet](t)(tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, IPv6CIDR: subnet64(block, 2).String(), IPv6Native: true, AZ: "us-west-2a"}))
	appliance := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: 2}))
	plain := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	igw := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, nil))
	must1(t, tc.AttachInternetGateway(ctx, west, igw.ID, v.ID))
	eigw := must[EgressOnlyIGW](t)(tc.CreateEgressOnlyIGW(ctx, west, v.ID, "", nil))
	main := tc.mainTable(t, v.ID)
	for _, in := range []RouteInput{
		{DestIPv6: "::/0", EgressOnlyGW: eigw.ID},
		{DestIPv6: "2001:db8:1::/48", ENI: appliance.ID},
		{DestIPv6: "2001:db8:2::/48", Gateway: igw.ID},
		{DestIPv6: "2001:db8:3::/48", ENI: plain.ID},
		{DestCIDR: "192.168.0.0/16", ENI: appliance.ID},
	} {
		in.TableID = main.ID
		must1(t, tc.CreateRoute(ctx, west, in))
	}
	// The appliance's routes stay blackholes while it is not attached, as
	// EC2 has them: attach it to an instance.
	inst := runningInstance(t, tc, sub)
	must[string](t)(tc.AttachNetworkInterface(ctx, west, appliance.ID, inst.ID, 1))
	must[string](t)(tc.AttachNetworkInterface(ctx, west, plain.ID, inst.ID, 2))

	r := tc.dp.Routing(v.ID)
	if !slices.Equal(r.IPv6, []netip.Prefix{block}) {
		t.Errorf("local IPv6 blocks %v, want %s", r.IPv6, block)
	}
	if r.Internet == nil || r.Internet.GatewayID != igw.ID || len(r.Internet.NAT) != 0 {
		t.Errorf("the internet link (IPv6 addresses, no public IPv4 one): %+v", r.Internet)
	}
	want := []netmodel.Route{
		{Dest: allIPv6, Target: netmodel.RouteEgressOnly},
		{Dest: netip.MustParsePrefix("2001:db8:1::/48"), Target: netmodel.RouteENI, Via: appliance.IPv6[0], ViaSubnet: sub.ID},
		{Dest: netip.MustParsePrefix("2001:db8:2::/48"), Target: netmodel.RouteInternet},
		{Dest: netip.MustParsePrefix("2001:db8:3::/48"), Target: netmodel.RouteBlackhole},
		{Dest: netip.MustParsePrefix("192.168.0.0/16"), Target: netmodel.RouteENI, Via: appliance.PrimaryIP(), ViaSubnet: sub.ID},
	}
	var ids []string
	for _, sr := range r.Subnets {
		ids = append(ids, sr.SubnetID)
		if !reflect.DeepEqual(sr.Routes, want) {
			t.Errorf("routes of %s\n%+v\nwant\n%+v", sr.SubnetID, sr.Routes, want)
		}
	}
	if !slices.Contains(ids, native.ID) || !slices.Contains(ids, sub.ID) {
		t.Errorf("routed subnets %v, want %s and the IPv6-only %s", ids, sub.ID, native.ID)
	}

	must1(t, tc.DeleteEgressOnlyIGW(ctx, west, eigw.ID))
	if got := tc.dp.Routing(v.ID).Subnets[0].Routes[0]; got != (netmodel.Route{Dest: allIPv6}) {
		t.Errorf("the route to a deleted egress-only gateway: %+v, want a blackhole", got)
	}
}

// Network ACL IPv6 entries reach the kernel, ICMPv6 as protocol 58; an ACL
// that allows all of both families is none; a flow-logged ENI's IPv6
// addresses are logged when an ACL drops.
func TestACLIPv6InKernel(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	kernelACL := func() *netmodel.NetworkACL {
		for _, sr := range tc.dp.Routing(v.ID).Subnets {
			if sr.SubnetID == sub.ID {
				return sr.ACL
			}
		}
		t.Fatalf("no routing for %s", sub.ID)
		return nil
	}
	if a := kernelACL(); a != nil {
		t.Errorf("the default ACL (rules 100 and 101 allow all): %+v", a)
	}
	def := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "association.subnet-id", Values: []string{sub.ID}}}))[0]
	must1(t, tc.ReplaceNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: def.ID, Number: 101, Protocol: "58", RuleAction: "allow", IPv6: "::/0", ICMP: &[2]int{128, -1}}))
	wantIn := []netmodel.ACLRule{
		{Number: 100, Allow: true, Proto: -1, From: -1, To: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
		{Number: 101, Allow: true, Proto: netmodel.ProtoICMPv6, From: 128, To: -1, CIDR: allIPv6},
	}
	a := kernelACL()
	if a == nil || !reflect.DeepEqual(a.Ingress, wantIn) {
		t.Fatalf("the kernel's ACL once IPv6 is judged: %+v, want ingress %+v", a, wantIn)
	}
	if len(a.Egress) != 2 || a.Egress[1].CIDR != allIPv6 || !a.Egress[1].Allow {
		t.Errorf("egress %+v", a.Egress)
	}

	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: 1}))
	must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, toGroup(FlowLogENI, "ALL", e.ID)))
	want := map[netip.Addr]string{e.PrimaryIP(): e.ID, e.IPv6[0]: e.ID}
	if got := tc.dp.Routing(v.ID).Logged; !reflect.DeepEqual(got, want) {
		t.Errorf("logged addresses %v, want %v", got, want)
	}
}

// An IPv6 prefix list: a rule that names it is a rule per entry, of the
// entry's IPv6 CIDR; a route to it, a route per entry, to an egress-only
// gateway too (a target of IPv6 lists, not of IPv4 ones).
func TestPrefixListIPv6(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	pl := tc.prefixList(t, FamilyIPv6, 2, "2001:db8:a::/48", "2001:db8:b::/48")
	v4 := tc.prefixList(t, FamilyIPv4, 1, "192.0.2.0/24")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "g", Description: "g"}))
	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{
		{Protocol: "tcp", FromPort: port(22), ToPort: port(22), PrefixIDs: []Peer{{Value: pl.ID}}},
	}}))
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{g.ID}}))
	fw := tc.dp.Firewall(v.ID)
	in := fw.ENIs[slices.IndexFunc(fw.ENIs, func(x netmodel.FirewallENI) bool { return x.ID == e.ID })].Ingress
	var want []netmodel.FirewallRule
	for _, cidr := range []string{"2001:db8:a::/48", "2001:db8:b::/48"} {
		want = append(want, netmodel.FirewallRule{ID: rules[0].ID, GroupID: g.ID, Proto: netmodel.ProtoTCP, From: 22, To: 22, CIDR: netip.MustParsePrefix(cidr), PrefixList: pl.ID})
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("ingress\n%+v\nwant\n%+v", in, want)
	}

	eigw := must[EgressOnlyIGW](t)(tc.CreateEgressOnlyIGW(ctx, west, v.ID, "", nil))
	main := tc.mainTable(t, v.ID)
	wantCode(t, tc.CreateRoute(ctx, west, RouteInput{TableID: main.ID, DestPrefixList: v4.ID, EgressOnlyGW: eigw.ID}), "InvalidParameterValue")
	must1(t, tc.CreateRoute(ctx, west, RouteInput{TableID: main.ID, DestPrefixList: pl.ID, EgressOnlyGW: eigw.ID}))
	wantRoutes := []netmodel.Route{
		{Dest: netip.MustParsePrefix("2001:db8:a::/48"), Target: netmodel.RouteEgressOnly},
		{Dest: netip.MustParsePrefix("2001:db8:b::/48"), Target: netmodel.RouteEgressOnly},
	}
	if got := tc.dp.Routing(v.ID).Subnets[0].Routes; !reflect.DeepEqual(got, wantRoutes) {
		t.Errorf("routes %+v, want %+v", got, wantRoutes)
	}
}
