package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

var ula = netip.MustParsePrefix("fd00::/8")

func (tc *testCloud) dualStackVPC(t *testing.T, cidr string) (VPC, netip.Prefix) {
	t.Helper()
	v := must[VPC](t)(tc.CreateVpc(context.Background(), west, CreateVpcInput{CIDRBlock: cidr, AmazonProvidedIPv6: true}))
	if len(v.IPv6) != 1 || v.IPv6[0].State != "associating" {
		t.Fatalf("CreateVpc's IPv6 blocks: %+v", v.IPv6)
	}
	return v, v.IPv6[0].CIDR
}

// dualStackSubnet makes a subnet of a VPC with an IPv4 and an IPv6 range.
func (tc *testCloud) dualStackSubnet(t *testing.T, vpcID, cidr string, ipv6 netip.Prefix) Subnet {
	t.Helper()
	return must[Subnet](t)(tc.CreateSubnet(context.Background(), west, CreateSubnetInput{VPCID: vpcID, CIDR: cidr, IPv6CIDR: ipv6.String(), AZ: "us-west-2a"}))
}

func localRoutes(rt RouteTableView) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range rt.Routes {
		if r.Gateway == "local" {
			out = append(out, r.Dest)
		}
	}
	return out
}

// aclEntries renders an ACL's entries as "number egress allow cidr".
func aclEntries(a NetworkACL) []string {
	var out []string
	for _, e := range a.Entries {
		out = append(out, strings.Join([]string{itoa(e.Number), boolString(e.Egress), boolString(e.Allow), e.CIDR.String()}, " "))
	}
	return out
}

func egressPeers(g SecurityGroup) []string {
	var out []string
	for _, r := range g.Rules {
		if r.Egress {
			out = append(out, r.CIDRv4+r.CIDRv6)
		}
	}
	return out
}

