package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// NetworkACL is a VPC's network ACL: numbered rules each way, stateless,
// judged at the boundary of the subnets associated with it (the kernel
// enforces them: netmodel.NetworkACL). Every VPC has a default ACL that
// allows everything; every subnet is associated with exactly one ACL, the
// default one unless another was put in its place.
type NetworkACL struct {
	ID        string     `json:"id"` // acl-…
	Region    string     `json:"region"`
	OwnerID   string     `json:"owner"`
	VPCID     string     `json:"vpc"`
	IsDefault bool       `json:"default,omitempty"`
	Entries   []ACLEntry `json:"entries"`
	Assocs    []ACLAssoc `json:"assocs,omitempty"`
	Tags      []Tag      `json:"tags,omitempty"`
	Seq       int64      `json:"seq"`
}

// ACLEntry is one rule of a network ACL.
type ACLEntry struct {
	Number   int          `json:"n"`
	Egress   bool         `json:"egress"`
	Protocol string       `json:"proto"` // "-1" or a protocol number
	Allow    bool         `json:"allow"`
	CIDR     netip.Prefix `json:"cidr"`
	// Ports is the port range of TCP and UDP rules; ICMP the type and code
	// (-1: any) of ICMP rules.
	Ports *[2]int `json:"ports,omitempty"`
	ICMP  *[2]int `json:"icmp,omitempty"`
}

// ACLAssoc associates a subnet with an ACL.
type ACLAssoc struct {
	ID       string `json:"id"` // aclassoc-…
	SubnetID string `json:"subnet"`
}

// lastACLRule is the number of the rule every ACL ends with: deny the rest
// (EC2's "*").
const lastACLRule = 32767

func denyRest() []ACLEntry {
	all := netip.MustParsePrefix("0.0.0.0/0")
	return []ACLEntry{
		{Number: lastACLRule, Protocol: "-1", CIDR: all},
		{Number: lastACLRule, Egress: true, Protocol: "-1", CIDR: all},
	}
}

func (c *Cloud) newACLLocked(v *VPC, isDefault bool) *NetworkACL {
	a := &NetworkACL{ID: newID("acl"), Region: v.Region, OwnerID: c.account, VPCID: v.ID, IsDefault: isDefault, Seq: c.nextSeq()}
	if isDefault {
		all := netip.MustParsePrefix("0.0.0.0/0")
		a.Entries = []ACLEntry{{Number: 100, Protocol: "-1", Allow: true, CIDR: all}, {Number: 100, Egress: true, Protocol: "-1", Allow: true, CIDR: all}}
	}
	a.Entries = append(a.Entries, denyRest()...)
	if len(v.IPv6) > 0 {
		a.Entries = withIPv6Entries(a.Entries, isDefault)
	}
	return a
}

func copyACL(a *NetworkACL) NetworkACL {
	out := *a
	out.Entries = slices.Clone(a.Entries)
	out.Assocs = slices.Clone(a.Assocs)
	out.Tags = slices.Clone(a.Tags)
	return out
}

func (c *Cloud) defaultACLLocked(vpcID string) *NetworkACL {
	for a := range c.model().acls.All() {
		if a.VPCID == vpcID && a.IsDefault {
			return a
		}
	}
	return nil
}

// aclOfSubnetLocked is the ACL a subnet is associated with (nil: none yet).
func (c *Cloud) aclOfSubnetLocked(subnetID string) (*NetworkACL, int) {
	for a := range c.model().acls.All() {
		if i := slices.IndexFunc(a.Assocs, func(as ACLAssoc) bool { return as.SubnetID == subnetID }); i >= 0 {
			return a, i
		}
	}
	return nil, -1
}

// associateDefaultACLLocked stages a new subnet's association with its VPC's
// default ACL.
func (c *Cloud) associateDefaultACLLocked(sub *Subnet) {
	if a := c.defaultACLLocked(sub.VPCID); a != nil {
		a = edit(c.model().acls, a.ID)
		a.Assocs = append(a.Assocs, ACLAssoc{ID: newID("aclassoc"), SubnetID: sub.ID})
	}
}

