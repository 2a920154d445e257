package ec2

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// quotaCloud is a test Cloud whose quotas are the local profile with the
// overrides given ("NAME=N,...").
func quotaCloud(t *testing.T, profile, overrides string) *testCloud {
	t.Helper()
	return newTestCloud(t, withQuotas(t, profile, overrides))
}

// withQuotas sets the quotas of a profile with the overrides given.
func withQuotas(t *testing.T, profile, overrides string) Option {
	t.Helper()
	l, err := quota.Parse(profile, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return WithQuotas(l)
}

// wantQuota checks a refusal's code, and that its message is AWS's words, with
// vpcsim's note when the bound is not AWS's.
func wantQuota(t *testing.T, what string, err error, code, words string) {
	t.Helper()
	e, ok := AsAPIError(err)
	if !ok || e.Code != code || !strings.HasPrefix(e.Message, words) {
		t.Fatalf("%s: %v, want %s %q", what, err, code, words)
	}
}

// TestVPCQuota: the default VPC counts; a refused CreateVpc leaves nothing in
// the model or the kernel; deleting a VPC makes room again. In the aws profile
// the message is AWS's, word for word.
func TestVPCQuota(t *testing.T) {
	ctx := context.Background()
	tc := quotaCloud(t, "aws", "")
	for i := 1; i <= 4; i++ {
		tc.vpc(t, fmt.Sprintf("10.%d.0.0/16", i))
	}
	_, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.9.0.0/16"})
	wantAPIError(t, "the 6th VPC of an AWS account", err, "VpcLimitExceeded", "The maximum number of VPCs has been reached.")
	if n, k := len(must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, nil))), len(tc.dp.VPCs); n != 5 || k != 5 {
		t.Fatalf("after the refusal: %d VPCs, %d in the kernel; want 5", n, k)
	}
	// Another region has its own five.
	if _, err := tc.CreateVpc(ctx, Scope{Region: "eu-west-1"}, CreateVpcInput{CIDRBlock: "10.9.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	vpcs := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "cidr", Values: []string{"10.4.0.0/16"}}}))
	if err := tc.DeleteVpc(ctx, west, vpcs[0].ID); err != nil {
		t.Fatal(err)
	}
	tc.vpc(t, "10.9.0.0/16")

	// The local profile's bound is vpcsim's: the message says how to set it.
	local := quotaCloud(t, "local", "vpcs=2")
	local.vpc(t, "10.1.0.0/16")
	_, err = local.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.2.0.0/16"})
	wantAPIError(t, "the 3rd VPC of vpcs=2", err, "VpcLimitExceeded", "The maximum number of VPCs has been reached. (vpcsim's quota vpcs is 2: serve --quota vpcs=N sets it)")
}

// TestQuotaUnderTheLock: concurrent creates never overshoot a quota, since
// each is counted in the same critical section that makes it.
func TestQuotaUnderTheLock(t *testing.T) {
	tc := quotaCloud(t, "local", "vpcs=5")
	ctx := context.Background()
	tc.vpc(t, "10.0.0.0/16") // the default VPC and this one: 3 left
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, refused := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: fmt.Sprintf("10.%d.0.0/16", i+1)})
			mu.Lock()
			defer mu.Unlock()
			if e, ok := AsAPIError(err); ok && e.Code == "VpcLimitExceeded" {
				refused++
			} else if err == nil {
				made++
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if made != 3 || refused != 17 {
		t.Fatalf("20 concurrent CreateVpc with 3 left: %d made, %d refused", made, refused)
	}
}

func TestSubnetQuotas(t *testing.T) {
	ctx := context.Background()
	tc := quotaCloud(t, "local", "subnets-per-vpc=2,subnets=6") // the default VPC has 3
	a, b := tc.vpc(t, "10.1.0.0/16"), tc.vpc(t, "10.2.0.0/16")
	tc.subnet(t, a.ID, "10.1.1.0/24")
	tc.subnet(t, a.ID, "10.1.2.0/24")
	_, err := tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: a.ID, CIDR: "10.1.3.0/24"})
	wantQuota(t, "a 3rd subnet of subnets-per-vpc=2", err, "SubnetLimitExceeded", "The maximum number of subnets has been reached.")
	tc.subnet(t, b.ID, "10.2.1.0/24") // another VPC: the 6th of the region
	_, err = tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: b.ID, CIDR: "10.2.2.0/24"})
	wantQuota(t, "a 7th subnet of subnets=6", err, "SubnetLimitExceeded", "The maximum number of subnets has been reached. (vpcsim's quota subnets is 6")
	if n := len(tc.dp.Subs); n != 6 {
		t.Fatalf("the kernel has %d subnets, want 6", n)
	}
}

