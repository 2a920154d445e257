package ec2

import (
	"context"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// What security group rules and routes that name a prefix list are in the
// kernel: one rule or route per entry of the list's current version. A
// commit that changes a list's entries recomputes the firewall of every
// ENI in a group that names it and the routing of every VPC whose tables
// do (prefixListFirewallDirtyLocked, prefixListRoutingDirtyLocked). Lists
// of either family: an IPv6 list's entries are IPv6 rules and routes.

func (c *Cloud) prefixList(id string) *PrefixList { return get(c.model().prefixLists, id) }

// ruleCountLocked counts rules of one direction against the rule quota as
// EC2 does: a rule that names a prefix list counts as many rules as the
// list's maximum size.
func (c *Cloud) ruleCountLocked(rules []Rule, egress bool) int {
	n := 0
	for _, r := range rules {
		if r.Egress == egress {
			n += c.ruleWeightLocked(r, "", 0)
		}
	}
	return n
}

// ruleWeightLocked is what a rule counts against the rule quota, were the
// list resized the size given (resized "": as it is).
func (c *Cloud) ruleWeightLocked(r Rule, resized string, size int) int {
	switch {
	case r.PrefixList == "":
		return 1
	case r.PrefixList == resized:
		return size
	}
	if p := c.prefixList(r.PrefixList); p != nil {
		return p.MaxEntries
	}
	return 1
}

// groupsOverRuleQuotaLocked lists the groups whose rules would be beyond
// the rule quota, in a direction that names the list, were it resized.
func (c *Cloud) groupsOverRuleQuotaLocked(plID string, size int) []string {
	limit := c.quotas.Of(quota.RulesPerSecurityGroup)
	var over []string
	for _, g := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
		for _, egress := range []bool{false, true} {
			n, names := 0, false
			for _, r := range g.Rules {
				if r.Egress == egress {
					n += c.ruleWeightLocked(r, plID, size)
					names = names || r.PrefixList == plID
				}
			}
			if names && n > limit && !slices.Contains(over, g.ID) {
				over = append(over, g.ID)
			}
		}
	}
	return over
}

// prefixListUsersLocked lists the security groups whose rules, then the
// route tables whose routes, name a list.
func (c *Cloud) prefixListUsersLocked(plID string) []string {
	var out []string
	for _, g := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
		if slices.ContainsFunc(g.Rules, func(r Rule) bool { return r.PrefixList == plID }) {
			out = append(out, g.ID)
		}
	}
	for _, rt := range sortedBySeq(c.allRouteTables(), func(rt *RouteTable) int64 { return rt.Seq }) {
		if slices.ContainsFunc(rt.Routes, func(r Route) bool { return r.PrefixList == plID }) {
			out = append(out, rt.ID)
		}
	}
	return out
}

// PrefixListAssociation is a resource that uses a prefix list.
type PrefixListAssociation struct {
	ResourceID    string // sg-… or rtb-…
	ResourceOwner string
}

// GetManagedPrefixListAssociations answers the security groups and route
// tables that use a list.
func (c *Cloud) GetManagedPrefixListAssociations(ctx context.Context, s Scope, id string) ([]PrefixListAssociation, error) {
	p, err := c.lockPrefixList(ctx, s, id)
	if err != nil {
		return nil, err
	}
	defer c.unlock()
	out := []PrefixListAssociation{}
	for _, r := range c.prefixListUsersLocked(p.ID) {
		out = append(out, PrefixListAssociation{ResourceID: r, ResourceOwner: c.account})
	}
	return out, nil
}

// AWSPrefixList is a prefix list of an AWS service, as DescribePrefixLists
// answers it.
type AWSPrefixList struct {
	ID, Name string
	CIDRs    []string
}

// DescribePrefixLists answers the prefix lists of AWS services: none, as
// vpcsim runs no AWS service whose addresses they could hold. Every ID is
// unknown; the filters are checked.
func (c *Cloud) DescribePrefixLists(ctx context.Context, s Scope, ids []string, f []Filter) ([]AWSPrefixList, error) {
	return describeFiltered(ctx, c, s, f, func() ([]AWSPrefixList, error) {
		if len(ids) > 0 {
			return nil, notFound("InvalidPrefixListID.NotFound", "prefix list", ids[0])
		}
		return nil, nil
	}, nil, func(p *AWSPrefixList, name string) ([]string, bool) {
		switch name {
		case "prefix-list-id":
			return []string{p.ID}, true
		case "prefix-list-name":
			return []string{p.Name}, true
		}
		return nil, false
	})
}

