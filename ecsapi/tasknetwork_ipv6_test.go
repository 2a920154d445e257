package ecsapi

import (
	"context"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// An awsvpc task in a dual-stack subnet gets an IPv6 address on its ENI too,
// reported in its attachment, its containers' network interfaces and its
// metadata; one in an IPv4-only subnet gets none.
func TestAWSVPCTaskInDualStackSubnet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instance(t, "c5.large", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))

	v4only := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t).Tasks[0]
	w.settle2(t, "demo", *v4only.TaskArn, "RUNNING")
	if got := w.describe(t, "demo", *v4only.TaskArn); detail(got, "ipv6Address") != "" || got.Containers[0].NetworkInterfaces[0].Ipv6Address != nil {
		t.Fatalf("a task in an IPv4-only subnet has an IPv6 address: %+v", got)
	}

	vpc := must(w.ec2.CreateVpc(ctx, ec2West, ec2sim.CreateVpcInput{CIDRBlock: "10.1.0.0/16", AmazonProvidedIPv6: true}))(t)
	block := vpc.IPv6[0].CIDR
	range6 := netip.PrefixFrom(block.Addr(), 64)
	sub := must(w.ec2.CreateSubnet(ctx, ec2West, ec2sim.CreateSubnetInput{VPCID: vpc.ID, CIDR: "10.1.0.0/24", IPv6CIDR: range6.String(), AZ: "us-west-2a"}))(t)
	sg := must(w.ec2.CreateSecurityGroup(ctx, ec2West, ec2sim.CreateSecurityGroupInput{VPCID: vpc.ID, Name: "web6", Description: "web6"}))(t)
	w.register(t, ecstypes.RegisterTaskDefinitionRequest{Family: str("web-fargate"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, Cpu: str("256"), Memory: str("512"),
		ContainerDefinitions: nginx("x", ecstypes.NetworkModeAwsvpc).ContainerDefinitions})
	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web-fargate"), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{sub.ID}, SecurityGroups: []string{sg.ID}}}}))(t)
	if len(run.Tasks) != 1 {
		t.Fatalf("run %+v", run)
	}
	arn := *run.Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	got := w.describe(t, "demo", arn)
	v6 := detail(got, "ipv6Address")
	addr, err := netip.ParseAddr(v6)
	if err != nil || !range6.Contains(addr) {
		t.Fatalf("the task's ipv6Address %q is not in the subnet's range %v", v6, range6)
	}
	if ni := got.Containers[0].NetworkInterfaces[0]; deref(ni.Ipv6Address) != v6 || deref(ni.PrivateIpv4Address) != detail(got, "privateIPv4Address") {
		t.Errorf("container network interface %+v, want IPv6 %s", ni, v6)
	}
	eni := must(w.ec2.DescribeNetworkInterfaces(ctx, ec2West, []string{detail(got, "networkInterfaceId")}, nil))(t)[0]
	if len(eni.IPv6) != 1 || eni.IPv6[0] != addr {
		t.Errorf("the ENI's IPv6 addresses %v, want [%s]", eni.IPv6, addr)
	}
	m, _ := w.Metadata(arn)
	if m.Network == nil || m.Network.IPv6Address != v6 || m.Network.IPv6SubnetCIDR != range6.String() {
		t.Errorf("metadata network %+v, want IPv6 %s in %s", m.Network, v6, range6)
	}
}
