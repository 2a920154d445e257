package ec2

import (
	"context"
	"crypto/rand"
	"net/netip"
	"slices"
)

// A VPC may have one IPv6 block, "Amazon-provided" as EC2 says (CreateVpc
// or AssociateVpcCidrBlock with AmazonProvidedIpv6CidrBlock): a /56. EC2
// hands out global unicast prefixes; vpcsim hands out unique local ones
// (RFC 4193: fd00::/8, then a random 40-bit global ID per block), never a
// prefix that is routed on the internet. Every route table of the VPC has a
// local route to it, subnets take /64s (or larger ranges) of it
// (subnet_ipv6.go) and ENIs addresses of those (eni_ipv6.go). The
// dataplane is given the block with the VPC's firewall and routing, where
// it is local as the IPv4 blocks are.

// IPv6Block is an IPv6 block of a VPC.
type IPv6Block struct {
	ID   string       `json:"id"` // vpc-cidr-assoc-…
	CIDR netip.Prefix `json:"cidr"`
	// NetworkBorderGroup is where EC2 advertises the block: the region.
	NetworkBorderGroup string `json:"nbg"`
	// State is never stored: "associated" but in the answers of the calls
	// that associate (associating) or disassociate (disassociating) it.
	State string `json:"-"`
}

// ipv6Pool is the pool EC2 names for an Amazon-provided block.
const ipv6Pool = "Amazon"

// An Amazon-provided block is a /56, and a VPC has at most one.
const (
	vpcIPv6Bits   = 56
	maxIPv6PerVPC = 1
)

// field is one value of the block for DescribeVpcs' filters.
func (b IPv6Block) field(filter string) string {
	switch filter {
	case "ipv6-cidr-block-association.ipv6-cidr-block":
		return b.CIDR.String()
	case "ipv6-cidr-block-association.ipv6-pool":
		return ipv6Pool
	case "ipv6-cidr-block-association.association-id":
		return b.ID
	}
	return "associated"
}

// IPv6CIDRs lists the VPC's IPv6 blocks.
func (v *VPC) IPv6CIDRs() []netip.Prefix {
	var out []netip.Prefix
	for _, b := range v.IPv6 {
		out = append(out, b.CIDR)
	}
	return out
}

// inVPCIPv6 reports whether a range lies within one of the VPC's IPv6 blocks.
func (v *VPC) inVPCIPv6(p netip.Prefix) bool {
	return slices.ContainsFunc(v.IPv6, func(b IPv6Block) bool { return b.CIDR.Bits() <= p.Bits() && b.CIDR.Contains(p.Addr()) })
}

// newULAPrefix is a /56 of fd00::/8 with a random global ID (RFC 4193
// section 3.2), its subnet ID's first byte zero.
func newULAPrefix() netip.Prefix {
	var a [16]byte
	a[0] = 0xfd
	rand.Read(a[1:6])
	return netip.PrefixFrom(netip.AddrFrom16(a), vpcIPv6Bits)
}

// newIPv6BlockLocked makes an IPv6 block no VPC has.
func (c *Cloud) newIPv6BlockLocked(region string) IPv6Block {
	for {
		p := newULAPrefix()
		clash := false
		for v := range c.heldVPCs() {
			clash = clash || slices.ContainsFunc(v.IPv6, func(b IPv6Block) bool { return b.CIDR.Overlaps(p) })
		}
		if !clash {
			return IPv6Block{ID: newID("vpc-cidr-assoc"), CIDR: p, NetworkBorderGroup: region}
		}
	}
}

// IPv6 entries of network ACLs: the default ACL of a VPC with IPv6 allows
// all IPv6 traffic each way (rule 101, beside IPv4's 100), and every ACL of
// such a VPC ends with a rule that denies the rest (EC2 numbers it 32768,
// after IPv4's 32767; both show as "*" in the console).
const (
	defaultACLRuleV6 = 101
	lastACLRuleV6    = 32768
)

var allIPv6 = netip.MustParsePrefix("::/0")

