package hostnet

import (
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Expression builders of either family, for the network ACLs' inet table
// (acl.go) and IPv6 through the internet gateway (igw6.go), beside the IPv4
// ones of nftexpr.go: an address is 4 bytes at the IPv4 header's offsets or
// 16 at the IPv6 header's, and a rule of an inet table says its family
// first, as nft does where it prints `ip saddr` or `ip6 saddr` there.

// IPv6 header offsets of the addresses.
const (
	ip6HdrSaddr = 8
	ip6HdrDaddr = 24
)

// aclPeerOffset is where a rule of an ACL finds its peer: the source address
// for ingress, the destination for egress, in an IPv4 (is4) or IPv6 header.
func aclPeerOffset(is4, ingress bool) uint32 {
	switch {
	case is4 && ingress:
		return ipSaddrOffset
	case is4:
		return ipDaddrOffset
	case ingress:
		return ip6HdrSaddr
	default:
		return ip6HdrDaddr
	}
}

// familyIs: meta nfproto ipv4|ipv6 (what an inet table's rule of one
// family starts with).
func familyIs(is4 bool) []expr.Any {
	p := byte(unix.NFPROTO_IPV6)
	if is4 {
		p = unix.NFPROTO_IPV4
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
	}
}

// addrIn: ip|ip6 saddr|daddr PREFIX, of the prefix's family; nothing for
// a /0, which every address of the family is in.
func addrIn(offset uint32, p netip.Prefix) []expr.Any {
	if p.Addr().Is4() {
		return ipAddrIn(offset, p)
	}
	if p.Bits() == 0 {
		return nil
	}
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 16}
	is := &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()}
	if p.IsSingleIP() {
		return []expr.Any{load, is}
	}
	return []expr.Any{load, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 16, Mask: net.CIDRMask(p.Bits(), 128), Xor: make([]byte, 16)}, is}
}

// addrVmap: ip|ip6 saddr|daddr vmap @s, for a verdict map s keyed by
// addresses of one family.
func addrVmap(offset uint32, s *nftables.Set) []expr.Any {
	n := uint32(4)
	if s.KeyType == nftables.TypeIP6Addr {
		n = 16
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: n},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, IsDestRegSet: true, DestRegister: 0},
	}
}
