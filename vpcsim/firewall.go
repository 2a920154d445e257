package vpcsim

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strconv"
)

// Firewall is one VPC's security groups as the dataplane enforces them: for every
// ENI the union of its groups' rules, and for every group referenced by a rule the
// addresses of its members now. The dataplane turns it into one ruleset and
// applies it atomically; Explain reads the same structure, so what `vpcsim sg
// explain` says is what the kernel does.
type Firewall struct {
	VPCID string
	CIDR  netip.Prefix
	// Host is the address the machine itself has in the VPC while connected
	// (see ConnectAddr), an invalid Addr otherwise.
	Host netip.Addr
	// Members maps every group some rule references to its members' addresses.
	Members map[string][]netip.Addr
	ENIs    []FirewallENI
}

// FirewallENI is one ENI's share of the firewall.
type FirewallENI struct {
	ID    string
	MAC   net.HardwareAddr
	Addrs []netip.Addr
	// SourceDestCheck, as the EC2 attribute: the ENI may send only from its own
	// addresses. Its MAC is enforced either way.
	SourceDestCheck bool
	Ingress, Egress []FirewallRule
	// FlowLogs are the flow logs that capture this ENI's traffic.
	FlowLogs []FlowLogSink `json:",omitempty"`
}

// FirewallRule is one rule of one of the ENI's groups, in kernel terms.
type FirewallRule struct {
	ID      string // sgr-…
	GroupID string
	// Proto is the IP protocol number, -1 for all.
	Proto int
	// From and To are the port range for TCP and UDP; for ICMP the type and the
	// code, -1 meaning any.
	From, To int
	// The peer: a CIDR, or the members of a group (Firewall.Members[PeerGroup]).
	CIDR      netip.Prefix
	PeerGroup string
}

// FlowLogSink says where one flow log writes the records of an ENI's traffic.
type FlowLogSink struct {
	ID          string // fl-…
	TrafficType string // ALL, ACCEPT or REJECT
}

// Protocol numbers the rules name.
const (
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// ruleProto gives a stored rule's protocol as a number, -1 for all, and false
// for what IPv4 filtering cannot match (ICMPv6).
func ruleProto(p string) (int, bool) {
	switch p {
	case "-1":
		return -1, true
	case "tcp":
		return ProtoTCP, true
	case "udp":
		return ProtoUDP, true
	case "icmp":
		return ProtoICMP, true
	case "icmpv6", "58":
		return 0, false
	}
	n, err := strconv.Atoi(p)
	return n, err == nil
}

// firewallLocked builds the firewall of one VPC of the model from scratch,
// walking every ENI: what `vpcsim sg explain` reads, and the reference the
// firewall kept by syncFirewallsLocked (see firewall_state.go) must equal.
func (c *Cloud) firewallLocked(vpcID string) Firewall {
	v := c.vpc(vpcID)
	fw := Firewall{VPCID: v.ID, CIDR: v.CIDR, Host: hostAddr(v), Members: map[string][]netip.Addr{}}
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
				for _, ip := range e.PrivateIPs {
					fw.Members[gid] = append(fw.Members[gid], ip.Addr)
				}
			}
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
	fw     FirewallENI
	subnet string
	groups []string // distinct, in the ENI's order
	peers  []string // distinct, in the order the rules name them
}

// eniFirewallLocked builds an ENI's share of the firewall from the model: the
// rules of its groups, in the order of its groups and of their rules.
func (c *Cloud) eniFirewallLocked(e *ENI) *eniFirewall {
	mac, _ := net.ParseMAC(e.MAC)
	out := &eniFirewall{subnet: e.SubnetID}
	out.fw = FirewallENI{ID: e.ID, MAC: mac, SourceDestCheck: e.SourceDestCheck, FlowLogs: c.flowLogSinksLocked(e)}
	for _, ip := range e.PrivateIPs {
		out.fw.Addrs = append(out.fw.Addrs, ip.Addr)
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
			fr, ok := firewallRule(r)
			if !ok {
				continue
			}
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
	return out
}

// firewallRule turns a stored rule into its kernel form; rules IPv4 cannot
// match (IPv6 peers, prefix lists) have none.
func firewallRule(r Rule) (FirewallRule, bool) {
	proto, ok := ruleProto(r.Protocol)
	if !ok {
		return FirewallRule{}, false
	}
	fr := FirewallRule{ID: r.ID, GroupID: r.GroupID, Proto: proto, From: int(r.FromPort), To: int(r.ToPort)}
	switch {
	case r.CIDRv4 != "":
		p, err := netip.ParsePrefix(r.CIDRv4)
		if err != nil {
			return FirewallRule{}, false
		}
		fr.CIDR = p
	case r.PeerGroupID != "":
		fr.PeerGroup = r.PeerGroupID
	default:
		return FirewallRule{}, false
	}
	if proto != ProtoTCP && proto != ProtoUDP && proto != ProtoICMP {
		fr.From, fr.To = -1, -1
	}
	return fr, true
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