// A VPC made with an Amazon-provided IPv6 block: a /56 of fd00::/8, one per
// VPC, routed locally by every table, allowed by the default ACL and
// egress of every group made with it or after; filters; kept over a
// restart; not disassociated while a subnet uses it.
func TestVPCIPv6Block(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	if block.Bits() != 56 || !ula.Contains(block.Addr()) || block.Masked() != block {
		t.Fatalf("block %s: want a /56 of %s", block, ula)
	}
	if v.IPv6[0].NetworkBorderGroup != "us-west-2" || !strings.HasPrefix(v.IPv6[0].ID, "vpc-cidr-assoc-") {
		t.Errorf("block %+v", v.IPv6[0])
	}
	other, otherBlock := tc.dualStackVPC(t, "10.0.0.0/16")
	if otherBlock.Overlaps(block) {
		t.Errorf("two VPCs share %s", block)
	}

	got := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, []string{v.ID}, nil))[0]
	if len(got.IPv6) != 1 || got.IPv6[0].CIDR != block || got.IPv6[0].State != "" {
		t.Errorf("described blocks %+v", got.IPv6)
	}
	for _, f := range []Filter{
		{Name: "ipv6-cidr-block-association.ipv6-cidr-block", Values: []string{block.String()}},
		{Name: "ipv6-cidr-block-association.association-id", Values: []string{v.IPv6[0].ID}},
	} {
		if vs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{f})); len(vs) != 1 || vs[0].ID != v.ID {
			t.Errorf("filter %s: %+v", f.Name, vs)
		}
	}
	if vs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "ipv6-cidr-block-association.ipv6-pool", Values: []string{"Amazon"}}, {Name: "ipv6-cidr-block-association.state", Values: []string{"associated"}}})); len(vs) != 2 {
		t.Errorf("VPCs with Amazon IPv6 blocks: %d, want 2", len(vs))
	}

	_, err := tc.AssociateVpcIPv6(ctx, west, AssociateVpcIPv6Input{VPCID: v.ID})
	wantCode(t, err, "CidrLimitExceeded")
	if e, _ := AsAPIError(err); e.Message != "This network '"+v.ID+"' has met its maximum number of allowed CIDRs: 1" {
		t.Errorf("message %q", e.Message)
	}

	// Local routes in the main table and in one made later.
	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	for _, id := range []string{tc.mainTable(t, v.ID).ID, rt.ID} {
		table := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, []string{id}, nil))[0]
		if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), block}; !slices.Equal(localRoutes(table), want) {
			t.Errorf("local routes of %s: %v, want %v", id, localRoutes(table), want)
		}
	}
	if rts := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, nil, []Filter{{Name: "route.destination-ipv6-cidr-block", Values: []string{block.String()}}})); len(rts) != 2 {
		t.Errorf("tables routing %s: %d, want 2", block, len(rts))
	}
	// The kernel has the block local.
	if got := tc.dp.Routing(v.ID).IPv6; !slices.Equal(got, []netip.Prefix{block}) {
		t.Errorf("the kernel's local IPv6 blocks: %v, want %s", got, block)
	}

	// The default ACL allows IPv6; every ACL ends denying it.
	acls := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}}))
	want := []string{"100 false true 0.0.0.0/0", "100 true true 0.0.0.0/0", "101 false true ::/0", "101 true true ::/0",
		"32767 false false 0.0.0.0/0", "32767 true false 0.0.0.0/0", "32768 false false ::/0", "32768 true false ::/0"}
	if got := aclEntries(acls[0]); !slices.Equal(got, want) {
		t.Errorf("default ACL:\n%q\nwant\n%q", got, want)
	}
	custom := must[NetworkACL](t)(tc.CreateNetworkAcl(ctx, west, v.ID, nil))
	if got, want := aclEntries(custom), []string{"32767 false false 0.0.0.0/0", "32767 true false 0.0.0.0/0", "32768 false false ::/0", "32768 true false ::/0"}; !slices.Equal(got, want) {
		t.Errorf("new ACL: %q, want %q", got, want)
	}
	err = tc.DeleteNetworkAclEntry(ctx, west, custom.ID, 32768, false)
	wantCode(t, err, "InvalidParameterValue")

	// Groups: the default one and new ones may send IPv6 anywhere (moto's
	// AWS-verified test_create_two_security_groups_in_vpc_with_ipv6_enabled).
	groups := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}}))
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	for _, g := range append(groups, g) {
		if got := egressPeers(g); !slices.Equal(got, []string{"0.0.0.0/0", "::/0"}) {
			t.Errorf("egress of %s: %v", g.Name, got)
		}
	}

	// Not while a subnet has a range of it.
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	_, _, err = tc.DisassociateVpcCIDR(ctx, west, v.IPv6[0].ID)
	wantCode(t, err, "InvalidCidrBlock.InUse")
	if e, _ := AsAPIError(err); e.Message != "The vpc "+v.ID+" currently has a subnet within CIDR block "+block.String() {
		t.Errorf("message %q", e.Message)
	}

	// Over a restart.
	tc = tc.reopen(t)
	got = must[[]VPC](t)(tc.DescribeVpcs(ctx, west, []string{v.ID}, nil))[0]
	if len(got.IPv6) != 1 || got.IPv6[0] != (IPv6Block{ID: v.IPv6[0].ID, CIDR: block, NetworkBorderGroup: "us-west-2"}) {
		t.Errorf("after a restart: %+v", got.IPv6)
	}

	must[struct{}](t)(struct{}{}, tc.DeleteSubnet(ctx, west, sub.ID))
	a, vpcID, err := tc.DisassociateVpcCIDR(ctx, west, v.IPv6[0].ID)
	if err != nil || a.CIDR != block || vpcID != v.ID {
		t.Fatalf("disassociate: %+v %s %v", a, vpcID, err)
	}
	if got := localRoutes(tc.mainTable(t, v.ID)); !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}) {
		t.Errorf("local routes after: %v", got)
	}
	_ = other
}

