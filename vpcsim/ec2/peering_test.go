package ec2

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

var east = Scope{Region: "us-east-1"}

// A peering request waits for acceptance; routes over it are blackholes
// until then; once active the kernel links the two VPCs and the routes
// carry; deleting it unlinks them and the routes are blackholes again.
func TestPeeringLifecycle(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a, b := tc.vpc(t, "10.31.0.0/16"), tc.vpc(t, "10.32.0.0/16")
	tc.subnet(t, a.ID, "10.31.1.0/24")
	tc.subnet(t, b.ID, "10.32.1.0/24")

	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID, Tags: []Tag{{Key: "Name", Value: "ab"}}}))
	if p.State != "initiating-request" || p.StatusMessage() != "Initiating Request to "+tc.account || p.Requester.CIDR.String() != "10.31.0.0/16" {
		t.Errorf("created %+v (%s)", p, p.StatusMessage())
	}
	// Asked again: the same request; the other way round: one that fails
	// (two VPCs have one connection at most).
	if again := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID})); again.ID != p.ID {
		t.Errorf("a second request made %s, want %s", again.ID, p.ID)
	}
	back := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: b.ID, PeerVPCID: a.ID}))
	if back.ID == p.ID || back.State != "initiating-request" || tc.peering(t, west, back.ID).State != "failed" {
		t.Errorf("a request the other way round: %+v", back)
	}
	// A block that would overlap the pending peer's is refused.
	_, err := tc.AssociateVpcCIDR(ctx, west, a.ID, "10.32.128.0/17")
	wantCode(t, err, "InvalidVpc.Range")
	got := tc.peering(t, west, p.ID)
	if got.State != "pending-acceptance" || got.StatusMessage() != "Pending Acceptance by "+tc.account || got.ExpirationTime().IsZero() {
		t.Errorf("described %+v (%s)", got, got.StatusMessage())
	}
	wantCode(t, tc.DeleteVpc(ctx, west, b.ID), "DependencyViolation")

	mainA, mainB := tc.mainTable(t, a.ID), tc.mainTable(t, b.ID)
	must[struct{}](t)(struct{}{}, tc.CreateRoute(ctx, west, RouteInput{TableID: mainA.ID, DestCIDR: "10.32.0.0/16", Peering: p.ID}))
	must[struct{}](t)(struct{}{}, tc.CreateRoute(ctx, west, RouteInput{TableID: mainB.ID, DestCIDR: "10.31.0.0/16", Peering: p.ID}))
	other := tc.vpc(t, "10.33.0.0/16")
	wantCode(t, tc.CreateRoute(ctx, west, RouteInput{TableID: tc.mainTable(t, other.ID).ID, DestCIDR: "10.32.0.0/16", Peering: p.ID}), "InvalidParameterValue")
	if st := tc.mainTable(t, a.ID).Routes[1].State; st != "blackhole" {
		t.Errorf("a route over a pending connection is %s", st)
	}
	if r := tc.dp.Routing(a.ID); len(r.Peerings) != 0 || r.Subnets[0].Routes[0].Target != netmodel.RouteBlackhole {
		t.Errorf("routing of A while pending: %+v", r)
	}

	acc := must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, west, p.ID))
	if acc.State != "provisioning" || acc.Accepter.CIDR.String() != "10.32.0.0/16" {
		t.Errorf("accepted %+v", acc)
	}
	wantCode(t, func() error { _, err := tc.AcceptVpcPeering(ctx, west, p.ID); return err }(), "InvalidStateTransition")
	wantCode(t, tc.RejectVpcPeering(ctx, west, p.ID), "InvalidStateTransition")
	if st := tc.mainTable(t, a.ID).Routes[1].State; st != "active" {
		t.Errorf("a route over an active connection is %s", st)
	}
	for _, side := range []struct{ vpc, peer string }{{a.ID, b.ID}, {b.ID, a.ID}} {
		r := tc.dp.Routing(side.vpc)
		want := []netmodel.PeeringLink{{ID: p.ID, PeerVPCID: side.peer}}
		if !slices.Equal(r.Peerings, want) || r.Subnets[0].Routes[0] != (netmodel.Route{Dest: r.Subnets[0].Routes[0].Dest, Target: netmodel.RoutePeering, Peering: p.ID}) {
			t.Errorf("routing of %s while active: %+v", side.vpc, r)
		}
	}
	wantCode(t, tc.DeleteVpc(ctx, west, a.ID), "DependencyViolation")

	// Options describe only.
	yes := true
	req, _ := must2[PeeringSide, PeeringSide](t)(tc.ModifyVpcPeeringOptions(ctx, west, PeeringOptionsInput{ID: p.ID, Requester: &PeeringOptions{AllowDNSResolution: &yes}}))
	if !req.AllowDNSResolution || !tc.peering(t, west, p.ID).Requester.AllowDNSResolution {
		t.Errorf("options not stored: %+v", req)
	}

	// Described by its filters, and kept over a restart.
	for _, f := range []Filter{
		{Name: "status-code", Values: []string{"active"}},
		{Name: "accepter-vpc-info.cidr-block", Values: []string{"10.32.0.0/16"}},
		{Name: "requester-vpc-info.vpc-id", Values: []string{a.ID}},
		{Name: "tag:Name", Values: []string{"ab"}},
	} {
		if got := must[[]VpcPeering](t)(tc.DescribeVpcPeerings(ctx, west, nil, []Filter{f})); len(got) != 1 || got[0].ID != p.ID {
			t.Errorf("filter %v: %+v", f, got)
		}
	}
	tc = tc.reopen(t)
	if got := tc.peering(t, west, p.ID); got.State != "active" {
		t.Fatalf("after a restart: %+v", got)
	}

	must[struct{}](t)(struct{}{}, tc.DeleteVpcPeering(ctx, west, p.ID))
	if got := tc.peering(t, west, p.ID); got.State != "deleted" || got.StatusMessage() != "Deleted by "+tc.account {
		t.Errorf("deleted: %+v (%s)", got, got.StatusMessage())
	}
	wantCode(t, tc.DeleteVpcPeering(ctx, west, p.ID), "InvalidStateTransition")
	if st := tc.mainTable(t, a.ID).Routes[1].State; st != "blackhole" {
		t.Errorf("a route over a deleted connection is %s", st)
	}
	if r := tc.dp.Routing(b.ID); len(r.Peerings) != 0 {
		t.Errorf("routing of B after the deletion: %+v", r)
	}
}

