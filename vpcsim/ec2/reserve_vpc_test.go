package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// whileHeld runs calls while another call's kernel work is held, and fails
// the test when they do not finish within slowCall: they waited for it, so
// the model lock is held across that kernel work.
// startHeld starts call with the kernel step op on id held, and returns its
// answer and what releases the step (once, however often it is called).
func startHeld(dp *gatedDataplane, op, id string, call func() error) (<-chan error, func()) {
	dp.holdOp(op, id)
	done := make(chan error, 1)
	go func() { done <- call() }()
	<-dp.entered
	return done, dp.releaser()
}

// wantWaiting checks that a call started after a held one waits for it
// (signals on waiting) rather than answering (on done).
func wantWaiting(t *testing.T, waiting <-chan struct{}, done <-chan error, release func(), what string) {
	t.Helper()
	select {
	case <-waiting:
	case err := <-done:
		release()
		t.Fatalf("%s did not wait: %v", what, err)
	case <-time.After(slowCall):
		release()
		t.Fatalf("%s neither waited nor finished", what)
	}
}

func whileHeld(t *testing.T, release func(), what string, calls func() []error) []error {
	t.Helper()
	done := make(chan []error, 1)
	go func() { done <- calls() }()
	select {
	case errs := <-done:
		return errs
	case <-time.After(slowCall):
		release()
		t.Fatalf("calls waited for %s's kernel work: the model lock is held across it", what)
		return nil
	}
}

// While CreateVpc makes its namespace, other calls go on; the VPC is not
// listed yet, and counts against the quota.
func TestCreateVpcOutsideTheLock(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t, withQuotas(t, "local", "vpcs=3")) // the default VPC, the fixture's, the held one
	dp.holdOp("ensure-vpc", "")
	type result struct {
		vpc VPC
		err error
	}
	slow := make(chan result, 1)
	go func() {
		v, err := c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.1.0.0/16"})
		slow <- result{v, err}
	}()
	<-dp.entered
	release := dp.releaser()
	defer release()
	errs := whileHeld(t, release, "CreateVpc", func() []error {
		list, err := c.DescribeVpcs(ctx, west, nil, nil)
		if err == nil && len(list) != 2 {
			err = errTest("DescribeVpcs lists a VPC whose namespace is still being made")
		}
		_, quotaErr := c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.2.0.0/16"})
		_, eniErr := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
		return []error{err, quotaErr, eniErr}
	})
	if errs[0] != nil || errs[2] != nil {
		t.Fatal(errs)
	}
	wantCode(t, errs[1], "VpcLimitExceeded")
	release()
	r := <-slow
	if r.err != nil || r.vpc.State != "pending" {
		t.Fatalf("the held CreateVpc: %+v %v", r.vpc, r.err)
	}
	if list := must[[]VPC](t)(c.DescribeVpcs(ctx, west, []string{r.vpc.ID}, nil)); list[0].State != "available" {
		t.Fatalf("after commit: %+v", list)
	}
	if _, ok := dp.VPCs[r.vpc.ID]; !ok {
		t.Fatalf("kernel: %v", dp.Objects())
	}
}