// withIPv6Entries adds the IPv6 rules an ACL of a VPC with IPv6 has, those
// it lacks: the final deny; the allow rules too on a default ACL, unless
// its rule 101 of that direction was put to another use.
func withIPv6Entries(entries []ACLEntry, isDefault bool) []ACLEntry {
	has := func(n int, egress bool) bool {
		return slices.ContainsFunc(entries, func(e ACLEntry) bool { return e.Number == n && e.Egress == egress })
	}
	for _, egress := range []bool{false, true} {
		if isDefault && !has(defaultACLRuleV6, egress) {
			entries = append(entries, ACLEntry{Number: defaultACLRuleV6, Egress: egress, Protocol: "-1", Allow: true, CIDR: allIPv6})
		}
		if !has(lastACLRuleV6, egress) {
			entries = append(entries, ACLEntry{Number: lastACLRuleV6, Egress: egress, Protocol: "-1", CIDR: allIPv6})
		}
	}
	slices.SortStableFunc(entries, func(x, y ACLEntry) int { return x.Number - y.Number })
	return entries
}

// AssociateVpcIPv6Input is AssociateVpcCidrBlock's request for an IPv6 block.
type AssociateVpcIPv6Input struct {
	VPCID string
	// NetworkBorderGroup, when given, must be the region: vpcsim has no
	// Local Zones.
	NetworkBorderGroup string
}

// AssociateVpcIPv6 gives a VPC of the region an Amazon-provided IPv6 block,
// as EC2 does: one per VPC (CidrLimitExceeded), with a local route in each
// of its route tables and, in its network ACLs, the IPv6 rules EC2 adds.
// Security groups that exist keep their rules (EC2 adds ::/0 egress to new
// groups only). The answer shows it associating; it is associated at once.
func (c *Cloud) AssociateVpcIPv6(ctx context.Context, s Scope, in AssociateVpcIPv6Input) (IPv6Block, error) {
	if in.VPCID == "" {
		return IPv6Block{}, missingParameter("vpcId")
	}
	if in.NetworkBorderGroup != "" && in.NetworkBorderGroup != s.Region {
		// (unverified) the code and message.
		return IPv6Block{}, invalidValue("Value (%s) for parameter ipv6CidrBlockNetworkBorderGroup is invalid.", in.NetworkBorderGroup)
	}
	if err := c.lock(ctx, s); err != nil {
		return IPv6Block{}, err
	}
	defer c.unlock()
	c.waitIdleLocked(in.VPCID)
	v, err := c.vpcLocked(s, in.VPCID)
	if err != nil {
		return IPv6Block{}, err
	}
	if len(v.IPv6) >= maxIPv6PerVPC {
		return IPv6Block{}, Errorf("CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: %d", v.ID, maxIPv6PerVPC)
	}
	b := c.newIPv6BlockLocked(s.Region)
	v = edit(c.model().vpcs, v.ID)
	v.IPv6 = append(v.IPv6, b)
	for rt := range c.allRouteTables() {
		if rt.VPCID == v.ID {
			rt = edit(c.model().rts, rt.ID)
			rt.Routes = append(rt.Routes, Route{Dest: b.CIDR, Gateway: "local", Origin: originTable})
		}
	}
	for a := range c.model().acls.All() {
		if a.VPCID == v.ID {
			a = edit(c.model().acls, a.ID)
			a.Entries = withIPv6Entries(a.Entries, a.IsDefault)
		}
	}
	if err := c.commitLocked(); err != nil {
		return IPv6Block{}, err
	}
	b.State = "associating"
	return b, nil
}

// disassociateVpcIPv6Locked removes the IPv6 block at index i of a VPC:
// refused while a subnet has a range of it; its local routes go with it.
func (c *Cloud) disassociateVpcIPv6Locked(v *VPC, i int) (IPv6Block, error) {
	b := v.IPv6[i]
	for sub := range c.heldSubnets() {
		if sub.VPCID == v.ID && slices.ContainsFunc(sub.IPv6, func(a SubnetIPv6Block) bool { return b.CIDR.Overlaps(a.CIDR) }) {
			return IPv6Block{}, Errorf("InvalidCidrBlock.InUse", "The vpc %s currently has a subnet within CIDR block %s", v.ID, b.CIDR)
		}
	}
	v = edit(c.model().vpcs, v.ID)
	v.IPv6 = slices.Delete(v.IPv6, i, i+1)
	for rt := range c.allRouteTables() {
		if rt.VPCID == v.ID {
			rt = edit(c.model().rts, rt.ID)
			rt.Routes = slices.DeleteFunc(rt.Routes, func(r Route) bool { return r.Gateway == "local" && r.Dest == b.CIDR })
		}
	}
	if err := c.commitLocked(); err != nil {
		return IPv6Block{}, err
	}
	b.State = "disassociating"
	return b, nil
}
