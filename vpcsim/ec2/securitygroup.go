package ec2

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

func (c *Cloud) newDefaultGroupLocked(v *VPC) *SecurityGroup {
	g := &SecurityGroup{
		ID: newID("sg"), Region: v.Region, OwnerID: c.account, VPCID: v.ID,
		Name: "default", Description: "default VPC security group", Seq: c.nextSeq(),
	}
	g.Rules = []Rule{
		{ID: newID("sgr"), GroupID: g.ID, Protocol: "-1", FromPort: -1, ToPort: -1, PeerGroupID: g.ID, PeerOwnerID: c.account},
		allEgressRule(g.ID),
	}
	if len(v.IPv6) > 0 {
		g.Rules = append(g.Rules, allEgressRuleV6(g.ID))
	}
	return g
}

// allEgressRuleV6 is the rule EC2 adds to a new group of a VPC with an
// IPv6 block: all IPv6 traffic out.
func allEgressRuleV6(groupID string) Rule {
	return Rule{ID: newID("sgr"), GroupID: groupID, Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDRv6: "::/0"}
}

func allEgressRule(groupID string) Rule {
	return Rule{ID: newID("sgr"), GroupID: groupID, Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDRv4: "0.0.0.0/0"}
}

// SecurityGroupARN is the group's ARN.
func SecurityGroupARN(g *SecurityGroup) string {
	return "arn:aws:ec2:" + g.Region + ":" + g.OwnerID + ":security-group/" + g.ID
}