// kernelRulesLocked is a stored rule in kernel form: one per entry for a
// rule that names a prefix list (none while the list is empty), else one.
func (c *Cloud) kernelRulesLocked(r Rule) []netmodel.FirewallRule {
	if r.PrefixList == "" {
		if fr, ok := firewallRule(r); ok {
			return []netmodel.FirewallRule{fr}
		}
		return nil
	}
	p := c.prefixList(r.PrefixList)
	if p == nil {
		return nil
	}
	var out []netmodel.FirewallRule
	for _, e := range p.Entries() {
		entry := r
		entry.PrefixList = ""
		if e.CIDR.Addr().Is4() {
			entry.CIDRv4 = e.CIDR.String()
		} else {
			entry.CIDRv6 = e.CIDR.String()
		}
		if fr, ok := firewallRule(entry); ok {
			fr.PrefixList = r.PrefixList
			out = append(out, fr)
		}
	}
	return out
}

// prefixListRoutesLocked is what a route table's prefix-list routes are in
// the kernel: a route per entry, to the route's target. An entry that is
// the destination of a route already (have, the table's CIDR routes, or an
// earlier prefix-list route) or the VPC's own range is left to that route:
// on EC2 a route to a CIDR wins over a prefix list's entry.
func (c *Cloud) prefixListRoutesLocked(v *VPC, rt *RouteTable, igw *InternetGateway, have []netmodel.Route) []netmodel.Route {
	seen := map[netip.Prefix]bool{}
	for _, p := range append(v.CIDRs(), v.IPv6CIDRs()...) {
		seen[p] = true
	}
	for _, r := range have {
		seen[r.Dest] = true
	}
	var out []netmodel.Route
	for _, route := range rt.Routes {
		if route.PrefixList == "" {
			continue
		}
		p := c.prefixList(route.PrefixList)
		if p == nil {
			continue
		}
		for _, e := range p.Entries() {
			if seen[e.CIDR] {
				continue
			}
			seen[e.CIDR] = true
			out = append(out, c.netRouteLocked(v.ID, route, e.CIDR, igw))
		}
	}
	return out
}

// changedPrefixListsLocked lists the lists a transaction changed the
// entries of (a new version; made or deleted).
func (c *Cloud) changedPrefixListsLocked(m *model) []string {
	var out []string
	for id, p := range m.prefixLists.Staged() {
		old, _ := c.tables.prefixLists.Get(id)
		if p != nil && old != nil && p.Version == old.Version {
			continue // its name, size, state or tags
		}
		out = append(out, id)
	}
	return out
}

// prefixListFirewallDirtyLocked marks the ENIs whose rules name a list the
// transaction changed the entries of: every member of a group that does.
func (c *Cloud) prefixListFirewallDirtyLocked(m *model, d *firewallDirty) {
	changed := c.changedPrefixListsLocked(m)
	if len(changed) == 0 {
		return
	}
	for g := range c.allGroups() {
		if !slices.ContainsFunc(g.Rules, func(r Rule) bool { return slices.Contains(changed, r.PrefixList) }) {
			continue
		}
		if s := c.fw.vpcs[g.VPCID]; s != nil {
			for e := range s.byGroup[g.ID] {
				d.eni(g.VPCID, e)
			}
		}
	}
}

// prefixListRoutingDirtyLocked lists the VPCs whose route tables name a
// list the transaction changed the entries of.
func (c *Cloud) prefixListRoutingDirtyLocked(m *model) []string {
	changed := c.changedPrefixListsLocked(m)
	if len(changed) == 0 {
		return nil
	}
	var out []string
	for rt := range c.allRouteTables() {
		if slices.ContainsFunc(rt.Routes, func(r Route) bool { return slices.Contains(changed, r.PrefixList) }) {
			out = append(out, rt.VPCID)
		}
	}
	return out
}
