package main

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// IPv6 between two tasks in a dual-stack subnet (of a VPC given an IPv6
// block after it was made): each awsvpc task's ENI gets
// an address of the subnet's /64 as well, which its namespace holds, and
// over which a task reaches another as its security groups allow: the
// server's group admits the client's group (over IPv6 too: a group's members
// are their addresses of both families), and the server sees the client's
// own IPv6 address; a task of another group is refused until an IPv6 range
// rule admits it, and that rule admits it over IPv6 only.
func TestIPv6TasksE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.67.0.0/16")
	range6 := dualStack(t, ctx, ec, vpcID)
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.67.1.0/24"),
		Ipv6CidrBlock: aws.String(range6.String()), AvailabilityZone: aws.String("us-east-1a")})
	check(t, err)
	subnet := aws.ToString(sub.Subnet.SubnetId)

	es := ecs.NewFromConfig(sdkConfig(s, "us-east-1"))
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("v6")})
	check(t, err)
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=v6"))
	launch(t, ctx, ec, subnet, ec2types.InstanceTypeM5Xlarge, &ud) // 3 task ENIs
	register(t, ctx, es, "echo", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(16), StopTimeout: aws.Int32(1)})

	group := func(name string) string {
		sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: vpcID})
		check(t, err)
		return aws.ToString(sg.GroupId)
	}
	servers, clients, others := group("servers"), group("clients"), group("others")
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &servers, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &clients}}}}})
	check(t, err)

	type task struct{ arn, v4, v6 string }
	run := func(sg string) task {
		t.Helper()
		for deadline := time.Now().Add(patience); ; { // until the container instance has registered
			out, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("v6"), TaskDefinition: aws.String("echo"),
				NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{sg}}}})
			check(t, err)
			if len(out.Tasks) == 1 {
				arn := aws.ToString(out.Tasks[0].TaskArn)
				got := ecsWaitTask(ctx, t, s, es, "v6", arn, "RUNNING")
				ni := got.Containers[0].NetworkInterfaces[0]
				return task{arn, aws.ToString(ni.PrivateIpv4Address), aws.ToString(ni.Ipv6Address)}
			}
			if time.Now().After(deadline) {
				t.Fatalf("RunTask placed nothing: %+v", out.Failures)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	server, client, other := run(servers), run(clients), run(others)
	for _, tk := range []task{server, client, other} {
		a, err := netip.ParseAddr(tk.v6)
		if err != nil || !range6.Contains(a) {
			t.Fatalf("task %s: IPv6 address %q, want one of %v", tk.arn, tk.v6, range6)
		}
	}
	url6 := "http://[" + server.v6 + "]:80/"

	got := s.fetchIn(t, client.arn, url6)
	if !strings.Contains(got, "addr "+server.v6+"/64\n") {
		t.Errorf("the server's namespace does not hold its IPv6 address %s:\n%s", server.v6, got)
	}
	if got := s.fetchIn(t, client.arn, url6+"peer"); !strings.Contains(got, "remote ["+client.v6+"]:") {
		t.Errorf("the server did not see the client's IPv6 address %s:\n%s", client.v6, got)
	}
	refused := func(from task, url, why string) {
		t.Helper()
		if out, err := s.vpcsim("exec", from.arn, "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
			t.Errorf("%s: GET %s answered %q", why, url, out)
		}
	}
	refused(other, url6, "a task outside the client group, over IPv6")

	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &servers, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String(other.v6 + "/128")}}}}})
	check(t, err)
	if got := s.fetchIn(t, other.arn, url6+"peer"); !strings.Contains(got, "remote ["+other.v6+"]:") {
		t.Errorf("admitted by its IPv6 address, the other task's request came from elsewhere:\n%s", got)
	}
	refused(other, "http://"+server.v4+":80/", "an IPv6 range rule, over IPv4")
}