// While DeleteVpc removes its namespace, other calls go on; the VPC is no
// longer listed.
func TestDeleteVpcOutsideTheLock(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	v := must[VPC](t)(c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.1.0.0/16"}))
	slow, release := startHeld(dp, "delete-vpc", v.ID, func() error { return c.DeleteVpc(ctx, west, v.ID) })
	defer release()
	errs := whileHeld(t, release, "DeleteVpc", func() []error {
		_, err := c.DescribeVpcs(ctx, west, []string{v.ID}, nil)
		_, eniErr := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
		return []error{err, eniErr}
	})
	wantCode(t, errs[0], "InvalidVpcID.NotFound")
	if errs[1] != nil {
		t.Fatal(errs[1])
	}
	release()
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.VPCs[v.ID]; ok {
		t.Fatalf("kernel: %v", dp.Objects())
	}
}

// While CreateSubnet makes its bridge, other calls go on; the subnet is not
// listed yet, but it conflicts with another of its range, counts against the
// quota and keeps its VPC from being deleted.
func TestCreateSubnetOutsideTheLock(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t, withQuotas(t, "local", "subnets-per-vpc=1"))
	v := must[VPC](t)(c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.1.0.0/16"}))
	dp.holdOp("ensure-subnet", "")
	type result struct {
		sub Subnet
		err error
	}
	slow := make(chan result, 1)
	go func() {
		s, err := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.1.0.0/24", AZ: "us-west-2a"})
		slow <- result{s, err}
	}()
	<-dp.entered
	release := dp.releaser()
	defer release()
	errs := whileHeld(t, release, "CreateSubnet", func() []error {
		list, err := c.DescribeSubnets(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}})
		if err == nil && len(list) != 0 {
			err = errTest("DescribeSubnets lists a subnet whose bridge is still being made")
		}
		_, same := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.1.0.0/24"})
		_, overlapping := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.1.0.128/25"})
		_, beyondQuota := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.1.1.0/24"})
		deleteVpc := c.DeleteVpc(ctx, west, v.ID)
		_, eniErr := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
		return []error{err, same, overlapping, beyondQuota, deleteVpc, eniErr}
	})
	if errs[0] != nil || errs[5] != nil {
		t.Fatal(errs)
	}
	wantCode(t, errs[1], "InvalidSubnet.Conflict")
	wantCode(t, errs[2], "InvalidSubnet.Conflict")
	wantCode(t, errs[3], "SubnetLimitExceeded")
	wantCode(t, errs[4], "DependencyViolation")
	release()
	r := <-slow
	if r.err != nil {
		t.Fatal(r.err)
	}
	if list := must[[]Subnet](t)(c.DescribeSubnets(ctx, west, []string{r.sub.ID}, nil)); list[0].CIDR.String() != "10.1.0.0/24" {
		t.Fatalf("after commit: %+v", list)
	}
	if _, ok := dp.Subs[r.sub.ID]; !ok {
		t.Fatalf("kernel: %v", dp.Objects())
	}
}

// While DeleteSubnet removes its bridge, other calls go on; a new subnet of
// the same range in the same VPC waits for the old bridge, which holds the
// router address it needs, to be gone before it makes its own.
func TestDeleteSubnetOutsideTheLock(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	waiting := signalWaits(c)
	other := must[VPC](t)(c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.1.0.0/16"}))
	otherSub := must[Subnet](t)(c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: other.ID, CIDR: "10.1.0.0/24"}))
	slow, release := startHeld(dp, "delete-subnet", sub.ID, func() error { return c.DeleteSubnet(ctx, west, sub.ID) })
	defer release()
	errs := whileHeld(t, release, "DeleteSubnet", func() []error {
		_, err := c.DescribeSubnets(ctx, west, []string{sub.ID}, nil)
		_, eniErr := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: otherSub.ID})
		_, subErr := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: other.ID, CIDR: "10.1.1.0/24"})
		return []error{err, eniErr, subErr}
	})
	wantCode(t, errs[0], "InvalidSubnetID.NotFound")
	if errs[1] != nil || errs[2] != nil {
		t.Fatal(errs[1:])
	}

	made := len(dp.Calls("ensure-subnet"))
	var remade Subnet
	again := make(chan error, 1)
	go func() {
		var err error
		remade, err = c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: sub.VPCID, CIDR: "10.0.0.0/24", AZ: "us-west-2a"})
		again <- err
	}()
	wantWaiting(t, waiting, again, release, "CreateSubnet of the range whose bridge is being removed")
	if n := len(dp.Calls("ensure-subnet")); n != made {
		t.Fatalf("a bridge was made while the old one was being removed: %v", dp.Calls("ensure-subnet"))
	}
	release()
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	trace := slices.Clone(dp.Trace)
	removed := slices.IndexFunc(trace, func(l string) bool { return strings.HasPrefix(l, "delete-subnet "+sub.ID) })
	built := slices.IndexFunc(trace, func(l string) bool { return strings.HasPrefix(l, "ensure-subnet "+remade.ID) })
	if removed < 0 || built < removed {
		t.Fatalf("the new bridge was made before the old one went: %v", trace)
	}
	if _, ok := dp.Subs[sub.ID]; ok {
		t.Fatalf("kernel still has the deleted subnet's bridge: %v", dp.Objects())
	}
	if _, ok := dp.Subs[remade.ID]; !ok {
		t.Fatalf("kernel lacks the new subnet's bridge: %v", dp.Objects())
	}
}

