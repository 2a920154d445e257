package ec2

import (
	"context"
	"crypto/rand"
	"net/netip"
	"slices"
)

// IPv6 addresses of ENIs: taken from their subnet's IPv6 range at random,
// as EC2 picks them, never one of the range's reserved addresses (EC2
// keeps the first four and the last of a subnet's IPv6 range, as of its
// IPv4 range), never one another ENI has. They go with the ENI. An ENI gets
// them as asked (Ipv6AddressCount or Ipv6Addresses), or one when its subnet
// has AssignIpv6AddressOnCreation; a service's ENI gets none unless asked
// (ECS asks one for a task's ENI in a subnet with an IPv6 range:
// CreateTaskENI).
// An ENI of an IPv6-only subnet has IPv6 addresses only, one at least.
// The kernel has them on the ENI's link beside the IPv4 ones
// (netENILocked).

// reservedIPv6 reports whether a is one of the range's reserved addresses.
func reservedIPv6(p netip.Prefix, a netip.Addr) bool {
	net, x := p.Masked().Addr().As16(), a.As16()
	low := true // a is within the range's first 256 addresses
	for i := 0; i < 15; i++ {
		low = low && net[i] == x[i]
	}
	return (low && x[15] < 4) || a == lastAddr(p)
}

// lastAddr is the range's last address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(b)
}

// randomIPv6 is a random address of the range.
func randomIPv6(p netip.Prefix) netip.Addr {
	var r [16]byte
	rand.Read(r[:])
	b := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= r[i/8] & (1 << (7 - i%8))
	}
	return netip.AddrFrom16(b)
}

// ipv6TakenLocked reports the IPv6 addresses of a subnet's ENIs, those
// being made or changed too.
func (c *Cloud) ipv6TakenLocked(subnetID string) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	add := func(e *ENI) {
		if e != nil && e.SubnetID == subnetID {
			for _, a := range e.IPv6 {
				out[a] = true
			}
		}
	}
	for e := range c.heldENIs() {
		add(e)
	}
	for _, e := range c.inflight {
		add(e)
	}
	return out
}

// pickIPv6Locked checks the IPv6 addresses asked of a subnet and picks
// count more. taken holds the addresses already planned in the request;
// those picked are added to it.
func (c *Cloud) pickIPv6Locked(sub *Subnet, count int, asked []string, taken map[netip.Addr]bool) ([]netip.Addr, error) {
	if count < 0 {
		return nil, invalidValue("Value (%d) for parameter ipv6AddressCount is invalid.", count)
	}
	if count == 0 && len(asked) == 0 {
		return nil, nil
	}
	if count > 0 && len(asked) > 0 {
		// (unverified) the message.
		return nil, Errorf("InvalidParameterCombination", "You may specify ipv6AddressCount or ipv6Addresses, but not both.")
	}
	p := sub.IPv6CIDR()
	if !p.IsValid() {
		// (unverified) the code and message.
		return nil, invalidValue("The subnet %s has no IPv6 CIDR block: it cannot assign IPv6 addresses.", sub.ID)
	}
	if taken == nil {
		taken = map[netip.Addr]bool{}
	}
	inUse := c.ipv6TakenLocked(sub.ID)
	var out []netip.Addr
	for _, s := range asked {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "":
			return nil, invalidValue("invalid value for parameter address: %s", s)
		case !p.Contains(a):
			return nil, invalidValue("Address does not fall within the subnet's address range")
		case reservedIPv6(p, a):
			return nil, invalidValue("Address is in subnet's reserved address range")
		case inUse[a] || taken[a]:
			return nil, Errorf("InvalidIPAddress.InUse", "Address %s is in use.", a)
		}
		out, taken[a] = append(out, a), true
	}
	for len(out) < len(asked)+count {
		a := randomIPv6(p)
		if reservedIPv6(p, a) || inUse[a] || taken[a] {
			continue // a /64 has 2^64 addresses: a clash is all but impossible
		}
		out, taken[a] = append(out, a), true
	}
	return out, nil
}

