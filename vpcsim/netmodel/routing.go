package netmodel

import (
	"maps"
	"net/netip"
	"slices"
)

// Routing is one VPC's route tables and internet gateway as the kernel
// applies them (SetRouting). In the VPC's namespace each subnet's traffic is
// routed by its own routing table, chosen by policy routing on the subnet's
// bridge: the VPC's range goes on to the namespace's main table (the local
// route: the subnets' bridges and the connect link), everything else follows
// the subnet's Routes, and what no route matches is dropped.
type Routing struct {
	VPCID string
	CIDR  netip.Prefix // the local route's destination
	// Secondary are the VPC's secondary blocks: local too.
	Secondary []netip.Prefix
	// IPv6 are the VPC's IPv6 blocks: local too, routed by the subnets'
	// tables in the IPv6 rules and tables as CIDR is in the IPv4 ones.
	IPv6 []netip.Prefix
	// Subnets holds every subnet of the VPC, with the routes of its route
	// table other than the local one.
	Subnets []SubnetRouting
	// Internet is the VPC's internet gateway while one is attached and some
	// address of the VPC is public (an IPv4 address mapped to a public one,
	// or any IPv6 address of an ENI: EC2's are global); nil otherwise.
	Internet *InternetLink
	// Logged maps the addresses (both families) of the VPC's flow-logged
	// ENIs to their IDs:
	// a packet a network ACL drops is logged as the ENI's REJECT.
	Logged map[netip.Addr]string
	// Peerings are the VPC's active peering connections, in ID order: each
	// a link between this VPC's namespace and the peer's, which routes
	// through the connection use. What comes in over one is routed to the
	// VPC's own subnets only, never on (AWS's peering is not transitive).
	Peerings []PeeringLink
}

// PeeringLink is an active VPC peering connection as the kernel carries it.
type PeeringLink struct {
	ID        string // pcx-…
	PeerVPCID string
}

// SubnetRouting is one subnet's routes, by its route table, and its
// network ACL.
type SubnetRouting struct {
	SubnetID string
	Routes   []Route
	ACL      *NetworkACL // nil: none judges the subnet's traffic
}

// NetworkACL is a subnet's network ACL as the kernel enforces it, at the
// subnet's boundary and stateless: Egress judges every packet routed out of
// the subnet (by its destination), Ingress every packet routed into it (by
// its source); traffic within the subnet is not judged. Rules are in rule
// number order; the first that matches decides; a packet no rule matches is
// dropped.
type NetworkACL struct {
	ID              string // acl-…
	Ingress, Egress []ACLRule
}

// ACLRule is one numbered rule of a network ACL.
type ACLRule struct {
	Number int
	Allow  bool
	// Proto is the IP protocol number, -1 for all.
	Proto int
	// From and To are the port range for TCP and UDP, -1 meaning any; for
	// ICMP the type and the code, -1 meaning any.
	From, To int
	CIDR     netip.Prefix // the peer: destination for egress, source for ingress; IPv4 or IPv6, the rule judges that family only
}

// RouteTarget says where a route sends its traffic.
type RouteTarget int

const (
	// RouteBlackhole drops: the route's target is gone or cannot carry it.
	RouteBlackhole RouteTarget = iota
	// RouteInternet goes out through the VPC's internet gateway (the
	// Routing's Internet link; dropped while there is none).
	RouteInternet
	// RouteENI goes to an ENI of the VPC, as its next hop: Via, the ENI's
	// primary address, on ViaSubnet's bridge.
	RouteENI
	// RoutePeering goes over the link of the peering connection Peering, one
	// of the Routing's Peerings (dropped while it is not).
	RoutePeering
	// RouteEgressOnly goes out through the VPC's egress-only internet
	// gateway (IPv6 destinations only): out to the internet, and only
	// replies to what went out come back.
	RouteEgressOnly
)

// Route is one route of a subnet's table.
type Route struct {
	Dest      netip.Prefix
	Target    RouteTarget
	Via       netip.Addr // RouteENI only; an IPv6 destination's is one of the ENI's IPv6 addresses
	ViaSubnet string     // RouteENI only: the subnet whose bridge reaches Via
	Peering   string     // RoutePeering only: the connection's ID, pcx-…
}

// InternetLink is a VPC's internet gateway: a link between the VPC's
// namespace and the machine's public network, "the internet" of vpcsim, where
// the gateway translates each public address to its private one (1:1 NAT).
// Traffic from a private address that has no public one does not pass.
type InternetLink struct {
	GatewayID string // igw-…
	NAT       []PublicMapping
}

// PublicMapping is a public address and the private address of the VPC it
// stands for.
type PublicMapping struct {
	Public, Private netip.Addr
}

// Clone returns a deep copy of r.
func (r Routing) Clone() Routing {
	out := r
	out.Subnets = make([]SubnetRouting, len(r.Subnets))
	for i, s := range r.Subnets {
		out.Subnets[i] = SubnetRouting{SubnetID: s.SubnetID, Routes: slices.Clone(s.Routes)}
		if s.ACL != nil {
			out.Subnets[i].ACL = &NetworkACL{ID: s.ACL.ID, Ingress: slices.Clone(s.ACL.Ingress), Egress: slices.Clone(s.ACL.Egress)}
		}
	}
	out.Logged = maps.Clone(r.Logged)
	out.Peerings = slices.Clone(r.Peerings)
	out.Secondary = slices.Clone(r.Secondary)
	out.IPv6 = slices.Clone(r.IPv6)
	if r.Internet != nil {
		out.Internet = &InternetLink{GatewayID: r.Internet.GatewayID, NAT: slices.Clone(r.Internet.NAT)}
	}
	return out
}

// Equal reports whether r and o route alike.
func (r Routing) Equal(o Routing) bool {
	if r.VPCID != o.VPCID || r.CIDR != o.CIDR || (r.Internet == nil) != (o.Internet == nil) {
		return false
	}
	if r.Internet != nil && (r.Internet.GatewayID != o.Internet.GatewayID || !slices.Equal(r.Internet.NAT, o.Internet.NAT)) {
		return false
	}
	if !maps.Equal(r.Logged, o.Logged) || !slices.Equal(r.Peerings, o.Peerings) || !slices.Equal(r.Secondary, o.Secondary) || !slices.Equal(r.IPv6, o.IPv6) {
		return false
	}
	return slices.EqualFunc(r.Subnets, o.Subnets, func(a, b SubnetRouting) bool {
		return a.SubnetID == b.SubnetID && slices.Equal(a.Routes, b.Routes) && a.ACL.equal(b.ACL)
	})
}

func (a *NetworkACL) equal(b *NetworkACL) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && slices.Equal(a.Ingress, b.Ingress) && slices.Equal(a.Egress, b.Egress)
}
