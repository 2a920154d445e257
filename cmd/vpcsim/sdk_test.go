package main

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

func sdkConfig(s *server, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.endpoint),
		HTTPClient:   awstest.HTTPClient(),
	}
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

// TestSDK drives vpcsim with aws-sdk-go-v2 the way Go programs and Terraform's
// provider do, and checks what the kernel holds behind the answers.
func TestSDK(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	cfg := sdkConfig(s, "eu-central-1")
	ec := ec2.NewFromConfig(cfg)

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "000000000000" {
		t.Fatalf("GetCallerIdentity: %v %+v", err, id)
	}
	azs, err := ec.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil || len(azs.AvailabilityZones) != 3 || aws.ToString(azs.AvailabilityZones[0].ZoneName) != "eu-central-1a" {
		t.Fatalf("zones: %v %+v", err, azs)
	}

	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock: aws.String("10.7.0.0/16"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("sdk")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	found, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"sdk"}}}})
	if err != nil || len(found.Vpcs) != 1 || aws.ToString(found.Vpcs[0].VpcId) != vpcID {
		t.Fatalf("tag filter: %v %+v", err, found)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.7.1.0/24"), AvailabilityZone: aws.String("eu-central-1b")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(sub.Subnet.AvailableIpAddressCount) != 251 {
		t.Fatalf("a /24 offers %d", aws.ToInt32(sub.Subnet.AvailableIpAddressCount))
	}
	_, err = ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.7.1.0/25")})
	wantAPIError(t, err, "InvalidSubnet.Conflict")
	_, err = ec.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
	wantAPIError(t, err, "DependencyViolation")
	_, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperation")

	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpcID, GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	})
	if err != nil || !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 1 || !strings.HasPrefix(aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId), "sgr-") {
		t.Fatalf("authorize: %v %+v", err, auth)
	}

	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: sub.Subnet.SubnetId, SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := run.Instances[0]
	if inst.State.Name != types.InstanceStateNamePending {
		t.Fatalf("launched in state %s", inst.State.Name)
	}
	waiter := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}, time.Minute); err != nil {
		t.Fatalf("instance never ran: %v\n%s", err, tail(s.logText(), 20))
	}
	ip, mac := aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.NetworkInterfaces[0].MacAddress)
	if aws.ToString(inst.PrivateDnsName) != "ip-"+strings.ReplaceAll(ip, ".", "-")+".eu-central-1.compute.internal" {
		t.Fatalf("private DNS name %q for %s", aws.ToString(inst.PrivateDnsName), ip)
	}
	// The instance's namespace holds exactly what the API reports.
	out, err := s.vpcsim("exec", aws.ToString(inst.InstanceId), "--", "ip", "-o", "addr", "show", "dev", "eth0")
	if err != nil {
		t.Fatalf("vpcsim exec: %v %s", err, out)
	}
	if !strings.Contains(string(out), "inet "+ip+"/24") {
		t.Fatalf("eth0 of the instance: %s, want %s/24", out, ip)
	}
	out, _ = s.vpcsim("exec", aws.ToString(inst.InstanceId), "--", "ip", "-o", "link", "show", "dev", "eth0")
	if !strings.Contains(string(out), mac) {
		t.Fatalf("eth0 link %s, want MAC %s", out, mac)
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		t.Fatal(err)
	}

	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	term := ec2.NewInstanceTerminatedWaiter(ec, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := term.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error {
			_, err := ec.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
			return err
		},
		func() error {
			_, err := ec.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: sub.Subnet.SubnetId})
			return err
		},
		func() error { _, err := ec.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID}); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	wantAPIError(t, err, "InvalidVpcID.NotFound")
}
