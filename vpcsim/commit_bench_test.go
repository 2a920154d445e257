package vpcsim

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCommitWith200ENIs measures what every EC2 change pays for the
// security groups: commitLocked rebuilds the firewall of every VPC from the
// model and fingerprints it, so that only VPCs whose rules changed reach the
// dataplane. With 200 ENIs (as 200 awsvpc tasks have) in a group of 20
// rules that references itself, "tag-eni" is a change that alters no rule
// (the rebuild and fingerprint alone), "tag-subnet" one that cannot (so skips
// them), and "rule-add-and-remove" is two changes that
// do (plus SetFirewall of the fake dataplane, which costs nothing; the
// kernel's cost is in hostnet's BenchmarkFirewallUpdate).
func BenchmarkCommitWith200ENIs(b *testing.B) {
	ctx := context.Background()
	c, err := New(ctx, NewMemStore(), NewFakeDataplane())
	if err != nil {
		b.Fatal(err)
	}
	v, err := c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.0.0/22", AZ: "us-west-2a"})
	if err != nil {
		b.Fatal(err)
	}
	sg, err := c.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "tasks", Description: "tasks"})
	if err != nil {
		b.Fatal(err)
	}
	port := func(p int32) *int32 { return &p }
	authorize := func(p int32) error {
		_, err := c.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: sg.ID}, Permissions: []Permission{{
			Protocol: "tcp", FromPort: port(p), ToPort: port(p), CIDRs: []Peer{{Value: "10.0.0.0/16"}}, Groups: []Peer{{Value: sg.ID}},
		}}})
		return err
	}
	for i := range 20 {
		if err := authorize(int32(8000 + i)); err != nil {
			b.Fatal(err)
		}
	}
	var last ENI
	for range 200 {
		if last, err = c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{sg.ID}}); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range []struct{ name, id string }{{"tag-eni", last.ID}, {"tag-subnet", sub.ID}} {
		b.Run(r.name, func(b *testing.B) {
			for i := range b.N {
				if err := c.CreateTags(ctx, west, []string{r.id}, []Tag{{Key: "n", Value: fmt.Sprint(i)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A group holds at most 60 rules: each round adds one and takes it away.
	perm := []Permission{{Protocol: "udp", FromPort: port(53), ToPort: port(53), CIDRs: []Peer{{Value: "10.0.0.0/16"}}}}
	b.Run("rule-add-and-remove", func(b *testing.B) {
		for range b.N {
			if _, err := c.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: sg.ID}, Permissions: perm}); err != nil {
				b.Fatal(err)
			}
			if _, err := c.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: sg.ID}, Permissions: perm}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