// Requests the peer cannot take are taken and fail; the account's own VPC
// that does not exist is refused at once.
func TestPeeringRefusals(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a, overlap := tc.vpc(t, "10.31.0.0/16"), tc.vpc(t, "10.31.128.0/17")
	_, err := tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: "vpc-0123456789abcdef0"})
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: "vpc-zz"})
	wantCode(t, err, "InvalidVpcID.Malformed")
	_, err = tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID})
	wantCode(t, err, "MissingParameter")
	for _, in := range []CreatePeeringInput{
		{VPCID: a.ID, PeerVPCID: overlap.ID},
		{VPCID: a.ID, PeerVPCID: a.ID},
		{VPCID: a.ID, PeerVPCID: "vpc-0123456789abcdef0", PeerRegion: "us-east-1"},
		{VPCID: a.ID, PeerVPCID: overlap.ID, PeerOwnerID: "111122223333"},
	} {
		p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, in))
		got := tc.peering(t, west, p.ID)
		if got.State != "failed" || got.StatusMessage() != pcxFailedMessage {
			t.Errorf("%+v: %+v", in, got)
		}
		wantCode(t, tc.DeleteVpcPeering(ctx, west, p.ID), "InvalidStateTransition")
	}
	// A failed request does not hold the VPC.
	must[struct{}](t)(struct{}{}, tc.DeleteVpc(ctx, west, overlap.ID))
	wantCode(t, tc.DeleteVpcPeering(ctx, west, "pcx-0123456789abcdef0"), "InvalidVpcPeeringConnectionID.NotFound")
	wantCode(t, tc.DeleteVpcPeering(ctx, west, "pcx-"), "InvalidVpcPeeringConnectionId.Malformed")
	_, _, err = tc.ModifyVpcPeeringOptions(ctx, west, PeeringOptionsInput{ID: "pcx-0123456789abcdef0"})
	wantCode(t, err, "MissingParameter")
}

