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

// IPv4 header offsets.
const (
	ipSaddrOffset = 12
	ipDaddrOffset = 16
)

// ipAddrIs: ip saddr|daddr ADDR.
func ipAddrIs(offset uint32, a netip.Addr) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	}
}

// ipAddrIn: ip saddr|daddr PREFIX; nothing for /0, which everything matches.
func ipAddrIn(offset uint32, p netip.Prefix) []expr.Any {
	if p.Bits() == 32 {
		return ipAddrIs(offset, p.Addr())
	}
	if p.Bits() == 0 {
		return nil
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: net.CIDRMask(p.Bits(), 32), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ipAddrNotIn: ip saddr|daddr != PREFIX (not /0, which every address is in).
func ipAddrNotIn(offset uint32, p netip.Prefix) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: net.CIDRMask(p.Bits(), 32), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ipAddrInSet: ip saddr|daddr @SET (or a verdict map: ip saddr vmap @SET).
func ipAddrInSet(offset uint32, s *nftables.Set) []expr.Any {
	lookup := &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID}
	if s.IsMap {
		lookup.IsDestRegSet, lookup.DestRegister = true, 0 // the verdict register
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		lookup,
	}
}

// isIPv4: meta nfproto ipv4 (inet tables see IPv6 too).
func isIPv4() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
	}
}

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

// transportByteIs: icmp type|code V (offset 0 is the type, 1 the code).
func transportByteIs(offset uint32, v byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{v}},
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

// ipAddrKeyOf: ip saddr|daddr @s, for a map s: the address is one of its keys.
func ipAddrKeyOf(offset uint32, s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}
}

// natToReg1: snat|dnat to the IPv4 address in register 1.
func natToReg1(t expr.NATType) *expr.NAT {
	return &expr.NAT{Type: t, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
}
