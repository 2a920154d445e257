package ec2query

import (
	"context"
	"errors"
	"fmt"
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

// TestSDK drives the handler with aws-sdk-go-v2 (SigV4-signed, so the region
// comes from the credential scope): its ec2query deserializers are strict about
// element names and types, and its paginators follow NextToken.
func TestSDK(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := aws.Config{
		Region:           "ap-south-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(ts.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       awstest.HTTPClient(),
	}
	ec := ec2.NewFromConfig(cfg)

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity: %v %+v", err, id)
	}

	_, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")

	var vpcIDs []string
	for i := range 6 {
		out, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{
			CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i)),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc,
				Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(fmt.Sprintf("sdk-%d", i))}}}},
		})
		if err != nil {
			t.Fatalf("CreateVpc: %v", err)
		}
		if out.Vpc.State != types.VpcStatePending || len(out.Vpc.Tags) != 1 || out.Vpc.CidrBlockAssociationSet[0].CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated {
			t.Errorf("CreateVpc answered %+v", out.Vpc)
		}
		vpcIDs = append(vpcIDs, aws.ToString(out.Vpc.VpcId))
	}
	// The paginator follows NextToken across pages of 5: 6 VPCs + the default one.
	pages, seen := 0, 0
	p := ec2.NewDescribeVpcsPaginator(ec, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeVpcs page: %v", err)
		}
		pages++
		seen += len(out.Vpcs)
	}
	if pages != 2 || seen != 7 {
		t.Errorf("paginated DescribeVpcs: %d pages, %d VPCs; want 2, 7", pages, seen)
	}

	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcIDs[0]), CidrBlock: aws.String("10.0.3.0/24")})
	if err != nil {
		t.Fatalf("CreateSubnet: %v", err)
	}
	if aws.ToInt32(sub.Subnet.AvailableIpAddressCount) != 251 || sub.Subnet.State != types.SubnetStateAvailable {
		t.Errorf("CreateSubnet answered %+v", sub.Subnet)
	}
	_, err = ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcIDs[0]), CidrBlock: aws.String("10.0.3.0/25")})
	wantCode(t, err, "InvalidSubnet.Conflict")

	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: aws.String(vpcIDs[0])})
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	auth, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}, {CidrIp: aws.String("10.1.0.0/16")}}}},
	})
	if err != nil || !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 2 {
		t.Fatalf("AuthorizeSecurityGroupIngress: %v %+v", err, auth)
	}
	groups, err := ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(sg.GroupId)}})
	if err != nil || len(groups.SecurityGroups) != 1 || len(groups.SecurityGroups[0].IpPermissions) != 1 ||
		len(groups.SecurityGroups[0].IpPermissions[0].IpRanges) != 2 || aws.ToInt32(groups.SecurityGroups[0].IpPermissions[0].FromPort) != 53 {
		t.Fatalf("DescribeSecurityGroups: %v %+v", err, groups)
	}
	rev, err := ec.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: sg.GroupId, SecurityGroupRuleIds: []string{aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)},
	})
	if err != nil || !aws.ToBool(rev.Return) || len(rev.RevokedSecurityGroupRules) != 1 {
		t.Fatalf("RevokeSecurityGroupIngress: %v %+v", err, rev)
	}

	fl, err := ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceType: types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcIDs[0], "vpc-0123456789abcdef0"},
		TrafficType: types.TrafficTypeReject, LogDestinationType: types.LogDestinationTypeS3,
		LogDestination: aws.String("arn:aws:s3:::flow-logs/sdk"), MaxAggregationInterval: aws.Int32(60),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcFlowLog,
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}}},
	})
	if err != nil || len(fl.FlowLogIds) != 1 || aws.ToString(fl.ClientToken) == "" || len(fl.Unsuccessful) != 1 ||
		aws.ToString(fl.Unsuccessful[0].ResourceId) != "vpc-0123456789abcdef0" || aws.ToString(fl.Unsuccessful[0].Error.Code) != "InvalidVpcID.NotFound" {
		t.Fatalf("CreateFlowLogs: %v %+v", err, fl)
	}
	logs, err := ec.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []types.Filter{{Name: aws.String("resource-id"), Values: []string{vpcIDs[0]}}}})
	if err != nil || len(logs.FlowLogs) != 1 {
		t.Fatalf("DescribeFlowLogs: %v %+v", err, logs)
	}
	if f := logs.FlowLogs[0]; aws.ToString(f.FlowLogId) != fl.FlowLogIds[0] || aws.ToString(f.FlowLogStatus) != "ACTIVE" ||
		aws.ToString(f.DeliverLogsStatus) != "SUCCESS" || f.LogDestinationType != types.LogDestinationTypeS3 || f.TrafficType != types.TrafficTypeReject ||
		aws.ToInt32(f.MaxAggregationInterval) != 60 || f.CreationTime == nil || len(f.Tags) != 1 || !strings.HasPrefix(aws.ToString(f.LogFormat), "${version} ") {
		t.Errorf("described flow log %+v", f)
	}
	del, err := ec.DeleteFlowLogs(ctx, &ec2.DeleteFlowLogsInput{FlowLogIds: []string{fl.FlowLogIds[0], "fl-0123456789abcdef0"}})
	if err != nil || len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidFlowLogId.NotFound" {
		t.Fatalf("DeleteFlowLogs: %v %+v", err, del)
	}

	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		SubnetId: sub.Subnet.SubnetId, SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
	})
	if err != nil || len(run.Instances) != 2 || run.Instances[0].State.Name != types.InstanceStateNamePending || run.Instances[0].LaunchTime == nil {
		t.Fatalf("RunInstances: %v %+v", err, run)
	}
	ts.cloud.Wait()
	desc, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(run.Instances[1].InstanceId)}})
	if err != nil || len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances: %v %+v", err, desc)
	}
	in := desc.Reservations[0].Instances[0]
	if in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.AmiLaunchIndex) != 1 || len(in.NetworkInterfaces) != 1 ||
		aws.ToString(in.NetworkInterfaces[0].Groups[0].GroupName) != "app" || in.NetworkInterfaces[0].Attachment.AttachTime == nil {
		t.Errorf("described instance %+v", in)
	}
	_, err = ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}, MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination")
	stop, err := ec.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(in.InstanceId)}})
	if err != nil || stop.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameRunning {
		t.Fatalf("StopInstances: %v %+v", err, stop)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}
