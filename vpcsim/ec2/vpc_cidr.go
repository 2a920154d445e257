package ec2

import (
	"context"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// A VPC may hold secondary IPv4 blocks besides the one it was made with
// (AssociateVpcCidrBlock): subnets may be made in any of them, every route
// table has a local route to each, and in the kernel each is local too (the
// subnet tables throw it to the main table, the firewall counts it as the
// VPC's). The machine's own link (vpcsim connect) reaches the primary block
// only.

// CIDRAssoc is a secondary IPv4 block of a VPC.
type CIDRAssoc struct {
	ID   string       `json:"id"` // vpc-cidr-assoc-…
	CIDR netip.Prefix `json:"cidr"`
}

// CIDRs lists the VPC's IPv4 blocks, the primary first.
func (v *VPC) CIDRs() []netip.Prefix {
	out := []netip.Prefix{v.CIDR}
	for _, a := range v.Secondary {
		out = append(out, a.CIDR)
	}
	return out
}

// SecondaryCIDRs lists the VPC's secondary IPv4 blocks.
func (v *VPC) SecondaryCIDRs() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range v.Secondary {
		out = append(out, a.CIDR)
	}
	return out
}

// inVPC reports whether a range lies within one of the VPC's blocks.
func (v *VPC) inVPC(p netip.Prefix) bool {
	return slices.ContainsFunc(v.CIDRs(), func(c netip.Prefix) bool { return c.Bits() <= p.Bits() && c.Contains(p.Addr()) })
}

// unassociableRange is the one IPv4 range AWS lets no VPC add as a
// secondary block.
var unassociableRange = netip.MustParsePrefix("198.19.0.0/16")

// AssociateVpcCIDR adds a secondary IPv4 block to a VPC of the region, as
// EC2 does: /16 to /28, not overlapping the VPC's blocks or those of a VPC
// peered with it (or asked to be), not the same as or larger than a route's destination in
// the VPC's tables, within the per-VPC quota. The answer shows it
// associating; it is associated at once.
func (c *Cloud) AssociateVpcCIDR(ctx context.Context, s Scope, vpcID, cidrBlock string) (CIDRAssoc, error) {
	switch {
	case vpcID == "":
		return CIDRAssoc{}, missingParameter("vpcId")
	case cidrBlock == "":
		return CIDRAssoc{}, missingParameter("cidrBlock")
	}
	cidr, err := parseCIDR(cidrBlock)
	if err != nil {
		return CIDRAssoc{}, err
	}
	if cidr.Bits() < 16 || cidr.Bits() > 28 || within(cidr, refusedVPCRanges) {
		return CIDRAssoc{}, Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", cidrBlock)
	}
	if err := c.lock(ctx, s); err != nil {
		return CIDRAssoc{}, err
	}
	defer c.unlock()
	c.waitIdleLocked(vpcID)
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return CIDRAssoc{}, err
	}
	if c.quotas.Over(quota.IPv4BlocksPerVPC, 1+len(v.CIDRs())) {
		return CIDRAssoc{}, Errorf("CidrLimitExceeded", "This network %s has met its maximum number of allowed CIDRs: %d", v.ID, c.quotas.Of(quota.IPv4BlocksPerVPC))
	}
	if cidr.Overlaps(unassociableRange) && !v.CIDR.Overlaps(unassociableRange) {
		return CIDRAssoc{}, Errorf("InvalidVpc.Range", "The CIDR '%s' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.", cidrBlock)
	}
	for _, have := range v.CIDRs() {
		if have.Overlaps(cidr) {
			return CIDRAssoc{}, Errorf("InvalidVpc.Range", "The CIDR '%s' conflicts with another CIDR block in the VPC %s.", cidrBlock, v.ID)
		}
	}
	for _, p := range c.livePeeringsLocked(v.ID) {
		if peer := c.vpc(p.peerOf(v.ID).VPCID); peer != nil && overlapping(peer.CIDRs(), []netip.Prefix{cidr}) {
			return CIDRAssoc{}, Errorf("InvalidVpc.Range", "The CIDR '%s' overlaps with a CIDR block of the VPC peered with %s through %s.", cidrBlock, v.ID, p.ID)
		}
	}
	for rt := range c.allRouteTables() {
		if rt.VPCID != v.ID {
			continue
		}
		for _, r := range rt.Routes {
			if r.Gateway != "local" && r.Dest.IsValid() && cidr.Bits() <= r.Dest.Bits() && cidr.Contains(r.Dest.Addr()) {
				return CIDRAssoc{}, Errorf("InvalidVpc.Range", "The CIDR '%s' is the same as or larger than the destination of a route in the route table %s (%s).", cidrBlock, rt.ID, r.Dest)
			}
		}
	}
	a := CIDRAssoc{ID: newID("vpc-cidr-assoc"), CIDR: cidr}
	v = edit(c.model().vpcs, v.ID)
	v.Secondary = append(v.Secondary, a)
	for rt := range c.allRouteTables() {
		if rt.VPCID == v.ID {
			rt = edit(c.model().rts, rt.ID)
			rt.Routes = append(rt.Routes, Route{Dest: cidr, Gateway: "local", Origin: originTable})
		}
	}
	if err := c.commitLocked(); err != nil {
		return CIDRAssoc{}, err
	}
	return a, nil
}

