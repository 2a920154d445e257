package ec2

import (
	"context"
	"regexp"
	"testing"
)

func TestENIRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{g.ID}}))
	if !regexp.MustCompile(`^0a(:[0-9a-f]{2}){5}$`).MatchString(e.MAC) {
		t.Fatalf("MAC %q", e.MAC)
	}
	if e.Status != "available" || e.PrimaryIP().String() != "10.0.0.4" || !e.SourceDestCheck {
		t.Fatalf("new ENI %+v", e)
	}
	if got := PrivateDNSName("us-west-2", e.PrimaryIP()); got != "ip-10-0-0-4.us-west-2.compute.internal" {
		t.Fatalf("DNS name %s", got)
	}
	if got := PrivateDNSName("us-east-1", e.PrimaryIP()); got != "ip-10-0-0-4.ec2.internal" {
		t.Fatalf("DNS name %s", got)
	}
	if k := tc.dp.ENIs[e.ID]; k.Host != "" || k.MAC.String() != e.MAC || k.Addrs[0].String() != "10.0.0.4/24" {
		t.Fatalf("kernel ENI %+v", k)
	}
	_, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.4"})
	wantCode(t, err, "InvalidIPAddress.InUse")
	for _, ip := range []string{"10.0.0.1", "10.0.0.255", "10.0.1.9", "x"} {
		_, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: ip})
		wantCode(t, err, "InvalidParameterValue")
	}
	e2 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.77", SecondaryPrivateIPAddressCount: 2}))
	if len(e2.PrivateIPs) != 3 || e2.PrimaryIP().String() != "10.0.0.77" || e2.Groups[0] == g.ID {
		t.Fatalf("ENI with secondaries, default group: %+v", e2)
	}
	// Groups of another VPC, or more than five, are refused.
	v2 := tc.vpc(t, "10.9.0.0/16")
	g2 := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v2.ID, Name: "x", Description: "x"}))
	wantCode(t, tc.ModifyNetworkInterfaceAttribute(ctx, west, e.ID, ModifyNetworkInterfaceInput{Groups: []string{g2.ID}}), "InvalidParameter")
	var six []string
	for i := 0; i < 6; i++ {
		six = append(six, must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "g" + itoa(i), Description: "d"})).ID)
	}
	wantCode(t, tc.ModifyNetworkInterfaceAttribute(ctx, west, e.ID, ModifyNetworkInterfaceInput{Groups: six}), "SecurityGroupsPerInterfaceLimitExceeded")
	off := false
	if err := tc.ModifyNetworkInterfaceAttribute(ctx, west, e.ID, ModifyNetworkInterfaceInput{SourceDestCheck: &off}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.DeleteSecurityGroup(ctx, west, GroupRef{ID: g.ID}), "DependencyViolation")

	// Secondary addresses land on the link too.
	if _, err := tc.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, SecondaryCount: 1}); err != nil {
		t.Fatal(err)
	}
	if k := tc.dp.ENIs[e.ID]; len(k.Addrs) != 2 {
		t.Fatalf("kernel addresses after assign: %v", k.Addrs)
	}
	second := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))[0].PrivateIPs[1].Addr
	wantCode(t, tc.UnassignPrivateIPAddresses(ctx, west, e.ID, []string{"10.0.0.4"}), "InvalidParameterValue")
	if err := tc.UnassignPrivateIPAddresses(ctx, west, e.ID, []string{second.String()}); err != nil {
		t.Fatal(err)
	}
	found := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, []Filter{{Name: "private-ip-address", Values: []string{"10.0.0.77"}}}))
	if len(found) != 1 || found[0].ID != e2.ID {
		t.Fatalf("filter by address: %+v", found)
	}
	if err := tc.DeleteNetworkInterface(ctx, west, e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tc.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil)
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	if _, ok := tc.dp.ENIs[e.ID]; ok {
		t.Fatal("veth of a deleted ENI remains")
	}
}
