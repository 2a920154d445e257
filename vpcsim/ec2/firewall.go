package ec2

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// ruleProto gives a stored rule's protocol as a number, -1 for all; false
// for what is not a protocol.
func ruleProto(p string) (int, bool) {
	switch p {
	case "-1":
		return -1, true
	case "tcp":
		return netmodel.ProtoTCP, true
	case "udp":
		return netmodel.ProtoUDP, true
	case "icmp":
		return netmodel.ProtoICMP, true
	case "icmpv6":
		return netmodel.ProtoICMPv6, true
	}
	n, err := strconv.Atoi(p)
	return n, err == nil
}

// firewallLocked builds the firewall of one VPC of the model from scratch,
// walking every ENI: what `vpcsim sg explain` reads, and the reference the
// firewall kept by syncFirewallsLocked (see firewall_state.go) must equal.
func (c *Cloud) firewallLocked(vpcID string) netmodel.Firewall {
	v := c.vpc(vpcID)
	fw := netmodel.Firewall{VPCID: v.ID, CIDR: v.CIDR, Secondary: v.SecondaryCIDRs(), IPv6: v.IPv6CIDRs(), Host: hostAddr(v), Members: map[string][]netip.Addr{}}
	enis := make([]*ENI, 0)
	for e := range c.allENIs() {
		if e.VPCID == vpcID {
			enis = append(enis, e)
		}
	}
	slices.SortFunc(enis, func(a, b *ENI) int { return cmp.Compare(a.ID, b.ID) })
	for _, e := range enis {
		fe := c.eniFirewallLocked(e)
		for _, gid := range fe.peers {
			fw.Members[gid] = []netip.Addr{}
		}
		fw.ENIs = append(fw.ENIs, fe.fw)
	}
	for _, e := range enis {
		for _, gid := range e.Groups {
			if _, ok := fw.Members[gid]; ok {
				fw.Members[gid] = append(fw.Members[gid], e.addrs()...)
			}
		}
	}
	for gid := range fw.Members {
		if c.foreignGroupLocked(vpcID, gid) {
			fw.Members[gid] = c.foreignMembersLocked(vpcID, gid)
		}
	}
	for gid := range fw.Members {
		slices.SortFunc(fw.Members[gid], netip.Addr.Compare)
		fw.Members[gid] = slices.Compact(fw.Members[gid])
	}
	return fw
}

// hostAddr is the machine's own address in a VPC it is connected to, an
// invalid Addr otherwise.
func hostAddr(v *VPC) netip.Addr {
	if v.Connected {
		return ConnectAddr(v.CIDR)
	}
	return netip.Addr{}
}

// eniFirewall is one ENI's share of its VPC's firewall, with what the
// firewall's upkeep needs to know of it: its subnet (for flow logs), its
// groups (whose sets hold its addresses) and the groups its rules reference
// (whose sets must exist).
type eniFirewall struct {
	fw     netmodel.FirewallENI
	subnet string
	groups []string // distinct, in the ENI's order
	peers  []string // distinct, in the order the rules name them
}

// eniFirewallLocked builds an ENI's share of the firewall from the model: the
// rules of its groups, in the order of its groups and of their rules.
func (c *Cloud) eniFirewallLocked(e *ENI) *eniFirewall {
	mac, _ := net.ParseMAC(e.MAC)
	out := &eniFirewall{subnet: e.SubnetID}
	out.fw = netmodel.FirewallENI{ID: e.ID, MAC: mac, Addrs: e.addrs(), SourceDestCheck: e.SourceDestCheck, FlowLogs: c.flowLogSinksLocked(e)}
	if e.InterfaceType == natInterfaceType {
		// A NAT gateway has no security groups: what it forwards for a
		// private subnet leaves from its address to anywhere. Nothing may
		// open a connection to it (its Elastic IP's replies are established).
		out.fw.Egress = []netmodel.FirewallRule{{Proto: -1, From: -1, To: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")}}
	}
	for _, gid := range e.Groups {
		if slices.Contains(out.groups, gid) {
			continue
		}
		out.groups = append(out.groups, gid)
		g := c.group(gid)
		if g == nil {
			continue
		}
		for _, r := range g.Rules {
			for _, fr := range c.kernelRulesLocked(r) {
				if fr.PeerGroup != "" && !slices.Contains(out.peers, fr.PeerGroup) {
					out.peers = append(out.peers, fr.PeerGroup)
				}
				if r.Egress {
					out.fw.Egress = append(out.fw.Egress, fr)
				} else {
					out.fw.Ingress = append(out.fw.Ingress, fr)
				}
			}
		}
	}
	return out
}

// firewallRule turns a stored rule into its kernel form; rules that name a
// prefix list have none (kernelRulesLocked gives theirs).
func firewallRule(r Rule) (netmodel.FirewallRule, bool) {
	proto, ok := ruleProto(r.Protocol)
	if !ok {
		return netmodel.FirewallRule{}, false
	}
	fr := netmodel.FirewallRule{ID: r.ID, GroupID: r.GroupID, Proto: proto, From: int(r.FromPort), To: int(r.ToPort)}
	switch {
	case r.CIDRv4 != "" || r.CIDRv6 != "":
		p, err := netip.ParsePrefix(r.CIDRv4 + r.CIDRv6)
		if err != nil {
			return netmodel.FirewallRule{}, false
		}
		fr.CIDR = p
	case r.PeerGroupID != "":
		fr.PeerGroup = r.PeerGroupID
	default:
		return netmodel.FirewallRule{}, false
	}
	if !hasPorts(proto) {
		fr.From, fr.To = -1, -1
	}
	return fr, true
}

// hasPorts reports whether a protocol's rules have ports (TCP, UDP) or an
// ICMP type and code (ICMP, ICMPv6).
func hasPorts(proto int) bool {
	switch proto {
	case netmodel.ProtoTCP, netmodel.ProtoUDP, netmodel.ProtoICMP, netmodel.ProtoICMPv6:
		return true
	}
	return false
}

// addrs are the ENI's addresses as the firewall has them: IPv4, primary
// first, then IPv6.
func (e *ENI) addrs() []netip.Addr {
	var out []netip.Addr
	for _, ip := range e.PrivateIPs {
		out = append(out, ip.Addr)
	}
	return append(out, e.IPv6...)
}

// ConnectAddr is the address the machine itself takes in a VPC it is connected
// to (vpcsim connect): the VPC's base address + 3. AWS reserves that address in
// the subnet that starts the VPC and never gives it to an ENI, so it cannot
// clash with anything the API hands out.
func ConnectAddr(cidr netip.Prefix) netip.Addr {
	a := cidr.Masked().Addr()
	for range 3 {
		a = a.Next()
	}
	return a
}

// foreignGroupLocked reports whether a group a VPC's rules reference is
// another VPC's (a peered VPC's, when the rule was made).
func (c *Cloud) foreignGroupLocked(vpcID, groupID string) bool {
	g := c.group(groupID)
	return g != nil && g.VPCID != vpcID
}

// foreignMembersLocked lists the addresses of a peered VPC's group that a
// VPC's rules reference: its members' while the two VPCs are peered, none
// while they are not (the rules are stale).
func (c *Cloud) foreignMembersLocked(vpcID, groupID string) []netip.Addr {
	out := []netip.Addr{}
	g := c.group(groupID)
	if g == nil || c.peeringBetweenLocked(vpcID, g.VPCID) == nil {
		return out
	}
	for e := range c.allENIs() {
		if e.VPCID == g.VPCID && slices.Contains(e.Groups, groupID) {
			out = append(out, e.addrs()...)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}
