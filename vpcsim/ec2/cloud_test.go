package ec2

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

var west = Scope{Region: "us-west-2"}

type testCloud struct {
	*Cloud
	dp    *netmodeltest.FakeDataplane
	store *vpcsim.MemStore
}

func newTestCloud(t *testing.T, opts ...Option) *testCloud {
	t.Helper()
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	c, err := New(context.Background(), st, dp, append([]Option{WithInPlaceCheck()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	return &testCloud{c, dp, st}
}

// reopen starts a second Cloud on the same store and dataplane, as a restart does.
func (tc *testCloud) reopen(t *testing.T, opts ...Option) *testCloud {
	t.Helper()
	tc.Wait()
	c, err := New(context.Background(), tc.store, tc.dp, append([]Option{WithInPlaceCheck()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	return &testCloud{c, tc.dp, tc.store}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := AsAPIError(err)
	if !ok {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Message, code)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (tc *testCloud) vpc(t *testing.T, cidr string) VPC {
	t.Helper()
	return must[VPC](t)(tc.CreateVpc(context.Background(), west, CreateVpcInput{CIDRBlock: cidr}))
}

func (tc *testCloud) subnet(t *testing.T, vpc, cidr string) Subnet {
	t.Helper()
	return must[Subnet](t)(tc.CreateSubnet(context.Background(), west, CreateSubnetInput{VPCID: vpc, CIDR: cidr, AZ: "us-west-2a"}))
}

func TestDefaultVPCOnFirstUse(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpcs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "is-default", Values: []string{"true"}}}))
	if len(vpcs) != 1 || vpcs[0].CIDR.String() != "172.31.0.0/16" {
		t.Fatalf("default VPC: %+v", vpcs)
	}
	subs := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, nil, []Filter{{Name: "default-for-az", Values: []string{"true"}}}))
	if len(subs) != 3 {
		t.Fatalf("want a default subnet per AZ, got %d", len(subs))
	}
	for _, s := range subs {
		if s.CIDR.Bits() != 20 || s.AvailableIPs != 4091 || !s.MapPublicIPOnLaunch {
			t.Errorf("default subnet %+v", s)
		}
	}
	groups := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, []string{"default"}, nil))
	if len(groups) != 1 || groups[0].Description != "default VPC security group" || len(groups[0].Rules) != 2 {
		t.Fatalf("default group: %+v", groups)
	}
	// Another region gets its own.
	east := must[[]VPC](t)(tc.DescribeVpcs(ctx, Scope{Region: "us-east-1"}, nil, nil))
	if len(east) != 1 || east[0].ID == vpcs[0].ID {
		t.Fatalf("us-east-1 VPCs %+v", east)
	}
	if len(tc.dp.VPCs) != 2 || len(tc.dp.Subs) != 6 {
		t.Fatalf("kernel: %v", tc.dp.Objects())
	}
}

func TestVPCRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	for _, tt := range []struct{ cidr, code string }{
		{"10.0.0.0/8", "InvalidVpc.Range"},
		{"10.0.0.0/29", "InvalidVpc.Range"},
		{"10.0.0.300/16", "InvalidParameterValue"},
		{"", "MissingParameter"},
	} {
		_, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: tt.cidr})
		wantCode(t, err, tt.code)
	}
	v := must[VPC](t)(tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "100.68.0.18/18", Tags: []Tag{{"Name", "x"}}}))
	if v.CIDR.String() != "100.68.0.0/18" || v.State != "pending" {
		t.Fatalf("created %+v", v)
	}
	got := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "tag:Name", Values: []string{"x"}}}))
	if len(got) != 1 || got[0].ID != v.ID || got[0].State != "available" {
		t.Fatalf("tag filter: %+v", got)
	}
	_, err := tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "nonsense", Values: []string{"x"}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.DescribeVpcs(ctx, west, []string{"vpc-0123456789abcdef0"}, nil)
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = tc.DescribeVpcs(ctx, Scope{Region: "eu-west-1"}, []string{v.ID}, nil)
	wantCode(t, err, "InvalidVpcID.NotFound") // resources are per region
	_, err = tc.DescribeVpcs(ctx, west, []string{"bogus"}, nil)
	wantCode(t, err, "InvalidVpcID.Malformed")

	sub := tc.subnet(t, v.ID, "100.68.1.0/24")
	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")
	if err := tc.DeleteSubnet(ctx, west, sub.ID); err != nil {
		t.Fatal(err)
	}
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "g", Description: "g"}))
	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")
	if err := tc.DeleteSecurityGroup(ctx, west, GroupRef{ID: g.ID}); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteVpc(ctx, west, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := tc.dp.VPCs[v.ID]; ok {
		t.Fatal("namespace of a deleted VPC remains")
	}
	for grp := range tc.tables.groups.All() {
		if grp.VPCID == v.ID {
			t.Fatal("the deleted VPC's default group remains")
		}
	}
	if err := tc.ModifyVpcAttribute(ctx, west, tc.vpc(t, "10.1.0.0/16").ID, AttrEnableDNSHostnames, true); err != nil {
		t.Fatal(err)
	}
}

func TestSubnetRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a := tc.subnet(t, v.ID, "10.0.0.0/24")
	if a.AvailableIPs != 251 {
		t.Fatalf("a /24 offers %d, want 251", a.AvailableIPs)
	}
	for _, tt := range []struct{ cidr, az, code string }{
		{"10.0.0.128/25", "", "InvalidSubnet.Conflict"},
		{"10.1.0.0/24", "", "InvalidSubnet.Range"},
		{"10.0.9.0/29", "", "InvalidSubnet.Range"},
		{"10.0.0.0/15", "", "InvalidSubnet.Range"},
		{"10.0.9.0/24", "us-east-1a", "InvalidParameterValue"},
		{"nonsense", "", "InvalidParameterValue"},
	} {
		_, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: tt.cidr, AZ: tt.az})
		wantCode(t, err, tt.code)
	}
	_, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: "vpc-0123456789abcdef0", CIDR: "10.0.2.0/24"})
	wantCode(t, err, "InvalidVpcID.NotFound")

	// A /28 has 11 usable addresses; the twelfth ENI finds none.
	tiny := tc.subnet(t, v.ID, "10.0.5.0/28")
	for i := 0; i < 11; i++ {
		e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: tiny.ID}))
		if ip := e.PrimaryIP(); reservedAddr(tiny.CIDR, ip) || !tiny.CIDR.Contains(ip) {
			t.Fatalf("handed out %s", ip)
		}
	}
	_, err = tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: tiny.ID})
	wantCode(t, err, "InsufficientFreeAddressesInSubnet")
	got := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, []string{tiny.ID}, nil))
	if got[0].AvailableIPs != 0 {
		t.Fatalf("full /28 shows %d available", got[0].AvailableIPs)
	}
	wantCode(t, tc.DeleteSubnet(ctx, west, tiny.ID), "DependencyViolation")
}

