package hostnet

import (
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim"
)

// addSpoofTable adds the bridge table that keeps each ENI honest on its bridge
// port: frames only from its MAC; ARP and IPv4 only from its addresses unless
// its source/dest check is off; nothing else (the VPC has no IPv6). It is stateless and sits in the bridge family: a port's frames are
// judged before they are bridged or routed.
func addSpoofTable(nft *nftables.Conn, fw vpcsim.Firewall) error {
	t := &nftables.Table{Family: nftables.TableFamilyBridge, Name: spoofTableName}
	replaceTable(nft, t)
	var ports []nftables.SetElement
	for _, e := range fw.ENIs {
		names, err := namesOfENI(e.ID)
		if err != nil {
			return err
		}
		own := &nftables.Set{Table: t, Name: "a-" + e.ID, KeyType: nftables.TypeIPAddr}
		if err := addSet(nft, own, addrElements(e.Addrs)); err != nil {
			return err
		}
		c := nft.AddChain(&nftables.Chain{Name: "p-" + e.ID, Table: t})
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
		ports = append(ports, nftables.SetElement{Key: ifnameKey(names.bridgeEnd), VerdictData: jump(c.Name)})
	}
	portMap := &nftables.Set{Table: t, Name: "port", IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeVerdict}
	if err := addSet(nft, portMap, ports); err != nil {
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