// A connection between regions is seen from both, accepted (or rejected)
// only in the accepter's, and links the VPCs as one in a region does.
func TestPeeringAcrossRegions(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a := tc.vpc(t, "10.31.0.0/16")
	b := must[VPC](t)(tc.CreateVpc(ctx, east, CreateVpcInput{CIDRBlock: "10.32.0.0/16"}))
	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID, PeerRegion: "us-east-1"}))
	if got := tc.peering(t, east, p.ID); got.State != "pending-acceptance" || got.Accepter.Region != "us-east-1" || got.Requester.Region != "us-west-2" {
		t.Errorf("seen from the accepter's region: %+v", got)
	}
	_, err := tc.AcceptVpcPeering(ctx, west, p.ID)
	wantCode(t, err, "OperationNotPermitted")
	wantCode(t, tc.DeleteVpcPeering(ctx, east, p.ID), "OperationNotPermitted")
	wantCode(t, func() error {
		_, err := tc.DescribeVpcPeerings(ctx, Scope{Region: "eu-west-1"}, []string{p.ID}, nil)
		return err
	}(), "InvalidVpcPeeringConnectionID.NotFound")
	must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, east, p.ID))
	if r := tc.dp.Routing(b.ID); len(r.Peerings) != 1 || r.Peerings[0].PeerVPCID != a.ID {
		t.Errorf("routing of the accepter: %+v", r)
	}
	must[struct{}](t)(struct{}{}, tc.DeleteVpcPeering(ctx, east, p.ID))

	q := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID, PeerRegion: "us-east-1"}))
	must[struct{}](t)(struct{}{}, tc.RejectVpcPeering(ctx, east, q.ID))
	if got := tc.peering(t, west, q.ID); got.State != "rejected" || got.StatusMessage() != "Rejected by "+tc.account {
		t.Errorf("rejected: %+v", got)
	}
}

// A request not accepted in 7 days expires; a connection that ended is
// described for 2 hours, then no more.
func TestPeeringExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tc := newTestCloud(t, WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	a, b, c := tc.vpc(t, "10.31.0.0/16"), tc.vpc(t, "10.32.0.0/16"), tc.vpc(t, "10.33.0.0/16")
	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID}))
	q := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: c.ID, PeerVPCID: a.ID}))
	must[struct{}](t)(struct{}{}, tc.RejectVpcPeering(ctx, west, q.ID))
	advance(2*time.Hour + time.Second)
	wantCode(t, func() error { _, err := tc.DescribeVpcPeerings(ctx, west, []string{q.ID}, nil); return err }(), "InvalidVpcPeeringConnectionID.NotFound")
	advance(7 * 24 * time.Hour)
	if got := tc.peering(t, west, p.ID); got.State != "expired" {
		t.Errorf("a week later: %+v", got)
	}
	_, err := tc.AcceptVpcPeering(ctx, west, p.ID)
	wantCode(t, err, "InvalidStateTransition")
	must[struct{}](t)(struct{}{}, tc.DeleteVpc(ctx, west, a.ID))
}

func (tc *testCloud) peering(t *testing.T, s Scope, id string) VpcPeering {
	t.Helper()
	got := must[[]VpcPeering](t)(tc.DescribeVpcPeerings(context.Background(), s, []string{id}, nil))
	if len(got) != 1 {
		t.Fatalf("peering %s: %+v", id, got)
	}
	return got[0]
}

