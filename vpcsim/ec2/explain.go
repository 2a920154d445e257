package ec2

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Explanation is the verdict of a VPC's security groups and network ACLs on a
// new connection to an ENI, with the reasons, as `vpcsim sg explain` prints it.
type Explanation struct {
	Admitted bool
	Lines    []string
}

// ExplainSecurityGroups says whether a new connection from an address to an
// ENI's first address of the same family (IPv4: its primary) is admitted,
// and why, from the same Firewall the dataplane enforces: the sender's
// egress (when the sender is an ENI of the VPC) and then the ENI's
// ingress. proto is a protocol number; port is the destination port (ICMP,
// ICMPv6: the type).
func (c *Cloud) ExplainSecurityGroups(eniID string, from netip.Addr, proto, port int) (Explanation, error) {
	c.mu.Lock()
	defer c.unlock()
	e := c.eni(eniID)
	if e == nil {
		return Explanation{}, Errorf("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", eniID)
	}
	fw := c.firewallLocked(e.VPCID)
	x := explain(fw, eniID, from, proto, port)
	v := c.vpc(e.VPCID)
	if !x.Admitted || v == nil {
		return x, nil
	}
	fromSubnet := ""
	for other := range c.allENIs() {
		if other.VPCID == e.VPCID && slices.Contains(other.addrs(), from) {
			fromSubnet = other.SubnetID
		}
	}
	ok, lines := explainACLs(c.routingLocked(v), fromSubnet, e.SubnetID, from, sameFamily(e.addrs(), from), proto, port)
	x.Admitted, x.Lines = ok, append(x.Lines, lines...)
	return x, nil
}

func explain(fw netmodel.Firewall, eniID string, from netip.Addr, proto, port int) Explanation {
	i := slices.IndexFunc(fw.ENIs, func(x netmodel.FirewallENI) bool { return x.ID == eniID })
	if i < 0 || len(fw.ENIs[i].Addrs) == 0 {
		return Explanation{Lines: []string{eniID + " has no address in its VPC"}}
	}
	dst := fw.ENIs[i]
	to := sameFamily(dst.Addrs, from)
	if !to.IsValid() {
		return Explanation{Lines: []string{fmt.Sprintf("%s has no %s address: nothing reaches it from %s", eniID, family(from), from)}}
	}
	what := fmt.Sprintf("%s %s → %s (%s)", protoName(proto), from, portText(proto, port, to), eniID)
	x := Explanation{Lines: []string{what}}

	src := slices.IndexFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return slices.Contains(e.Addrs, from) })
	switch {
	case src >= 0:
		s := fw.ENIs[src]
		r, ok := firstMatch(s.Egress, to, proto, port, fw.Members)
		if !ok {
			x.Lines = append(x.Lines, fmt.Sprintf("DENIED by the sender %s: no egress rule of its groups allows it", s.ID))
			x.Lines = append(x.Lines, near(s.Egress, to, "to", fw.Members)...)
			return x
		}
		x.Lines = append(x.Lines, fmt.Sprintf("egress of the sender %s: allowed by %s", s.ID, describe(r, "to")))
	case from == fw.Host:
		x.Lines = append(x.Lines, "the sender is this machine (vpcsim connect): no egress rules apply to it")
	case !slices.ContainsFunc(vpcBlocks(fw), func(p netip.Prefix) bool { return p.Contains(from) }):
		x.Lines = append(x.Lines, fmt.Sprintf("the sender is outside the VPC (%s)", blockOf(fw, from)))
	default:
		x.Lines = append(x.Lines, "no ENI of the VPC has the sender's address: its packets would be dropped as spoofed")
		return x
	}
	r, ok := firstMatch(dst.Ingress, from, proto, port, fw.Members)
	if !ok {
		x.Lines = append(x.Lines, fmt.Sprintf("DENIED: no ingress rule of %s's groups admits it", eniID))
		x.Lines = append(x.Lines, near(dst.Ingress, from, "from", fw.Members)...)
		return x
	}
	x.Admitted = true
	x.Lines = append(x.Lines, "ADMITTED by "+describe(r, "from"))
	return x
}