// TestENIQuota: task, instance and user ENIs all count; a launch that would
// go beyond leaves no instance and no ENI.
func TestENIQuota(t *testing.T) {
	ctx := context.Background()
	tc := quotaCloud(t, "local", "network-interfaces=2")
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	must[ENI](t)(tc.CreateTaskENI(ctx, west, sub.ID, nil, "arn:aws:ecs:us-west-2:000000000000:attachment/x", false))
	_, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
	wantQuota(t, "a 3rd ENI", err, "NetworkInterfaceLimitExceeded", "The maximum number of network interfaces has been reached.")
	_, err = tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: sub.ID})
	wantQuota(t, "an instance whose primary ENI is the 3rd", err, "NetworkInterfaceLimitExceeded", "The maximum number of network interfaces has been reached.")
	if tc.tables.instances.Len() != 0 || tc.tables.enis.Len() != 2 || len(tc.dp.ENIs) != 2 {
		t.Fatalf("after the refusals: %d instances, %d ENIs (%d in the kernel)", tc.tables.instances.Len(), tc.tables.enis.Len(), len(tc.dp.ENIs))
	}

	// A launch of MinCount..MaxCount makes as many instances as the ENI quota
	// leaves room for.
	roomy := quotaCloud(t, "local", "network-interfaces=3")
	sub = roomy.subnet(t, roomy.vpc(t, "10.0.0.0/16").ID, "10.0.1.0/24")
	got := must[[]Instance](t)(roomy.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 5, SubnetID: sub.ID}))
	if len(got) != 3 {
		t.Fatalf("MinCount 1, MaxCount 5 with room for 3 ENIs launched %d", len(got))
	}
}

func TestSecurityGroupQuotas(t *testing.T) {
	ctx := context.Background()
	tc := quotaCloud(t, "local", "security-groups=3,rules-per-security-group=2,security-groups-per-interface=1")
	v := tc.vpc(t, "10.0.0.0/16") // its default group and the default VPC's: 2
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "w"}))
	_, err := tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "db", Description: "d"})
	wantQuota(t, "a 4th group of security-groups=3", err, "SecurityGroupLimitExceeded", "The maximum number of security groups has been reached.")

	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(80, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")}}))
	_, err = tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(22, "10.0.0.0/8")}})
	wantQuota(t, "a 3rd ingress rule", err, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	// Egress counts apart: the group has its one default egress rule.
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Egress: true, Permissions: []Permission{tcp(53, "10.0.0.0/8")}}))
	_, err = tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Egress: true, Permissions: []Permission{tcp(54, "10.0.0.0/8")}})
	wantQuota(t, "a 3rd egress rule", err, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")

	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	dflt := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}, {Name: "group-name", Values: []string{"default"}}}))
	_, err = tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{g.ID, dflt[0].ID}})
	wantQuota(t, "2 groups of security-groups-per-interface=1", err, "SecurityGroupsPerInterfaceLimitExceeded", "You have exceeded the maximum number of security groups allowed per network interface.")
}

func TestInstanceAndFlowLogQuotas(t *testing.T) {
	ctx := context.Background()
	tc := quotaCloud(t, "local", "instances=1,flow-logs=1")
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	in := RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 3, SubnetID: sub.ID}
	if got := must[[]Instance](t)(tc.RunInstances(ctx, west, in)); len(got) != 1 {
		t.Fatalf("MaxCount 3 of instances=1 launched %d", len(got))
	}
	_, err := tc.RunInstances(ctx, west, in)
	wantQuota(t, "a 2nd instance of instances=1", err, "InstanceLimitExceeded", "You have requested more instances (2) than your current instance limit of 1 allows")

	must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, toGroup(FlowLogSubnet, "ALL", sub.ID)))
	out := must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, toGroup(FlowLogVPC, "ALL", v.ID)))
	if len(out.FlowLogIDs) != 0 || len(out.Unsuccessful) != 1 || out.Unsuccessful[0].Error.Code != "FlowLogsLimitExceeded" {
		t.Fatalf("a 2nd flow log of flow-logs=1: %+v", out)
	}
}