// subnet64 is the n-th /64 of a /56.
func subnet64(block netip.Prefix, n int) netip.Prefix {
	b := block.Addr().As16()
	b[7] = byte(n)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// A block associated later: tables and ACLs get theirs, groups that exist
// keep their rules (EC2 adds ::/0 egress to new groups only).
func TestAssociateVpcIPv6Later(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	_, err := tc.AssociateVpcIPv6(ctx, west, AssociateVpcIPv6Input{VPCID: v.ID, NetworkBorderGroup: "us-east-1"})
	wantCode(t, err, "InvalidParameterValue")
	b := must[IPv6Block](t)(tc.AssociateVpcIPv6(ctx, west, AssociateVpcIPv6Input{VPCID: v.ID, NetworkBorderGroup: "us-west-2"}))
	if b.State != "associating" || b.CIDR.Bits() != 56 {
		t.Errorf("answer %+v", b)
	}
	if got := localRoutes(tc.mainTable(t, v.ID)); len(got) != 2 || got[1] != b.CIDR {
		t.Errorf("local routes %v", got)
	}
	acl := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}, {Name: "entry.ipv6-cidr", Values: []string{"::/0"}}}))
	if len(acl) != 1 || len(acl[0].Entries) != 8 {
		t.Errorf("default ACL %+v", acl)
	}
	def := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}}))[0]
	if got := egressPeers(def); !slices.Equal(got, []string{"0.0.0.0/0"}) {
		t.Errorf("default group's egress: %v", got)
	}
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	if got := egressPeers(g); !slices.Equal(got, []string{"0.0.0.0/0", "::/0"}) {
		t.Errorf("new group's egress: %v", got)
	}
}

