package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// A subnet in a secondary block is part of the VPC: an instance there
// reaches one in the primary block and back, as security groups allow;
// once the block's subnet is gone the block can be disassociated.
func TestSecondaryCIDRE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.66.0.0/16")
	block, err := ec.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String("100.64.66.0/24")})
	check(t, err)
	primary, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.66.1.0/24")})
	check(t, err)
	secondary, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("100.64.66.0/25")})
	check(t, err)
	sg := webGroup(t, ctx, ec, vpcID)
	a := launchInternet(t, ctx, ec, *primary.Subnet.SubnetId, sg, false)
	b := launchInternet(t, ctx, ec, *secondary.Subnet.SubnetId, sg, false)
	if ip := aws.ToString(b.PrivateIpAddress); !strings.HasPrefix(ip, "100.64.66.") {
		t.Fatalf("the instance of the secondary block's subnet has address %s", ip)
	}
	s.serveIn(t, a, 8080)
	s.serveIn(t, b, 8080)
	for _, pair := range [][2]struct {
		id, ip string
	}{
		{{aws.ToString(a.InstanceId), aws.ToString(a.PrivateIpAddress)}, {aws.ToString(b.InstanceId), aws.ToString(b.PrivateIpAddress)}},
		{{aws.ToString(b.InstanceId), aws.ToString(b.PrivateIpAddress)}, {aws.ToString(a.InstanceId), aws.ToString(a.PrivateIpAddress)}},
	} {
		url := "http://" + pair[1].ip + ":8080/"
		if got := s.fetchIn(t, pair[0].id, url); !strings.Contains(got, "hello from "+pair[1].id) {
			t.Errorf("GET %s from %s: %q", url, pair[0].id, got)
		}
	}

	_, err = ec.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: block.CidrBlockAssociation.AssociationId})
	if err == nil || !strings.Contains(err.Error(), "InvalidCidrBlock.InUse") {
		t.Errorf("disassociating a block a subnet is in: %v", err)
	}
}
