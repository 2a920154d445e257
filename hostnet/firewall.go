package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC's security groups live in its namespace, where every packet between two
// ENIs passes (bridged ones too: bridge-nf-call-iptables and -ip6tables are on
// there), and where no task can reach them. Two tables, always changed
// together in one transaction; each map and set of addresses comes in one per
// family, the IPv6 one's name ending in 6 (g6-, a6-). What is of IPv6 alone
// (the IPv6 maps and sets, rules and variants of rules; marked [6] below) is
// there only while the VPC has IPv6 blocks (firewallFamilies): most VPCs
// have none, and their tables are IPv4's alone, their ports dropping IPv6.
//
//	table inet vs-sg        stateful filtering of the forward hook:
//	  set g-<sg-id>         IPv4 addresses of a referenced group's members
//	  set g6-<sg-id>        [6] its members' IPv6 addresses
//	  map from-eni, from-eni6  ENI address → jump o-<eni-id>
//	  map to-eni, to-eni6   ENI address → jump i-<eni-id>; the connected host → accept
//	  map logged, logged6   flow-logged ENI address → jump l-<eni-id>
//	                        (each ...6 map [6])
//	  chain forward         ct state established,related ip saddr vmap @logged;
//	                        ct state established,related ip daddr vmap @logged;
//	                        [6] (the same with ip6 and @logged6);
//	                        ct state established,related accept;
//	                        [6] icmpv6 type 133-137 ip6 hoplimit 255 accept;
//	                        [6] icmpv6 type {130-132, 143} ip6 saddr fe80::/10
//	                          accept (neighbour discovery and MLD, on-link only);
//	                        ip saddr vmap @from-eni; ip daddr vmap @to-eni;
//	                        [6] ip6 saddr vmap @from-eni6; ip6 daddr vmap @to-eni6;
//	                        ip daddr {<each IPv4 block of the VPC>,
//	                          224.0.0.0/4, 255.255.255.255} drop;
//	                        ip saddr @from-eni accept;
//	                        [6] ip6 daddr {<each IPv6 block of the VPC>,
//	                          fe80::/10, ff00::/8} drop;
//	                        [6] ip6 saddr @from-eni6 accept;
//	                        drop
//	  chain o-<eni-id>      the ENI's egress rules: a match returns, else drop
//	  chain i-<eni-id>      the ENI's ingress rules: a match accepts, else drop
//	                        (a rule per family it admits: a CIDR's, both for
//	                        a group, ICMP IPv4 and ICMPv6 IPv6 only; [6] the
//	                        IPv6 one, and none for an IPv6 CIDR or ICMPv6
//	                        without)
//	  chain l-<eni-id>      log (flow log "A <eni-id>") and return
//	table bridge vs-spoof   stateless anti-spoofing on each ENI's bridge port:
//	  map port              iifname → jump p-<eni-id>
//	  set a-<eni-id>, a6-<eni-id>  the ENI's addresses (a6- [6], with its
//	                        EUI-64 link-local address)
//	  chain p-<eni-id>      only the ENI's MAC; [6] no router advertisement or
//	                        redirect; with source/dest check ARP and IPv4
//	                        only from its addresses, [6] IPv6 from its addresses
//	                        (ICMPv6 from :: too), a neighbour advertisement
//	                        only for those; nothing else
//	                        (no IPv6 at all without [6])
//
// Everything of one ENI hangs off map elements keyed by its addresses (and
// its port): SetFirewall builds the tables whole (start-up, repair);
// ChangeFirewall adds, flushes and deletes only the chains, sets and elements
// of the ENIs and groups a change names, so its cost does not grow with the
// VPC. An address of the VPC that no ENI has is dropped (fail closed), so an
// ENI whose rules are not in yet cannot be reached. What an ENI's egress rules
// let out to an address outside the VPC (the internet gateway, a route through
// an ENI) goes: no ENI's ingress rules are there to judge it. Established
// flows live in conntrack, not in the tables: changing the tables does not
// disturb them. Link-local and multicast traffic between ENIs other than
// neighbour discovery is dropped, as AWS's VPC does not carry it.
const (
	sgTableName    = "vs-sg"
	spoofTableName = "vs-spoof"

	// flowLogGroup is the NFLOG group of flow-log captures in a VPC namespace;
	// flowLogSnaplen copies the IPv4 header and the ports, enough for a record
	// (an IPv6 header's 40 bytes, up to 20 more of extension headers, and the
	// ports likewise).
	flowLogGroup   = 4566
	flowLogSnaplen = 64
)