// Subnet IPv6 ranges: sizes and places EC2 takes, conflicts, association
// later, attributes, filters; IPv6-only subnets have no IPv4 range. The
// kernel's bridge has the range's router address while the subnet has one.
func TestSubnetIPv6(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	plain := tc.vpc(t, "10.1.0.0/16")
	in := func(cidr, v6 string) CreateSubnetInput {
		return CreateSubnetInput{VPCID: v.ID, CIDR: cidr, IPv6CIDR: v6, AZ: "us-west-2a"}
	}
	for _, bad := range []string{"fd00::/64", subnet64(block, 1).Addr().String() + "/65", subnet64(block, 1).Addr().String() + "/62", "2001:db8::/64"} {
		_, err := tc.CreateSubnet(ctx, west, in("10.0.9.0/24", bad))
		wantCode(t, err, "InvalidSubnet.Range")
	}
	for _, bad := range []string{"10.0.0.0/64", "fd00::1", "nonsense"} {
		_, err := tc.CreateSubnet(ctx, west, in("10.0.9.0/24", bad))
		wantCode(t, err, "InvalidParameterValue")
	}
	_, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: plain.ID, CIDR: "10.1.0.0/24", IPv6CIDR: subnet64(block, 1).String()})
	wantCode(t, err, "InvalidSubnet.Range")

	sub := must[Subnet](t)(tc.CreateSubnet(ctx, west, in("10.0.1.0/24", subnet64(block, 1).String())))
	if len(sub.IPv6) != 1 || sub.IPv6[0].CIDR != subnet64(block, 1) || !strings.HasPrefix(sub.IPv6[0].ID, "subnet-cidr-assoc-") || sub.IPv6Native || sub.AssignIPv6OnCreation {
		t.Errorf("subnet %+v", sub)
	}
	_, err = tc.CreateSubnet(ctx, west, in("10.0.2.0/24", subnet64(block, 1).String()))
	wantCode(t, err, "InvalidSubnet.Conflict")

	// IPv6 only (moto's AWS-verified test_create_ipv6native_subnet takes
	// the VPC's whole /56: here a /60 of it).
	if got, want := tc.dp.Subs[sub.ID], (netmodel.NetSubnet{ID: sub.ID, VPCID: v.ID, CIDR: sub.CIDR,
		Gateway: netip.MustParsePrefix("10.0.1.1/24"), Gateway6: netip.PrefixFrom(subnet64(block, 1).Addr().Next(), 64)}); got != want {
		t.Errorf("the kernel's dual-stack subnet %+v, want %+v", got, want)
	}
	b60 := netip.PrefixFrom(subnet64(block, 0x10).Addr(), 60)
	native := must[Subnet](t)(tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, IPv6CIDR: b60.String(), IPv6Native: true}))
	if native.CIDR.IsValid() || !native.IPv6Native || !native.AssignIPv6OnCreation || native.AvailableIPs != 0 || native.IPv6CIDR() != b60 {
		t.Errorf("IPv6-only subnet %+v", native)
	}
	nativeNet := netmodel.NetSubnet{ID: native.ID, VPCID: v.ID, Gateway6: netip.PrefixFrom(b60.Addr().Next(), 60)}
	if got := tc.dp.Subs[native.ID]; got != nativeNet {
		t.Errorf("the kernel's IPv6-only subnet %+v, want %+v", got, nativeNet)
	}
	_, err = tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, IPv6Native: true})
	wantCode(t, err, "MissingParameter")
	_, err = tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.5.0/24", IPv6CIDR: subnet64(block, 5).String(), IPv6Native: true})
	wantCode(t, err, "InvalidParameterCombination")
	_, _, err = tc.DisassociateSubnetIPv6(ctx, west, native.IPv6[0].ID)
	wantCode(t, err, "OperationNotPermitted")
	err = tc.ModifySubnetAttribute(ctx, west, native.ID, ModifySubnetInput{AssignIPv6: new(bool)})
	wantCode(t, err, "InvalidParameterValue")

	// Associated later, disassociated.
	later := tc.subnet(t, v.ID, "10.0.3.0/24")
	_, err = tc.AssociateSubnetIPv6(ctx, west, later.ID, subnet64(block, 1).String())
	wantCode(t, err, "InvalidSubnet.Conflict")
	b := must[SubnetIPv6Block](t)(tc.AssociateSubnetIPv6(ctx, west, later.ID, subnet64(block, 3).String()))
	if b.State != "associating" || b.CIDR != subnet64(block, 3) {
		t.Errorf("answer %+v", b)
	}
	if got, want := tc.dp.Subs[later.ID].Gateway6, netip.PrefixFrom(subnet64(block, 3).Addr().Next(), 64); got != want {
		t.Errorf("the kernel's router address once associated: %s, want %s", got, want)
	}
	_, err = tc.AssociateSubnetIPv6(ctx, west, later.ID, subnet64(block, 4).String())
	wantCode(t, err, "InvalidParameterValue")

	yes := true
	must[struct{}](t)(struct{}{}, tc.ModifySubnetAttribute(ctx, west, later.ID, ModifySubnetInput{AssignIPv6: &yes, EnableDNS64: &yes}))
	for _, f := range []Filter{
		{Name: "ipv6-cidr-block-association.ipv6-cidr-block", Values: []string{subnet64(block, 3).String()}},
		{Name: "ipv6-cidr-block-association.association-id", Values: []string{b.ID}},
		{Name: "assign-ipv6-address-on-creation", Values: []string{"true"}},
		{Name: "enable-dns64", Values: []string{"true"}},
	} {
		subs := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, nil, []Filter{f, {Name: "ipv6-native", Values: []string{"false"}}}))
		if len(subs) != 1 || subs[0].ID != later.ID {
			t.Errorf("filter %s: %+v", f.Name, subs)
		}
	}
	if subs := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, nil, []Filter{{Name: "ipv6-native", Values: []string{"true"}}})); len(subs) != 1 || subs[0].ID != native.ID {
		t.Errorf("IPv6-only subnets: %+v", subs)
	}

	// Over a restart: the reconciler keeps the IPv6-only subnet's bridge.
	tc.dp.Subs = map[string]netmodel.NetSubnet{}
	tc = tc.reopen(t)
	got := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, []string{later.ID, native.ID}, nil))
	if !got[0].AssignIPv6OnCreation || !got[0].EnableDNS64 || got[0].IPv6CIDR() != subnet64(block, 3) || !got[1].IPv6Native {
		t.Errorf("after a restart: %+v", got)
	}
	if got := tc.dp.Subs[native.ID]; got != nativeNet {
		t.Errorf("the kernel's IPv6-only subnet after a restart: %+v", got)
	}

	e, sub2 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: later.ID})), later
	_, _, err = tc.DisassociateSubnetIPv6(ctx, west, b.ID)
	wantCode(t, err, "InvalidCidrBlock.InUse")
	must[struct{}](t)(struct{}{}, tc.DeleteNetworkInterface(ctx, west, e.ID))
	gone, subID, err := tc.DisassociateSubnetIPv6(ctx, west, b.ID)
	if err != nil || gone.State != "disassociating" || subID != sub2.ID {
		t.Fatalf("disassociate: %+v %s %v", gone, subID, err)
	}
	if got := tc.dp.Subs[later.ID]; got.Gateway6.IsValid() || !got.Gateway.IsValid() {
		t.Errorf("the kernel's subnet once disassociated: %+v", got)
	}
	_, _, err = tc.DisassociateSubnetIPv6(ctx, west, b.ID)
	wantCode(t, err, "InvalidSubnetCidrBlockAssociationID.NotFound")
	must[struct{}](t)(struct{}{}, tc.DeleteSubnet(ctx, west, native.ID))
	if _, ok := tc.dp.Subs[native.ID]; ok {
		t.Errorf("the IPv6-only subnet's bridge stayed")
	}
}

