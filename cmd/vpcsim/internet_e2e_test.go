package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// "The internet" is this machine. An instance with a public address in a
// subnet routed to an internet gateway reaches a server of the machine, which
// sees the public address as the source; the machine reaches the instance at
// its public address; an Elastic IP does the same for an instance that had
// none; deleting the route cuts the instance off, and an instance without a
// public address never passes the gateway.
func TestInternetGatewayE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.61.0.0/16")
	var err error
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.61.1.0/24")})
	check(t, err)
	igw, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	check(t, err)
	_, err = ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	check(t, err)
	rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{*vpcID}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	check(t, err)
	main := rts.RouteTables[0].RouteTableId
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: main, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	check(t, err)
	sg := webGroup(t, ctx, ec, vpcID)

	public := launchInternet(t, ctx, ec, *sub.Subnet.SubnetId, sg, true)
	private := launchInternet(t, ctx, ec, *sub.Subnet.SubnetId, sg, false)
	pub, err := netip.ParseAddr(aws.ToString(public.PublicIpAddress))
	if err != nil || !s.publicRange.Contains(pub) || private.PublicIpAddress != nil {
		t.Fatalf("public addresses: %v and %v; want one of %s and none", aws.ToString(public.PublicIpAddress), aws.ToString(private.PublicIpAddress), s.publicRange)
	}

	url := s.machineServer(t)

	if got := s.fetch(t, public, url); got != pub.String() {
		t.Errorf("the machine saw %q as the instance's address, want its public address %s", got, pub)
	}
	if out, err := s.vpcsim("exec", aws.ToString(private.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
		t.Errorf("an instance without a public address reached the machine through the gateway: %s", out)
	}

	// The machine reaches the instance at its public address.
	s.serveIn(t, public, 8080)
	if got := s.fetchFromMachine(t, pub, 8080); !strings.Contains(got, "hello from") {
		t.Errorf("GET %s:8080 from the machine: %q", pub, got)
	}

	// An Elastic IP gives the private instance a way out, and in.
	eip, err := ec.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	check(t, err)
	_, err = ec.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: private.InstanceId})
	check(t, err)
	if got := s.fetch(t, private, url); got != aws.ToString(eip.PublicIp) {
		t.Errorf("the machine saw %q from the instance with the Elastic IP %s", got, aws.ToString(eip.PublicIp))
	}
	desc, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*private.InstanceId}})
	check(t, err)
	if got := aws.ToString(desc.Reservations[0].Instances[0].PublicIpAddress); got != aws.ToString(eip.PublicIp) {
		t.Errorf("DescribeInstances answers public address %q, want the Elastic IP %s", got, aws.ToString(eip.PublicIp))
	}

	// Without the route, the subnet has no way out.
	_, err = ec.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: main, DestinationCidrBlock: aws.String("0.0.0.0/0")})
	check(t, err)
	if out, err := s.vpcsim("exec", aws.ToString(public.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
		t.Errorf("the instance reached the machine with no route to the gateway: %s", out)
	}
}