// CreateSecurityGroup makes a group whose only rule allows all egress.
func (c *Cloud) CreateSecurityGroup(ctx context.Context, s Scope, in CreateSecurityGroupInput) (SecurityGroup, error) {
	switch {
	case in.Name == "":
		return SecurityGroup{}, missingParameter("groupName")
	case in.Description == "":
		return SecurityGroup{}, missingParameter("groupDescription")
	case len(in.Name) > 255:
		return SecurityGroup{}, invalidValue("Invalid value '%s' for groupName. Length exceeds maximum of 255.", in.Name)
	case len(in.Description) > 255:
		return SecurityGroup{}, invalidValue("Invalid value for groupDescription. Length exceeds maximum of 255.")
	case strings.HasPrefix(in.Name, "sg-"):
		return SecurityGroup{}, invalidValue("Group names may not be in the format sg-*.")
	case in.Name == "default":
		return SecurityGroup{}, invalidValue("Cannot use reserved security group name: default")
	}
	if err := checkTags(in.Tags); err != nil {
		return SecurityGroup{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return SecurityGroup{}, err
	}
	defer c.unlock()
	var v *VPC
	var err error
	if in.VPCID == "" {
		v, err = c.defaultVPCLocked(s)
	} else {
		v, err = c.vpcLocked(s, in.VPCID)
	}
	if err != nil {
		return SecurityGroup{}, err
	}
	for g := range c.allGroups() {
		if g.VPCID == v.ID && g.Name == in.Name {
			return SecurityGroup{}, Errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", in.Name, v.ID)
		}
	}
	if err := c.checkQuota(quota.SecurityGroups, 1+countWhere(c.allGroups(), func(g *SecurityGroup) bool { return g.Region == s.Region })); err != nil {
		return SecurityGroup{}, err
	}
	g := &SecurityGroup{
		ID: newID("sg"), Region: s.Region, OwnerID: c.account, VPCID: v.ID,
		Name: in.Name, Description: in.Description, Tags: in.Tags, Seq: c.nextSeq(),
	}
	g.Rules = []Rule{allEgressRule(g.ID)}
	if len(v.IPv6) > 0 {
		g.Rules = append(g.Rules, allEgressRuleV6(g.ID))
	}
	c.model().groups.Put(g)
	if err := c.commitLocked(); err != nil {
		return SecurityGroup{}, err
	}
	return copyGroup(g), nil
}

func (c *Cloud) defaultVPCLocked(s Scope) (*VPC, error) {
	for v := range c.allVPCs() {
		if v.Region == s.Region && v.IsDefault {
			return v, nil
		}
	}
	return nil, Errorf("VPCIdNotSpecified", "No default VPC for this user")
}

func copyGroup(g *SecurityGroup) SecurityGroup {
	out := *g
	out.Tags = slices.Clone(g.Tags)
	out.Rules = make([]Rule, len(g.Rules))
	for i, r := range g.Rules {
		out.Rules[i] = r
		out.Rules[i].Tags = slices.Clone(r.Tags)
	}
	return out
}

// groupLocked finds a group by ID, or by name in the region's default VPC.
func (c *Cloud) groupLocked(s Scope, ref GroupRef) (*SecurityGroup, error) {
	if ref.ID != "" {
		if err := checkID("InvalidGroupId.Malformed", "sg", ref.ID); err != nil {
			return nil, err
		}
		g := c.group(ref.ID)
		if g == nil || g.Region != s.Region {
			return nil, Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", ref.ID)
		}
		return g, nil
	}
	if ref.Name == "" {
		return nil, missingParameter("groupId")
	}
	v, err := c.defaultVPCLocked(s)
	if err != nil {
		return nil, err
	}
	for g := range c.allGroups() {
		if g.VPCID == v.ID && g.Name == ref.Name {
			return g, nil
		}
	}
	return nil, Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", ref.Name, v.ID)
}

// DescribeSecurityGroups lists the region's groups: by ID, by name (default VPC), filtered.
func (c *Cloud) DescribeSecurityGroups(ctx context.Context, s Scope, ids, names []string, f []Filter) ([]SecurityGroup, error) {
	return describeFiltered(ctx, c, s, f, func() ([]SecurityGroup, error) {
		list, err := c.groupsNamedLocked(s, ids, names)
		return copies(list, err, copyGroup)
	}, func(g *SecurityGroup) []Tag { return g.Tags }, c.groupFilterLocked)
}

// groupsNamedLocked resolves groups by ID and by name in the default VPC, each
// once, in the order named; the region's groups when none are named.
func (c *Cloud) groupsNamedLocked(s Scope, ids, names []string) ([]*SecurityGroup, error) {
	if len(ids) == 0 && len(names) == 0 {
		return inRegion(sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }), s, func(g *SecurityGroup) string { return g.Region }), nil
	}
	var list []*SecurityGroup
	seen := map[*SecurityGroup]bool{}
	add := func(g *SecurityGroup, err error) error {
		if err == nil && !seen[g] {
			seen[g] = true
			list = append(list, g)
		}
		return err
	}
	for _, id := range ids {
		if err := add(c.groupLocked(s, GroupRef{ID: id})); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		return list, nil
	}
	// One pass over the groups, not one per name.
	v, err := c.defaultVPCLocked(s)
	if err != nil {
		return nil, err
	}
	byName := map[string]*SecurityGroup{}
	for g := range c.allGroups() {
		if g.VPCID == v.ID {
			byName[g.Name] = g
		}
	}
	for _, name := range names {
		g := byName[name]
		if g == nil {
			_, err := c.groupLocked(s, GroupRef{Name: name}) // the refusal groupLocked gives
			return nil, err
		}
		add(g, nil)
	}
	return list, nil
}