// autoIPv6 is how many IPv6 addresses a new ENI gets unasked: one in a
// subnet that assigns them on creation (not to a service's ENI).
func autoIPv6(sub *Subnet, count int, asked []string, managed bool) int {
	if count == 0 && len(asked) == 0 && !managed && sub.AssignIPv6OnCreation && sub.IPv6CIDR().IsValid() {
		return 1
	}
	return count
}

// ipv6LimitLocked is how many IPv6 addresses the ENI may hold: its
// instance type's IPv6-per-ENI figure when attached, else no limit.
func (c *Cloud) ipv6LimitLocked(e *ENI) int {
	return c.attachedTypeLocked(e).IPv6PerENI
}

// AssignIPv6Input is AssignIpv6Addresses's request.
type AssignIPv6Input struct {
	ENIID     string
	Count     int
	Addresses []string
}

// AssignIPv6Addresses adds IPv6 addresses to an ENI of a subnet with an
// IPv6 range; it answers those it added.
func (c *Cloud) AssignIPv6Addresses(ctx context.Context, s Scope, in AssignIPv6Input) ([]netip.Addr, error) {
	if in.ENIID == "" {
		return nil, missingParameter("networkInterfaceId")
	}
	if in.Count == 0 && len(in.Addresses) == 0 {
		// (unverified) the message.
		return nil, missingParameter("ipv6AddressCount or ipv6Addresses")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	c.waitIdleLocked(in.ENIID)
	e, err := c.eniLocked(s, in.ENIID)
	if err != nil {
		return nil, err
	}
	add, err := c.pickIPv6Locked(c.subnet(e.SubnetID), in.Count, in.Addresses, nil)
	if err != nil {
		return nil, err
	}
	if limit := c.ipv6LimitLocked(e); limit > 0 && len(e.IPv6)+len(add) > limit {
		// (unverified) the message; the code is EC2's.
		return nil, Errorf("InvalidParameterValue", "Number of IPv6 addresses will exceed limit of %d for the interface.", limit)
	}
	next := copyENI(e)
	next.IPv6 = append(next.IPv6, add...)
	if err := c.changeAddrsLocked(ctx, &next, "add IPv6 addresses to the ENI"); err != nil {
		return nil, err
	}
	return add, nil
}

// UnassignIPv6Addresses removes IPv6 addresses from an ENI; all must be
// its own. It answers those it removed.
func (c *Cloud) UnassignIPv6Addresses(ctx context.Context, s Scope, eniID string, addrs []string) ([]netip.Addr, error) {
	if eniID == "" {
		return nil, missingParameter("networkInterfaceId")
	}
	if len(addrs) == 0 {
		return nil, missingParameter("ipv6Addresses")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	c.waitIdleLocked(eniID)
	e, err := c.eniLocked(s, eniID)
	if err != nil {
		return nil, err
	}
	keep := slices.Clone(e.IPv6)
	var gone []netip.Addr
	for _, x := range addrs {
		a, _ := netip.ParseAddr(x)
		i := slices.Index(keep, a)
		if i < 0 {
			// (unverified) the message, made like UnassignPrivateIpAddresses'.
			return nil, invalidValue("Some of the specified addresses are not assigned to interface %s", e.ID)
		}
		keep = slices.Delete(keep, i, i+1)
		gone = append(gone, a)
	}
	if sub := c.subnet(e.SubnetID); len(keep) == 0 && sub != nil && sub.IPv6Native {
		// (unverified) the code and message: an ENI of an IPv6-only subnet
		// keeps one address at least, as one of a dual-stack subnet keeps
		// its primary IPv4 address.
		return nil, invalidValue("The network interface %s is in the IPv6-only subnet %s: it must keep one IPv6 address.", e.ID, sub.ID)
	}
	next := copyENI(e)
	next.IPv6 = keep
	if err := c.changeAddrsLocked(ctx, &next, "remove IPv6 addresses from the ENI"); err != nil {
		return nil, err
	}
	return gone, nil
}
