package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// AuthorizeSecurityGroup adds ingress or egress rules: every permission is split
// into one rule per peer, and all are refused if any is a duplicate or invalid.
func (c *Cloud) AuthorizeSecurityGroup(ctx context.Context, s Scope, in AuthorizeInput) ([]Rule, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	g, err := c.groupLocked(s, in.Group)
	if err != nil {
		return nil, err
	}
	wanted, err := c.expandLocked(s, g, in)
	if err != nil {
		return nil, err
	}
	if len(wanted) == 0 {
		return nil, missingParameter("ipPermissions")
	}
	if err := checkPeered(wanted); err != nil {
		return nil, err
	}
	for i, w := range wanted {
		for _, r := range append(slices.Clone(g.Rules), wanted[:i]...) {
			if sameRule(r, w) {
				return nil, Errorf("InvalidPermission.Duplicate", "the specified rule %s already exists", describeRule(w))
			}
		}
	}
	// A rule that names a prefix list counts as the list's size.
	if err := c.checkQuota(quota.RulesPerSecurityGroup, c.ruleCountLocked(g.Rules, in.Egress)+c.ruleCountLocked(wanted, in.Egress)); err != nil {
		return nil, err
	}
	for i := range wanted {
		wanted[i].ID = newID("sgr")
		wanted[i].Tags = slices.Clone(in.Tags)
	}
	g = edit(c.model().groups, g.ID)
	g.Rules = append(g.Rules, wanted...)
	if err := c.commitLocked(); err != nil {
		return nil, err
	}
	return wanted, nil
}