func (c *Cloud) groupFilterLocked(g *SecurityGroup, name string) ([]string, bool) {
	switch name {
	case "description":
		return []string{g.Description}, true
	case "group-id":
		return []string{g.ID}, true
	case "group-name":
		return []string{g.Name}, true
	case "owner-id":
		return []string{g.OwnerID}, true
	case "vpc-id":
		return []string{g.VPCID}, true
	}
	egress := strings.HasPrefix(name, "egress.")
	field, ok := strings.CutPrefix(strings.TrimPrefix(name, "egress."), "ip-permission.")
	// Which names exist does not depend on the group's rules.
	if !ok || !slices.Contains(ruleFilterFields, field) {
		return nil, false
	}
	var vs []string
	for _, r := range g.Rules {
		if r.Egress != egress {
			continue
		}
		switch field {
		case "cidr":
			vs = append(vs, r.CIDRv4)
		case "ipv6-cidr":
			vs = append(vs, r.CIDRv6)
		case "from-port":
			vs = append(vs, strconv.Itoa(int(r.FromPort)))
		case "to-port":
			vs = append(vs, strconv.Itoa(int(r.ToPort)))
		case "protocol":
			vs = append(vs, r.Protocol)
		case "group-id":
			vs = append(vs, r.PeerGroupID)
		case "group-name":
			if p := c.group(r.PeerGroupID); p != nil {
				vs = append(vs, p.Name)
			}
		case "prefix-list-id":
			vs = append(vs, r.PrefixList)
		case "user-id":
			vs = append(vs, r.PeerOwnerID)
		}
	}
	return vs, true
}

// ruleFilterFields are the ip-permission.* (and egress.ip-permission.*)
// filters of DescribeSecurityGroups.
var ruleFilterFields = []string{"cidr", "ipv6-cidr", "from-port", "to-port", "protocol", "group-id", "group-name", "prefix-list-id", "user-id"}

// DeleteSecurityGroup removes a group that no ENI uses and no other group's rule names.
func (c *Cloud) DeleteSecurityGroup(ctx context.Context, s Scope, ref GroupRef) error {
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.groupLocked(s, ref)
	if err != nil {
		return err
	}
	if g.Name == "default" {
		return Errorf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	if c.groupInUseLocked(g.ID) {
		return Errorf("DependencyViolation", "resource %s has a dependent object", g.ID)
	}
	c.model().groups.Delete(g.ID)
	return c.commitLocked()
}

func (c *Cloud) groupInUseLocked(id string) bool {
	for e := range c.heldENIs() {
		if slices.Contains(e.Groups, id) {
			return true
		}
	}
	g := c.group(id)
	for other := range c.allGroups() {
		// A peered VPC's reference does not hold the group: its rule
		// becomes stale, as on AWS.
		if other.ID == id || g != nil && other.VPCID != g.VPCID {
			continue
		}
		for _, r := range other.Rules {
			if r.PeerGroupID == id {
				return true
			}
		}
	}
	return false
}

// DescribeSecurityGroupRules lists rules one by one, by ID or filtered.
func (c *Cloud) DescribeSecurityGroupRules(ctx context.Context, s Scope, ids []string, f []Filter) ([]Rule, error) {
	return describeFiltered(ctx, c, s, f, func() ([]Rule, error) {
		// A group ID the filter names must have a group ID's form (AWS checks it,
		// though a well-formed unknown one just matches nothing).
		for _, fl := range f {
			if fl.Name != "group-id" {
				continue
			}
			for _, v := range fl.Values {
				if !strings.ContainsAny(v, "*?") && checkID("InvalidGroupId.Malformed", "sg", v) != nil {
					return nil, Errorf("InvalidGroupId.Malformed", "The security group ID '%s' is malformed", v)
				}
			}
		}
		wanted := map[string]bool{}
		for _, id := range ids {
			wanted[id] = false
		}
		var out []Rule
		for _, g := range sortedBySeq(c.allGroups(), func(g *SecurityGroup) int64 { return g.Seq }) {
			if g.Region != s.Region {
				continue
			}
			for _, r := range g.Rules {
				if _, named := wanted[r.ID]; len(ids) > 0 && !named {
					continue
				}
				wanted[r.ID] = true
				r.Tags = slices.Clone(r.Tags)
				out = append(out, r)
			}
		}
		for _, id := range ids {
			if !wanted[id] {
				return nil, Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
		}
		return out, nil
	}, func(r *Rule) []Tag { return r.Tags }, func(r *Rule, name string) ([]string, bool) {
		switch name {
		case "group-id":
			return []string{r.GroupID}, true
		case "security-group-rule-id":
			return []string{r.ID}, true
		}
		return nil, false
	})
}
