package hostnet

import (
	"bytes"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The bridge table that keeps each ENI honest on its bridge port: frames only
// from its MAC; ARP, IPv4 and IPv6 only from its addresses unless its
// source/dest check is off; nothing else. Its IPv6 addresses include its
// link-local one, the EUI-64 address of its MAC (which its end makes: the
// kernel's default in a namespace of its own), and IPv6 also comes, for
// duplicate address detection and MLD, from the unspecified address; and
// neighbour discovery is kept honest as ARP is: a neighbour advertisement
// only for one of the ENI's own addresses (else it could take
// another ENI's address in the router's and its neighbours' caches), and no
// router advertisement or redirect at all (the subnet's router is the
// bridge's, never an ENI). All that is of IPv6 (the a6- sets, the rules
// that judge IPv6) is there only while the VPC has IPv6 blocks (v6 below,
// see firewallFamilies); without, a port's IPv6 frames meet its last rule,
// which drops them. It is stateless and sits in the bridge family: a port's
// frames are judged before they are bridged or routed. addSpoofTable builds
// it whole; changeSpoofTable changes the ENIs a change names, with the same
// helpers.

func spoofTable() (*nftables.Table, *nftables.Set) {
	t := &nftables.Table{Family: nftables.TableFamilyBridge, Name: spoofTableName}
	return t, &nftables.Set{Table: t, Name: "port", IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeVerdict}
}

// ownSet is the set of the ENI's addresses of family f: a-<eni-id> and
// a6-<eni-id>.
func ownSet(t *nftables.Table, eniID string, f ipFamily) *nftables.Set {
	return &nftables.Set{Table: t, Name: f.name("a", eniID), KeyType: f.keyType}
}

// Neighbour discovery's ICMPv6 types that an ENI's port judges, and where a
// neighbour advertisement's target address is.
const (
	icmp6RouterAdvert   = 134
	icmp6NeighborAdvert = 136
	icmp6Redirect       = 137
	ndTargetOffset      = 8
)

var (
	linkLocal6   = netip.MustParsePrefix("fe80::/10")
	unspecified6 = netip.PrefixFrom(netip.IPv6Unspecified(), 128)
)

// portElement is the ENI's element of the port map: its bridge port jumps to
// its chain.
func portElement(eniID string) (nftables.SetElement, error) {
	names, err := namesOfENI(eniID)
	if err != nil {
		return nftables.SetElement{}, err
	}
	return nftables.SetElement{Key: ifnameKey(names.bridgeEnd), VerdictData: jump("p-" + eniID)}, nil
}

// addPortRules fills an ENI's p- chain (made or flushed before); its a- set
// exists, and its a6- set with v6.
func addPortRules(nft *nftables.Conn, t *nftables.Table, e netmodel.FirewallENI, v6 bool) {
	c := &nftables.Chain{Name: "p-" + e.ID, Table: t}
	own, own6 := ownSet(t, e.ID, ip4), ownSet(t, e.ID, ip6)
	add := func(exprs ...[]expr.Any) {
		nft.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: slices.Concat(exprs...)})
	}
	drop, accept := []expr.Any{verdict(expr.VerdictDrop)}, []expr.Any{verdict(expr.VerdictAccept)}
	arp, ip, ipv6 := etherTypeIs(unix.ETH_P_ARP), etherTypeIs(ip4.etherType), etherTypeIs(ip6.etherType)
	icmp6 := slices.Concat(ipv6, l4protoIs(unix.IPPROTO_ICMPV6))
	add(etherSaddrIsNot(e.MAC), drop)
	add(arp, arpSenderMACIsNot(e.MAC), drop)
	if v6 {
		add(icmp6, transportByteIs(0, icmp6RouterAdvert), drop)
		add(icmp6, transportByteIs(0, icmp6Redirect), drop)
	}
	if e.SourceDestCheck {
		add(arp, arpSenderIn(own), accept)
		add(ip, ipAddrInSet(ip4.saddr, own), accept)
		if v6 {
			// own6 holds the ENI's link-local address too (addOwn): it
			// may not claim another's, the router's or a neighbour's.
			add(icmp6, transportByteIs(0, icmp6NeighborAdvert), ndTargetNotIn(own6), drop)
			add(ipv6, ipAddrInSet(ip6.saddr, own6), accept)
			add(icmp6, ipAddrIn(ip6.saddr, unspecified6), accept)
		}
	} else {
		// Forwarding for others (a NAT instance) sends, and ARPs and
		// advertises, from and for addresses that are not its own.
		add(arp, accept)
		add(ip, accept)
		if v6 {
			add(ipv6, accept)
		}
	}
	add(drop)
}