// RevokeSecurityGroup removes rules named by permission or by rule ID; all must exist.
func (c *Cloud) RevokeSecurityGroup(ctx context.Context, s Scope, in AuthorizeInput) ([]Rule, error) {
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	g, err := c.groupLocked(s, in.Group)
	if err != nil {
		return nil, err
	}
	wanted, err := c.expandLocked(s, g, in)
	if err != nil {
		return nil, err
	}
	var gone []Rule
	for _, w := range wanted {
		i := slices.IndexFunc(g.Rules, func(r Rule) bool { return sameRule(r, w) })
		if i < 0 {
			return nil, Errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
		gone = append(gone, g.Rules[i])
	}
	for _, id := range in.RuleIDs {
		i := slices.IndexFunc(g.Rules, func(r Rule) bool { return r.ID == id && r.Egress == in.Egress })
		if i < 0 {
			return nil, Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
		gone = append(gone, g.Rules[i])
	}
	if len(gone) == 0 {
		return nil, missingParameter("ipPermissions")
	}
	g = edit(c.model().groups, g.ID)
	g.Rules = slices.DeleteFunc(g.Rules, func(r Rule) bool {
		return slices.ContainsFunc(gone, func(x Rule) bool { return x.ID == r.ID })
	})
	if err := c.commitLocked(); err != nil {
		return nil, err
	}
	return gone, nil
}

// expandLocked turns the request's permissions into single-peer rules, validated.
func (c *Cloud) expandLocked(s Scope, g *SecurityGroup, in AuthorizeInput) ([]Rule, error) {
	perms := in.Permissions
	if in.Flat != nil {
		perms = append(slices.Clone(perms), *in.Flat)
	}
	var out []Rule
	for _, p := range perms {
		proto, from, to, err := normalizePorts(p)
		if err != nil {
			return nil, err
		}
		base := Rule{GroupID: g.ID, Egress: in.Egress, Protocol: proto, FromPort: from, ToPort: to}
		for _, peer := range p.CIDRs {
			pfx, err := netip.ParsePrefix(peer.Value)
			if err != nil || !pfx.Addr().Is4() {
				return nil, invalidValue("CIDR block %s is malformed", peer.Value)
			}
			r := base
			r.CIDRv4, r.Description = pfx.Masked().String(), peer.Description
			out = append(out, r)
		}
		for _, peer := range p.CIDRsV6 {
			pfx, err := netip.ParsePrefix(peer.Value)
			if err != nil || !pfx.Addr().Is6() {
				return nil, invalidValue("CIDR block %s is malformed", peer.Value)
			}
			r := base
			r.CIDRv6, r.Description = pfx.Masked().String(), peer.Description
			out = append(out, r)
		}
		for _, peer := range p.Groups {
			ref := GroupRef{ID: peer.Value, Name: peer.Name}
			var pg *SecurityGroup
			if ref.ID == "" && ref.Name != "" {
				// A name refers to a group of the same VPC.
				for x := range c.allGroups() {
					if x.VPCID == g.VPCID && x.Name == ref.Name {
						pg = x
					}
				}
				if pg == nil {
					return nil, Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", ref.Name, g.VPCID)
				}
			} else {
				var err error
				if pg, err = c.groupLocked(s, ref); err != nil {
					return nil, err
				}
			}
			r := base
			r.PeerGroupID, r.PeerOwnerID, r.Description = pg.ID, pg.OwnerID, peer.Description
			if pg.VPCID != g.VPCID {
				r.PeerVPCID = pg.VPCID
				if p := c.peeringBetweenLocked(g.VPCID, pg.VPCID); p != nil {
					r.Peering = p.ID
				}
			}
			out = append(out, r)
		}
		for _, peer := range p.PrefixIDs {
			if !strings.HasPrefix(peer.Value, "pl-") {
				return nil, Errorf("InvalidPrefixListId.Malformed", "The specified prefix list ID is malformed: %s", peer.Value)
			}
			if _, err := c.prefixListLocked(s, peer.Value); err != nil {
				return nil, err
			}
			r := base
			r.PrefixList, r.Description = peer.Value, peer.Description
			out = append(out, r)
		}
	}
	return out, nil
}

// normalizePorts checks a permission's protocol and ports and gives them in the
// form AWS stores: protocol names for tcp/udp/icmp/icmpv6, "-1" for all, and
// -1/-1 ports where the protocol has none.
func normalizePorts(p Permission) (proto string, from, to int32, err error) {
	proto = strings.ToLower(p.Protocol)
	switch proto {
	case "":
		return "", 0, 0, missingParameter("ipProtocol")
	case "6":
		proto = "tcp"
	case "17":
		proto = "udp"
	case "1":
		proto = "icmp"
	case "58":
		proto = "icmpv6"
	case "all":
		proto = "-1"
	}
	get := func(v *int32) int32 {
		if v == nil {
			return -1
		}
		return *v
	}
	switch proto {
	case "tcp", "udp":
		if p.FromPort == nil || p.ToPort == nil {
			return "", 0, 0, invalidValue("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
		}
		from, to = *p.FromPort, *p.ToPort
		if from < 0 || to > 65535 || from > to {
			return "", 0, 0, invalidValue("Invalid port range %d to %d", from, to)
		}
		return proto, from, to, nil
	case "icmp", "icmpv6":
		from, to = get(p.FromPort), get(p.ToPort)
		if from < -1 || from > 255 || to < -1 || to > 255 {
			return "", 0, 0, invalidValue("Invalid value '%d' for ICMP type or code", max(from, to))
		}
		return proto, from, to, nil
	case "-1":
		return proto, -1, -1, nil
	}
	n, perr := strconv.Atoi(proto)
	if perr != nil || n < 0 || n > 255 {
		return "", 0, 0, invalidValue("Invalid value '%s' for IP protocol. Unknown protocol.", p.Protocol)
	}
	return proto, -1, -1, nil
}

func sameRule(a, b Rule) bool {
	return a.Egress == b.Egress && a.Protocol == b.Protocol && a.FromPort == b.FromPort && a.ToPort == b.ToPort &&
		a.CIDRv4 == b.CIDRv4 && a.CIDRv6 == b.CIDRv6 && a.PeerGroupID == b.PeerGroupID && a.PrefixList == b.PrefixList
}

// describeRule words a rule as EC2's InvalidPermission.Duplicate message does:
// "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW".
func describeRule(r Rule) string {
	peer := r.CIDRv4 + r.CIDRv6 + r.PeerGroupID + r.PrefixList
	var what string
	switch r.Protocol {
	case "-1":
		what = "ALL"
	case "tcp", "udp":
		what = fmt.Sprintf("%s, from port: %d, to port: %d", strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	case "icmp", "icmpv6":
		what = fmt.Sprintf("%s, type: %d, code: %d", strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	default:
		what = "protocol: " + r.Protocol
	}
	return fmt.Sprintf("\"peer: %s, %s, ALLOW\"", peer, what)
}

// checkPeered refuses a rule that references a group of another VPC not
// peered (active, in the region) with the rule's, as EC2 does. A rule
// already made stays when its peering goes (it is stale), and can be
// revoked.
func checkPeered(rules []Rule) error {
	for _, r := range rules {
		if r.PeerVPCID != "" && r.Peering == "" {
			return Errorf("InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
		}
	}
	return nil
}
