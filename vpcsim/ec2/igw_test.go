package ec2

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Internet gateways attach to one VPC each, with EC2's refusals; a route to
// one is active while it is attached to the table's VPC, blackhole after; a
// VPC with a gateway is not deleted, nor a gateway still attached.
func TestInternetGatewayRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	other := tc.vpc(t, "10.1.0.0/16")
	g := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, []Tag{{Key: "Name", Value: "gw"}}))
	g2 := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, nil))

	wantCode(t, tc.AttachInternetGateway(ctx, west, "igw-0123456789abcdef0", v.ID), "InvalidInternetGatewayID.NotFound")
	wantCode(t, tc.AttachInternetGateway(ctx, west, g.ID, "vpc-0123456789abcdef0"), "InvalidVpcID.NotFound")
	wantCode(t, tc.AttachInternetGateway(ctx, west, "igw-x", v.ID), "InvalidInternetGatewayID.Malformed")
	if err := tc.AttachInternetGateway(ctx, west, g.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.AttachInternetGateway(ctx, west, g.ID, other.ID), "Resource.AlreadyAssociated")
	wantCode(t, tc.AttachInternetGateway(ctx, west, g2.ID, v.ID), "InvalidParameterValue")
	wantCode(t, tc.DetachInternetGateway(ctx, west, g.ID, other.ID), "Gateway.NotAttached")
	wantCode(t, tc.DetachInternetGateway(ctx, west, g2.ID, v.ID), "Gateway.NotAttached")
	wantCode(t, tc.DeleteInternetGateway(ctx, west, g.ID), "DependencyViolation")
	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")

	got := must[[]InternetGateway](t)(tc.DescribeInternetGateways(ctx, west, nil, []Filter{{Name: "attachment.vpc-id", Values: []string{v.ID}}}))
	if len(got) != 1 || got[0].ID != g.ID {
		t.Fatalf("gateways of %s: %+v", v.ID, got)
	}
	got = must[[]InternetGateway](t)(tc.DescribeInternetGateways(ctx, west, nil, []Filter{{Name: "tag:Name", Values: []string{"gw"}}, {Name: "attachment.state", Values: []string{"available"}}}))
	if len(got) != 1 || got[0].ID != g.ID {
		t.Fatalf("gateways named gw and attached: %+v", got)
	}

	// A route to a gateway needs it attached to the table's VPC.
	main := tc.mainTable(t, v.ID)
	wantCode(t, tc.CreateRoute(ctx, west, RouteInput{TableID: tc.mainTable(t, other.ID).ID, DestCIDR: "0.0.0.0/0", Gateway: g.ID}), "InvalidParameterValue")
	if err := tc.CreateRoute(ctx, west, RouteInput{TableID: main.ID, DestCIDR: "0.0.0.0/0", Gateway: g.ID}); err != nil {
		t.Fatal(err)
	}
	if st := tc.mainTable(t, v.ID).Routes[1].State; st != "active" {
		t.Errorf("a route to the attached gateway is %s", st)
	}
	if err := tc.DetachInternetGateway(ctx, west, g.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	if st := tc.mainTable(t, v.ID).Routes[1].State; st != "blackhole" {
		t.Errorf("a route to a detached gateway is %s", st)
	}
	if err := tc.DeleteInternetGateway(ctx, west, g.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.DeleteInternetGateway(ctx, west, g.ID), "InvalidInternetGatewayID.NotFound")

	// A restart keeps them.
	tc = tc.reopen(t)
	if got := must[[]InternetGateway](t)(tc.DescribeInternetGateways(ctx, west, []string{g2.ID}, nil)); len(got) != 1 {
		t.Fatalf("after a restart: %+v", got)
	}
}

func (tc *testCloud) mainTable(t *testing.T, vpcID string) RouteTableView {
	t.Helper()
	rts := must[[]RouteTableView](t)(tc.DescribeRouteTables(context.Background(), west, nil, []Filter{{Name: "vpc-id", Values: []string{vpcID}}, {Name: "association.main", Values: []string{"true"}}}))
	if len(rts) != 1 {
		t.Fatalf("main tables of %s: %+v", vpcID, rts)
	}
	return rts[0]
}