// SetFirewall replaces the VPC's security-group and anti-spoofing tables with
// what fw says, in one nftables transaction, and captures the packets of
// flow-logged ENIs: all of it, or on an error nothing.
func (k *Kernel) SetFirewall(ctx context.Context, fw netmodel.Firewall) error {
	v6 := len(fw.IPv6) > 0
	return k.applyFirewall(ctx, fw.VPCID, flowLogged(fw), func(nft *nftables.Conn) error {
		if err := addSGTable(nft, fw, v6); err != nil {
			return fmt.Errorf("security groups of %s: %w", fw.VPCID, err)
		}
		if err := addSpoofTable(nft, fw, v6); err != nil {
			return fmt.Errorf("anti-spoofing of %s: %w", fw.VPCID, err)
		}
		return nil
	})
}

// ChangeFirewall applies a change to the VPC's tables in one nftables
// transaction, touching only the ENIs and groups it names, and starts or
// stops the VPC's flow capture as ch.FlowLogged says: all of it, or on an
// error nothing. The tables must hold ch's old side (what the last
// SetFirewall or ChangeFirewall made, with IPv6 pieces iff ch.IPv6); the
// result is what SetFirewall of the new firewall would make.
func (k *Kernel) ChangeFirewall(ctx context.Context, ch netmodel.FirewallChange) error {
	return k.applyFirewall(ctx, ch.VPCID, ch.FlowLogged, func(nft *nftables.Conn) error {
		if err := changeSGTable(nft, ch); err != nil {
			return fmt.Errorf("security groups of %s: %w", ch.VPCID, err)
		}
		if err := changeSpoofTable(nft, ch); err != nil {
			return fmt.Errorf("anti-spoofing of %s: %w", ch.VPCID, err)
		}
		return nil
	})
}

// applyFirewall sends what build queues as one transaction in the VPC's
// namespace, with the flow capture following logged. A capture that has to
// start starts first, and stops again if the transaction fails; one that has
// to stop stops after it (which cannot fail): so the two change together.
func (k *Kernel) applyFirewall(ctx context.Context, vpcID string, logged bool, build func(*nftables.Conn) error) error {
	name, err := k.nsName(vpcID)
	if err != nil {
		return fmt.Errorf("security groups: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	path := filepath.Join(netnsDir, name)
	fd, err := openNetns(path)
	if err != nil {
		return fmt.Errorf("security groups of %s: %w", vpcID, err)
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd), nftables.WithSockOptions(bigSendBuffer))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", name, err)
	}
	defer nft.CloseLasting()
	if err := build(nft); err != nil {
		return err
	}
	started, err := k.captureFlowsLocked(name, logged)
	if err != nil {
		return err
	}
	if err := nft.Flush(); err != nil {
		if started {
			k.stopCaptureLocked(name)
		}
		return fmt.Errorf("security groups of %s: nftables: %w", vpcID, err)
	}
	if !logged {
		k.stopCaptureLocked(name)
	}
	return nil
}

// bigSendBuffer lets one transaction carry a large ruleset: the kernel refuses
// a netlink message bigger than the socket's send buffer (212 KB by default,
// about 1,000 rules), and drops acknowledgements beyond the receive buffer, so
// root forces bigger ones.
func bigSendBuffer(c *netlink.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = errors.Join(
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 64<<20),
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20))
	}); err != nil {
		return err
	}
	return serr
}

// firewallFamilies are the families whose pieces a VPC's security-group and
// anti-spoofing tables hold: IPv4's always, IPv6's only while the VPC has
// IPv6 blocks (ipv6: Firewall.IPv6 is not empty, FirewallChange.IPv6).
// Addresses and rules of a family the tables do not hold are left out: none
// of its packets gets past an ENI's port.
func firewallFamilies(ipv6 bool) []ipFamily {
	if ipv6 {
		return ipFamilies
	}
	return ipFamilies[:1]
}

