package ec2

import (
	"context"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A NAT gateway: refused or failed where AWS refuses or fails it; made, it
// has a requester-managed ENI in its own namespace that masquerades, its
// Elastic IP mapped to that ENI; a private subnet's route to it goes via that
// ENI; deleted, it is described as deleted, its routes are blackholes and its
// Elastic IP stays allocated.
func TestNatGatewayRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	public := tc.subnet(t, v.ID, "10.0.1.0/24")
	private := tc.subnet(t, v.ID, "10.0.2.0/24")
	eip := must[AddressView](t)(tc.AllocateAddress(ctx, west, AllocateAddressInput{}))

	_, err := tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: public.ID})
	wantCode(t, err, "MissingParameter")
	_, err = tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: public.ID, ConnectivityType: "private", AllocationID: eip.ID})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: "subnet-0123456789abcdef0", AllocationID: eip.ID})
	wantCode(t, err, "InvalidSubnetID.NotFound")

	// Without an internet gateway, a public NAT gateway fails.
	failed := must[NatGateway](t)(tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: public.ID, AllocationID: eip.ID}))
	got := must[[]NatGateway](t)(tc.DescribeNatGateways(ctx, west, []string{failed.ID}, nil))
	if got[0].State != "failed" || got[0].FailureCode != "Gateway.NotAttached" || got[0].ENIID != "" {
		t.Fatalf("a NAT gateway without an internet gateway: %+v", got[0])
	}

	igw := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, nil))
	if err := tc.AttachInternetGateway(ctx, west, igw.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	g := must[NatGateway](t)(tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: public.ID, AllocationID: eip.ID, Tags: []Tag{{Key: "Name", Value: "nat"}}}))
	if g.State != "pending" || g.PublicIP != eip.Public || !g.PrivateIP.IsValid() {
		t.Fatalf("CreateNatGateway answered %+v", g)
	}
	// A retry with the same client token gets the same gateway.
	tokened := must[NatGateway](t)(tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: private.ID, ConnectivityType: "private", ClientToken: "tok"}))
	if again := must[NatGateway](t)(tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: private.ID, ConnectivityType: "private", ClientToken: "tok"})); again.ID != tokened.ID {
		t.Fatalf("a retry made %s, the first try %s", again.ID, tokened.ID)
	}
	must[string](t)(tc.DeleteNatGateway(ctx, west, tokened.ID))
	if got := must[[]NatGateway](t)(tc.DescribeNatGateways(ctx, west, nil, []Filter{{Name: "state", Values: []string{"available"}}, {Name: "tag:Name", Values: []string{"nat"}}})); len(got) != 1 || got[0].ID != g.ID {
		t.Fatalf("available NAT gateways named nat: %+v", got)
	}
	e := tc.eniByID(t, g.ENIID)
	if e.InterfaceType != "nat_gateway" || !e.RequesterManaged || e.SourceDestCheck || len(e.Groups) != 0 || e.PrivateIPs[0].AllocationID != eip.ID {
		t.Fatalf("the NAT gateway's ENI: %+v", e)
	}
	if !slices.Contains(tc.dp.Trace, "ensure-nat "+g.ID) {
		t.Fatalf("the kernel was not asked to masquerade in %s: %v", g.ID, tc.dp.Trace)
	}
	// An Elastic IP already associated: the gateway fails, as on AWS.
	taken := must[NatGateway](t)(tc.CreateNatGateway(ctx, west, CreateNatGatewayInput{SubnetID: public.ID, AllocationID: eip.ID}))
	if got := must[[]NatGateway](t)(tc.DescribeNatGateways(ctx, west, []string{taken.ID}, nil)); got[0].State != "failed" || got[0].FailureCode != "Resource.AlreadyAssociated" {
		t.Fatalf("a NAT gateway with an Elastic IP already associated: %+v", got[0])
	}
	// Its address is the gateway's, not to be moved or taken away.
	other := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: public.ID}))
	_, err = tc.AssociateAddress(ctx, west, AssociateAddressInput{AllocationID: eip.ID, ENIID: other.ID, AllowReassociation: true})
	wantCode(t, err, "Resource.AlreadyAssociated")
	wantCode(t, tc.DisassociateAddress(ctx, west, g.AssociationID, ""), "InvalidIPAddress.InUse")
	wantCode(t, tc.ReleaseAddress(ctx, west, eip.ID, ""), "InvalidIPAddress.InUse")
	wantCode(t, tc.DeleteNetworkInterface(ctx, west, e.ID), "InvalidNetworkInterface.InUse")

	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	must[string](t)(tc.AssociateRouteTable(ctx, west, rt.ID, private.ID, ""))
	if err := tc.CreateRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "0.0.0.0/0", NatGateway: g.ID}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.CreateRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "10.9.0.0/16", NatGateway: failed.ID}), "InvalidNatGatewayID.NotFound")
	natRoute := func() netmodel.Route {
		t.Helper()
		for _, s := range tc.dp.Routing(v.ID).Subnets {
			if s.SubnetID == private.ID && len(s.Routes) == 1 {
				return s.Routes[0]
			}
		}
		t.Fatalf("the private subnet's routing: %+v", tc.dp.Routing(v.ID))
		return netmodel.Route{}
	}
	if r := natRoute(); r.Target != netmodel.RouteENI || r.Via != g.PrivateIP || r.ViaSubnet != public.ID {
		t.Fatalf("the route to the NAT gateway in the kernel: %+v", r)
	}
	if r := tc.dp.Routing(v.ID); r.Internet == nil || !slices.Contains(r.Internet.NAT, netmodel.PublicMapping{Public: eip.Public, Private: g.PrivateIP}) {
		t.Fatalf("the internet gateway does not translate the NAT gateway's address: %+v", r.Internet)
	}

	if id := must[string](t)(tc.DeleteNatGateway(ctx, west, g.ID)); id != g.ID {
		t.Fatalf("DeleteNatGateway answered %s", id)
	}
	got = must[[]NatGateway](t)(tc.DescribeNatGateways(ctx, west, []string{g.ID}, nil))
	if got[0].State != "deleted" || got[0].DeleteTime.IsZero() {
		t.Fatalf("after DeleteNatGateway: %+v", got[0])
	}
	_, err = tc.DeleteNatGateway(ctx, west, g.ID)
	wantCode(t, err, "NatGatewayNotFound")
	if r := natRoute(); r.Target != netmodel.RouteBlackhole {
		t.Fatalf("the route to a deleted NAT gateway: %+v", r)
	}
	if st := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, []string{rt.ID}, nil))[0].Routes[1].State; st != "blackhole" {
		t.Errorf("DescribeRouteTables: the route to a deleted NAT gateway is %s", st)
	}
	if a := must[[]AddressView](t)(tc.DescribeAddresses(ctx, west, []string{eip.ID}, nil, nil)); a[0].AssociationID != "" {
		t.Errorf("the Elastic IP is still associated: %+v", a[0])
	}
	if !slices.Contains(tc.dp.Trace, "delete-host "+g.ID) {
		t.Errorf("the NAT gateway's namespace was not removed: %v", tc.dp.Trace)
	}
	// A restart keeps the deleted gateway described.
	tc = tc.reopen(t)
	if got := must[[]NatGateway](t)(tc.DescribeNatGateways(ctx, west, nil, nil)); len(got) != 4 {
		t.Fatalf("after a restart: %+v", got)
	}
}
