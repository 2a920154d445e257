package ec2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The kernel routes each subnet by its route table, and links a VPC with an
// attached internet gateway to the machine's public network (see
// netmodel.Routing). A commit recomputes the routing of the VPCs whose route
// tables, subnets, gateway or ENIs it changed (or the prefix lists their
// routes name: prefixlist_use.go), and has the dataplane apply
// what differs from what it applied last. c.routing (under c.mu) is what the
// kernel has; a VPC missing from it is unknown to have anything, and is set
// whole at the next commit that touches it (and at start-up, every VPC).

// routingLocked is a VPC's routing as its model says.
func (c *Cloud) routingLocked(v *VPC) netmodel.Routing {
	r := netmodel.Routing{VPCID: v.ID, CIDR: v.CIDR, Secondary: v.SecondaryCIDRs(), IPv6: v.IPv6CIDRs()}
	igw := c.igwOfVPCLocked(v.ID)
	main := c.mainRouteTableLocked(v.ID)
	subs := slices.Collect(c.allSubnets())
	slices.SortFunc(subs, func(a, b *Subnet) int { return strings.Compare(a.ID, b.ID) })
	for _, sub := range subs {
		if sub.VPCID != v.ID {
			continue
		}
		sr := netmodel.SubnetRouting{SubnetID: sub.ID, ACL: c.netACLLocked(sub.ID)}
		rt := c.tableOfSubnetLocked(sub.ID)
		if rt == nil {
			rt = main
		}
		if rt != nil {
			for _, route := range rt.Routes {
				if route.Gateway == "local" || !route.Dest.IsValid() {
					continue
				}
				sr.Routes = append(sr.Routes, c.netRouteLocked(v.ID, route, route.Dest, igw))
			}
			sr.Routes = append(sr.Routes, c.prefixListRoutesLocked(v, rt, igw, sr.Routes)...)
		}
		r.Subnets = append(r.Subnets, sr)
	}
	if slices.ContainsFunc(r.Subnets, func(s netmodel.SubnetRouting) bool { return s.ACL != nil }) {
		r.Logged = c.loggedAddrsLocked(v.ID)
	}
	for _, p := range c.activePeeringsLocked(v.ID) {
		r.Peerings = append(r.Peerings, netmodel.PeeringLink{ID: p.ID, PeerVPCID: p.peerOf(v.ID).VPCID})
	}
	if igw != nil {
		// An IPv6 address is public as it is (EC2's are global): the link
		// carries it without a mapping.
		if nat := c.publicMappingsLocked(v.ID); len(nat) > 0 || c.hasIPv6AddrsLocked(v.ID) {
			r.Internet = &netmodel.InternetLink{GatewayID: igw.ID, NAT: nat}
		}
	}
	return r
}

// hasIPv6AddrsLocked reports whether an ENI of the VPC has an IPv6 address.
func (c *Cloud) hasIPv6AddrsLocked(vpcID string) bool {
	for e := range c.allENIs() {
		if e.VPCID == vpcID && len(e.IPv6) > 0 {
			return true
		}
	}
	return false
}

// netRouteLocked is what the kernel does with a route of a destination
// (the route's own, or an entry of its prefix list): its target, or a
// blackhole when the target cannot carry it (routeState says so) or has no
// address of the destination's family to be the next hop (an ENI without
// IPv6 addresses; a NAT gateway, IPv4 only: NAT64 is not carried).
func (c *Cloud) netRouteLocked(vpcID string, route Route, dest netip.Prefix, igw *InternetGateway) netmodel.Route {
	out := netmodel.Route{Dest: dest}
	if c.routeState(vpcID, route) != "active" {
		return out
	}
	switch {
	case strings.HasPrefix(route.Gateway, "igw-") && igw != nil && igw.ID == route.Gateway:
		out.Target = netmodel.RouteInternet
	case route.EgressOnlyGW != "":
		out.Target = netmodel.RouteEgressOnly
	case route.NatGateway != "":
		if g := get(c.model().nats, route.NatGateway); g != nil && dest.Addr().Is4() {
			out.Target, out.Via, out.ViaSubnet = netmodel.RouteENI, g.PrivateIP, g.SubnetID
		}
	case route.Peering != "":
		out.Target, out.Peering = netmodel.RoutePeering, route.Peering
	case route.ENI != "":
		if e := c.eni(route.ENI); e != nil {
			if via := sameFamily(e.addrs(), dest.Addr()); via.IsValid() {
				out.Target, out.Via, out.ViaSubnet = netmodel.RouteENI, via, e.SubnetID
			}
		}
	}
	return out
}