// A region's default VPC reaches the internet as on AWS: its own gateway,
// the main table's default route to it, and a public address for each
// instance launched in a default subnet.
func TestDefaultVPCHasAnInternetGateway(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpcs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "is-default", Values: []string{"true"}}}))
	if len(vpcs) != 1 {
		t.Fatalf("default VPCs: %+v", vpcs)
	}
	v := vpcs[0]
	igws := must[[]InternetGateway](t)(tc.DescribeInternetGateways(ctx, west, nil, []Filter{{Name: "attachment.vpc-id", Values: []string{v.ID}}}))
	if len(igws) != 1 {
		t.Fatalf("the default VPC's gateways: %+v", igws)
	}
	main := tc.mainTable(t, v.ID)
	if len(main.Routes) != 2 || main.Routes[1].Gateway != igws[0].ID || main.Routes[1].Dest.String() != "0.0.0.0/0" || main.Routes[1].State != "active" {
		t.Fatalf("the default VPC's main table: %+v", main.Routes)
	}
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 2, MaxCount: 2}))
	a, b := insts[0].ENIs[0].PublicIP(), insts[1].ENIs[0].PublicIP()
	if !DefaultPublicRange.Contains(a) || !DefaultPublicRange.Contains(b) || a == b {
		t.Fatalf("public addresses %v and %v", a, b)
	}
	byIP := must[[]Instance](t)(tc.DescribeInstances(ctx, west, nil, []Filter{{Name: "ip-address", Values: []string{a.String()}}}))
	byOwner := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, []Filter{{Name: "association.ip-owner-id", Values: []string{"amazon"}}}))
	if len(byIP) != 1 || byIP[0].ID != insts[0].ID || len(byOwner) != 2 {
		t.Errorf("filtered by public address: instances %d, ENIs with an address EC2 owns %d", len(byIP), len(byOwner))
	}
	r := tc.dp.Routing(v.ID)
	if r.Internet == nil || r.Internet.GatewayID != igws[0].ID || len(r.Internet.NAT) != 2 {
		t.Fatalf("the kernel's internet link: %+v", r.Internet)
	}
	for _, s := range r.Subnets {
		if len(s.Routes) != 1 || s.Routes[0].Target != netmodel.RouteInternet {
			t.Fatalf("subnet %s routes %+v", s.SubnetID, s.Routes)
		}
	}
	// Terminated, they give their addresses back, and the link goes with
	// the last one.
	must[[]InstanceStateChange](t)(tc.TerminateInstances(ctx, west, []string{insts[0].ID, insts[1].ID}))
	tc.Wait()
	if r := tc.dp.Routing(v.ID); r.Internet != nil {
		t.Fatalf("the internet link after the instances went: %+v", r.Internet)
	}
}

