package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
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
	c, err := New(ctx, vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane())
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

// BenchmarkFirewallENIChange measures what one ENI change costs with 200 and
// with 2,000 ENIs in the account, all in one group of 20 rules that
// references itself (fake dataplane: the domain's share).
// "source-dest-check" is one API call that changes one ENI's firewall and no
// group's members; "comes-and-goes" is two commits, an ENI record joining
// the group and leaving it (each changing the group's members), without
// what CreateNetworkInterface costs besides the commit; "create-and-delete"
// is the same through the API. The ENIs are made in one transaction, so that
// the set-up costs the same whatever the firewall's upkeep costs per call.
func BenchmarkFirewallENIChange(b *testing.B) {
	for _, n := range []int{200, 2000} {
		b.Run(fmt.Sprintf("enis=%d", n), func(b *testing.B) {
			ctx := context.Background()
			c, err := New(ctx, vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane())
			if err != nil {
				b.Fatal(err)
			}
			v := must[VPC](b)(c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"}))
			sub := must[Subnet](b)(c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.0.0/20", AZ: "us-west-2a"}))
			sg := must[SecurityGroup](b)(c.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "tasks", Description: "tasks"}))
			for i := range 20 {
				p := int32(8000 + i)
				must[[]Rule](b)(c.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: sg.ID}, Permissions: []Permission{{
					Protocol: "tcp", FromPort: &p, ToPort: &p, CIDRs: []Peer{{Value: "10.0.0.0/16"}}, Groups: []Peer{{Value: sg.ID}},
				}}}))
			}
			c.mu.Lock()
			s := c.subnet(sub.ID)
			addrs, err := c.freeAddrsLocked(s, n+1, nil)
			if err != nil {
				c.unlock()
				b.Fatal(err)
			}
			spare := addrs[n]
			var last *ENI
			for _, a := range addrs[:n] {
				last = c.newENILocked(eniRequest{subnet: s, groups: []string{sg.ID}, addrs: []netip.Addr{a}})
				c.model().enis.Put(last)
			}
			err = c.commitLocked()
			c.unlock()
			if err != nil {
				b.Fatal(err)
			}
			b.Run("source-dest-check", func(b *testing.B) {
				for i := range b.N {
					check := i%2 == 1
					if err := c.ModifyNetworkInterfaceAttribute(ctx, west, last.ID, ModifyNetworkInterfaceInput{SourceDestCheck: &check}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("comes-and-goes", func(b *testing.B) {
				c.mu.Lock()
				defer c.unlock()
				for i := range b.N {
					e := *last
					e.ID, e.MAC, e.Seq = newID("eni"), fmt.Sprintf("0a:ff:00:00:%02x:%02x", i>>8&0xff, i&0xff), c.nextSeq()
					e.PrivateIPs = []PrivateIP{{Addr: spare, Primary: true}}
					c.model().enis.Put(&e)
					if err := c.commitLocked(); err != nil {
						b.Fatal(err)
					}
					c.model().enis.Delete(e.ID)
					if err := c.commitLocked(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("create-and-delete", func(b *testing.B) {
				for range b.N {
					e, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: []string{sg.ID}})
					if err != nil {
						b.Fatal(err)
					}
					if err := c.DeleteNetworkInterface(ctx, west, e.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