// DeleteVpc of a VPC whose last subnet's bridge is being removed waits for
// it, then removes the namespace: the bridge goes first.
func TestDeleteVpcWaitsForItsSubnetsBridge(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	waiting := signalWaits(c)
	slow, release := startHeld(dp, "delete-subnet", sub.ID, func() error { return c.DeleteSubnet(ctx, west, sub.ID) })
	defer release()
	deleted := make(chan error, 1)
	go func() { deleted <- c.DeleteVpc(ctx, west, sub.VPCID) }()
	wantWaiting(t, waiting, deleted, release, "DeleteVpc of a VPC whose subnet's bridge is being removed")
	release()
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	trace := slices.Clone(dp.Trace)
	bridge := slices.Index(trace, "delete-subnet "+sub.ID)
	namespace := slices.Index(trace, "delete-vpc "+sub.VPCID)
	if bridge < 0 || namespace < bridge {
		t.Fatalf("the namespace went before the bridge: %v", trace)
	}
}

// While AssociateSubnetCidrBlock gives a bridge its IPv6 router address,
// other calls go on, but a second association of the same range to another
// subnet waits for it (and is then refused); the VPC's IPv6 block going
// meanwhile refuses the association and takes the address off again.
func TestAssociateSubnetIPv6OutsideTheLock(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	b := must[IPv6Block](t)(c.AssociateVpcIPv6(ctx, west, AssociateVpcIPv6Input{VPCID: sub.VPCID}))
	other := must[Subnet](t)(c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: sub.VPCID, CIDR: "10.0.1.0/24", AZ: "us-west-2a"}))
	r := subnet64(b.CIDR, 1)
	done, release := startHeld(dp, "ensure-subnet", sub.ID, func() error {
		_, err := c.AssociateSubnetIPv6(ctx, west, sub.ID, r.String())
		return err
	})
	defer release()
	whileHeld(t, release, "AssociateSubnetCidrBlock", func() []error {
		_, err := c.DescribeSubnets(ctx, west, nil, nil)
		return []error{err}
	})
	waiting := make(chan struct{}, 1)
	c.mu.Lock()
	c.onWait = func() { waiting <- struct{}{} }
	c.mu.Unlock()
	second := make(chan error, 1)
	go func() {
		_, err := c.AssociateSubnetIPv6(ctx, west, other.ID, r.String())
		second <- err
	}()
	wantWaiting(t, waiting, second, release, "a second association of the range")
	c.mu.Lock()
	c.onWait = nil
	c.mu.Unlock()
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-second, "InvalidSubnet.Conflict")
	if got := dp.Subs[sub.ID].Gateway6; got != netip.PrefixFrom(r.Addr().Next(), 64) {
		t.Errorf("the bridge's IPv6 router: %s", got)
	}

	// The block goes while the second subnet's association makes its address.
	dp.release = make(chan struct{})
	_, _, err := c.DisassociateSubnetIPv6(ctx, west, must[[]Subnet](t)(c.DescribeSubnets(ctx, west, []string{sub.ID}, nil))[0].IPv6[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	done, release = startHeld(dp, "ensure-subnet", other.ID, func() error {
		_, err := c.AssociateSubnetIPv6(ctx, west, other.ID, subnet64(b.CIDR, 2).String())
		return err
	})
	defer release()
	if _, _, err := c.DisassociateVpcCIDR(ctx, west, b.ID); err != nil {
		release()
		t.Fatal(err)
	}
	release()
	wantCode(t, <-done, "InvalidSubnet.Range")
	if got := dp.Subs[other.ID].Gateway6; got.IsValid() {
		t.Errorf("the refused association's router address stayed: %s", got)
	}
}