// Elastic IPs: allocated from the public range, mapped to an ENI's private
// address while the VPC has a gateway, moved only when asked, released once
// unmapped; the kernel translates exactly the mapped addresses.
func TestElasticIPRules(t *testing.T) {
	tc := newTestCloud(t, WithPublicRange(netip.MustParsePrefix("198.19.7.0/24")))
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	e1 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, SecondaryPrivateIPAddressCount: 1}))
	e2 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))

	a := must[AddressView](t)(tc.AllocateAddress(ctx, west, AllocateAddressInput{Domain: "vpc"}))
	if a.Public.String() != "198.19.7.2" {
		t.Errorf("the first address of 198.19.7.0/24 handed out is %s, want 198.19.7.2 (.0 and .1 are kept)", a.Public)
	}
	_, err := tc.AllocateAddress(ctx, west, AllocateAddressInput{Domain: "standard"})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.AllocateAddress(ctx, west, AllocateAddressInput{Address: "198.19.7.2"})
	wantCode(t, err, "InvalidAddress.NotFound")
	b := must[AddressView](t)(tc.AllocateAddress(ctx, west, AllocateAddressInput{Address: "198.19.7.9"}))

	_, err = tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: a.ID, ENIID: e1.ID})
	wantCode(t, err, "Gateway.NotAttached")
	g := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, nil))
	if err := tc.AttachInternetGateway(ctx, west, g.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: "eipalloc-0123456789abcdef0", ENIID: e1.ID})
	wantCode(t, err, "InvalidAllocationID.NotFound")
	_, err = tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: a.ID, ENIID: e1.ID, PrivateIP: "10.0.1.99"})
	wantCode(t, err, "InvalidParameterValue")
	assoc := must[string](t)(tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: a.ID, ENIID: e1.ID}))
	second := must[string](t)(tc.AssociateAddress(ctx, west, AssociateAddressInput{PublicIP: "198.19.7.9", ENIID: e1.ID, PrivateIP: e1.PrivateIPs[1].Addr.String()}))
	_, err = tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: a.ID, ENIID: e2.ID})
	wantCode(t, err, "Resource.AlreadyAssociated")

	r := tc.dp.Routing(v.ID)
	want := []netmodel.PublicMapping{{Public: a.Public, Private: e1.PrivateIPs[0].Addr}, {Public: b.Public, Private: e1.PrivateIPs[1].Addr}}
	if r.Internet == nil || len(r.Internet.NAT) != 2 || r.Internet.NAT[0] != want[0] || r.Internet.NAT[1] != want[1] {
		t.Fatalf("the kernel translates %+v, want %+v", r.Internet, want)
	}
	got := must[[]AddressView](t)(tc.DescribeAddresses(ctx, west, nil, nil, []Filter{{Name: "association-id", Values: []string{assoc}}}))
	if len(got) != 1 || got[0].ID != a.ID || got[0].ENIID != e1.ID || got[0].PrivateIP != e1.PrivateIPs[0].Addr {
		t.Fatalf("the address associated as %s: %+v", assoc, got)
	}
	wantCode(t, tc.ReleaseAddress(ctx, west, a.ID, ""), "InvalidIPAddress.InUse")
	wantCode(t, tc.DetachInternetGateway(ctx, west, g.ID, v.ID), "DependencyViolation")

	// Moved with AllowReassociation: e1 loses it, e2 has it.
	must[string](t)(tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: a.ID, ENIID: e2.ID, AllowReassociation: true}))
	if e := tc.eniByID(t, e1.ID); e.PrivateIPs[0].Public.IsValid() {
		t.Errorf("e1 kept %s after the address moved", e.PrivateIPs[0].Public)
	}
	wantCode(t, tc.DisassociateAddress(ctx, west, assoc, ""), "InvalidAssociationID.NotFound")
	if err := tc.DisassociateAddress(ctx, west, second, ""); err != nil {
		t.Fatal(err)
	}
	if err := tc.DisassociateAddress(ctx, west, "", a.Public.String()); err != nil {
		t.Fatal(err)
	}
	if r := tc.dp.Routing(v.ID); r.Internet != nil {
		t.Fatalf("the internet link with no public address: %+v", r.Internet)
	}
	for _, id := range []string{a.ID, b.ID} {
		if err := tc.ReleaseAddress(ctx, west, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := must[[]AddressView](t)(tc.DescribeAddresses(ctx, west, nil, nil, nil)); len(got) != 0 {
		t.Fatalf("after release: %+v", got)
	}
	if err := tc.DetachInternetGateway(ctx, west, g.ID, v.ID); err != nil {
		t.Fatal(err)
	}
}

func (tc *testCloud) eniByID(t *testing.T, id string) ENI {
	t.Helper()
	enis := must[[]ENI](t)(tc.DescribeNetworkInterfaces(context.Background(), west, []string{id}, nil))
	return enis[0]
}

// Each subnet is routed by its table in the kernel: its routes to ENIs and
// gateways, blackholes where the target cannot carry them, and only the
// VPCs a change touches are set again.
func TestRoutingFollowsRouteTables(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a := tc.subnet(t, v.ID, "10.0.1.0/24")
	b := tc.subnet(t, v.ID, "10.0.2.0/24")
	router := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: b.ID}))
	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	must[string](t)(tc.AssociateRouteTable(ctx, west, rt.ID, a.ID, ""))
	if err := tc.CreateRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "203.0.113.0/24", ENI: router.ID}); err != nil {
		t.Fatal(err)
	}
	routesOf := func(subnet string) []netmodel.Route {
		t.Helper()
		for _, s := range tc.dp.Routing(v.ID).Subnets {
			if s.SubnetID == subnet {
				return s.Routes
			}
		}
		t.Fatalf("no routing for subnet %s: %+v", subnet, tc.dp.Routing(v.ID))
		return nil
	}
	// The ENI is parked, so the route is a blackhole until it is attached
	// (as DescribeRouteTables says).
	if r := routesOf(a.ID); len(r) != 1 || r[0].Target != netmodel.RouteBlackhole || r[0].Dest.String() != "203.0.113.0/24" {
		t.Fatalf("subnet a: %+v", r)
	}
	if r := routesOf(b.ID); len(r) != 0 {
		t.Fatalf("subnet b (main table, local only): %+v", r)
	}
	inst := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetID: b.ID}))[0]
	tc.Wait()
	if _, err := tc.AttachNetworkInterface(ctx, west, router.ID, inst.ID, 1); err != nil {
		t.Fatal(err)
	}
	tc.Wait()
	if r := routesOf(a.ID); len(r) != 1 || r[0].Target != netmodel.RouteENI || r[0].Via != router.PrivateIPs[0].Addr || r[0].ViaSubnet != b.ID {
		t.Fatalf("subnet a, the router attached: %+v", r)
	}
	// A change elsewhere does not set this VPC's routing again.
	before := countPrefix(tc.dp.Trace, "set-routing "+v.ID)
	other := tc.vpc(t, "10.1.0.0/16")
	tc.subnet(t, other.ID, "10.1.1.0/24")
	if after := countPrefix(tc.dp.Trace, "set-routing "+v.ID); after != before {
		t.Errorf("another VPC's changes set this one's routing %d times", after-before)
	}
	if err := tc.DeleteRoute(ctx, west, rt.ID, "203.0.113.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if r := routesOf(a.ID); len(r) != 0 {
		t.Fatalf("subnet a after the route went: %+v", r)
	}
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// An address EC2 assigned goes when the instance stops and a new one comes
// when it starts; an instance's ENI kept after termination keeps none.
func TestPublicAddressFollowsStopAndStart(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	inst := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 1, MaxCount: 1}))[0]
	tc.Wait()
	eniID := inst.ENIs[0].ID
	pub := func() netip.Addr { e := tc.eniByID(t, eniID); return e.PublicIP() }
	if !pub().IsValid() {
		t.Fatal("no public address at launch in a default subnet")
	}
	must[[]InstanceStateChange](t)(tc.StopInstances(ctx, west, []string{inst.ID}))
	tc.Wait()
	if p := pub(); p.IsValid() {
		t.Fatalf("a stopped instance keeps public address %s", p)
	}
	must[[]InstanceStateChange](t)(tc.StartInstances(ctx, west, []string{inst.ID}))
	tc.Wait()
	if p := pub(); !p.IsValid() {
		t.Fatal("a started instance has no public address")
	}
}