// DisassociateVpcCIDR removes a secondary IPv4 block or an IPv6 block, by
// its association ID, from a VPC of the region: never the primary one, nor
// one a subnet is in. It answers the block and its VPC; the block is gone
// at once.
func (c *Cloud) DisassociateVpcCIDR(ctx context.Context, s Scope, assocID string) (CIDRAssoc, string, error) {
	if assocID == "" {
		return CIDRAssoc{}, "", missingParameter("associationId")
	}
	if err := c.lock(ctx, s); err != nil {
		return CIDRAssoc{}, "", err
	}
	defer c.unlock()
	for v := range c.allVPCs() {
		if v.Region != s.Region {
			continue
		}
		if v.CIDRAssociationID == assocID {
			return CIDRAssoc{}, "", Errorf("OperationNotPermitted", "The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC", assocID)
		}
		if j := slices.IndexFunc(v.IPv6, func(b IPv6Block) bool { return b.ID == assocID }); j >= 0 {
			b, err := c.disassociateVpcIPv6Locked(v, j)
			if err != nil {
				return CIDRAssoc{}, "", err
			}
			return CIDRAssoc{ID: b.ID, CIDR: b.CIDR}, v.ID, nil
		}
		i := slices.IndexFunc(v.Secondary, func(a CIDRAssoc) bool { return a.ID == assocID })
		if i < 0 {
			continue
		}
		a := v.Secondary[i]
		for sub := range c.heldSubnets() {
			if sub.VPCID == v.ID && a.CIDR.Contains(sub.CIDR.Addr()) {
				return CIDRAssoc{}, "", Errorf("InvalidCidrBlock.InUse", "The vpc %s currently has a subnet within CIDR block %s", v.ID, a.CIDR)
			}
		}
		v = edit(c.model().vpcs, v.ID)
		v.Secondary = slices.Delete(v.Secondary, i, i+1)
		for rt := range c.allRouteTables() {
			if rt.VPCID == v.ID {
				rt = edit(c.model().rts, rt.ID)
				rt.Routes = slices.DeleteFunc(rt.Routes, func(r Route) bool { return r.Gateway == "local" && r.Dest == a.CIDR })
			}
		}
		if err := c.commitLocked(); err != nil {
			return CIDRAssoc{}, "", err
		}
		return a, v.ID, nil
	}
	// (unverified) the code: EC2's form for an ID not found.
	return CIDRAssoc{}, "", Errorf("InvalidVpcCidrBlockAssociationID.NotFound", "The vpc CIDR block association ID '%s' does not exist", assocID)
}
