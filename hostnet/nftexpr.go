package hostnet

import (
	"net"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Small builders of nftables expressions, named after the nft syntax they stand
// for, so the rulesets read close to what `nft list ruleset` prints.

// IPv4 and IPv6 header offsets.
const (
	ipSaddrOffset  = 12
	ipDaddrOffset  = 16
	ip6SaddrOffset = 8
	ip6DaddrOffset = 24
)

// ipFamily is what the rules of one IP family differ in. The address
// builders below take the length of an address from the address, prefix or
// set they compare with, so they serve both families: only the offsets
// (saddr, daddr) and the family's match (is) have to be the family's.
type ipFamily struct {
	nfproto      byte   // meta nfproto, in inet tables
	etherType    uint16 // meta protocol, in bridge tables
	saddr, daddr uint32 // the addresses' offsets in its header
	keyType      nftables.SetDatatype
	tag          string // in the names of its sets and maps: "" for IPv4, "6" for IPv6
	icmp         int    // its ICMP's protocol number (rules of the other's match nothing of it)
}

var (
	ip4 = ipFamily{unix.NFPROTO_IPV4, unix.ETH_P_IP, ipSaddrOffset, ipDaddrOffset, nftables.TypeIPAddr, "", unix.IPPROTO_ICMP}
	ip6 = ipFamily{unix.NFPROTO_IPV6, unix.ETH_P_IPV6, ip6SaddrOffset, ip6DaddrOffset, nftables.TypeIP6Addr, "6", unix.IPPROTO_ICMPV6}
	// ipFamilies are both, in the order rules of both are made.
	ipFamilies = []ipFamily{ip4, ip6}
)

// familyOf is the family of an address.
func familyOf(a netip.Addr) ipFamily {
	if a.Is4() {
		return ip4
	}
	return ip6
}

// is: meta nfproto ipv4|ipv6 (inet tables see both).
func (f ipFamily) is() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{f.nfproto}},
	}
}

// name is the name of the family's set or map of a kind: "from-eni" and
// "from-eni6", "a-<eni-id>" and "a6-<eni-id>".
func (f ipFamily) name(kind, id string) string {
	if id == "" {
		return kind + f.tag
	}
	return kind + f.tag + "-" + id
}

// ipAddrIs: ip|ip6 saddr|daddr ADDR.
func ipAddrIs(offset uint32, a netip.Addr) []expr.Any {
	return addrCmp(expr.PayloadBaseNetworkHeader, offset, netip.PrefixFrom(a, a.BitLen()), expr.CmpOpEq)
}

// ipAddrIn: ip|ip6 saddr|daddr PREFIX; nothing for /0, which everything matches.
func ipAddrIn(offset uint32, p netip.Prefix) []expr.Any {
	return addrCmp(expr.PayloadBaseNetworkHeader, offset, p, expr.CmpOpEq)
}

// ipAddrNotIn: ip|ip6 saddr|daddr != PREFIX (not /0, which every address is in).
func ipAddrNotIn(offset uint32, p netip.Prefix) []expr.Any {
	return addrCmp(expr.PayloadBaseNetworkHeader, offset, p, expr.CmpOpNeq)
}

// addrCmp compares the address at offset of a header with a prefix (its
// length is the prefix's family's): == or != PREFIX, a whole address without
// a mask; nothing for == /0.
func addrCmp(base expr.PayloadBase, offset uint32, p netip.Prefix, op expr.CmpOp) []expr.Any {
	bits, n := p.Bits(), uint32(p.Addr().BitLen()/8)
	if bits == 0 && op == expr.CmpOpEq {
		return nil
	}
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: base, Offset: offset, Len: n}}
	if bits < p.Addr().BitLen() {
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: net.CIDRMask(bits, p.Addr().BitLen()), Xor: make([]byte, n)})
	}
	return append(e, &expr.Cmp{Op: op, Register: 1, Data: p.Masked().Addr().AsSlice()})
}

// ipAddrInSet: ip|ip6 saddr|daddr @SET (or a verdict map: ip saddr vmap
// @SET); the set's key type says the family.
func ipAddrInSet(offset uint32, s *nftables.Set) []expr.Any {
	lookup := &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID}
	if s.IsMap {
		lookup.IsDestRegSet, lookup.DestRegister = true, 0 // the verdict register
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: s.KeyType.Bytes},
		lookup,
	}
}

// isIPv4: meta nfproto ipv4 (inet tables see IPv6 too).
func isIPv4() []expr.Any { return ip4.is() }

