package hostnet

import (
	"bytes"
	"net"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The bridge table that keeps each ENI honest on its bridge port: frames only
// from its MAC; ARP and IPv4 only from its addresses unless its source/dest
// check is off; nothing else (the VPC has no IPv6). It is stateless and sits
// in the bridge family: a port's frames are judged before they are bridged or
// routed. addSpoofTable builds it whole; changeSpoofTable changes the ENIs a
// change names, with the same helpers.

func spoofTable() (*nftables.Table, *nftables.Set) {
	t := &nftables.Table{Family: nftables.TableFamilyBridge, Name: spoofTableName}
	return t, &nftables.Set{Table: t, Name: "port", IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeVerdict}
}

func ownSet(t *nftables.Table, eniID string) *nftables.Set {
	return &nftables.Set{Table: t, Name: "a-" + eniID, KeyType: nftables.TypeIPAddr}
}

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
// exists.
func addPortRules(nft *nftables.Conn, t *nftables.Table, e netmodel.FirewallENI) {
	c := &nftables.Chain{Name: "p-" + e.ID, Table: t}
	own := ownSet(t, e.ID)
	add := func(exprs ...expr.Any) { nft.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: exprs}) }
	add(append(etherSaddrIsNot(e.MAC), verdict(expr.VerdictDrop))...)
	add(append(etherTypeIs(unix.ETH_P_ARP), append(arpSenderMACIsNot(e.MAC), verdict(expr.VerdictDrop))...)...)
	if e.SourceDestCheck {
		add(append(etherTypeIs(unix.ETH_P_ARP), append(arpSenderIn(own), verdict(expr.VerdictAccept))...)...)
		add(append(etherTypeIs(unix.ETH_P_IP), append(ipAddrInSet(ipSaddrOffset, own), verdict(expr.VerdictAccept))...)...)
	} else {
		// Forwarding for others (a NAT instance) sends, and ARPs, from
		// addresses that are not its own.
		add(append(etherTypeIs(unix.ETH_P_ARP), verdict(expr.VerdictAccept))...)
		add(append(etherTypeIs(unix.ETH_P_IP), verdict(expr.VerdictAccept))...)
	}
	add(verdict(expr.VerdictDrop))
}

// addPort makes an ENI's a- set and p- chain, and returns its port element.
func addPort(nft *nftables.Conn, t *nftables.Table, e netmodel.FirewallENI) (nftables.SetElement, error) {
	el, err := portElement(e.ID)
	if err != nil {
		return el, err
	}
	own := ownSet(t, e.ID)
	if err := addSet(nft, own, nil); err != nil {
		return el, err
	}
	if err := addElements(nft, own, addrElements(e.Addrs)); err != nil {
		return el, err
	}
	nft.AddChain(&nftables.Chain{Name: "p-" + e.ID, Table: t})
	addPortRules(nft, t, e)
	return el, nil
}

func addSpoofTable(nft *nftables.Conn, fw netmodel.Firewall) error {
	t, portMap := spoofTable()
	replaceTable(nft, t)
	var ports []nftables.SetElement
	for _, e := range fw.ENIs {
		el, err := addPort(nft, t, e)
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
// set, chain and element; a changed one's addresses and rules refilled; a
// gone one's element, then chain, then set removed (each used by the one
// before).
func changeSpoofTable(nft *nftables.Conn, ch netmodel.FirewallChange) error {
	t, portMap := spoofTable()
	var add, del []nftables.SetElement
	for _, c := range ch.ENIs {
		switch {
		case c.Old == nil:
			el, err := addPort(nft, t, *c.New)
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
			if !slices.Equal(c.Old.Addrs, c.New.Addrs) {
				own := ownSet(t, c.New.ID)
				nft.FlushSet(own)
				if err := addElements(nft, own, addrElements(c.New.Addrs)); err != nil {
					return err
				}
			}
			if !bytes.Equal(c.Old.MAC, c.New.MAC) || c.Old.SourceDestCheck != c.New.SourceDestCheck {
				nft.FlushChain(&nftables.Chain{Name: "p-" + c.New.ID, Table: t})
				addPortRules(nft, t, *c.New)
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
			nft.DelSet(ownSet(t, c.Old.ID))
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

// arpSenderIn: arp saddr ip @SET (the sender protocol address, at offset 14
// of an Ethernet/IPv4 ARP packet).
func arpSenderIn(s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 14, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}
}