// sameFamily is the first of addrs of like's family (IPv4 or IPv6); invalid
// when there is none.
func sameFamily(addrs []netip.Addr, like netip.Addr) netip.Addr {
	for _, a := range addrs {
		if a.Is4() == like.Is4() {
			return a
		}
	}
	return netip.Addr{}
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// vpcBlocks are all the blocks of the firewall's VPC, of both families.
func vpcBlocks(fw netmodel.Firewall) []netip.Prefix {
	return append(append([]netip.Prefix{fw.CIDR}, fw.Secondary...), fw.IPv6...)
}

// blockOf words the VPC's block of an address's family: its primary IPv4
// block, or its IPv6 block (one at most).
func blockOf(fw netmodel.Firewall, a netip.Addr) string {
	switch {
	case a.Is4():
		return fw.CIDR.String()
	case len(fw.IPv6) > 0:
		return fw.IPv6[0].String()
	}
	return "it has no IPv6 block"
}

// firstMatch is the first rule that admits a packet whose peer is the given
// address: the same match the nftables rules make.
func firstMatch(rules []netmodel.FirewallRule, peer netip.Addr, proto, port int, members map[string][]netip.Addr) (netmodel.FirewallRule, bool) {
	for _, r := range rules {
		if peerMatches(r, peer, members) && protoMatches(r, proto, port) {
			return r, true
		}
	}
	return netmodel.FirewallRule{}, false
}

func peerMatches(r netmodel.FirewallRule, peer netip.Addr, members map[string][]netip.Addr) bool {
	if r.PeerGroup != "" {
		return slices.Contains(members[r.PeerGroup], peer)
	}
	return r.CIDR.Contains(peer)
}

func protoMatches(r netmodel.FirewallRule, proto, port int) bool {
	switch {
	case r.Proto == -1:
		return true
	case r.Proto != proto:
		return false
	case proto == netmodel.ProtoTCP || proto == netmodel.ProtoUDP:
		return r.From <= port && port <= r.To
	case isICMP(proto):
		// The kernel also matches a rule's code; explain takes the type only
		// and assumes code 0, the code of echo and of most ICMP messages.
		return (r.From == -1 || r.From == port) && (r.To == -1 || r.To == 0)
	}
	return true
}

// isICMP reports whether a protocol is ICMP or ICMPv6: its "port" is a
// type and a code.
func isICMP(proto int) bool {
	return proto == netmodel.ProtoICMP || proto == netmodel.ProtoICMPv6
}

// near lists the rules that would have matched but for one thing, so that
// the answer says what to change.
func near(rules []netmodel.FirewallRule, peer netip.Addr, dir string, members map[string][]netip.Addr) []string {
	var out []string
	for _, r := range rules {
		if peerMatches(r, peer, members) {
			out = append(out, fmt.Sprintf("  %s: matches the peer, not the protocol or port", describe(r, dir)))
		} else if r.PeerGroup != "" {
			out = append(out, fmt.Sprintf("  %s: %s is not a member of %s", describe(r, dir), peer, r.PeerGroup))
		} else {
			out = append(out, fmt.Sprintf("  %s: %s is not in %s", describe(r, dir), peer, r.CIDR))
		}
	}
	if len(rules) == 0 {
		out = append(out, "  (the groups have no rules in this direction)")
	}
	return out
}

// describe words a rule: "sgr-… of sg-…: tcp 80-80 from 0.0.0.0/0".
func describe(r netmodel.FirewallRule, dir string) string {
	peer := r.CIDR.String()
	switch {
	case r.PeerGroup != "":
		peer = "members of " + r.PeerGroup
	case r.PrefixList != "":
		peer += " (an entry of " + r.PrefixList + ")"
	}
	ports := ""
	switch r.Proto {
	case netmodel.ProtoTCP, netmodel.ProtoUDP:
		ports = fmt.Sprintf(" %d-%d", r.From, r.To)
	case netmodel.ProtoICMP, netmodel.ProtoICMPv6:
		ports = fmt.Sprintf(" type %d code %d", r.From, r.To)
	}
	return fmt.Sprintf("%s of %s: %s%s %s %s", r.ID, r.GroupID, protoName(r.Proto), ports, dir, peer)
}

func protoName(p int) string {
	switch p {
	case -1:
		return "all"
	case netmodel.ProtoTCP:
		return "tcp"
	case netmodel.ProtoUDP:
		return "udp"
	case netmodel.ProtoICMP:
		return "icmp"
	case netmodel.ProtoICMPv6:
		return "icmpv6"
	}
	return fmt.Sprintf("proto %d", p)
}

func portText(proto, port int, to netip.Addr) string {
	switch proto {
	case netmodel.ProtoTCP, netmodel.ProtoUDP:
		return netip.AddrPortFrom(to, uint16(port)).String()
	case netmodel.ProtoICMP, netmodel.ProtoICMPv6:
		return fmt.Sprintf("%s (type %d)", to, port)
	}
	return to.String()
}

// ParseProto reads a protocol as `vpcsim sg explain --proto` takes it.
func ParseProto(s string) (int, error) {
	s = strings.ToLower(s)
	if s == "all" {
		s = "-1"
	}
	p, ok := ruleProto(s)
	if !ok || p < -1 || p > 255 {
		return 0, fmt.Errorf("unknown protocol %q (tcp, udp, icmp, icmpv6, all or a number)", s)
	}
	return p, nil
}
