package netmodel

import (
	"net"
	"net/netip"
)

// Firewall is one VPC's security groups as the dataplane enforces them: for every
// ENI the union of its groups' rules, and for every group referenced by a rule the
// addresses of its members now. The dataplane turns it into one ruleset and
// applies it atomically; the domain's Explain reads the same structure, so what
// `vpcsim sg explain` says is what the kernel does.
type Firewall struct {
	VPCID string
	CIDR  netip.Prefix
	// Secondary are the VPC's secondary blocks: addresses of the VPC too.
	Secondary []netip.Prefix
	// IPv6 are the VPC's IPv6 blocks (a /56 at most, today): as CIDR and
	// Secondary are for IPv4. The dataplane judges IPv6 only while there is
	// one: without, its tables hold nothing of IPv6 and an ENI's port drops
	// IPv6 (see FirewallChange.IPv6).
	IPv6 []netip.Prefix `json:",omitempty"`
	// Host is the address the machine itself has in the VPC while connected
	// (see ec2.ConnectAddr), an invalid Addr otherwise.
	Host netip.Addr
	// Members maps every group some rule references to its members' addresses.
	Members map[string][]netip.Addr
	ENIs    []FirewallENI
}

// FirewallENI is one ENI's share of the firewall.
type FirewallENI struct {
	ID  string
	MAC net.HardwareAddr
	// Addrs are the ENI's IPv4 addresses, primary first, then its IPv6
	// addresses: a group's members (Firewall.Members) are both families'.
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
	// The peer: a CIDR (IPv4 or IPv6: the rule matches that family only),
	// or the members of a group (Firewall.Members[PeerGroup], both
	// families).
	CIDR      netip.Prefix
	PeerGroup string
	// PrefixList is the prefix list whose entry CIDR is, if any: a rule that
	// names a list is a FirewallRule per entry.
	PrefixList string `json:",omitempty"`
}

// FlowLogSink says where one flow log writes the records of an ENI's traffic.
type FlowLogSink struct {
	ID          string // fl-…
	TrafficType string // ALL, ACCEPT or REJECT
}

// Protocol numbers the rules name.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)