// dropACLAssocLocked stages the end of a deleted subnet's association.
func (c *Cloud) dropACLAssocLocked(subnetID string) {
	if a, i := c.aclOfSubnetLocked(subnetID); a != nil {
		a = edit(c.model().acls, a.ID)
		a.Assocs = slices.Delete(a.Assocs, i, i+1)
	}
}

// ensureDefaultACLsLocked gives a default ACL to each VPC stored before
// vpcsim kept ACLs, and associates each subnet that has none with it.
func (c *Cloud) ensureDefaultACLsLocked() {
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		if c.defaultACLLocked(v.ID) == nil {
			c.model().acls.Put(c.newACLLocked(v, true))
		}
	}
	for _, sub := range sortedBySeq(c.allSubnets(), func(s *Subnet) int64 { return s.Seq }) {
		if a, _ := c.aclOfSubnetLocked(sub.ID); a == nil {
			c.associateDefaultACLLocked(sub)
		}
	}
}

// aclLocked finds a network ACL of the region.
func (c *Cloud) aclLocked(s Scope, id string) (*NetworkACL, error) {
	if err := checkID("InvalidNetworkAclID.Malformed", "acl", id); err != nil {
		return nil, err
	}
	a := get(c.model().acls, id)
	if a == nil || a.Region != s.Region {
		return nil, notFound("InvalidNetworkAclID.NotFound", "networkAcl", id)
	}
	return a, nil
}