// routingDirtyLocked names the VPCs whose routing the call's changes may
// change.
func (c *Cloud) routingDirtyLocked(m *model) map[string]bool {
	dirty := map[string]bool{}
	for id := range m.vpcs.Staged() {
		dirty[id] = true
	}
	mark := func(vpcs ...string) {
		for _, v := range vpcs {
			if v != "" {
				dirty[v] = true
			}
		}
	}
	for id, s := range m.subnets.Staged() {
		old, _ := c.tables.subnets.Get(id)
		mark(vpcOf(s, func(s *Subnet) string { return s.VPCID }), vpcOf(old, func(s *Subnet) string { return s.VPCID }))
	}
	for id, rt := range m.rts.Staged() {
		old, _ := c.tables.rts.Get(id)
		mark(vpcOf(rt, func(r *RouteTable) string { return r.VPCID }), vpcOf(old, func(r *RouteTable) string { return r.VPCID }))
	}
	for id, a := range m.acls.Staged() {
		old, _ := c.tables.acls.Get(id)
		mark(vpcOf(a, func(a *NetworkACL) string { return a.VPCID }), vpcOf(old, func(a *NetworkACL) string { return a.VPCID }))
	}
	// A flow log decides whether an ACL's drops are logged.
	for id, f := range m.flowLogs.Staged() {
		if f == nil {
			f, _ = c.tables.flowLogs.Get(id)
		}
		if f != nil {
			mark(c.vpcOfResourceLocked(f.ResourceID))
		}
	}
	for id, g := range m.nats.Staged() {
		old, _ := c.tables.nats.Get(id)
		mark(vpcOf(g, func(g *NatGateway) string { return g.VPCID }), vpcOf(old, func(g *NatGateway) string { return g.VPCID }))
	}
	for id, g := range m.igws.Staged() {
		old, _ := c.tables.igws.Get(id)
		mark(vpcOf(g, func(g *InternetGateway) string { return g.VPCID }), vpcOf(old, func(g *InternetGateway) string { return g.VPCID }))
	}
	// An egress-only gateway decides whether routes to it carry.
	for id, g := range m.eigws.Staged() {
		old, _ := c.tables.eigws.Get(id)
		mark(vpcOf(g, func(g *EgressOnlyIGW) string { return g.VPCID }), vpcOf(old, func(g *EgressOnlyIGW) string { return g.VPCID }))
	}
	for id, e := range m.enis.Staged() {
		old, _ := c.tables.enis.Get(id)
		mark(vpcOf(e, func(e *ENI) string { return e.VPCID }), vpcOf(old, func(e *ENI) string { return e.VPCID }))
	}
	// A connection's state decides whether routes over it carry, and
	// whether its link exists.
	for id, p := range m.peerings.Staged() {
		old, _ := c.tables.peerings.Get(id)
		for _, q := range []*VpcPeering{p, old} {
			if q != nil {
				mark(q.Requester.VPCID, q.Accepter.VPCID)
			}
		}
	}
	mark(c.prefixListRoutingDirtyLocked(m)...)
	// An instance's state decides whether routes to its ENIs carry.
	for id, inst := range m.instances.Staged() {
		old, _ := c.tables.instances.Get(id)
		mark(vpcOf(inst, func(i *Instance) string { return i.VPCID }), vpcOf(old, func(i *Instance) string { return i.VPCID }))
	}
	return dirty
}

func vpcOf[T any](r *T, vpc func(*T) string) string {
	if r == nil {
		return ""
	}
	return vpc(r)
}

// syncRoutingLocked has the dataplane apply the routing of the dirty VPCs
// (every VPC while the kernel's routing is unknown) where it differs from
// what it applied.
func (c *Cloud) syncRoutingLocked(ctx context.Context, dirty map[string]bool) error {
	ids := slices.Collect(maps.Keys(dirty))
	if c.routingUnknown {
		ids = ids[:0]
		for v := range c.allVPCs() {
			ids = append(ids, v.ID)
		}
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		v := c.vpc(id)
		if v == nil {
			delete(c.routing, id)
			continue
		}
		want := c.routingLocked(v)
		if have, ok := c.routing[id]; ok && have.Equal(want) {
			continue
		}
		if err := c.dp.SetRouting(ctx, want); err != nil {
			delete(c.routing, id)
			errs = append(errs, fmt.Errorf("routing of %s: %w", id, err))
			continue
		}
		c.routing[id] = want
	}
	// A VPC that failed is not in c.routing: the next commit that touches it
	// sets it whole again; the others' commits do not wait on it.
	c.routingUnknown = false
	return errors.Join(errs...)
}

// loggedAddrsLocked maps the addresses (both families) of a VPC's
// flow-logged ENIs to them.
func (c *Cloud) loggedAddrsLocked(vpcID string) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for e := range c.allENIs() {
		if e.VPCID != vpcID || len(c.flowLogSinksLocked(e)) == 0 {
			continue
		}
		for _, a := range e.addrs() {
			out[a] = e.ID
		}
	}
	return out
}

// vpcOfResourceLocked is the VPC of a VPC, subnet or ENI ("": none).
func (c *Cloud) vpcOfResourceLocked(id string) string {
	switch {
	case strings.HasPrefix(id, "vpc-"):
		return id
	case strings.HasPrefix(id, "subnet-"):
		if sub := c.subnet(id); sub != nil {
			return sub.VPCID
		}
	case strings.HasPrefix(id, "eni-"):
		if e := c.eni(id); e != nil {
			return e.VPCID
		}
	}
	return ""
}