func TestReservedIPv6(t *testing.T) {
	p := netip.MustParsePrefix("fd12:3456:789a:1::/64")
	for a, want := range map[string]bool{
		"fd12:3456:789a:1::": true, "fd12:3456:789a:1::3": true, "fd12:3456:789a:1::4": false,
		"fd12:3456:789a:1:ffff:ffff:ffff:ffff": true, "fd12:3456:789a:1:ffff:ffff:ffff:fffe": false, "fd12:3456:789a:1::1:2": false,
	} {
		if got := reservedIPv6(p, netip.MustParseAddr(a)); got != want {
			t.Errorf("reserved %s: %v, want %v", a, got, want)
		}
	}
	for range 100 {
		if a := randomIPv6(p); !p.Contains(a) {
			t.Fatalf("%s outside %s", a, p)
		}
	}
}

// ENI IPv6 addresses: asked by count or by address, given on creation by
// a subnet that says so (not to a service's ENI), assigned and
// unassigned, filtered, released with the ENI; on the kernel's link, with
// the subnet's IPv6 router.
func TestENIIPv6(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	r := subnet64(block, 1)
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", r)
	v4only := tc.subnet(t, v.ID, "10.0.2.0/24")

	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: 2}))
	if len(e.IPv6) != 2 || !r.Contains(e.IPv6[0]) || !r.Contains(e.IPv6[1]) || e.IPv6[0] == e.IPv6[1] {
		t.Fatalf("addresses %v", e.IPv6)
	}
	router := r.Addr().Next()
	tc.wantKernelIPv6(t, e.ID, router, e.IPv6...)
	if plain := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})); len(plain.IPv6) != 0 {
		t.Errorf("unasked: %v", plain.IPv6)
	} else {
		tc.wantKernelIPv6(t, plain.ID, netip.Addr{})
	}
	want := netip.AddrFrom16(func() [16]byte { b := r.Addr().As16(); b[15] = 0x10; return b }())
	asked := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{want.String()}}))
	if !slices.Equal(asked.IPv6, []netip.Addr{want}) {
		t.Errorf("asked %s, got %v", want, asked.IPv6)
	}
	for _, c := range []struct {
		in   CreateNetworkInterfaceInput
		code string
	}{
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{want.String()}}, "InvalidIPAddress.InUse"},
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{r.Addr().Next().String()}}, "InvalidParameterValue"},
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{"fd00::5"}}, "InvalidParameterValue"},
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{"10.0.1.9"}}, "InvalidParameterValue"},
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: 1, IPv6Addresses: []string{"fd00::5"}}, "InvalidParameterCombination"},
		{CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: -1}, "InvalidParameterValue"},
		{CreateNetworkInterfaceInput{SubnetID: v4only.ID, IPv6Count: 1}, "InvalidParameterValue"},
	} {
		_, err := tc.CreateNetworkInterface(ctx, west, c.in)
		wantCode(t, err, c.code)
	}

	// Released with the ENI.
	must[struct{}](t)(struct{}{}, tc.DeleteNetworkInterface(ctx, west, asked.ID))
	again := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{want.String()}}))

	// The subnet gives one on creation, not to a service's ENI.
	yes := true
	must[struct{}](t)(struct{}{}, tc.ModifySubnetAttribute(ctx, west, sub.ID, ModifySubnetInput{AssignIPv6: &yes}))
	if auto := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})); len(auto.IPv6) != 1 {
		t.Errorf("on creation: %v", auto.IPv6)
	}
	if task := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, RequesterManaged: true})); len(task.IPv6) != 0 {
		t.Errorf("a task's ENI: %v", task.IPv6)
	}

	// Assign, unassign.
	added := must[[]netip.Addr](t)(tc.AssignIPv6Addresses(ctx, west, AssignIPv6Input{ENIID: again.ID, Count: 2}))
	if len(added) != 2 {
		t.Fatalf("assigned %v", added)
	}
	_, err := tc.AssignIPv6Addresses(ctx, west, AssignIPv6Input{ENIID: again.ID, Addresses: []string{added[0].String()}})
	wantCode(t, err, "InvalidIPAddress.InUse")
	_, err = tc.AssignIPv6Addresses(ctx, west, AssignIPv6Input{ENIID: again.ID})
	wantCode(t, err, "MissingParameter")
	_, err = tc.UnassignIPv6Addresses(ctx, west, again.ID, []string{e.IPv6[0].String()})
	wantCode(t, err, "InvalidParameterValue")
	gone := must[[]netip.Addr](t)(tc.UnassignIPv6Addresses(ctx, west, again.ID, []string{added[1].String()}))
	if !slices.Equal(gone, added[1:]) {
		t.Errorf("unassigned %v", gone)
	}
	if got := tc.eniByID(t, again.ID).IPv6; !slices.Equal(got, []netip.Addr{want, added[0]}) {
		t.Errorf("after: %v, want %v", got, []netip.Addr{want, added[0]})
	}
	tc.wantKernelIPv6(t, again.ID, router, want, added[0])
	found := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, []Filter{{Name: "ipv6-addresses.ipv6-address", Values: []string{added[0].String()}}}))
	if len(found) != 1 || found[0].ID != again.ID {
		t.Errorf("by address: %+v", found)
	}

	// Instances: Ipv6AddressCount.
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 2, MaxCount: 2, SubnetID: sub.ID, IPv6Count: 2}))
	tc.Wait() // the instances come up in the background, moving their ENIs
	for _, inst := range insts {
		if n := len(inst.ENIs[0].IPv6); n != 2 {
			t.Errorf("instance %s: %d IPv6 addresses", inst.ID, n)
		}
		tc.wantKernelIPv6(t, inst.ENIs[0].ID, router, inst.ENIs[0].IPv6...)
	}
	_, err = tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 2, MaxCount: 2, SubnetID: sub.ID, IPv6Addresses: []string{want.String()}})
	wantCode(t, err, "InvalidParameterCombination")

	// Over a restart.
	tc = tc.reopen(t)
	if got := tc.eniByID(t, again.ID).IPv6; !slices.Equal(got, []netip.Addr{want, added[0]}) {
		t.Errorf("after a restart: %v", got)
	}
	_, err = tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Addresses: []string{added[0].String()}})
	wantCode(t, err, "InvalidIPAddress.InUse")
}

