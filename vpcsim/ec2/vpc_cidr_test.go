package ec2

import (
	"context"
	"net/netip"
	"slices"
	"testing"
)

// Secondary IPv4 blocks: up to the quota, with EC2's refusals; subnets may
// be made in them; every route table, those made later too, routes them
// locally; the kernel's routing and firewall count them as the VPC's; the
// primary block, or one a subnet is in, is not disassociated.
func TestSecondaryCIDRBlocks(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	var assocs []CIDRAssoc
	for _, cidr := range []string{"10.10.43.0/24", "10.10.44.0/24", "100.64.0.0/16", "192.168.0.0/24"} {
		assocs = append(assocs, must[CIDRAssoc](t)(tc.AssociateVpcCIDR(ctx, west, v.ID, cidr)))
	}
	_, err := tc.AssociateVpcCIDR(ctx, west, v.ID, "10.10.50.0/22")
	wantCode(t, err, "CidrLimitExceeded")
	if e, _ := AsAPIError(err); e.Message != "This network "+v.ID+" has met its maximum number of allowed CIDRs: 5" {
		t.Errorf("the quota's message: %q", e.Message)
	}
	must[struct{}](t)(struct{}{}, func() error { _, _, err := tc.DisassociateVpcCIDR(ctx, west, assocs[3].ID); return err }())

	for _, bad := range []string{"10.0.1.0/24", "10.10.43.128/25", "198.19.0.0/16", "10.20.0.0/29", "10.0.0.0/8"} {
		_, err := tc.AssociateVpcCIDR(ctx, west, v.ID, bad)
		wantCode(t, err, "InvalidVpc.Range")
	}
	_, err = tc.AssociateVpcCIDR(ctx, west, "vpc-0123456789abcdef0", "10.30.0.0/16")
	wantCode(t, err, "InvalidVpcID.NotFound")

	got := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, []string{v.ID}, nil))[0]
	if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.10.43.0/24"), netip.MustParsePrefix("10.10.44.0/24"), netip.MustParsePrefix("100.64.0.0/16")}; !slices.Equal(got.CIDRs(), want) {
		t.Errorf("blocks %v, want %v", got.CIDRs(), want)
	}
	byBlock := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "cidr-block-association.cidr-block", Values: []string{"100.64.0.0/16"}}}))
	if len(byBlock) != 1 || byBlock[0].ID != v.ID {
		t.Errorf("VPCs with the block 100.64.0.0/16: %+v", byBlock)
	}

	// Subnets in a secondary block; none outside the blocks.
	sub := tc.subnet(t, v.ID, "100.64.1.0/24")
	_, err = tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.11.0.0/24", AZ: "us-west-2a"})
	wantCode(t, err, "InvalidSubnet.Range")

	// Local routes in every table, a new one too; the kernel's view.
	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	for _, table := range []string{tc.mainTable(t, v.ID).ID, rt.ID} {
		rts := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, []string{table}, nil))
		var local []netip.Prefix
		for _, r := range rts[0].Routes {
			if r.Gateway == "local" {
				local = append(local, r.Dest)
			}
		}
		if !slices.Equal(local, got.CIDRs()) {
			t.Errorf("local routes of %s: %v", table, local)
		}
	}
	if r := tc.dp.Routing(v.ID); !slices.Equal(r.Secondary, got.SecondaryCIDRs()) {
		t.Errorf("the routing's secondary blocks: %v", r.Secondary)
	}
	if fw := tc.dp.Firewall(v.ID); !slices.Equal(fw.Secondary, got.SecondaryCIDRs()) {
		t.Errorf("the firewall's secondary blocks: %v", fw.Secondary)
	}

	// Disassociation.
	_, _, err = tc.DisassociateVpcCIDR(ctx, west, v.CIDRAssociationID)
	wantCode(t, err, "OperationNotPermitted")
	_, _, err = tc.DisassociateVpcCIDR(ctx, west, assocs[2].ID)
	wantCode(t, err, "InvalidCidrBlock.InUse")
	_, _, err = tc.DisassociateVpcCIDR(ctx, west, "vpc-cidr-assoc-0123456789abcdef0")
	wantCode(t, err, "InvalidVpcCidrBlockAssociationID.NotFound")
	must[struct{}](t)(struct{}{}, tc.DeleteSubnet(ctx, west, sub.ID))
	a, vpcID := must2[CIDRAssoc, string](t)(tc.DisassociateVpcCIDR(ctx, west, assocs[2].ID))
	if a.CIDR.String() != "100.64.0.0/16" || vpcID != v.ID {
		t.Errorf("disassociated %+v of %s", a, vpcID)
	}
	if routes := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, []string{rt.ID}, nil))[0].Routes; len(routes) != 3 {
		t.Errorf("routes once a block went: %+v", routes)
	}

	// Kept over a restart.
	tc = tc.reopen(t)
	if got := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, []string{v.ID}, nil))[0]; len(got.Secondary) != 2 {
		t.Errorf("after a restart: %+v", got.Secondary)
	}
}

// A route's destination within a new block refuses it; a peered VPC's
// blocks too; a peering request fails when any blocks overlap.
func TestSecondaryCIDROverlaps(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a, b := tc.vpc(t, "10.31.0.0/16"), tc.vpc(t, "10.32.0.0/16")
	eni := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: tc.subnet(t, a.ID, "10.31.1.0/24").ID}))
	must[struct{}](t)(struct{}{}, tc.CreateRoute(ctx, west, RouteInput{TableID: tc.mainTable(t, a.ID).ID, DestCIDR: "10.40.1.0/24", ENI: eni.ID}))
	_, err := tc.AssociateVpcCIDR(ctx, west, a.ID, "10.40.0.0/16")
	wantCode(t, err, "InvalidVpc.Range")
	must[CIDRAssoc](t)(tc.AssociateVpcCIDR(ctx, west, a.ID, "10.40.1.0/25"))

	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID}))
	must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, west, p.ID))
	_, err = tc.AssociateVpcCIDR(ctx, west, a.ID, "10.32.128.0/17")
	wantCode(t, err, "InvalidVpc.Range")
	must[CIDRAssoc](t)(tc.AssociateVpcCIDR(ctx, west, b.ID, "10.50.0.0/16"))

	c := tc.vpc(t, "10.60.0.0/16")
	must[CIDRAssoc](t)(tc.AssociateVpcCIDR(ctx, west, c.ID, "10.50.0.0/24"))
	q := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: b.ID, PeerVPCID: c.ID}))
	if got := tc.peering(t, west, q.ID); got.State != "failed" {
		t.Errorf("a request between VPCs whose secondary blocks overlap: %+v", got)
	}
}