// l4protoIs: meta l4proto P.
func l4protoIs(p byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
	}
}

// dportIn: th dport FROM-TO.
func dportIn(from, to uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: binaryutil.BigEndian.PutUint16(from), ToData: binaryutil.BigEndian.PutUint16(to)},
	}
}

// ip6HopLimitIs: ip6 hoplimit V (byte 7 of the IPv6 header).
func ip6HopLimitIs(v byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 7, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{v}},
	}
}

// transportByteIs: icmp|icmpv6 type|code V (offset 0 is the type, 1 the code).
func transportByteIs(offset uint32, v byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{v}},
	}
}

// transportByteIn: icmpv6 type FROM-TO (offset 0 is the type).
func transportByteIn(offset uint32, from, to byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 1},
		&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{from}, ToData: []byte{to}},
	}
}

// ctStateIn: ct state established,related (any of the bits in mask).
func ctStateIn(mask uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(mask), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

// ifname: meta iifname|oifname OP NAME.
func ifname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifnameKey(name)},
	}
}

// ifnameKey is an interface name as the kernel compares it (IFNAMSIZ bytes,
// zero padded), in a rule or as a set key.
func ifnameKey(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// nflog: log group G snaplen N prefix P (the packet goes to user space, netlink NFLOG).
func nflog(group uint16, snaplen uint32, prefix string) *expr.Log {
	return &expr.Log{
		Key:     1<<unix.NFTA_LOG_GROUP | 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_SNAPLEN,
		Group:   group,
		Snaplen: snaplen,
		Data:    []byte(prefix),
	}
}

func verdict(k expr.VerdictKind) *expr.Verdict { return &expr.Verdict{Kind: k} }

func jump(chain string) *expr.Verdict { return &expr.Verdict{Kind: expr.VerdictJump, Chain: chain} }

// setIDs guards google/nftables' package-level set ID counter, which AddSet
// increments without a lock: two VPCs' rulesets built at once (two Kernels,
// as in tests, or any future parallel sync) would race on it.
var setIDs sync.Mutex

// addSet is nftables' AddSet under setIDs.
func addSet(nft *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	setIDs.Lock()
	defer setIDs.Unlock()
	return nft.AddSet(s, elems)
}

// maxElemBytes bounds the elements one message carries: they travel in one
// netlink attribute, whose length is 16 bits, so a list longer than 64 KiB
// (about 900 verdict-map elements) wraps around and the kernel refuses the
// whole transaction. Bigger lists go in several messages of the same
// transaction.
const maxElemBytes = 32 << 10

// elemChunks splits elements into lists that each fit one message, by an
// upper bound of their encoded size.
func elemChunks(elems []nftables.SetElement) [][]nftables.SetElement {
	var out [][]nftables.SetElement
	start, size := 0, 0
	for i, e := range elems {
		n := 64 + len(e.Key) + len(e.Val)
		if e.VerdictData != nil {
			n += len(e.VerdictData.Chain)
		}
		if size+n > maxElemBytes {
			out = append(out, elems[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(elems) {
		out = append(out, elems[start:])
	}
	return out
}

// addElements: add element SET { … }, in as many messages as it takes.
func addElements(nft *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for _, c := range elemChunks(elems) {
		if err := nft.SetAddElements(s, c); err != nil {
			return err
		}
	}
	return nil
}

// delElements: delete element SET { … }, in as many messages as it takes.
func delElements(nft *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for _, c := range elemChunks(elems) {
		if err := nft.SetDeleteElements(s, c); err != nil {
			return err
		}
	}
	return nil
}

// ctStatusHas: ct status BIT (e.g. dnat: the connection's destination was
// translated).
func ctStatusHas(mask uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(mask), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

// ipAddrMapped loads the value that the address map s gives ip saddr|daddr
// into register 1 (the rule ends there when the address is not in s): what
// `dnat to ip daddr map @s` starts with.
func ipAddrMapped(offset uint32, s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, IsDestRegSet: true, DestRegister: 1},
	}
}

// ipAddrKeyOf: ip|ip6 saddr|daddr @s, for a map s: the address is one of its keys.
func ipAddrKeyOf(offset uint32, s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: s.KeyType.Bytes},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}
}

// natToReg1: snat|dnat to the IPv4 address in register 1.
func natToReg1(t expr.NATType) *expr.NAT {
	return &expr.NAT{Type: t, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
}