// wantKernelIPv6 checks the IPv6 side of the ENI the kernel has: the
// addresses as /64s, and the router (invalid: no address, no router).
func (tc *testCloud) wantKernelIPv6(t *testing.T, eniID string, router netip.Addr, addrs ...netip.Addr) {
	t.Helper()
	var want []netip.Prefix
	for _, a := range addrs {
		want = append(want, netip.PrefixFrom(a, 64))
	}
	got := tc.dp.ENIs[eniID]
	if !slices.Equal(got.Addrs6, want) || got.Gateway6 != router {
		t.Errorf("the kernel's %s: IPv6 %v via %s, want %v via %s", eniID, got.Addrs6, got.Gateway6, want, router)
	}
}

// An ENI of an IPv6-only subnet: IPv6 addresses only (one unasked, as the
// subnet assigns them on creation), none of IPv4; the kernel gets its link
// with those. Instances, ECS tasks and NAT gateways are not put there yet.
func TestIPv6OnlyENI(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	r := subnet64(block, 7)
	native := must[Subnet](t)(tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, IPv6CIDR: r.String(), IPv6Native: true, AZ: "us-west-2a"}))
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: native.ID}))
	if len(e.PrivateIPs) != 0 || e.PrimaryIP().IsValid() || len(e.IPv6) != 1 || !r.Contains(e.IPv6[0]) {
		t.Fatalf("ENI %+v", e)
	}
	if got := tc.dp.ENIs[e.ID]; len(got.Addrs) != 0 || got.Gateway.IsValid() {
		t.Errorf("the kernel's ENI has IPv4: %+v", got)
	}
	tc.wantKernelIPv6(t, e.ID, r.Addr().Next(), e.IPv6...)

	two := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: native.ID, IPv6Count: 2}))
	if len(two.IPv6) != 2 {
		t.Errorf("asked two: %v", two.IPv6)
	}
	for _, in := range []CreateNetworkInterfaceInput{
		{SubnetID: native.ID, PrivateIPAddress: "10.0.0.9"},
		{SubnetID: native.ID, SecondaryPrivateIPAddressCount: 1},
	} {
		_, err := tc.CreateNetworkInterface(ctx, west, in)
		wantCode(t, err, "InvalidParameterValue")
	}
	_, err := tc.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, SecondaryCount: 1})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.UnassignIPv6Addresses(ctx, west, e.ID, []string{e.IPv6[0].String()})
	wantCode(t, err, "InvalidParameterValue")
	must[[]netip.Addr](t)(tc.UnassignIPv6Addresses(ctx, west, two.ID, []string{two.IPv6[0].String()}))
	tc.wantKernelIPv6(t, two.ID, r.Addr().Next(), two.IPv6[1])

	_, err = tc.CreateTaskENI(ctx, west, native.ID, nil, "ecs task", false)
	wantCode(t, err, "UnsupportedOperation")
	_, err = tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: native.ID})
	wantCode(t, err, "UnsupportedOperation")
	_, err = tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: native.ID, ConnectivityType: "private"})
	wantCode(t, err, "UnsupportedOperation")
}

