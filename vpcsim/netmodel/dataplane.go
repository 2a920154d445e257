package netmodel

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Dataplane makes the kernel match the EC2 model. The domain calls this interface;
// hostnet implements it with real namespaces, bridges and veth pairs, and tests use
// a fake that records what was asked (netmodeltest). Every method is safe to call
// again with the same arguments: what already exists is kept, and deleting what is
// gone succeeds.
type Dataplane interface {
	// EnsureVPC makes the VPC's namespace (its implicit router), with forwarding
	// on, and connects the host to it or not as v.Connect says.
	EnsureVPC(ctx context.Context, v NetVPC) error
	// DeleteVPC removes the VPC's namespace and everything in it.
	DeleteVPC(ctx context.Context, vpcID string) error
	// EnsureSubnet makes the subnet's bridge in its VPC's namespace, holding the
	// subnet's router address (.1).
	EnsureSubnet(ctx context.Context, s NetSubnet) error
	DeleteSubnet(ctx context.Context, s NetSubnet) error
	// EnsureHost makes the namespace of an instance (or task) named host, with
	// loopback up.
	EnsureHost(ctx context.Context, host string) error
	// DeleteHost ends every process still in the host's namespace and removes it.
	// ENIs still inside are destroyed with it: park them first to keep them.
	DeleteHost(ctx context.Context, host string) error
	// EnsureENI makes the ENI's veth pair: one end a port of its subnet's bridge,
	// the other end carrying the ENI's MAC. With Host set, that end is moved into the
	// host's namespace as eth<Device>, given Addrs and brought up, and device 0 gets a
	// default route via Gateway; with Host empty it is parked, down, in the VPC's
	// namespace.
	EnsureENI(ctx context.Context, e NetENI) error
	DeleteENI(ctx context.Context, e NetENI) error
	// SetFirewall makes the VPC's security groups, anti-spoofing and flow-log
	// capture exactly fw, replacing whatever was there: for start-up and repair.
	// It is atomic: on an error nothing changed. Connections already admitted
	// go on.
	SetFirewall(ctx context.Context, fw Firewall) error
	// ChangeFirewall applies ch to the firewall the VPC has (the one ch was
	// computed against, see Firewall.Apply), touching only what ch names. It
	// is atomic like SetFirewall; after it the kernel holds exactly what
	// SetFirewall of the changed firewall would have made.
	ChangeFirewall(ctx context.Context, ch FirewallChange) error
	// SetRouting makes the VPC's routing exactly r: each subnet's routes,
	// and the internet gateway's link and translations (none when
	// r.Internet is nil), replacing what was there.
	SetRouting(ctx context.Context, r Routing) error
	// EnsureNAT makes the namespace of host, which holds a NAT gateway's ENI
	// as eth0, forward and masquerade what it forwards out of eth0.
	EnsureNAT(ctx context.Context, host string) error
	// Reconcile makes the kernel hold exactly want: it ensures every object of want
	// and removes every vpcsim object (vs- prefix) that want does not name,
	// unless want.KeepStrays.
	Reconcile(ctx context.Context, want Topology) error
}

// NetVPC is what the dataplane needs to know of a VPC.
type NetVPC struct {
	ID   string // vpc-…
	CIDR netip.Prefix
	// Connect, when valid, is the machine's own address in the VPC: the host's
	// namespace gets a route to CIDR through a link of vpcsim's (vpcsim connect).
	Connect netip.Addr
}

// NetSubnet is what the dataplane needs to know of a subnet.
type NetSubnet struct {
	ID      string // subnet-…
	VPCID   string
	CIDR    netip.Prefix // invalid for an IPv6-only subnet
	Gateway netip.Prefix // the router address with the subnet's length, e.g. 10.0.1.1/24; invalid for an IPv6-only subnet
	// Gateway6 is the IPv6 router address, the first of the subnet's IPv6
	// range, with its length (e.g. fd5e:1:2:300::1/64); invalid while the
	// subnet has no IPv6 range. A subnet has Gateway, Gateway6 or both.
	Gateway6 netip.Prefix
}

// NetENI is what the dataplane needs to know of a network interface.
type NetENI struct {
	ID       string // eni-…
	VPCID    string
	SubnetID string
	MAC      net.HardwareAddr
	Addrs    []netip.Prefix // primary first, each with the subnet's length
	Gateway  netip.Addr     // the subnet's router
	// Addrs6 are the ENI's IPv6 addresses, each with the subnet's IPv6
	// length (/64), and Gateway6 the subnet's IPv6 router (Gateway6 of
	// NetSubnet, without the length): device 0 gets an IPv6 default route
	// via it. Both empty when the ENI has no IPv6 address.
	Addrs6   []netip.Prefix
	Gateway6 netip.Addr
	Host     string // the instance or task it is attached to; "" = parked
	Device   int    // eth<Device> inside Host
}

// Topology is the whole kernel state the model wants, for Reconcile.
type Topology struct {
	VPCs    []NetVPC
	Subnets []NetSubnet
	Hosts   []string
	ENIs    []NetENI
	// KeepStrays leaves what want does not name as it is: a new database
	// knows nothing of what is on the machine, so it may not call it stray.
	KeepStrays bool
	// KeepStrayHosts keeps the namespaces of hosts (not VPCs) that want does
	// not name: a database from before host claims does not name those of
	// ECS's bridge and none mode tasks.
	KeepStrayHosts bool
}

// FlowPacket is one packet to or from a flow-logged ENI, with the verdict its
// security groups gave it: what the dataplane reports for flow logs.
type FlowPacket struct {
	ENI              string // the flow-logged ENI
	Accept           bool
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // 0 for protocols without ports
	Proto            uint8
	Bytes            int // the IP packet's length
	Time             time.Time
}
