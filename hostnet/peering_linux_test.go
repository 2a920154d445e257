package hostnet

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// peeringVPC is one VPC of a peering test: a subnet with one instance that
// serves a greeting on port 80.
type peeringVPC struct {
	vpc  netmodel.NetVPC
	sub  netmodel.NetSubnet
	inst string
	addr netip.Addr
}

func newPeeringVPC(t *testing.T, k *Kernel, second byte) peeringVPC {
	t.Helper()
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx(fmt.Sprintf("10.%d.0.0/16", second))}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx(fmt.Sprintf("10.%d.1.0/24", second)),
		Gateway: pfx(fmt.Sprintf("10.%d.1.1/24", second))}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	addr := netip4(fmt.Sprintf("10.%d.1.10", second))
	inst := attachedHost(t, k, sub, addr.String()+"/24")
	serveIn(t, k.NetnsPath(inst), addr, 80, "hello from "+vpc.CIDR.String()+"\n")
	return peeringVPC{vpc, sub, inst, addr}
}

// route sets the VPC's routing: its peerings, and its subnet's routes to
// each destination over the connection named with it.
func (p peeringVPC) route(t *testing.T, k *Kernel, peerings []netmodel.PeeringLink, routes map[string]string) {
	t.Helper()
	r := netmodel.Routing{VPCID: p.vpc.ID, CIDR: p.vpc.CIDR, Peerings: peerings, Subnets: []netmodel.SubnetRouting{{SubnetID: p.sub.ID}}}
	for dest, pcx := range routes {
		r.Subnets[0].Routes = append(r.Subnets[0].Routes, netmodel.Route{Dest: pfx(dest), Target: netmodel.RoutePeering, Peering: pcx})
	}
	must(t, k.SetRouting(context.Background(), r))
}

func (p peeringVPC) reaches(t *testing.T, k *Kernel, to peeringVPC) error {
	t.Helper()
	greeting, err := dialFrom(k.NetnsPath(p.inst), netip.AddrPortFrom(to.addr, 80), 3*time.Second)
	if err == nil && greeting != "hello from "+to.vpc.CIDR.String()+"\n" {
		err = fmt.Errorf("greeting %q", greeting)
	}
	return err
}

func TestPeering(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	a, b, c := newPeeringVPC(t, k, 31), newPeeringVPC(t, k, 32), newPeeringVPC(t, k, 33)
	ab := netmodel.PeeringLink{ID: "pcx-0a0b0000000000001", PeerVPCID: b.vpc.ID}
	ba := netmodel.PeeringLink{ID: ab.ID, PeerVPCID: a.vpc.ID}
	bc := netmodel.PeeringLink{ID: "pcx-0b0c0000000000002", PeerVPCID: c.vpc.ID}
	cb := netmodel.PeeringLink{ID: bc.ID, PeerVPCID: b.vpc.ID}

	// A routes B's range and C's over A–B; B routes each over its own
	// peering; C routes A's and B's over C–B.
	a.route(t, k, []netmodel.PeeringLink{ab}, map[string]string{"10.32.0.0/16": ab.ID, "10.33.0.0/16": ab.ID})
	b.route(t, k, []netmodel.PeeringLink{ba, bc}, map[string]string{"10.31.0.0/16": ab.ID, "10.33.0.0/16": bc.ID})
	c.route(t, k, []netmodel.PeeringLink{cb}, map[string]string{"10.31.0.0/16": bc.ID, "10.32.0.0/16": bc.ID})
	for _, pair := range [][2]peeringVPC{{a, b}, {b, a}, {b, c}, {c, b}} {
		if err := eventually(func() error { return pair[0].reaches(t, k, pair[1]) }); err != nil {
			t.Errorf("%s could not reach %s over the peering: %v", pair[0].vpc.CIDR, pair[1].vpc.CIDR, err)
		}
	}
	// Not transitive: B does not pass A's traffic on to C. What comes in
	// over a peering has no route but to B's own subnets.
	if err := a.reaches(t, k, c); err == nil {
		t.Errorf("%s reached %s through %s: peering is not transitive", a.vpc.CIDR, c.vpc.CIDR, b.vpc.CIDR)
	}
	name, _ := peeringName(ab.ID)
	if route, err := routeGet(t, k.Prefix()+b.vpc.ID, c.addr.String(), name, a.addr.String()); err == nil {
		t.Errorf("B routes what A sends to C: %s", route)
	}
	if route, err := routeGet(t, k.Prefix()+b.vpc.ID, b.addr.String(), name, a.addr.String()); err != nil || !strings.Contains(route, "dev vs-b") {
		t.Errorf("B's route for what A sends to B's instance: %q, %v", route, err)
	}
	link := mustLink(t, handleIn(t, k.NetnsPath(a.vpc.ID)), name)
	if link.Attrs().RawFlags&0x80 == 0 { // IFF_NOARP
		t.Errorf("%s is not NOARP", name)
	}
	mustLink(t, handleIn(t, k.NetnsPath(b.vpc.ID)), name)

	// Setting the same routing again changes nothing, in either namespace.
	if changes := changesDuring(t, k.NetnsPath(b.vpc.ID), func() {
		if changes := changesDuring(t, k.NetnsPath(a.vpc.ID), func() {
			a.route(t, k, []netmodel.PeeringLink{ab}, map[string]string{"10.32.0.0/16": ab.ID, "10.33.0.0/16": ab.ID})
		}); len(changes) > 0 {
			t.Errorf("setting the same routing changed %v in A", changes)
		}
	}); len(changes) > 0 {
		t.Errorf("setting A's routing again changed %v in B", changes)
	}

	// Without its route back, B's answers go nowhere.
	b.route(t, k, []netmodel.PeeringLink{ba, bc}, map[string]string{"10.33.0.0/16": bc.ID})
	if err := a.reaches(t, k, b); err == nil {
		t.Error("A reached B, which has no route back")
	}
	brB, _ := bridgeName(b.sub.ID)
	if route, err := routeGet(t, k.Prefix()+b.vpc.ID, a.addr.String(), brB, b.addr.String()); err == nil && strings.Contains(route, name) {
		t.Errorf("B still routes its answers to A over the peering: %s", route)
	}

	// A's routing without the peering takes the link, both ends.
	a.route(t, k, nil, map[string]string{"10.32.0.0/16": ab.ID})
	noLink(t, handleIn(t, k.NetnsPath(a.vpc.ID)), name)
	noLink(t, handleIn(t, k.NetnsPath(b.vpc.ID)), name)
	br, _ := bridgeName(a.sub.ID)
	table := subnetTableBase + mustLink(t, handleIn(t, k.NetnsPath(a.vpc.ID)), br).Attrs().Index
	if got := subnetTable(t, k.Prefix()+a.vpc.ID, table); !strings.Contains(got, "blackhole 10.32.0.0/16") {
		t.Errorf("A's table without the peering:\n%s\nwant the route a blackhole", got)
	}
	// C's link to B stays, and deleting B's VPC takes it.
	cname, _ := peeringName(bc.ID)
	mustLink(t, handleIn(t, k.NetnsPath(c.vpc.ID)), cname)
	must(t, k.DeleteVPC(context.Background(), b.vpc.ID))
	noLink(t, handleIn(t, k.NetnsPath(c.vpc.ID)), cname)
}