// A default VPC stored before vpcsim kept internet gateways gets its gateway
// and its default route once; one whose owner detached and deleted it since
// does not get it back.
func TestDefaultVPCGatewayUpgrade(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "is-default", Values: []string{"true"}}}))[0]
	g := must[[]InternetGateway](t)(tc.DescribeInternetGateways(ctx, west, nil, nil))[0]
	main := tc.mainTable(t, v.ID)
	if err := tc.DeleteRoute(ctx, west, main.ID, "0.0.0.0/0", ""); err != nil {
		t.Fatal(err)
	}
	if err := tc.DetachInternetGateway(ctx, west, g.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteInternetGateway(ctx, west, g.ID); err != nil {
		t.Fatal(err)
	}
	if got := must[[]InternetGateway](t)(tc.reopen(t).DescribeInternetGateways(ctx, west, nil, nil)); len(got) != 0 {
		t.Fatalf("a gateway deleted by its owner came back: %+v", got)
	}
	// As a database from before gateways were kept.
	tc.Wait()
	if err := tc.store.Apply([]storage.Change{{Kind: markerKind.Name, ID: markerDefaultGateways}}); err != nil {
		t.Fatal(err)
	}
	upgraded := tc.reopen(t)
	got := must[[]InternetGateway](t)(upgraded.DescribeInternetGateways(ctx, west, nil, []Filter{{Name: "attachment.vpc-id", Values: []string{v.ID}}}))
	if len(got) != 1 {
		t.Fatalf("after the upgrade, the default VPC's gateways: %+v", got)
	}
	if r := upgraded.mainTable(t, v.ID).Routes; len(r) != 2 || r[1].Gateway != got[0].ID || r[1].State != "active" {
		t.Fatalf("after the upgrade, the main table: %+v", r)
	}
}