// Egress-only internet gateways: attached to their VPC, tagged, filtered;
// routes of IPv6 destinations to them, blackholes once they go; the VPC is
// not deleted while one is there.
func TestEgressOnlyIGW(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, _ := tc.dualStackVPC(t, "10.0.0.0/16")
	other := tc.vpc(t, "10.1.0.0/16")
	g := must[EgressOnlyIGW](t)(tc.CreateEgressOnlyIGW(ctx, west, v.ID, "tok", []Tag{{Key: "Name", Value: "out"}}))
	if !strings.HasPrefix(g.ID, "eigw-") || g.VPCID != v.ID {
		t.Fatalf("gateway %+v", g)
	}
	if again := must[EgressOnlyIGW](t)(tc.CreateEgressOnlyIGW(ctx, west, v.ID, "tok", nil)); again.ID != g.ID {
		t.Errorf("a retry made %s", again.ID)
	}
	og := must[EgressOnlyIGW](t)(tc.CreateEgressOnlyIGW(ctx, west, other.ID, "", nil))
	_, err := tc.CreateEgressOnlyIGW(ctx, west, "vpc-0123456789abcdef0", "", nil)
	wantCode(t, err, "InvalidVpcID.NotFound")
	for _, f := range []Filter{{Name: "tag:Name", Values: []string{"out"}}, {Name: "attachment.vpc-id", Values: []string{v.ID}}, {Name: "egress-only-internet-gateway-id", Values: []string{g.ID}}} {
		if gs := must[[]EgressOnlyIGW](t)(tc.DescribeEgressOnlyIGWs(ctx, west, nil, []Filter{f})); len(gs) != 1 || gs[0].ID != g.ID {
			t.Errorf("filter %s: %+v", f.Name, gs)
		}
	}
	_, err = tc.DescribeEgressOnlyIGWs(ctx, west, []string{"eigw-0123456789abcdef0"}, nil)
	wantCode(t, err, "InvalidEgressOnlyInternetGatewayId.NotFound")
	_, err = tc.DescribeEgressOnlyIGWs(ctx, west, []string{"igw-0123"}, nil)
	wantCode(t, err, "InvalidEgressOnlyInternetGatewayId.Malformed")

	main := tc.mainTable(t, v.ID)
	must[struct{}](t)(struct{}{}, tc.CreateRoute(ctx, west, RouteInput{TableID: main.ID, DestIPv6: "::/0", EgressOnlyGW: g.ID}))
	for _, c := range []struct {
		in   RouteInput
		code string
	}{
		{RouteInput{TableID: main.ID, DestIPv6: "::/0", EgressOnlyGW: g.ID}, "RouteAlreadyExists"},
		{RouteInput{TableID: main.ID, DestCIDR: "0.0.0.0/0", EgressOnlyGW: g.ID}, "InvalidParameterValue"},
		{RouteInput{TableID: main.ID, DestIPv6: "2001:db8::/32", EgressOnlyGW: og.ID}, "InvalidParameterValue"},
		{RouteInput{TableID: main.ID, DestIPv6: "2001:db8::/32", EgressOnlyGW: "eigw-0123456789abcdef0"}, "InvalidGatewayID.NotFound"},
		{RouteInput{TableID: main.ID, DestIPv6: "10.0.0.0/8", EgressOnlyGW: g.ID}, "InvalidParameterValue"},
		{RouteInput{TableID: main.ID, DestIPv6: "2001:db8::/32", DestCIDR: "10.9.0.0/16", EgressOnlyGW: g.ID}, "InvalidParameterCombination"},
	} {
		wantCode(t, tc.CreateRoute(ctx, west, c.in), c.code)
	}
	must[struct{}](t)(struct{}{}, tc.CreateRoute(ctx, west, RouteInput{TableID: main.ID, DestIPv6: "2001:db8::/32", EgressOnlyGW: g.ID}))
	rts := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, nil, []Filter{{Name: "route.egress-only-internet-gateway-id", Values: []string{g.ID}}}))
	if len(rts) != 1 || rts[0].ID != main.ID {
		t.Fatalf("tables routing to %s: %+v", g.ID, rts)
	}
	must[struct{}](t)(struct{}{}, tc.DeleteRoute(ctx, west, main.ID, "2001:db8::/32", ""))
	wantCode(t, tc.DeleteRoute(ctx, west, main.ID, "2001:db8::/32", ""), "InvalidRoute.NotFound")

	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")
	tc = tc.reopen(t)
	if gs := must[[]EgressOnlyIGW](t)(tc.DescribeEgressOnlyIGWs(ctx, west, nil, nil)); len(gs) != 2 || gs[0].ID != g.ID || gs[0].Tags[0].Value != "out" {
		t.Errorf("after a restart: %+v", gs)
	}
	must[struct{}](t)(struct{}{}, tc.DeleteEgressOnlyIGW(ctx, west, g.ID))
	state := ""
	for _, r := range tc.mainTable(t, v.ID).Routes {
		if r.EgressOnlyGW == g.ID {
			state = r.State
		}
	}
	if state != "blackhole" {
		t.Errorf("the route to a deleted gateway: %q", state)
	}
	wantCode(t, tc.DeleteEgressOnlyIGW(ctx, west, g.ID), "InvalidEgressOnlyInternetGatewayId.NotFound")
}

