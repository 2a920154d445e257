package ec2

import (
	"net/netip"
)

// Address rules of a subnet, as AWS has them: the network address, the next three
// (router .1, DNS .2, reserved .3) and the broadcast address are never handed out.

// subnetSize is the number of addresses in the prefix.
func subnetSize(p netip.Prefix) int { return 1 << (32 - p.Bits()) }

// usableCount is how many addresses AWS lets ENIs take in the subnet.
func usableCount(p netip.Prefix) int { return subnetSize(p) - 5 }

// routerAddr is the subnet's .1, the "VPC router" that the dataplane's bridge holds.
func routerAddr(p netip.Prefix) netip.Addr { return p.Masked().Addr().Next() }

// reservedAddr reports whether a is one of the subnet's five reserved addresses.
func reservedAddr(p netip.Prefix, a netip.Addr) bool {
	off := addrOffset(p, a)
	return off < 4 || off == subnetSize(p)-1
}

func addrOffset(p netip.Prefix, a netip.Addr) int {
	n, x := p.Masked().Addr().As4(), a.As4()
	return int(u32(x) - u32(n))
}

func u32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrAt(p netip.Prefix, off int) netip.Addr {
	v := u32(p.Masked().Addr().As4()) + uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// holdAddrsLocked records e's addresses as taken in its subnet.
func (c *Cloud) holdAddrsLocked(e *ENI) {
	m := c.used[e.SubnetID]
	if m == nil {
		m = map[netip.Addr]string{}
		c.used[e.SubnetID] = m
	}
	for _, ip := range e.PrivateIPs {
		m[ip.Addr] = e.ID
	}
}

// releaseAddrsLocked gives e's addresses back to its subnet.
func (c *Cloud) releaseAddrsLocked(e *ENI) {
	for _, ip := range e.PrivateIPs {
		if c.used[e.SubnetID][ip.Addr] == e.ID {
			delete(c.used[e.SubnetID], ip.Addr)
		}
	}
}

// freeAddrsLocked picks n free addresses of the subnet, lowest first, skipping
// those in also (already picked for the same request). It refuses with
// InsufficientFreeAddressesInSubnet when the subnet has too few.
func (c *Cloud) freeAddrsLocked(sub *Subnet, n int, also map[netip.Addr]bool) ([]netip.Addr, error) {
	var out []netip.Addr
	size := subnetSize(sub.CIDR)
	taken := c.takenLocked(sub.ID)
	for off := 4; off < size-1 && len(out) < n; off++ {
		a := addrAt(sub.CIDR, off)
		if taken(a) || also[a] {
			continue
		}
		out = append(out, a)
	}
	if len(out) < n {
		return nil, insufficientAddresses(sub.ID)
	}
	return out, nil
}

func insufficientAddresses(subnetID string) error {
	return Errorf("InsufficientFreeAddressesInSubnet",
		"There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", subnetID)
}

// checkRequestedAddrLocked refuses a requested address that is malformed, outside
// the subnet, reserved, or taken. The malformed and taken texts are AWS's as
// clients report them (terraform-provider-aws#23114 for CreateNetworkInterface,
// aws-cli#7178 for RunInstances).
func (c *Cloud) checkRequestedAddrLocked(sub *Subnet, s string, also map[netip.Addr]bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, invalidValue("invalid value for parameter address: %s", s)
	}
	if !sub.CIDR.Contains(a) {
		return netip.Addr{}, Errorf("InvalidParameterValue", "Address does not fall within the subnet's address range")
	}
	if reservedAddr(sub.CIDR, a) {
		return netip.Addr{}, Errorf("InvalidParameterValue", "Address is in subnet's reserved address range")
	}
	if c.takenLocked(sub.ID)(a) || also[a] {
		return netip.Addr{}, Errorf("InvalidIPAddress.InUse", "Address %s is in use.", a)
	}
	return a, nil
}

func (c *Cloud) availableLocked(sub *Subnet) int {
	if !sub.CIDR.IsValid() {
		return 0 // an IPv6-only subnet: EC2 counts IPv4 addresses only
	}
	return usableCount(sub.CIDR) - c.usedCountLocked(sub.ID)
}

// parseCIDR reads a VPC or subnet CIDR: malformed input is InvalidParameterValue,
// host bits are cleared (100.68.0.18/18 → 100.68.0.0/18) as AWS does.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, invalidValue("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", s)
	}
	return p.Masked(), nil
}