// IPv6 crosses a peering link as IPv4 does: the NOARP link needs no
// neighbour discovery, and the peer's main table has its subnets' /64s.
func TestPeeringIPv6(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	type side struct {
		vpc   netmodel.NetVPC
		sub   netmodel.NetSubnet
		block netip.Prefix
		host  string
		addr  string
	}
	newSide := func(n int) side {
		s := side{vpc: netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx(fmt.Sprintf("10.4%d.0.0/16", n))},
			block: pfx(fmt.Sprintf("fd5e:1:%d:300::/56", n)), addr: fmt.Sprintf("fd5e:1:%d:301::10", n)}
		s.sub = netmodel.NetSubnet{ID: newID("subnet"), VPCID: s.vpc.ID, CIDR: pfx(fmt.Sprintf("10.4%d.1.0/24", n)),
			Gateway: pfx(fmt.Sprintf("10.4%d.1.1/24", n)), Gateway6: pfx(fmt.Sprintf("fd5e:1:%d:301::1/64", n))}
		must(t, k.EnsureVPC(ctx, s.vpc))
		must(t, k.EnsureSubnet(ctx, s.sub))
		s.host = attachedHost6(t, k, s.sub, fmt.Sprintf("10.4%d.1.10/24", n), s.addr+"/64")
		return s
	}
	a, b := newSide(1), newSide(2)
	pcx := "pcx-0a0b0000000000006"
	route := func(s side, peer side, routes ...netmodel.Route) {
		must(t, k.SetRouting(ctx, netmodel.Routing{VPCID: s.vpc.ID, CIDR: s.vpc.CIDR, IPv6: []netip.Prefix{s.block},
			Peerings: []netmodel.PeeringLink{{ID: pcx, PeerVPCID: peer.vpc.ID}},
			Subnets:  []netmodel.SubnetRouting{{SubnetID: s.sub.ID, Routes: routes}}}))
	}
	over := func(dest netip.Prefix) netmodel.Route {
		return netmodel.Route{Dest: dest, Target: netmodel.RoutePeering, Peering: pcx}
	}
	route(a, b, over(b.block))
	route(b, a, over(a.block))
	if err := pingOK(t, k.NetnsPath(a.host), b.addr); err != nil {
		t.Errorf("A → B over the peering: %v", err)
	}
	if err := pingOK(t, k.NetnsPath(b.host), a.addr); err != nil {
		t.Errorf("B → A over the peering: %v", err)
	}
	// Without B's route back, B's answers go nowhere.
	route(b, a)
	if err := ping(t, k.NetnsPath(a.host), b.addr); err == nil {
		t.Error("A reached B, which has no route back")
	}
}