// Network ACL IPv6 entries: stored and described, one CIDR of either
// family; the kernel judges both.
func TestACLIPv6Entries(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, _ := tc.dualStackVPC(t, "10.0.0.0/16")
	acl := must[NetworkACL](t)(tc.CreateNetworkAcl(ctx, west, v.ID, nil))
	must[struct{}](t)(struct{}{}, tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 10, Protocol: "6", RuleAction: "allow", IPv6: "2001:db8::1/64", Ports: &[2]int{443, 443}}))
	must[struct{}](t)(struct{}{}, tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 11, Protocol: "58", RuleAction: "allow", IPv6: "::/0", ICMP: &[2]int{-1, -1}}))
	wantCode(t, tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 12, Protocol: "-1", RuleAction: "allow", IPv6: "::/0", CIDR: "0.0.0.0/0"}), "InvalidParameterCombination")
	wantCode(t, tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 12, Protocol: "-1", RuleAction: "allow", IPv6: "10.0.0.0/8"}), "InvalidParameterValue")
	wantCode(t, tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 10, Protocol: "-1", RuleAction: "allow", CIDR: "10.0.0.0/8"}), "NetworkAclEntryAlreadyExists")
	got := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "entry.ipv6-cidr", Values: []string{"2001:db8::/64"}}}))
	if len(got) != 1 || got[0].ID != acl.ID {
		t.Fatalf("by IPv6 entry: %+v", got)
	}
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	def := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "association.subnet-id", Values: []string{sub.ID}}}))[0]
	must[string](t)(tc.ReplaceNetworkAclAssociation(ctx, west, def.Assocs[0].ID, acl.ID))
	want := []netmodel.ACLRule{
		{Number: 10, Allow: true, Proto: netmodel.ProtoTCP, From: 443, To: 443, CIDR: netip.MustParsePrefix("2001:db8::/64")},
		{Number: 11, Allow: true, Proto: netmodel.ProtoICMPv6, From: -1, To: -1, CIDR: allIPv6},
	}
	for _, sr := range tc.dp.Routing(v.ID).Subnets {
		if sr.SubnetID != sub.ID {
			continue
		}
		if sr.ACL == nil || !slices.Equal(sr.ACL.Ingress, want) || len(sr.ACL.Egress) != 0 {
			t.Errorf("the kernel's ACL: %+v, want ingress %+v", sr.ACL, want)
		}
	}
}
