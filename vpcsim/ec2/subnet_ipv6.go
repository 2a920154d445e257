package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
)

// A subnet may have one IPv6 range, a part of its VPC's IPv6 block: given
// at CreateSubnet (Ipv6CidrBlock) or later (AssociateSubnetCidrBlock). EC2
// takes ranges from /44 to /64 in steps of 4 (a /64 is the usual one; the
// whole /56 of the VPC is taken too). An IPv6-only subnet (Ipv6Native) has
// no IPv4 range: its ENIs have IPv6 addresses only. The subnet's bridge
// holds the range's router address (netSubnet's Gateway6) while it has one.

// SubnetIPv6Block is the IPv6 range of a subnet.
type SubnetIPv6Block struct {
	ID   string       `json:"id"` // subnet-cidr-assoc-…
	CIDR netip.Prefix `json:"cidr"`
	// State is never stored: "associated" but in the answers of the calls
	// that associate (associating) or disassociate (disassociating) it.
	State string `json:"-"`
}

// field is one value of the range for DescribeSubnets' filters.
func (b SubnetIPv6Block) field(filter string) string {
	switch filter {
	case "ipv6-cidr-block-association.ipv6-cidr-block":
		return b.CIDR.String()
	case "ipv6-cidr-block-association.association-id":
		return b.ID
	}
	return "associated"
}

// IPv6CIDR is the subnet's IPv6 range (invalid: none).
func (s *Subnet) IPv6CIDR() netip.Prefix {
	if len(s.IPv6) == 0 {
		return netip.Prefix{}
	}
	return s.IPv6[0].CIDR
}

// subnetIPv6 is the IPv6 range of a subnet that may be nil (invalid: none).
func subnetIPv6(s *Subnet) netip.Prefix {
	if s == nil {
		return netip.Prefix{}
	}
	return s.IPv6CIDR()
}

// parseIPv6CIDR reads an IPv6 range; host bits are cleared as for IPv4.
func parseIPv6CIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return netip.Prefix{}, invalidValue("Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", s)
	}
	return p.Masked(), nil
}

// Sizes of a subnet's IPv6 range.
const (
	minSubnetIPv6Bits = 44
	maxSubnetIPv6Bits = 64
)

// checkSubnetIPv6Locked checks a subnet's IPv6 range (given as asked) in a
// VPC: of a size EC2 takes, within the VPC's block, overlapping no other
// subnet's range (the subnet named by self aside).
func (c *Cloud) checkSubnetIPv6Locked(v *VPC, self string, p netip.Prefix, asked string) error {
	bits := p.Bits()
	if bits < minSubnetIPv6Bits || bits > maxSubnetIPv6Bits || (bits-minSubnetIPv6Bits)%4 != 0 || !v.inVPCIPv6(p) {
		return Errorf("InvalidSubnet.Range", "The CIDR '%s' is invalid.", asked)
	}
	for other := range c.heldSubnets() {
		if other.VPCID == v.ID && other.ID != self && slices.ContainsFunc(other.IPv6, func(b SubnetIPv6Block) bool { return b.CIDR.Overlaps(p) }) {
			return Errorf("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", asked)
		}
	}
	return nil
}

