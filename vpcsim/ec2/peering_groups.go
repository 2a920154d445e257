package ec2

import (
	"context"
	"slices"
)

// A security group's rules may reference a group of a VPC peered with its
// own (active, in one region), as on AWS: the kernel's set of that group
// holds the peer's members' addresses while the two VPCs are peered
// (firewall.go), and none once they are not. The rule stays then, stale,
// until revoked; a new peering of the two VPCs makes it whole again.

// SecurityGroupReference is a peered VPC's reference to a group.
type SecurityGroupReference struct {
	GroupID          string // the group referenced
	ReferencingVPCID string // the VPC whose rules reference it
	PeeringID        string // the connection the reference was made through
}

// DescribeSecurityGroupReferences answers, for groups of the region (all
// must exist), which peered VPCs' rules reference them.
func (c *Cloud) DescribeSecurityGroupReferences(ctx context.Context, s Scope, ids []string) ([]SecurityGroupReference, error) {
	if len(ids) == 0 {
		return nil, missingParameter("groupId")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	var out []SecurityGroupReference
	for _, id := range ids {
		g, err := c.groupLocked(s, GroupRef{ID: id})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, other := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
			if other.VPCID == g.VPCID || seen[other.VPCID] {
				continue
			}
			i := slices.IndexFunc(other.Rules, func(r Rule) bool { return r.PeerGroupID == g.ID })
			if i < 0 {
				continue
			}
			seen[other.VPCID] = true
			out = append(out, SecurityGroupReference{GroupID: g.ID, ReferencingVPCID: other.VPCID, PeeringID: c.peeringOfRuleLocked(other.VPCID, other.Rules[i])})
		}
	}
	return out, nil
}

// DescribeStaleSecurityGroups lists the groups of a VPC of the region that
// have stale rules: rules referencing a group of a VPC no longer peered with
// it, or a peered VPC's group that is gone. Each group is answered with its
// stale rules only, each with its peering's state.
func (c *Cloud) DescribeStaleSecurityGroups(ctx context.Context, s Scope, vpcID string) ([]SecurityGroup, error) {
	if vpcID == "" {
		return nil, missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return nil, err
	}
	var out []SecurityGroup
	for _, g := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
		if g.VPCID != v.ID {
			continue
		}
		stale := copyGroup(g)
		stale.Rules = stale.Rules[:0]
		for _, r := range g.Rules {
			if r.PeerVPCID == "" {
				continue
			}
			if c.group(r.PeerGroupID) != nil && c.peeringBetweenLocked(v.ID, r.PeerVPCID) != nil {
				continue
			}
			r.Peering = c.peeringOfRuleLocked(v.ID, r)
			r.PeeringStatus = pcxDeleted
			if p := get(c.model().peerings, r.Peering); p != nil {
				r.PeeringStatus = p.stateAt(c.now())
			}
			stale.Rules = append(stale.Rules, r)
		}
		if len(stale.Rules) > 0 {
			out = append(out, stale)
		}
	}
	return out, nil
}

// peeringOfRuleLocked is the connection a rule's reference to a peered
// VPC's group goes through: the two VPCs' active one, or else the one the
// rule was made through.
func (c *Cloud) peeringOfRuleLocked(vpcID string, r Rule) string {
	if p := c.peeringBetweenLocked(vpcID, r.PeerVPCID); p != nil {
		return p.ID
	}
	return r.Peering
}
