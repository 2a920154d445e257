package ec2

import (
	"context"
	"testing"
)

// Every VPC has a main route table with its local route; tables, their
// associations and routes follow EC2's rules and refusals; what a VPC still
// holds of them keeps it from being deleted, and a restart keeps them (and
// gives a main table to a VPC stored before route tables were kept).
func TestRouteTableRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	other := tc.vpc(t, "10.1.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	elsewhere := tc.subnet(t, other.ID, "10.1.1.0/24")
	describe := func(filters ...Filter) []RouteTableView {
		t.Helper()
		return must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, nil, filters))
	}
	mains := describe(Filter{Name: "vpc-id", Values: []string{v.ID}}, Filter{Name: "association.main", Values: []string{"true"}})
	if len(mains) != 1 || len(mains[0].Routes) != 1 || mains[0].Routes[0].Gateway != "local" || mains[0].Routes[0].Dest.String() != "10.0.0.0/16" ||
		mains[0].Routes[0].State != "active" || mains[0].Routes[0].Origin != "CreateRouteTable" {
		t.Fatalf("the VPC's main table: %+v", mains)
	}
	main := mains[0]

	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	_, err := tc.CreateRouteTable(ctx, west, "vpc-0123456789abcdef0", nil)
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = tc.AssociateRouteTable(ctx, west, rt.ID, elsewhere.ID, "")
	wantCode(t, err, "InvalidParameterValue")
	assoc := must[string](t)(tc.AssociateRouteTable(ctx, west, rt.ID, sub.ID, ""))
	_, err = tc.AssociateRouteTable(ctx, west, main.ID, sub.ID, "")
	wantCode(t, err, "Resource.AlreadyAssociated")
	_, err = tc.AssociateRouteTable(ctx, west, rt.ID, "", "igw-0123456789abcdef0")
	wantCode(t, err, "InvalidGatewayID.NotFound")
	wantCode(t, tc.DisassociateRouteTable(ctx, west, main.MainAssocID), "InvalidParameterValue")
	wantCode(t, tc.DeleteRouteTable(ctx, west, rt.ID), "DependencyViolation")
	wantCode(t, tc.DeleteRouteTable(ctx, west, main.ID), "DependencyViolation")

	// Routes: to an ENI of the VPC; a second to the same destination, one
	// with two targets or none, and targets that do not exist are refused.
	eni := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	route := RouteInput{TableID: rt.ID, DestCIDR: "192.168.0.0/16", ENI: eni.ID}
	if err := tc.CreateRoute(ctx, west, route); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   RouteInput
		code string
	}{
		{"the same destination", route, "RouteAlreadyExists"},
		{"two targets", RouteInput{TableID: rt.ID, DestCIDR: "172.16.0.0/12", ENI: eni.ID, Gateway: "igw-0123456789abcdef0"}, "InvalidParameterCombination"},
		{"no target", RouteInput{TableID: rt.ID, DestCIDR: "172.16.0.0/12"}, "InvalidParameterCombination"},
		{"no destination", RouteInput{TableID: rt.ID, ENI: eni.ID}, "MissingParameter"},
		{"a bad destination", RouteInput{TableID: rt.ID, DestCIDR: "300.0.0.0/8", ENI: eni.ID}, "InvalidParameterValue"},
		{"no such gateway", RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", Gateway: "igw-0123456789abcdef0"}, "InvalidGatewayID.NotFound"},
		{"no such NAT gateway", RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", NatGateway: "nat-0123456789abcdef0"}, "InvalidNatGatewayID.NotFound"},
		{"no such peering", RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", Peering: "pcx-0123456789abcdef0"}, "InvalidVpcPeeringConnectionID.NotFound"},
		{"a local target", RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", Gateway: "local"}, "InvalidParameterValue"},
		{"an ENI of another VPC", RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", ENI: must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: elsewhere.ID})).ID}, "InvalidParameterValue"},
		{"no such table", RouteInput{TableID: "rtb-0123456789abcdef0", DestCIDR: "0.0.0.0/0", ENI: eni.ID}, "InvalidRouteTableID.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) { wantCode(t, tc.CreateRoute(ctx, west, c.in), c.code) })
	}
	// Detached, the ENI cannot carry the route: blackhole.
	got := describe(Filter{Name: "route.network-interface-id", Values: []string{eni.ID}})
	if len(got) != 1 || got[0].ID != rt.ID || got[0].Routes[1].State != "blackhole" || got[0].Routes[1].Origin != "CreateRoute" {
		t.Fatalf("the ENI's route: %+v", got)
	}
	wantCode(t, tc.ReplaceRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "172.16.0.0/12", ENI: eni.ID}), "InvalidParameterValue")
	wantCode(t, tc.ReplaceRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "10.0.0.0/16", ENI: eni.ID}), "InvalidParameterValue")
	wantCode(t, tc.DeleteRoute(ctx, west, rt.ID, "10.0.0.0/16", ""), "InvalidParameterValue")
	wantCode(t, tc.DeleteRoute(ctx, west, rt.ID, "172.16.0.0/12", ""), "InvalidRoute.NotFound")
	if err := tc.DeleteRoute(ctx, west, rt.ID, "192.168.0.0/16", ""); err != nil {
		t.Fatal(err)
	}

	// The main association moves to the new table and back; a subnet goes
	// back to the main table when disassociated.
	moved := must[string](t)(tc.ReplaceRouteTableAssociation(ctx, west, main.MainAssocID, rt.ID))
	if got := describe(Filter{Name: "association.main", Values: []string{"true"}}, Filter{Name: "vpc-id", Values: []string{v.ID}}); len(got) != 1 || got[0].ID != rt.ID || got[0].MainAssocID != moved {
		t.Fatalf("the main table after the move: %+v", got)
	}
	must[string](t)(tc.ReplaceRouteTableAssociation(ctx, west, moved, main.ID))
	if err := tc.DisassociateRouteTable(ctx, west, assoc); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.DisassociateRouteTable(ctx, west, assoc), "InvalidAssociationID.NotFound")

	// A VPC with a table of its own is not deleted; its main table goes
	// with it.
	must[string](t)(tc.AssociateRouteTable(ctx, west, rt.ID, sub.ID, ""))
	if err := tc.DeleteNetworkInterface(ctx, west, eni.ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteSubnet(ctx, west, sub.ID); err != nil {
		t.Fatal(err)
	}
	if got := describe(Filter{Name: "route-table-id", Values: []string{rt.ID}}); len(got) != 1 || len(got[0].Assocs) != 0 {
		t.Fatalf("a deleted subnet's association stays: %+v", got)
	}
	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")
	if err := tc.DeleteRouteTable(ctx, west, rt.ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteVpc(ctx, west, v.ID); err != nil {
		t.Fatal(err)
	}
	if got := describe(Filter{Name: "vpc-id", Values: []string{v.ID}}); len(got) != 0 {
		t.Fatalf("a deleted VPC's tables stay: %+v", got)
	}

	// A VPC stored before route tables were kept gets a main table at start.
	for rt := range tc.tables.rts.All() {
		if rt.VPCID == other.ID {
			tx := tc.db.Begin()
			tc.tables.rts.In(tx).Delete(rt.ID)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	again := tc.reopen(t)
	if got := must[[]RouteTableView](t)(again.DescribeRouteTables(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{other.ID}}})); len(got) != 1 || got[0].MainAssocID == "" {
		t.Fatalf("after a restart, the older VPC's tables: %+v", got)
	}
}