// AssociateSubnetIPv6 gives a subnet of the region that has none an IPv6
// range of its VPC's block, its bridge the range's router address first
// (without c.mu; the VPC is busy meanwhile, so no other call gives the
// range to another subnet, nor deletes this one). The answer shows it
// associating; it is associated at once.
func (c *Cloud) AssociateSubnetIPv6(ctx context.Context, s Scope, subnetID, ipv6CIDR string) (SubnetIPv6Block, error) {
	switch {
	case subnetID == "":
		return SubnetIPv6Block{}, missingParameter("subnetId")
	case ipv6CIDR == "":
		return SubnetIPv6Block{}, missingParameter("ipv6CidrBlock")
	}
	p, err := parseIPv6CIDR(ipv6CIDR)
	if err != nil {
		return SubnetIPv6Block{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return SubnetIPv6Block{}, err
	}
	defer c.unlock()
	sub, err := c.subnetLocked(s, subnetID)
	if err != nil {
		return SubnetIPv6Block{}, err
	}
	c.waitIdleLocked(sub.VPCID)
	if sub, err = c.subnetLocked(s, subnetID); err != nil {
		return SubnetIPv6Block{}, err
	}
	if len(sub.IPv6) > 0 {
		// (unverified) the code and message: EC2 takes one IPv6 range a subnet.
		return SubnetIPv6Block{}, Errorf("InvalidParameterValue", "The subnet %s already has an IPv6 CIDR block (%s).", sub.ID, sub.IPv6[0].CIDR)
	}
	v := c.vpc(sub.VPCID)
	if err := c.checkSubnetIPv6Locked(v, sub.ID, p, ipv6CIDR); err != nil {
		return SubnetIPv6Block{}, err
	}
	b := SubnetIPv6Block{ID: newID("subnet-cidr-assoc"), CIDR: p}
	want := *sub
	want.IPv6 = []SubnetIPv6Block{b}
	committed := netSubnet(sub)
	undo := func(ctx context.Context) error { return c.dp.EnsureSubnet(ctx, committed) }
	c.busy[sub.VPCID] = true
	defer c.landLocked(sub.VPCID)
	c.withoutLock(func() {
		if err = c.dp.EnsureSubnet(ctx, netSubnet(&want)); err != nil {
			err = c.undoKernel(ctx, fmt.Errorf("give the subnet's bridge its IPv6 router address: %w", err), undo)
		}
	})
	if err != nil {
		return SubnetIPv6Block{}, err
	}
	// DisassociateVpcCidrBlock does not wait for the VPC: its IPv6 block
	// may have gone meanwhile.
	if err := c.checkSubnetIPv6Locked(c.vpc(sub.VPCID), sub.ID, p, ipv6CIDR); err != nil {
		return SubnetIPv6Block{}, c.undoKernel(ctx, err, undo)
	}
	edit(c.model().subnets, sub.ID).IPv6 = want.IPv6
	if err := c.commitLocked(); err != nil {
		return SubnetIPv6Block{}, c.undoKernel(ctx, err, undo)
	}
	b.State = "associating"
	return b, nil
}

// DisassociateSubnetIPv6 removes a subnet's IPv6 range, by its association
// ID: not the range of an IPv6-only subnet, nor one an ENI has addresses
// of. It commits, then takes the router address off the bridge without
// c.mu, the VPC busy meanwhile (no other subnet gets the range while this
// bridge still holds its router address); a kernel failure is logged, for
// the reconciler. It answers the range and its subnet.
func (c *Cloud) DisassociateSubnetIPv6(ctx context.Context, s Scope, assocID string) (SubnetIPv6Block, string, error) {
	if assocID == "" {
		return SubnetIPv6Block{}, "", missingParameter("associationId")
	}
	if err := c.lock(ctx, s); err != nil {
		return SubnetIPv6Block{}, "", err
	}
	defer c.unlock()
	sub := c.subnetOfIPv6Locked(s, assocID)
	if sub != nil {
		c.waitIdleLocked(sub.VPCID) // an association's or a deletion's bridge work
		sub = c.subnetOfIPv6Locked(s, assocID)
	}
	if sub == nil {
		// (unverified) the code and message.
		return SubnetIPv6Block{}, "", Errorf("InvalidSubnetCidrBlockAssociationID.NotFound", "The subnet CIDR block with association ID '%s' does not exist", assocID)
	}
	b := sub.IPv6[0]
	if sub.IPv6Native {
		// (unverified) the code and message.
		return SubnetIPv6Block{}, "", Errorf("OperationNotPermitted", "The IPv6 CIDR block of the IPv6-only subnet %s may not be disassociated.", sub.ID)
	}
	for e := range c.heldENIs() {
		if e.SubnetID == sub.ID && len(e.IPv6) > 0 {
			// (unverified) the code and message: EC2 says the addresses must go first.
			return SubnetIPv6Block{}, "", Errorf("InvalidCidrBlock.InUse", "The subnet %s currently has IPv6 addresses within CIDR block %s in use (%s).", sub.ID, b.CIDR, e.ID)
		}
	}
	next := edit(c.model().subnets, sub.ID)
	next.IPv6 = nil
	n := netSubnet(next)
	if err := c.commitLocked(); err != nil {
		return SubnetIPv6Block{}, "", err
	}
	c.busy[n.VPCID] = true
	defer c.landLocked(n.VPCID)
	c.withoutLock(func() {
		if err := c.dp.EnsureSubnet(ctx, n); err != nil {
			c.log.Error("take the IPv6 router address off a subnet's bridge (the reconciler will retry)", "subnet", n.ID, "err", err)
		}
	})
	b.State = "disassociating"
	return b, n.ID, nil
}

// subnetOfIPv6Locked finds the subnet of the region whose IPv6 range has the
// association ID (nil: none).
func (c *Cloud) subnetOfIPv6Locked(s Scope, assocID string) *Subnet {
	for sub := range c.allSubnets() {
		if sub.Region == s.Region && len(sub.IPv6) > 0 && sub.IPv6[0].ID == assocID {
			return sub
		}
	}
	return nil
}
