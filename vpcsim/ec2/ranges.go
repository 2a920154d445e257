package ec2

import (
	"net/netip"
	"strings"
)

// refusedVPCRanges are the IPv4 ranges that can hold no VPC. AWS documents
// 169.254.0.0/16 (link-local, RFC 5735) as never assignable to a VPC; the
// others are not unicast host addresses at all: "this network" 0.0.0.0/8,
// loopback 127.0.0.0/8, multicast 224.0.0.0/4 and the reserved 240.0.0.0/4.
// (unverified: that AWS's answer for those is InvalidVpc.Range, as for a
// block outside /16–/28.)
var refusedVPCRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// privateRanges are where `vpcsim connect` routes this machine by default:
// RFC 1918's private ranges and the shared address space of RFC 6598. Other
// ranges belong to someone on the internet, and routing them here would take
// this machine's traffic to them into a VPC.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

// within reports whether cidr lies inside one of ranges.
func within(cidr netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if r.Bits() <= cidr.Bits() && r.Contains(cidr.Addr()) {
			return true
		}
	}
	return false
}

// WithConnectPublic lets ConnectVPC route VPCs outside the private ranges
// (RFC 1918, 100.64.0.0/10) into this machine: the operator's choice (serve
// --connect-public), since their addresses are someone else's on the internet.
func WithConnectPublic(allow bool) Option { return func(c *Cloud) { c.connectPublic = allow } }

// checkConnectable refuses to route this machine into cidr unless it is
// private, or the operator allowed public ranges. Ranges no VPC may hold
// (link-local, loopback, multicast, ...) are never routed.
func (c *Cloud) checkConnectable(cidr netip.Prefix) error {
	switch {
	case within(cidr, refusedVPCRanges):
		return Errorf("OperationNotPermitted", "vpcsim never routes this machine into %s: no VPC may use that range", cidr)
	case within(cidr, privateRanges), c.connectPublic:
		return nil
	}
	names := make([]string, len(privateRanges))
	for i, r := range privateRanges {
		names[i] = r.String()
	}
	return Errorf("OperationNotPermitted", "vpcsim connect routes this machine into private ranges only (%s): %s is not one of them, and serve --connect-public allows other ranges",
		strings.Join(names, ", "), cidr)
}