// CreateNetworkAcl makes a VPC's ACL that denies everything until given rules.
func (c *Cloud) CreateNetworkAcl(ctx context.Context, s Scope, vpcID string, tags []Tag) (NetworkACL, error) {
	if vpcID == "" {
		return NetworkACL{}, missingParameter("vpcId")
	}
	if err := checkTags(tags); err != nil {
		return NetworkACL{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return NetworkACL{}, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return NetworkACL{}, err
	}
	if countWhere(c.model().acls.All(), func(a *NetworkACL) bool { return a.VPCID == v.ID }) >= maxACLsPerVPC {
		return NetworkACL{}, Errorf("NetworkAclLimitExceeded", "The maximum number of network ACLs has been reached.")
	}
	a := c.newACLLocked(v, false)
	a.Tags = tags
	c.model().acls.Put(a)
	if err := c.commitLocked(); err != nil {
		return NetworkACL{}, err
	}
	return copyACL(a), nil
}

// maxACLsPerVPC is EC2's default quota of network ACLs per VPC.
const maxACLsPerVPC = 200

// DeleteNetworkAcl deletes an ACL no subnet is associated with; the default
// one goes with its VPC only.
func (c *Cloud) DeleteNetworkAcl(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("networkAclId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	a, err := c.aclLocked(s, id)
	if err != nil {
		return err
	}
	switch {
	case a.IsDefault:
		return Errorf("InvalidParameterValue", "cannot delete default network ACL %s", a.ID)
	case len(a.Assocs) > 0:
		return dependencyViolation(a.ID)
	}
	c.model().acls.Delete(a.ID)
	return c.commitLocked()
}

// ACLEntryInput is CreateNetworkAclEntry's and ReplaceNetworkAclEntry's
// request.
type ACLEntryInput struct {
	ACLID      string
	Number     int
	Egress     bool
	Protocol   string
	RuleAction string
	CIDR, IPv6 string
	Ports      *[2]int // From, To
	ICMP       *[2]int // Type, Code
}

// aclEntryOf validates a rule request as EC2 does.
func aclEntryOf(in ACLEntryInput) (ACLEntry, error) {
	e := ACLEntry{Number: in.Number, Egress: in.Egress}
	switch {
	case in.Number < 1 || in.Number > 32766:
		return e, invalidValue("Value (%d) for parameter ruleNumber is invalid. Valid values are 1 to 32766.", in.Number)
	case in.Protocol == "":
		return e, missingParameter("protocol")
	case in.RuleAction != "allow" && in.RuleAction != "deny":
		return e, invalidValue("Value (%s) for parameter ruleAction is invalid. Valid values are allow, deny.", in.RuleAction)
	case in.IPv6 != "" && in.CIDR != "":
		// (unverified) the message.
		return e, Errorf("InvalidParameterCombination", "Only one of cidrBlock or ipv6CidrBlock may be specified")
	case in.CIDR == "" && in.IPv6 == "":
		return e, missingParameter("cidrBlock")
	}
	e.Allow = in.RuleAction == "allow"
	if in.IPv6 != "" {
		cidr, err := parseIPv6CIDR(in.IPv6)
		if err != nil {
			return e, err
		}
		e.CIDR = cidr
	} else {
		cidr, err := netip.ParsePrefix(in.CIDR)
		if err != nil || !cidr.Addr().Is4() {
			return e, invalidValue("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", in.CIDR)
		}
		e.CIDR = cidr.Masked()
	}
	proto, err := aclProtocol(in.Protocol)
	if err != nil {
		return e, err
	}
	e.Protocol = strconv.Itoa(proto)
	switch proto {
	case 6, 17:
		if in.Ports == nil {
			return e, missingParameter("portRange")
		}
		if in.Ports[0] < 0 || in.Ports[1] > 65535 || in.Ports[0] > in.Ports[1] {
			return e, invalidValue("Invalid port range: %d-%d", in.Ports[0], in.Ports[1])
		}
		e.Ports = in.Ports
	case 1, 58: // ICMP, ICMPv6
		if in.ICMP == nil {
			return e, missingParameter("icmpTypeCode")
		}
		if in.ICMP[0] < -1 || in.ICMP[0] > 255 || in.ICMP[1] < -1 || in.ICMP[1] > 255 {
			return e, invalidValue("Invalid ICMP type/code: %d/%d", in.ICMP[0], in.ICMP[1])
		}
		e.ICMP = in.ICMP
	}
	return e, nil
}

// aclProtocol reads a rule's protocol: -1, a number, or tcp/udp/icmp/all.
func aclProtocol(p string) (int, error) {
	switch strings.ToLower(p) {
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "all", "-1":
		return -1, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 255 {
		return 0, invalidValue("Invalid value '%s' for protocol. Valid values are -1 and 0-255.", p)
	}
	return n, nil
}

// CreateNetworkAclEntry adds a rule; its number must be new in its direction.
func (c *Cloud) CreateNetworkAclEntry(ctx context.Context, s Scope, in ACLEntryInput) error {
	return c.changeACLEntry(ctx, s, in, func(a *NetworkACL, e ACLEntry, i int) error {
		if i >= 0 {
			return Errorf("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", e.Number)
		}
		a.Entries = append(a.Entries, e)
		return nil
	})
}

// ReplaceNetworkAclEntry changes a rule of a number and direction.
func (c *Cloud) ReplaceNetworkAclEntry(ctx context.Context, s Scope, in ACLEntryInput) error {
	return c.changeACLEntry(ctx, s, in, func(a *NetworkACL, e ACLEntry, i int) error {
		if i < 0 {
			return aclEntryNotFound(a.ID, e.Number, e.Egress)
		}
		a.Entries[i] = e
		return nil
	})
}

func aclEntryNotFound(id string, n int, egress bool) error {
	return Errorf("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d and egress %t in network acl %s was not found.", n, egress, id)
}

func (c *Cloud) changeACLEntry(ctx context.Context, s Scope, in ACLEntryInput, change func(a *NetworkACL, e ACLEntry, i int) error) error {
	if in.ACLID == "" {
		return missingParameter("networkAclId")
	}
	e, err := aclEntryOf(in)
	if err != nil {
		return err
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	a, err := c.aclLocked(s, in.ACLID)
	if err != nil {
		return err
	}
	a = edit(c.model().acls, a.ID)
	i := slices.IndexFunc(a.Entries, func(have ACLEntry) bool { return have.Number == e.Number && have.Egress == e.Egress })
	if err := change(a, e, i); err != nil {
		return err
	}
	if countWhere(slices.Values(ptrs(a.Entries)), func(x *ACLEntry) bool { return x.Egress == e.Egress }) > maxACLRules+1 {
		return Errorf("NetworkAclEntryLimitExceeded", "The maximum number of network acl entries has been reached.")
	}
	return c.commitLocked()
}

// maxACLRules is EC2's default quota of rules per ACL and direction.
const maxACLRules = 20

func ptrs[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// DeleteNetworkAclEntry removes a rule (not the last, "*", one).
func (c *Cloud) DeleteNetworkAclEntry(ctx context.Context, s Scope, aclID string, number int, egress bool) error {
	if aclID == "" {
		return missingParameter("networkAclId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	a, err := c.aclLocked(s, aclID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(a.Entries, func(e ACLEntry) bool { return e.Number == number && e.Egress == egress })
	switch {
	case number == lastACLRule || number == lastACLRuleV6:
		return invalidValue("Value (%d) for parameter ruleNumber is invalid. Valid values are 1 to 32766.", number)
	case i < 0:
		return aclEntryNotFound(a.ID, number, egress)
	}
	a = edit(c.model().acls, a.ID)
	a.Entries = slices.Delete(a.Entries, i, i+1)
	return c.commitLocked()
}

// ReplaceNetworkAclAssociation moves a subnet's association to another ACL
// of its VPC; the association gets a new ID.
func (c *Cloud) ReplaceNetworkAclAssociation(ctx context.Context, s Scope, assocID, aclID string) (string, error) {
	switch {
	case assocID == "":
		return "", missingParameter("associationId")
	case aclID == "":
		return "", missingParameter("networkAclId")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	to, err := c.aclLocked(s, aclID)
	if err != nil {
		return "", err
	}
	var from *NetworkACL
	i := -1
	for a := range c.model().acls.All() {
		if k := slices.IndexFunc(a.Assocs, func(as ACLAssoc) bool { return as.ID == assocID }); k >= 0 && a.Region == s.Region {
			from, i = a, k
		}
	}
	if from == nil {
		return "", Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assocID)
	}
	if from.VPCID != to.VPCID {
		return "", invalidValue("Network ACL %s and subnet %s belong to different networks", to.ID, from.Assocs[i].SubnetID)
	}
	sub := from.Assocs[i].SubnetID
	id := newID("aclassoc")
	m := c.model()
	from = edit(m.acls, from.ID)
	from.Assocs = slices.Delete(from.Assocs, i, i+1)
	to = edit(m.acls, to.ID)
	to.Assocs = append(to.Assocs, ACLAssoc{ID: id, SubnetID: sub})
	if err := c.commitLocked(); err != nil {
		return "", err
	}
	return id, nil
}

// DescribeNetworkAcls lists the region's ACLs: those named (all must
// exist), filtered.
func (c *Cloud) DescribeNetworkAcls(ctx context.Context, s Scope, ids []string, f []Filter) ([]NetworkACL, error) {
	return describeFiltered(ctx, c, s, f, func() ([]NetworkACL, error) {
		list, err := pick(ids, func(id string) (*NetworkACL, error) { return c.aclLocked(s, id) },
			func() []*NetworkACL {
				return inRegion(sortedBySeq(c.model().acls.All(), func(a *NetworkACL) int64 { return a.Seq }), s, func(a *NetworkACL) string { return a.Region })
			})
		return copies(list, err, func(a *NetworkACL) NetworkACL {
			out := copyACL(a)
			slices.SortStableFunc(out.Entries, func(x, y ACLEntry) int { return x.Number - y.Number })
			return out
		})
	}, func(a *NetworkACL) []Tag { return a.Tags }, aclFilter)
}

func aclFilter(a *NetworkACL, name string) ([]string, bool) {
	var out []string
	entries := func(f func(ACLEntry) string) []string {
		for _, e := range a.Entries {
			if v := f(e); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	pair := func(p *[2]int, i int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(p[i])
	}
	switch name {
	case "network-acl-id":
		return []string{a.ID}, true
	case "vpc-id":
		return []string{a.VPCID}, true
	case "owner-id":
		return []string{a.OwnerID}, true
	case "default":
		return []string{boolString(a.IsDefault)}, true
	case "association.association-id":
		for _, as := range a.Assocs {
			out = append(out, as.ID)
		}
		return out, true
	case "association.subnet-id":
		for _, as := range a.Assocs {
			out = append(out, as.SubnetID)
		}
		return out, true
	case "association.network-acl-id":
		if len(a.Assocs) > 0 {
			out = append(out, a.ID)
		}
		return out, true
	case "entry.cidr":
		return entries(func(e ACLEntry) string {
			if e.CIDR.Addr().Is4() {
				return e.CIDR.String()
			}
			return ""
		}), true
	case "entry.egress":
		return entries(func(e ACLEntry) string { return boolString(e.Egress) }), true
	case "entry.protocol":
		return entries(func(e ACLEntry) string { return e.Protocol }), true
	case "entry.rule-action":
		return entries(func(e ACLEntry) string {
			if e.Allow {
				return "allow"
			}
			return "deny"
		}), true
	case "entry.rule-number":
		return entries(func(e ACLEntry) string { return strconv.Itoa(e.Number) }), true
	case "entry.port-range.from":
		return entries(func(e ACLEntry) string { return pair(e.Ports, 0) }), true
	case "entry.port-range.to":
		return entries(func(e ACLEntry) string { return pair(e.Ports, 1) }), true
	case "entry.icmp.type":
		return entries(func(e ACLEntry) string { return pair(e.ICMP, 0) }), true
	case "entry.icmp.code":
		return entries(func(e ACLEntry) string { return pair(e.ICMP, 1) }), true
	case "entry.ipv6-cidr":
		return entries(func(e ACLEntry) string {
			if e.CIDR.Addr().Is6() {
				return e.CIDR.String()
			}
			return ""
		}), true
	}
	return nil, false
}

// netACLLocked is what the kernel enforces of a subnet's ACL, rules of both
// families: nil when it allows everything each way, which is the same as
// none.
func (c *Cloud) netACLLocked(subnetID string) *netmodel.NetworkACL {
	a, _ := c.aclOfSubnetLocked(subnetID)
	if a == nil {
		return nil
	}
	entries := slices.Clone(a.Entries)
	slices.SortStableFunc(entries, func(x, y ACLEntry) int { return x.Number - y.Number })
	if allowsAll(entries, false) && allowsAll(entries, true) {
		return nil
	}
	out := &netmodel.NetworkACL{ID: a.ID}
	for _, e := range entries {
		if e.Number == lastACLRule || e.Number == lastACLRuleV6 {
			continue // the kernel drops what no rule matches
		}
		r := netmodel.ACLRule{Number: e.Number, Allow: e.Allow, From: -1, To: -1, CIDR: e.CIDR}
		r.Proto, _ = strconv.Atoi(e.Protocol)
		switch {
		case e.Ports != nil:
			r.From, r.To = e.Ports[0], e.Ports[1]
		case e.ICMP != nil:
			r.From, r.To = e.ICMP[0], e.ICMP[1]
		}
		if e.Egress {
			out.Egress = append(out.Egress, r)
		} else {
			out.Ingress = append(out.Ingress, r)
		}
	}
	return out
}

// allowsAll reports whether an ACL's entries of a direction, in rule order,
// let everything through: the first of each family it has entries of
// allows all of that family. Every ACL has IPv4 entries (its final deny);
// one without IPv6 entries is of a VPC that never had IPv6 traffic.
func allowsAll(entries []ACLEntry, egress bool) bool {
	for _, v4 := range []bool{true, false} {
		i := slices.IndexFunc(entries, func(e ACLEntry) bool { return e.Egress == egress && e.CIDR.Addr().Is4() == v4 })
		if i >= 0 && !(entries[i].Allow && entries[i].Protocol == "-1" && entries[i].CIDR.Bits() == 0) {
			return false
		}
	}
	return true
}