func TestFailedKernelLeavesNothing(t *testing.T) {
	tc := quotaCloud(t, "local", "vpcs=2") // the default VPC and one
	ctx := context.Background()
	// A VPC whose namespace cannot be made, or that the store refuses, leaves
	// no record, no namespace and no place in the quota.
	must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, nil)) // the default VPC is made first
	tc.dp.Fail["ensure-vpc"] = errors.New("no namespace for you")
	if _, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"}); err == nil || !strings.Contains(err.Error(), "no namespace") {
		t.Fatalf("CreateVpc with a failing kernel: %v", err)
	}
	delete(tc.dp.Fail, "ensure-vpc")
	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("CreateVpc with a failing store: %v", err)
	}
	if vpcs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, nil)); len(vpcs) != 1 || len(tc.dp.VPCs) != 1 || len(tc.makingVPCs) != 0 {
		t.Fatalf("half-made VPC: %+v, kernel %v, being made %v", vpcs, tc.dp.Objects(), tc.makingVPCs)
	}
	v := tc.vpc(t, "10.0.0.0/16")

	tc.dp.Fail["ensure-subnet"] = errors.New("no bridge for you")
	if _, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.1.0/24"}); err == nil || !strings.Contains(err.Error(), "no bridge") {
		t.Fatalf("CreateSubnet with a failing kernel: %v", err)
	}
	delete(tc.dp.Fail, "ensure-subnet")
	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.1.0/24"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("CreateSubnet with a failing store: %v", err)
	}
	subs := must[[]Subnet](t)(tc.DescribeSubnets(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}}))
	if len(subs) != 0 || len(tc.dp.Calls("delete-subnet")) != 2 || len(tc.makingSubnets) != 0 {
		t.Fatalf("half-made subnet: %+v, trace %v, being made %v", subs, tc.dp.Trace, tc.makingSubnets)
	}
	for _, sub := range tc.dp.Subs {
		if sub.VPCID == v.ID {
			t.Fatalf("bridge left behind: %v", tc.dp.Objects())
		}
	}
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")

	// The store refuses: the ENI's veth is removed and its address is free again.
	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}); err == nil {
		t.Fatal("want an error")
	}
	if len(tc.dp.ENIs) != 0 {
		t.Fatalf("veth left behind: %v", tc.dp.Objects())
	}
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	if e.PrimaryIP() != netip.MustParseAddr("10.0.1.4") {
		t.Fatalf("first address after a failed create is %s, want 10.0.1.4", e.PrimaryIP())
	}

	// A bridge or namespace that cannot be removed is logged for the
	// reconciler: the deletion stands, and its VPC is not left busy.
	if err := tc.DeleteNetworkInterface(ctx, west, e.ID); err != nil {
		t.Fatal(err)
	}
	tc.dp.Fail["delete-subnet"] = errors.New("bridge stuck")
	if err := tc.DeleteSubnet(ctx, west, sub.ID); err != nil {
		t.Fatal(err)
	}
	delete(tc.dp.Fail, "delete-subnet")
	if len(tc.busy) != 0 {
		t.Fatalf("a failed bridge removal left busy %v", tc.busy)
	}
	again := tc.subnet(t, v.ID, "10.0.2.0/24")
	if err := tc.DeleteSubnet(ctx, west, again.ID); err != nil {
		t.Fatal(err)
	}
	tc.dp.Fail["delete-vpc"] = errors.New("namespace stuck")
	if err := tc.DeleteVpc(ctx, west, v.ID); err != nil {
		t.Fatal(err)
	}
	delete(tc.dp.Fail, "delete-vpc")
	if _, err := tc.DescribeVpcs(ctx, west, []string{v.ID}, nil); err == nil {
		t.Fatal("a VPC whose namespace could not be removed is still listed")
	}
}

func TestRestartServesTheSameState(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))
	tc.Wait()

	again := tc.reopen(t)
	got := must[[]ENI](t)(again.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))
	if got[0].PrimaryIP() != e.PrimaryIP() || got[0].MAC != e.MAC {
		t.Fatalf("after restart %+v, before %+v", got[0], e)
	}
	is := must[[]Instance](t)(again.DescribeInstances(ctx, west, []string{insts[0].ID}, nil))
	if is[0].State != StateRunning || len(is[0].ENIs) != 1 {
		t.Fatalf("instance after restart: %+v", is[0])
	}
	subs := must[[]Subnet](t)(again.DescribeSubnets(ctx, west, []string{sub.ID}, nil))
	if subs[0].AvailableIPs != 249 {
		t.Fatalf("available after restart %d, want 249", subs[0].AvailableIPs)
	}
	// The restart reconciled the kernel to the model: the instance is up with its ENI inside.
	if !tc.dp.Hosts[insts[0].ID] || tc.dp.ENIs[is[0].ENIs[0].ID].Host != insts[0].ID {
		t.Fatalf("kernel after restart: %v", tc.dp.Objects())
	}
	// No address is handed out twice after a restart.
	e2 := must[ENI](t)(again.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	if e2.PrimaryIP() == e.PrimaryIP() || e2.PrimaryIP() == is[0].ENIs[0].PrimaryIP() {
		t.Fatalf("address %s handed out twice", e2.PrimaryIP())
	}
}