// check fails the test on an error.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// launchInternet launches a running instance in a subnet, with a public
// address or without.
func launchInternet(t *testing.T, ctx context.Context, ec *ec2.Client, subnet, sg string, public bool) ec2types.Instance {
	t.Helper()
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{
			{DeviceIndex: aws.Int32(0), SubnetId: &subnet, Groups: []string{sg}, AssociatePublicIpAddress: aws.Bool(public)}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	w := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	out, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

// serveIn runs a web server on port inside an instance until the test ends.
func (s *server) serveIn(t *testing.T, inst ec2types.Instance, port int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/index.html", []byte("hello from "+aws.ToString(inst.InstanceId)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "exec", aws.ToString(inst.InstanceId), "--", "busybox", "httpd", "-f", "-p", fmt.Sprint(port), "-h", dir)
	cmd.Env = s.env()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// fetchFromMachine GETs http://addr:port/ from this machine's own namespace,
// once the route to addr is known to leave through a link of vpcsim's (the
// test's traffic must not go anywhere else); a try that fails while the
// server starts is tried again, within patience.
func (s *server) fetchFromMachine(t *testing.T, addr netip.Addr, port int) string {
	t.Helper()
	s.mustRouteOwn(t, addr)
	client := &http.Client{Timeout: 3 * time.Second}
	var last error
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); {
		resp, err := client.Get("http://" + netip.AddrPortFrom(addr, uint16(port)).String() + "/")
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				return string(b)
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s:%d from the machine: %v", addr, port, last)
	return ""
}

// dumpKernel logs what the kernel holds of a VPC and of the machine's side
// of vpcsim's internet: for a failure's diagnosis.
func (s *server) dumpKernel(t *testing.T, vpcID string) {
	ns := s.prefix + vpcID
	for _, args := range [][]string{
		{"-n", ns, "-br", "addr"}, {"-n", ns, "rule"}, {"-n", ns, "route", "show", "table", "all"},
		{"-br", "addr"}, {"route"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		t.Logf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	t.Logf("nft list ruleset in %s: %v\n%s", ns, err, out)
	t.Logf("server log:\n%s", s.logText())
}

// machineServer runs a web server on this machine's address in vpcsim's
// internet until the test ends, answering every GET with the address it sees
// the request come from; it returns its URL.
func (s *server) machineServer(t *testing.T) string {
	t.Helper()
	return s.machineServerOn(t, s.publicRange.Addr().Next())
}

// A private subnet reaches the machine through a NAT gateway, which the
// machine sees as the NAT gateway's Elastic IP; a deleted NAT gateway's
// route is a blackhole, and the subnet is cut off.
func TestNatGatewayE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.62.0.0/16")
	var err error
	public, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.62.1.0/24")})
	check(t, err)
	private, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.62.2.0/24")})
	check(t, err)
	igw, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	check(t, err)
	_, err = ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	check(t, err)
	// The main table routes the public subnet to the internet gateway; the
	// private subnet's own table routes it to the NAT gateway.
	rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}}})
	check(t, err)
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rts.RouteTables[0].RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	check(t, err)
	eip, err := ec.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	check(t, err)
	nat, err := ec.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: public.Subnet.SubnetId, AllocationId: eip.AllocationId})
	check(t, err)
	w := ec2.NewNatGatewayAvailableWaiter(ec, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	check(t, w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*nat.NatGateway.NatGatewayId}}, time.Minute))
	rt, err := ec.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	check(t, err)
	_, err = ec.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: private.Subnet.SubnetId})
	check(t, err)
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId})
	check(t, err)
	sg, err := ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}}})
	check(t, err)

	inst := launchInternet(t, ctx, ec, *private.Subnet.SubnetId, *sg.SecurityGroups[0].GroupId, false)
	url := s.machineServer(t)
	if got := s.fetch(t, inst, url); got != aws.ToString(eip.PublicIp) {
		t.Errorf("the machine saw %q from behind the NAT gateway, want its Elastic IP %s", got, aws.ToString(eip.PublicIp))
	}

	// A Fargate task of the private subnet too.
	es := ecs.NewFromConfig(sdkConfig(s, "us-east-1"))
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("private")})
	check(t, err)
	_, err = es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx:latest"), Essential: aws.Bool(true)}}})
	check(t, err)
	run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("private"), TaskDefinition: aws.String("web"), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{*private.Subnet.SubnetId}}}})
	check(t, err)
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v", run.Failures)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	running := ecs.NewTasksRunningWaiter(es, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	check(t, running.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("private"), Tasks: []string{task}}, patience))
	if got := s.fetchIn(t, task, url); got != aws.ToString(eip.PublicIp) {
		t.Errorf("the machine saw %q from a task behind the NAT gateway, want its Elastic IP %s", got, aws.ToString(eip.PublicIp))
	}
	_, err = es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("private"), Task: &task})
	check(t, err)

	_, err = ec.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGateway.NatGatewayId})
	check(t, err)
	gone := ec2.NewNatGatewayDeletedWaiter(ec, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	check(t, gone.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*nat.NatGateway.NatGatewayId}}, time.Minute))
	routes, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{*rt.RouteTable.RouteTableId}})
	check(t, err)
	if st := routes.RouteTables[0].Routes[1].State; st != ec2types.RouteStateBlackhole {
		t.Errorf("the route to the deleted NAT gateway is %s", st)
	}
	if out, err := s.vpcsim("exec", aws.ToString(inst.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
		t.Errorf("the private subnet reached the machine through a deleted NAT gateway: %s", out)
	}
}

