package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Two peered VPCs talk over a peering route: an instance of one reaches a
// server in the other at its private address once the connection is
// accepted, both main tables route the other's range over it, and the
// server's group admits the client's group of the peered VPC; and no more
// once the connection is deleted (the routes stay, as blackholes).
func TestPeeringE2E(t *testing.T) {
	s, ctx, ec, vpcA := startVPC(t, "10.64.0.0/16")
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.65.0.0/16")})
	check(t, err)
	vpcB := vpc.Vpc.VpcId
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpKernel(t, *vpcB)
		}
	})
	subA, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcA, CidrBlock: aws.String("10.64.1.0/24")})
	check(t, err)
	subB, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcB, CidrBlock: aws.String("10.65.1.0/24")})
	check(t, err)
	clients := webGroup(t, ctx, ec, vpcA)
	// The server's group admits port 8080 only from the peered VPC's group.
	servers, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("servers"), Description: aws.String("servers"), VpcId: vpcB})
	check(t, err)
	fromClients := &ec2.AuthorizeSecurityGroupIngressInput{GroupId: servers.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &clients}}}}}
	client := launchInternet(t, ctx, ec, *subA.Subnet.SubnetId, clients, false)
	server := launchInternet(t, ctx, ec, *subB.Subnet.SubnetId, *servers.GroupId, false)
	s.serveIn(t, server, 8080)
	url := "http://" + aws.ToString(server.PrivateIpAddress) + ":8080/"
	unreachable := func(why string) {
		t.Helper()
		if out, err := s.vpcsim("exec", aws.ToString(client.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
			t.Errorf("%s: GET %s answered %q", why, url, out)
		}
	}
	mainTable := func(vpcID *string) *string {
		rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{*vpcID}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
		check(t, err)
		return rts.RouteTables[0].RouteTableId
	}
	routeState := func(rtb *string, dest string) ec2types.RouteState {
		rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{*rtb}})
		check(t, err)
		for _, r := range rts.RouteTables[0].Routes {
			if aws.ToString(r.DestinationCidrBlock) == dest {
				return r.State
			}
		}
		return ""
	}
	unreachable("before any peering")
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, fromClients); err == nil || !strings.Contains(err.Error(), "InvalidGroup.NotFound") {
		t.Errorf("a rule referencing an unpeered VPC's group: %v, want InvalidGroup.NotFound", err)
	}

	pcx, err := ec.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: vpcA, PeerVpcId: vpcB})
	check(t, err)
	id := pcx.VpcPeeringConnection.VpcPeeringConnectionId
	rtA, rtB := mainTable(vpcA), mainTable(vpcB)
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtA, DestinationCidrBlock: aws.String("10.65.0.0/16"), VpcPeeringConnectionId: id})
	check(t, err)
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtB, DestinationCidrBlock: aws.String("10.64.0.0/16"), VpcPeeringConnectionId: id})
	check(t, err)
	if st := routeState(rtA, "10.65.0.0/16"); st != ec2types.RouteStateBlackhole {
		t.Errorf("the route over a pending connection is %q, want blackhole", st)
	}
	unreachable("while the request waits for acceptance")

	_, err = ec.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: id})
	check(t, err)
	w := ec2.NewVpcPeeringConnectionExistsWaiter(ec)
	check(t, w.Wait(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{*id},
		Filters: []ec2types.Filter{{Name: aws.String("status-code"), Values: []string{"active"}}}}, patience))
	unreachable("while the server's group admits nothing")
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, fromClients)
	check(t, err)
	if got := s.fetch(t, client, url); !strings.Contains(got, "hello from "+aws.ToString(server.InstanceId)) {
		t.Errorf("GET %s over the peering, admitted by the peered group: %q", url, got)
	}

	_, err = ec.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: id})
	check(t, err)
	if st := routeState(rtA, "10.65.0.0/16"); st != ec2types.RouteStateBlackhole {
		t.Errorf("the route over a deleted connection is %q, want blackhole", st)
	}
	unreachable("once the connection is deleted")
}