func must2[A, B any](t testing.TB) func(A, B, error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// A rule may reference a peered VPC's group: the kernel's set of that group
// holds the peer's members, and follows them; without the peering the rule
// is refused, and once the peering goes the rule stays, stale, with an
// empty set, until a new peering makes it whole.
func TestPeeredGroupReferences(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a, b := tc.vpc(t, "10.31.0.0/16"), tc.vpc(t, "10.32.0.0/16")
	subA, subB := tc.subnet(t, a.ID, "10.31.1.0/24"), tc.subnet(t, b.ID, "10.32.1.0/24")
	web := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: a.ID, Name: "web", Description: "web"}))
	clients := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: b.ID, Name: "clients", Description: "clients"}))
	port := int32(80)
	fromClients := AuthorizeInput{Group: GroupRef{ID: web.ID}, Permissions: []Permission{{Protocol: "tcp", FromPort: &port, ToPort: &port, Groups: []Peer{{Value: clients.ID}}}}}
	_, err := tc.AuthorizeSecurityGroup(ctx, west, fromClients)
	wantCode(t, err, "InvalidGroup.NotFound")

	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: b.ID}))
	must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, west, p.ID))
	must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: subA.ID, Groups: []string{web.ID}}))
	c1 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: subB.ID, PrivateIPAddress: "10.32.1.10", Groups: []string{clients.ID}}))
	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, fromClients))
	if rules[0].PeerVPCID != b.ID || rules[0].Peering != p.ID {
		t.Errorf("the rule: %+v", rules[0])
	}
	members := func() []netip.Addr { return tc.dp.Firewall(a.ID).Members[clients.ID] }
	if got := members(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.32.1.10")}) {
		t.Errorf("the peer group's set in A: %v", got)
	}
	// The set follows the peer's members.
	must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: subB.ID, PrivateIPAddress: "10.32.1.11", Groups: []string{clients.ID}}))
	if got := members(); len(got) != 2 {
		t.Errorf("the peer group's set with a second member: %v", got)
	}
	refs := must[[]SecurityGroupReference](t)(tc.DescribeSecurityGroupReferences(ctx, west, []string{clients.ID}))
	if len(refs) != 1 || refs[0] != (SecurityGroupReference{GroupID: clients.ID, ReferencingVPCID: a.ID, PeeringID: p.ID}) {
		t.Errorf("references of %s: %+v", clients.ID, refs)
	}
	if stale := must[[]SecurityGroup](t)(tc.DescribeStaleSecurityGroups(ctx, west, a.ID)); len(stale) != 0 {
		t.Errorf("stale while peered: %+v", stale)
	}

	// Without the peering the set is empty and the rule stale.
	must[struct{}](t)(struct{}{}, tc.DeleteVpcPeering(ctx, west, p.ID))
	if got := members(); len(got) != 0 {
		t.Errorf("the peer group's set once unpeered: %v", got)
	}
	stale := must[[]SecurityGroup](t)(tc.DescribeStaleSecurityGroups(ctx, west, a.ID))
	if len(stale) != 1 || stale[0].ID != web.ID || len(stale[0].Rules) != 1 || stale[0].Rules[0].PeeringStatus != "deleted" || stale[0].Rules[0].Peering != p.ID {
		t.Errorf("stale once unpeered: %+v", stale)
	}
	// A member that changes meanwhile is not in it; a new peering brings all.
	must[struct{}](t)(struct{}{}, tc.DeleteNetworkInterface(ctx, west, c1.ID))
	q := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: b.ID, PeerVPCID: a.ID}))
	must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, west, q.ID))
	if got := members(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.32.1.11")}) {
		t.Errorf("the peer group's set once peered again: %v", got)
	}
	// The peer's group may go: the rule is stale again.
	must[struct{}](t)(struct{}{}, tc.DeleteVpcPeering(ctx, west, q.ID))
	_, err = tc.RevokeSecurityGroup(ctx, west, fromClients)
	if err != nil {
		t.Errorf("revoking a stale rule: %v", err)
	}
}

// Neither side of a pending request across regions may take a block that
// overlaps the other's; the connection, accepted, carries both sides'
// blocks as they are then.
func TestPeeringBlocksAcrossRegions(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a := tc.vpc(t, "10.31.0.0/16")
	c := must[VPC](t)(tc.CreateVpc(ctx, east, CreateVpcInput{CIDRBlock: "10.33.0.0/16"}))
	p := must[VpcPeering](t)(tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a.ID, PeerVPCID: c.ID, PeerRegion: "us-east-1"}))
	_, err := tc.AssociateVpcCIDR(ctx, east, c.ID, "10.31.128.0/17")
	wantCode(t, err, "InvalidVpc.Range")
	must[CIDRAssoc](t)(tc.AssociateVpcCIDR(ctx, east, c.ID, "10.34.0.0/16"))
	must[VpcPeering](t)(tc.AcceptVpcPeering(ctx, east, p.ID))
	if got := tc.peering(t, west, p.ID); got.State != "active" || !slices.Equal(got.Accepter.Secondary, []netip.Prefix{netip.MustParsePrefix("10.34.0.0/16")}) {
		t.Errorf("accepted: %+v", got)
	}
}