// Namespaces another domain owns (ECS bridge tasks) survive the start-up
// reconciliation while claimed in the store; once released they are strays.
func TestHostClaims(t *testing.T) {
	ctx := context.Background()
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	c, err := New(ctx, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ClaimHost(ctx, west, "task-1", "arn:task/1"); err != nil {
		t.Fatal(err)
	}
	if err := c.ClaimHost(ctx, west, "task-1", "arn:task/other"); err != nil {
		t.Fatal(err)
	}
	if got := c.HostClaims(); len(got) != 1 || got[0].Owner != "arn:task/1" {
		t.Fatalf("claims %+v", got)
	}
	dp.Hosts["task-1"], dp.Hosts["task-2"] = true, true // made by their owner
	if _, err := New(ctx, st, dp); err != nil {
		t.Fatal(err)
	}
	if !dp.Hosts["task-1"] || dp.Hosts["task-2"] {
		t.Fatalf("after reconcile, want task-1 kept and task-2 gone: %v", dp.Objects())
	}
	again, err := New(ctx, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.ReleaseHost(ctx, "task-1"); err != nil {
		t.Fatal(err)
	}
	if err := again.ReleaseHost(ctx, "task-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, st, dp); err != nil {
		t.Fatal(err)
	}
	if dp.Hosts["task-1"] {
		t.Fatalf("a released host survived the reconciliation: %v", dp.Objects())
	}
}

// TestHostClaimsAfterUpgrade: a database from before host claims has none for
// the namespaces ECS made (bridge and none mode tasks). Its first start keeps
// every host namespace, so that ECS can claim those of its live tasks; the
// next start removes those nobody claimed. A database that has recorded
// claims all along removes them at once.
func TestHostClaimsAfterUpgrade(t *testing.T) {
	ctx := context.Background()
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	if _, err := New(ctx, st, dp); err != nil {
		t.Fatal(err)
	}
	dp.Hosts["task-live"], dp.Hosts["task-dead"] = true, true // made by ECS before it claimed hosts
	if err := st.Apply([]storage.Change{{Kind: markerKind.Name, ID: markerHostClaims}}); err != nil {
		t.Fatal(err) // the database as a vpcsim before host claims left it
	}
	c, err := New(ctx, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	if !dp.Hosts["task-live"] || !dp.Hosts["task-dead"] {
		t.Fatalf("the first start after the upgrade removed a task's namespace: %v", dp.Objects())
	}
	if err := c.ClaimHost(ctx, west, "task-live", "arn:task/live"); err != nil { // ECS, as it starts
		t.Fatal(err)
	}
	if _, err := New(ctx, st, dp); err != nil {
		t.Fatal(err)
	}
	if !dp.Hosts["task-live"] || dp.Hosts["task-dead"] {
		t.Fatalf("the next start: want task-live kept and task-dead gone: %v", dp.Objects())
	}
	dp.Hosts["task-other"] = true
	if _, err := New(ctx, st, dp); err != nil {
		t.Fatal(err)
	}
	if dp.Hosts["task-other"] {
		t.Fatalf("an unclaimed namespace survived a start of a database with claims: %v", dp.Objects())
	}
}

// TestStraysKept: a Cloud over a new store keeps what the dataplane holds
// that the store does not know; over a store that knows the machine, the
// same objects are strays and go.
func TestStraysKept(t *testing.T) {
	for _, keep := range []bool{true, false} {
		dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
		dp.VPCs["vpc-0123456789abcdef0"] = netmodel.NetVPC{ID: "vpc-0123456789abcdef0"}
		dp.Hosts["i-0123456789abcdef0"] = true
		var opts []Option
		if keep {
			opts = append(opts, WithStraysKept())
		}
		if _, err := New(context.Background(), st, dp, opts...); err != nil {
			t.Fatal(err)
		}
		if got := len(dp.Objects()) == 2; got != keep {
			t.Errorf("WithStraysKept %v: the dataplane holds %v", keep, dp.Objects())
		}
	}
}

// A subnet is one Linux bridge, which takes 1,024 ports: the 1,024th ENI of a
// subnet finds it full as a subnet without free addresses, whatever makes it
// (RunInstances counts the ENIs it plans, and launches what fits).
func TestSubnetHoldsAsManyENIsAsABridge(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := must[VPC](t)(tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"}))
	sub := tc.subnet(t, v.ID, "10.0.0.0/21") // 2,043 usable addresses
	for range maxENIsPerSubnet - 2 {
		must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	}
	_, err := tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 3, MaxCount: 3, SubnetID: sub.ID})
	wantCode(t, err, "InsufficientFreeAddressesInSubnet")
	got := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 3, SubnetID: sub.ID}))
	if len(got) != 2 {
		t.Fatalf("launched %d instances into a subnet with room for 2 ENIs", len(got))
	}
	_, err = tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
	wantCode(t, err, "InsufficientFreeAddressesInSubnet")
	// Another subnet of the VPC is not affected.
	other := tc.subnet(t, v.ID, "10.0.8.0/24")
	must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: other.ID}))
}
