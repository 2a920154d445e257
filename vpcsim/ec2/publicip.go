package ec2

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Public addresses come from a range reserved for testing, 198.18.0.0/15 (RFC
// 2544), never routed on the internet: "the internet" of vpcsim is this
// machine. Its first address is the machine's own on that network; the
// others are handed out lowest first, as public addresses at launch and as
// Elastic IPs. Two vpcsims on one machine need ranges of their own
// (serve --public-cidr).
var DefaultPublicRange = netip.MustParsePrefix("198.18.0.0/15")

// WithPublicRange sets the range public addresses come from (default
// DefaultPublicRange): the dataplane's internet must use the same.
func WithPublicRange(p netip.Prefix) Option { return func(c *Cloud) { c.publicRange = p.Masked() } }

// PublicDNSName is the EC2 hostname of a public address in a region.
func PublicDNSName(region string, a netip.Addr) string {
	b := a.As4()
	host := fmt.Sprintf("ec2-%d-%d-%d-%d", b[0], b[1], b[2], b[3])
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return host + "." + region + ".compute.amazonaws.com"
}

// publicInUseLocked is every public address held: by an ENI or as an
// Elastic IP.
func (c *Cloud) publicInUseLocked() map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	for e := range c.heldENIs() {
		for _, ip := range e.PrivateIPs {
			if ip.Public.IsValid() {
				used[ip.Public] = true
			}
		}
	}
	for a := range c.model().addresses.All() {
		used[a.Public] = true
	}
	return used
}

// handsOut says whether a is an address of the public range that may be
// public: not the network's, the machine's (the first) or the broadcast.
func (c *Cloud) handsOut(a netip.Addr) bool {
	r := c.publicRange
	return r.Contains(a) && a != r.Addr() && a != r.Addr().Next() && r.Contains(a.Next())
}

// allocPublicLocked takes the lowest free public address, skipping those in
// taken (planned by the same call), and adds it to taken.
func (c *Cloud) allocPublicLocked(taken map[netip.Addr]bool) (netip.Addr, error) {
	used := c.publicInUseLocked()
	for a := c.publicRange.Addr(); c.publicRange.Contains(a); a = a.Next() {
		if c.handsOut(a) && !used[a] && !taken[a] {
			taken[a] = true
			return a, nil
		}
	}
	return netip.Addr{}, Errorf("AddressLimitExceeded", "The maximum number of addresses has been reached.")
}

// publicMappingsLocked lists a VPC's public addresses and the private
// addresses they stand for, in address order.
func (c *Cloud) publicMappingsLocked(vpcID string) []netmodel.PublicMapping {
	var out []netmodel.PublicMapping
	for e := range c.allENIs() {
		if e.VPCID != vpcID {
			continue
		}
		for _, ip := range e.PrivateIPs {
			if ip.Public.IsValid() {
				out = append(out, netmodel.PublicMapping{Public: ip.Public, Private: ip.Addr})
			}
		}
	}
	slices.SortFunc(out, func(a, b netmodel.PublicMapping) int { return a.Public.Compare(b.Public) })
	return out
}

// PublicIP is an ENI's public address on its primary private address, as
// instances report it.
func (e *ENI) PublicIP() netip.Addr {
	for _, ip := range e.PrivateIPs {
		if ip.Primary {
			return ip.Public
		}
	}
	return netip.Addr{}
}