// addPort makes an ENI's a- set (and a6- with v6) and p- chain, and returns
// its port element.
func addPort(nft *nftables.Conn, t *nftables.Table, e netmodel.FirewallENI, v6 bool) (nftables.SetElement, error) {
	el, err := portElement(e.ID)
	if err != nil {
		return el, err
	}
	for _, f := range firewallFamilies(v6) {
		if err := addSet(nft, ownSet(t, e.ID, f), nil); err != nil {
			return el, err
		}
	}
	if err := addOwn(nft, t, e, v6); err != nil {
		return el, err
	}
	nft.AddChain(&nftables.Chain{Name: "p-" + e.ID, Table: t})
	addPortRules(nft, t, e, v6)
	return el, nil
}

// addOwn fills the ENI's a- set (and a6- with v6), made or flushed before.
// An ENI's IPv6 addresses are its own and its link-local one, which its end
// makes from its MAC (EUI-64, the kernel's way in a namespace of its own).
func addOwn(nft *nftables.Conn, t *nftables.Table, e netmodel.FirewallENI, v6 bool) error {
	for _, f := range firewallFamilies(v6) {
		addrs := e.Addrs
		if f == ip6 && len(e.MAC) == 6 {
			addrs = append(slices.Clone(addrs), linkLocalOf(e.MAC))
		}
		if err := addElements(nft, ownSet(t, e.ID, f), addrElements(f, addrs)); err != nil {
			return err
		}
	}
	return nil
}

func addSpoofTable(nft *nftables.Conn, fw netmodel.Firewall, v6 bool) error {
	t, portMap := spoofTable()
	replaceTable(nft, t)
	var ports []nftables.SetElement
	for _, e := range fw.ENIs {
		el, err := addPort(nft, t, e, v6)
		if err != nil {
			return err
		}
		ports = append(ports, el)
	}
	if err := addSet(nft, portMap, nil); err != nil {
		return err
	}
	if err := addElements(nft, portMap, ports); err != nil {
		return err
	}
	accept := nftables.ChainPolicyAccept
	pre := nft.AddChain(&nftables.Chain{
		Name: "prerouting", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	nft.AddRule(&nftables.Rule{Table: t, Chain: pre, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: portMap.Name, SetID: portMap.ID, IsDestRegSet: true, DestRegister: 0},
	}})
	return nil
}

// changeSpoofTable queues the ports of the ENIs a change names: a new ENI's
// sets, chain and element; a changed one's addresses (each set it has,
// whichever family changed) and rules refilled; a gone one's element, then
// chain, then sets removed (each used by the one before). An ENI has its a6-
// set and IPv6 rules iff ch.IPv6.
func changeSpoofTable(nft *nftables.Conn, ch netmodel.FirewallChange) error {
	t, portMap := spoofTable()
	v6 := ch.IPv6
	var add, del []nftables.SetElement
	for _, c := range ch.ENIs {
		switch {
		case c.Old == nil:
			el, err := addPort(nft, t, *c.New, v6)
			if err != nil {
				return err
			}
			add = append(add, el)
		case c.New == nil:
			el, err := portElement(c.Old.ID)
			if err != nil {
				return err
			}
			del = append(del, el)
		default:
			if !slices.Equal(c.Old.Addrs, c.New.Addrs) || !bytes.Equal(c.Old.MAC, c.New.MAC) {
				for _, f := range firewallFamilies(v6) {
					nft.FlushSet(ownSet(t, c.New.ID, f))
				}
				if err := addOwn(nft, t, *c.New, v6); err != nil {
					return err
				}
			}
			if !bytes.Equal(c.Old.MAC, c.New.MAC) || c.Old.SourceDestCheck != c.New.SourceDestCheck {
				nft.FlushChain(&nftables.Chain{Name: "p-" + c.New.ID, Table: t})
				addPortRules(nft, t, *c.New, v6)
			}
		}
	}
	if err := delElements(nft, portMap, del); err != nil {
		return err
	}
	if err := addElements(nft, portMap, add); err != nil {
		return err
	}
	for _, c := range ch.ENIs {
		if c.New == nil {
			p := &nftables.Chain{Name: "p-" + c.Old.ID, Table: t}
			nft.FlushChain(p)
			nft.DelChain(p)
			for _, f := range firewallFamilies(v6) {
				nft.DelSet(ownSet(t, c.Old.ID, f))
			}
		}
	}
	return nil
}

// etherSaddrIsNot: ether saddr != MAC.
func etherSaddrIsNot(mac net.HardwareAddr) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte(mac)},
	}
}

// etherTypeIs: meta protocol T.
func etherTypeIs(t uint16) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(t)},
	}
}

// arpSenderMACIsNot: arp saddr ether != MAC (the sender hardware address, at
// offset 8): ARP cannot claim another port's MAC either.
func arpSenderMACIsNot(mac net.HardwareAddr) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 6},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte(mac)},
	}
}

// ndTargetNotIn: icmpv6 target != @SET (a neighbour advertisement's target
// address).
func ndTargetNotIn(s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: ndTargetOffset, Len: 16},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, Invert: true},
	}
}

// arpSenderIn: arp saddr ip @SET (the sender protocol address, at offset 14
// of an Ethernet/IPv4 ARP packet).
func arpSenderIn(s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 14, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}
}