// A network ACL drops at a subnet's boundary what the security groups admit,
// and the server's flow log shows the REJECT; the same ACL changed to allow
// lets it through again.
func TestNetworkACLE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.63.0.0/16")
	var err error
	a, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.63.1.0/24")})
	check(t, err)
	b, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.63.2.0/24")})
	check(t, err)
	sg := webGroup(t, ctx, ec, vpcID)
	client := launchInternet(t, ctx, ec, *a.Subnet.SubnetId, sg, false)
	server := launchInternet(t, ctx, ec, *b.Subnet.SubnetId, sg, false)
	serverIP := aws.ToString(server.PrivateIpAddress)
	logFile := filepath.Join(s.dataDir, "flowlogs", "file", "acl.log")
	_, err = ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{ResourceType: ec2types.FlowLogsResourceTypeNetworkInterface,
		ResourceIds: []string{aws.ToString(server.NetworkInterfaces[0].NetworkInterfaceId)}, TrafficType: ec2types.TrafficTypeReject,
		LogDestinationType: "file", LogDestination: aws.String(logFile)})
	check(t, err)
	s.serveIn(t, server, 8080)
	url := "http://" + serverIP + ":8080/"
	if got := s.fetch(t, client, url); !strings.Contains(got, "hello from") {
		t.Fatalf("GET %s with the default ACL: %q", url, got)
	}

	acl, err := ec.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: vpcID})
	check(t, err)
	entry := func(n int32, egress bool, action ec2types.RuleAction, proto string, ports *ec2types.PortRange) *ec2.CreateNetworkAclEntryInput {
		return &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAcl.NetworkAclId, RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			RuleAction: action, Protocol: aws.String(proto), CidrBlock: aws.String("0.0.0.0/0"), PortRange: ports}
	}
	for _, in := range []*ec2.CreateNetworkAclEntryInput{
		entry(100, false, ec2types.RuleActionDeny, "6", &ec2types.PortRange{From: aws.Int32(8080), To: aws.Int32(8080)}),
		entry(200, false, ec2types.RuleActionAllow, "-1", nil),
		entry(100, true, ec2types.RuleActionAllow, "-1", nil),
	} {
		_, err = ec.CreateNetworkAclEntry(ctx, in)
		check(t, err)
	}
	acls, err := ec.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{*b.Subnet.SubnetId}}}})
	check(t, err)
	var assoc string
	for _, as := range acls.NetworkAcls[0].Associations {
		if aws.ToString(as.SubnetId) == *b.Subnet.SubnetId {
			assoc = aws.ToString(as.NetworkAclAssociationId)
		}
	}
	_, err = ec.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &assoc, NetworkAclId: acl.NetworkAcl.NetworkAclId})
	check(t, err)
	if out, err := s.vpcsim("exec", aws.ToString(client.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
		t.Errorf("the network ACL's deny let %s through: %s", url, out)
	}
	// The REJECT is written at the end of the capture window.
	for {
		b, _ := os.ReadFile(logFile)
		if strings.Contains(string(b), serverIP+" ") && strings.Contains(string(b), "REJECT") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no REJECT record of %s in %s: %q", serverIP, logFile, b)
		case <-time.After(200 * time.Millisecond):
		}
	}
	_, err = ec.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: acl.NetworkAcl.NetworkAclId, RuleNumber: aws.Int32(100),
		Egress: aws.Bool(false), RuleAction: ec2types.RuleActionAllow, Protocol: aws.String("6"), CidrBlock: aws.String("0.0.0.0/0"),
		PortRange: &ec2types.PortRange{From: aws.Int32(8080), To: aws.Int32(8080)}})
	check(t, err)
	if got := s.fetch(t, client, url); !strings.Contains(got, "hello from") {
		t.Errorf("GET %s once the ACL allows it: %q", url, got)
	}
}

// startVPC starts a server and makes a VPC of cidr in us-east-1; a test that
// fails logs what the kernel holds of it.
func startVPC(t *testing.T, cidr string) (*server, context.Context, *ec2.Client, *string) {
	t.Helper()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*patience)
	t.Cleanup(cancel)
	ec := ec2.NewFromConfig(sdkConfig(s, "us-east-1"))
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	check(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpKernel(t, *vpc.Vpc.VpcId)
		}
	})
	return s, ctx, ec, vpc.Vpc.VpcId
}

// webGroup makes a security group of the VPC open to port 8080 from anywhere.
func webGroup(t *testing.T, ctx context.Context, ec *ec2.Client, vpcID *string) string {
	t.Helper()
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: vpcID})
	check(t, err)
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	check(t, err)
	return aws.ToString(sg.GroupId)
}
