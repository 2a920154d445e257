package netmodel

import (
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
	// Subnets holds every subnet of the VPC, with the routes of its route
	// table other than the local one.
	Subnets []SubnetRouting
	// Internet is the VPC's internet gateway while one is attached and some
	// address of the VPC is public; nil otherwise.
	Internet *InternetLink
}

// SubnetRouting is one subnet's routes, by its route table.
type SubnetRouting struct {
	SubnetID string
	Routes   []Route
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
)

// Route is one route of a subnet's table.
type Route struct {
	Dest      netip.Prefix
	Target    RouteTarget
	Via       netip.Addr // RouteENI only
	ViaSubnet string     // RouteENI only: the subnet whose bridge reaches Via
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
	}
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
	return slices.EqualFunc(r.Subnets, o.Subnets, func(a, b SubnetRouting) bool {
		return a.SubnetID == b.SubnetID && slices.Equal(a.Routes, b.Routes)
	})
}