// replaceTable starts a transaction's new table: adding, deleting and adding
// again makes the delete succeed whether or not the table existed.
func replaceTable(nft *nftables.Conn, t *nftables.Table) {
	nft.AddTable(t)
	nft.DelTable(t)
	nft.AddTable(t)
}

// ruleExprs is one security group rule's variant of family f: its match
// (ruleMatchOf), then the verdict.
func ruleExprs(r netmodel.FirewallRule, f ipFamily, peerOffset uint32, peers *nftables.Set, logged bool, eni string, v expr.VerdictKind) []expr.Any {
	return append(ruleMatchOf(r, f, peerOffset, peers), verdictExprs(logged, "A", eni, v)...)
}

// ruleFamilies are the families among fams whose packets a rule can admit,
// each of which gets a variant of the rule: a CIDR's own family; both for a
// group reference (its members have addresses of both); for ICMP only IPv4
// and for ICMPv6 only IPv6, whatever the peer.
func ruleFamilies(r netmodel.FirewallRule, fams []ipFamily) []ipFamily {
	var out []ipFamily
	for _, f := range fams {
		cidrOf := r.PeerGroup == "" && r.CIDR.Addr().Is6() == (f == ip6)
		icmpOf := (r.Proto != ip4.icmp && r.Proto != ip6.icmp) || r.Proto == f.icmp
		if (r.PeerGroup != "" || cidrOf) && icmpOf {
			out = append(out, f)
		}
	}
	return out
}

// ruleMatch matches what a rule admits of IPv4, as ruleMatchOf: network ACL
// rules match so (acl.go).
func ruleMatch(r netmodel.FirewallRule, peerOffset uint32, groups func(string) *nftables.Set) []expr.Any {
	var peers *nftables.Set
	if r.PeerGroup != "" {
		peers = groups(r.PeerGroup)
	}
	return ruleMatchOf(r, ip4, peerOffset, peers)
}

// ruleMatchOf matches what a rule admits of family f: the family, the peer
// (saddr for ingress, daddr for egress, at peerOffset of f's header: the
// rule's CIDR, or the set peers of a group's members of f), the protocol
// (meta l4proto: IPv6 extension headers do not hide it) and ports (0-65535 is
// any port; an ICMP or ICMPv6 type or code of -1 is any).
func ruleMatchOf(r netmodel.FirewallRule, f ipFamily, peerOffset uint32, peers *nftables.Set) []expr.Any {
	e := f.is()
	if r.PeerGroup != "" {
		e = append(e, ipAddrInSet(peerOffset, peers)...)
	} else {
		e = append(e, ipAddrIn(peerOffset, r.CIDR)...)
	}
	switch r.Proto {
	case -1:
	case netmodel.ProtoTCP, netmodel.ProtoUDP:
		e = append(e, l4protoIs(byte(r.Proto))...)
		if r.From > 0 || r.To < 65535 {
			e = append(e, dportIn(uint16(r.From), uint16(r.To))...)
		}
	case netmodel.ProtoICMP, netmodel.ProtoICMPv6:
		e = append(e, l4protoIs(byte(r.Proto))...)
		if r.From >= 0 {
			e = append(e, transportByteIs(0, byte(r.From))...)
		}
		if r.To >= 0 {
			e = append(e, transportByteIs(1, byte(r.To))...)
		}
	default:
		e = append(e, l4protoIs(byte(r.Proto))...)
	}
	return e
}

// verdictExprs ends a rule: the flow-log capture when the ENI is logged, then v.
func verdictExprs(logged bool, action, eni string, v expr.VerdictKind) []expr.Any {
	if logged {
		return []expr.Any{nflog(flowLogGroup, flowLogSnaplen, action+" "+eni), verdict(v)}
	}
	return []expr.Any{verdict(v)}
}

// addrElements are the addresses of family f among addrs, as set elements.
func addrElements(f ipFamily, addrs []netip.Addr) []nftables.SetElement {
	var out []nftables.SetElement
	for _, a := range addrs {
		if familyOf(a) == f {
			out = append(out, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	return out
}

// flowLogged reports whether any ENI of the firewall has a flow log.
func flowLogged(fw netmodel.Firewall) bool {
	return slices.ContainsFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return len(e.FlowLogs) > 0 })
}
