package ec2

import (
	"context"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// UpdateRuleDescriptions changes the descriptions of a group's ingress or
// egress rules: those its permissions name (each must exist; the peer's
// description is the new one) or those named by rule ID.
func (c *Cloud) UpdateRuleDescriptions(ctx context.Context, s Scope, in AuthorizeInput, byID map[string]string) error {
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.groupLocked(s, in.Group)
	if err != nil {
		return err
	}
	wanted, err := c.expandLocked(s, g, in)
	if err != nil {
		return err
	}
	if len(wanted) == 0 && len(byID) == 0 {
		return missingParameter("ipPermissions")
	}
	g = edit(c.model().groups, g.ID)
	for _, w := range wanted {
		i := slices.IndexFunc(g.Rules, func(r Rule) bool { return sameRule(r, w) })
		if i < 0 {
			return Errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
		g.Rules[i].Description = w.Description
	}
	for id, desc := range byID {
		i := slices.IndexFunc(g.Rules, func(r Rule) bool { return r.ID == id && r.Egress == in.Egress })
		if i < 0 {
			return Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
		g.Rules[i].Description = desc
	}
	return c.commitLocked()
}

// RuleChange is one ModifySecurityGroupRules entry: a rule, by ID, and what
// it becomes (one peer).
type RuleChange struct {
	RuleID     string
	Permission Permission
}

// ModifySecurityGroupRules replaces rules of a group in place: each keeps its
// ID, direction and tags, and takes the protocol, ports, peer and
// description given; all or none, and no change may duplicate another rule.
func (c *Cloud) ModifySecurityGroupRules(ctx context.Context, s Scope, groupID string, changes []RuleChange) error {
	if groupID == "" {
		return missingParameter("groupId")
	}
	if len(changes) == 0 {
		return missingParameter("securityGroupRule")
	}
	seen := map[string]bool{}
	for _, ch := range changes {
		switch {
		case ch.RuleID == "":
			return missingParameter("securityGroupRuleId")
		case seen[ch.RuleID]:
			return invalidValue("The security group rule ID '%s' is given more than once.", ch.RuleID)
		}
		if err := checkRuleChange(ch.Permission); err != nil {
			return err
		}
		seen[ch.RuleID] = true
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.groupLocked(s, GroupRef{ID: groupID})
	if err != nil {
		return err
	}
	before := [2]int{c.ruleCountLocked(g.Rules, false), c.ruleCountLocked(g.Rules, true)}
	g = edit(c.model().groups, g.ID)
	for _, ch := range changes {
		i := slices.IndexFunc(g.Rules, func(r Rule) bool { return r.ID == ch.RuleID })
		if i < 0 {
			return Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", ch.RuleID)
		}
		old := g.Rules[i]
		next, err := c.expandLocked(s, g, AuthorizeInput{Group: GroupRef{ID: g.ID}, Egress: old.Egress, Permissions: []Permission{ch.Permission}})
		if err != nil {
			return err
		}
		if len(next) != 1 {
			return Errorf("InvalidParameterCombination", "A security group rule must have exactly one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId")
		}
		if err := checkPeered(next); err != nil {
			return err
		}
		r := next[0]
		r.ID, r.Tags = old.ID, old.Tags
		g.Rules[i] = r
	}
	// A rule that comes to name a prefix list counts as the list's size.
	for i, egress := range []bool{false, true} {
		if n := c.ruleCountLocked(g.Rules, egress); n > before[i] {
			if err := c.checkQuota(quota.RulesPerSecurityGroup, n); err != nil {
				return err
			}
		}
	}
	// No two rules the same once all changes are made (two may swap).
	for i, r := range g.Rules {
		if !seen[r.ID] {
			continue
		}
		for j, other := range g.Rules {
			if j != i && sameRule(other, r) {
				return Errorf("InvalidPermission.Duplicate", "the specified rule %s already exists", describeRule(r))
			}
		}
	}
	return c.commitLocked()
}

// GetSecurityGroupsForVpc answers the groups that can be used in a VPC: its
// own (vpcsim has no shared VPCs nor group associations), filtered.
func (c *Cloud) GetSecurityGroupsForVpc(ctx context.Context, s Scope, vpcID string, f []Filter) ([]SecurityGroup, error) {
	if vpcID == "" {
		return nil, missingParameter("vpcId")
	}
	return describeFiltered(ctx, c, s, f, func() ([]SecurityGroup, error) {
		if _, err := c.vpcLocked(s, vpcID); err != nil {
			return nil, err
		}
		var out []*SecurityGroup
		for _, g := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
			if g.VPCID == vpcID {
				out = append(out, g)
			}
		}
		return copies(out, nil, copyGroup)
	}, func(g *SecurityGroup) []Tag { return g.Tags }, func(g *SecurityGroup, name string) ([]string, bool) {
		switch name {
		case "primary-vpc-id":
			return []string{g.VPCID}, true
		case "group-id", "group-name", "owner-id", "vpc-id", "description":
			return c.groupFilterLocked(g, name)
		}
		return nil, false
	})
}

// checkRuleChange refuses a changed rule as ModifySecurityGroupRules does,
// in its own words (AuthorizeSecurityGroup* words the same faults
// otherwise): a protocol, both ports of TCP and UDP, exactly one peer.
func checkRuleChange(p Permission) error {
	proto := strings.ToLower(p.Protocol)
	peers := len(p.CIDRs) + len(p.CIDRsV6) + len(p.Groups) + len(p.PrefixIDs)
	switch {
	case proto == "":
		return invalidValue("Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.")
	case (proto == "tcp" || proto == "udp" || proto == "6" || proto == "17") && (p.FromPort == nil || p.ToPort == nil):
		return invalidValue("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
	case peers == 0:
		return Errorf("MissingParameter", "The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId")
	case peers > 1:
		return Errorf("InvalidParameterCombination", "Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified")
	}
	return nil
}
