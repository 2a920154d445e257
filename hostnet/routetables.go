package hostnet

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC's route tables, as policy routing in its namespace (DESIGN.md): each
// subnet's bridge has a rule per family at subnetRulePriority that sends what
// enters through it to the subnet's own table of that family, both of one
// number (the kernel keeps IPv4 and IPv6 tables apart),
//
//	1000: from all iif vs-b<11 hex> lookup <subnetTableBase + the bridge's ifindex>
//	1000: from all iif vs-b<11 hex> lookup <the same>           (ip -6 rule)
//
// The IPv4 rule is there unless the subnet is IPv6-only (its bridge holds
// no IPv4 router), the IPv6 rule while the VPC has an IPv6 block. A route
// goes to the table of its destination's family, which holds
//
//	throw <VPC CIDR>                     the local route, per IPv4 block of
//	throw <VPC IPv6 block>               the VPC and per IPv6 one: on to the
//	                                     main table, with the subnets'
//	                                     connected routes (their /64s for
//	                                     IPv6) and the connect link's /32 (a
//	                                     more specific route below still wins)
//	blackhole DEST                       RouteBlackhole; also a route whose
//	                                     target cannot carry it (no internet
//	                                     link, one that does not carry IPv6,
//	                                     no bridge to the next hop)
//	DEST via ENI-ADDR dev vs-b<…>        RouteENI, through the next hop's
//	                                     subnet; ENI-ADDR is of DEST's family
//	DEST via MACHINE dev vs-g<…> onlink  RouteInternet, and for IPv6
//	                                     RouteEgressOnly, to the machine's
//	                                     address of DEST's family on vpcsim's
//	                                     internet (igw6.go for IPv6)
//	DEST dev vs-l<…> scope link          RoutePeering, over the connection's
//	                                     link to the peer VPC (peering.go);
//	                                     both families cross it alike
//	INTERNET dev vs-g<…> scope link      when some RouteInternet covers the
//	                                     whole internet range: other VPCs'
//	                                     public addresses are neighbours on
//	                                     the internet bridge (a DEST inside the
//	                                     range is such a route too)
//
// and nothing else: what no route matches falls through to the main table,
// which has no default route of either family, so it is unreachable. The
// table's number follows the bridge, so it stays put while the bridge lives;
// every table from subnetTableBase up in a VPC namespace is vpcsim's, and
// every rule at subnetRulePriority, of either family. IPv6 routes carry the
// kernel's default metric (ip6DefaultMetric), IPv4 ones none.
const (
	subnetRulePriority = 1000
	subnetTableBase    = 0x10000
)

// subnetRule is one ip rule: what of family enters through bridge iif looks
// up table.
type subnetRule struct {
	family int // unix.AF_INET or unix.AF_INET6
	iif    string
	table  int
	raw    *netlink.Rule // as read from the kernel; nil for a wanted rule
}

// String is the rule as `ip rule` prints it, with -6 before an IPv6 one.
func (r subnetRule) String() string {
	s := ""
	if r.family == unix.AF_INET6 {
		s = "-6 "
	}
	if r.iif == "" {
		return s + fmt.Sprintf("%d: (not vpcsim's) lookup %d", subnetRulePriority, r.table)
	}
	return s + fmt.Sprintf("%d: iif %s lookup %d", subnetRulePriority, r.iif, r.table)
}

func (r subnetRule) netlink() *netlink.Rule {
	if r.raw != nil {
		return r.raw
	}
	nr := netlink.NewRule()
	nr.Family = r.family
	nr.Priority = subnetRulePriority
	nr.IifName = r.iif
	nr.Table = r.table
	return nr
}

// parseSubnetRule reads a kernel rule at subnetRulePriority. One with any
// selector but iif is not one vpcsim makes: its iif is left empty, so that
// nothing wanted equals it.
func parseSubnetRule(r netlink.Rule) subnetRule {
	out := subnetRule{family: r.Family, iif: r.IifName, table: r.Table, raw: &r}
	if r.OifName != "" || r.Src != nil || r.Dst != nil || r.Mark != 0 || r.Mask != nil || r.Invert || r.Goto >= 0 ||
		r.Tos != 0 || r.IPProto != 0 || r.Sport != nil || r.Dport != nil || r.UIDRange != nil {
		out.iif = ""
	}
	return out
}

// routeKind is what a route of a subnet table does.
type routeKind int

const (
	routeThrow     routeKind = iota // on to the next rule
	routeBlackhole                  // drop
	routeVia                        // to a gateway on a link
	routeLink                       // to neighbours on a link
	routeOther                      // anything vpcsim does not make
)

// tableRoute is one route of a subnet table.
type tableRoute struct {
	table  int
	dst    netip.Prefix
	kind   routeKind
	gw     netip.Addr // routeVia
	dev    int        // routeVia, routeLink: the link's ifindex
	onlink bool       // routeVia: the gateway is on the link whatever its address
	// tos and metric are part of a route's identity in the kernel; vpcsim's
	// are 0, so a route read back with others is a stray.
	tos, metric int
	raw         *netlink.Route // as read from the kernel; nil for a wanted route
}

// key is what identifies a route in the kernel (the table, the destination,
// the TOS and the metric): two routes of one key cannot both exist.
type routeKey struct {
	table       int
	dst         netip.Prefix
	tos, metric int
}

func (r tableRoute) key() routeKey { return routeKey{r.table, r.dst, r.tos, r.metric} }

// same reports whether two routes of one key do the same.
func (r tableRoute) same(o tableRoute) bool {
	return r.kind == o.kind && r.kind != routeOther && r.gw == o.gw && r.dev == o.dev && r.onlink == o.onlink
}

// String is the route as `ip route show table N` prints it, dev by index.
func (r tableRoute) String() string {
	s := fmt.Sprintf("table %d: ", r.table)
	switch r.kind {
	case routeThrow:
		s += "throw " + r.dst.String()
	case routeBlackhole:
		s += "blackhole " + r.dst.String()
	case routeVia:
		s += fmt.Sprintf("%s via %s dev %d", r.dst, r.gw, r.dev)
		if r.onlink {
			s += " onlink"
		}
	case routeLink:
		s += fmt.Sprintf("%s dev %d scope link", r.dst, r.dev)
	default:
		s += r.dst.String() + " (not vpcsim's)"
	}
	if r.tos != 0 || r.metric != 0 {
		s += fmt.Sprintf(" tos %d metric %d", r.tos, r.metric)
	}
	return s
}

func (r tableRoute) netlink() *netlink.Route {
	if r.raw != nil {
		return r.raw
	}
	nr := &netlink.Route{Table: r.table, Dst: prefixToIPNet(r.dst), Tos: r.tos, Priority: r.metric}
	switch r.kind {
	case routeThrow:
		nr.Type = unix.RTN_THROW
	case routeBlackhole:
		nr.Type = unix.RTN_BLACKHOLE
	case routeVia:
		nr.Gw = r.gw.AsSlice()
		nr.LinkIndex = r.dev
		if r.onlink {
			nr.Flags = int(netlink.FLAG_ONLINK)
		}
	case routeLink:
		nr.LinkIndex = r.dev
		if r.dst.Addr().Is4() {
			nr.Scope = netlink.SCOPE_LINK // IPv6 routes have no scope
		}
	}
	return nr
}

// ip6DefaultMetric is the metric the kernel gives an IPv6 route added
// without one (IP6_RT_PRIO_USER): as no IPv6 route has metric 0, it reads
// back as 0, vpcsim's, and one added with 0 is given it again.
const ip6DefaultMetric = 1024

// parseTableRoute reads a kernel route of a subnet table.
func parseTableRoute(r netlink.Route) tableRoute {
	out := tableRoute{table: r.Table, dst: netip.MustParsePrefix("0.0.0.0/0"), kind: routeOther, tos: r.Tos, metric: r.Priority, raw: &r}
	if r.Family == unix.AF_INET6 {
		out.dst = netip.MustParsePrefix("::/0")
		if out.metric == ip6DefaultMetric {
			out.metric = 0
		}
	}
	if r.Dst != nil {
		dst, ok := ipNetToPrefix(r.Dst)
		if !ok {
			return out
		}
		out.dst = dst
	}
	if len(r.MultiPath) > 0 || r.Src != nil || r.Encap != nil || r.Via != nil {
		return out
	}
	switch r.Type {
	case unix.RTN_THROW:
		out.kind = routeThrow
	case unix.RTN_BLACKHOLE:
		out.kind = routeBlackhole
	case unix.RTN_UNICAST:
		if r.Gw != nil {
			gw, ok := netip.AddrFromSlice(r.Gw)
			if !ok || r.Scope != netlink.SCOPE_UNIVERSE {
				return out
			}
			out.kind, out.gw, out.dev = routeVia, gw.Unmap(), r.LinkIndex
			out.onlink = r.Flags&int(netlink.FLAG_ONLINK) != 0
		} else if r.Scope == netlink.SCOPE_LINK || out.dst.Addr().Is6() && r.Scope == netlink.SCOPE_UNIVERSE {
			// The kernel reports every IPv6 route at universe scope.
			out.kind, out.dev = routeLink, r.LinkIndex
		}
	}
	return out
}

// routingEnv is what of the kernel wantRouting needs to know.
type routingEnv struct {
	bridges map[string]int // subnet ID → its bridge's ifindex; absent: no bridge
	// ipv6Only holds the subnets whose bridge has no IPv4 router: they get
	// no IPv4 rule or table (an IPv6-only subnet never gains IPv4).
	ipv6Only map[string]bool
	link     int            // the internet link's VPC end, for IPv4; 0 while there is none
	link6    int            // the same, while it carries IPv6 (igw6.go); 0 otherwise
	peerings map[string]int // peering connection ID → its link's ifindex
	machine  netip.Addr     // the machine's address on vpcsim's internet
	machine6 netip.Addr     // and its IPv6 one
	internet netip.Prefix   // vpcsim's internet range
}

// checkLocalBlocks refuses a routing whose local route cannot be made: the
// VPC's IPv4 blocks must be masked IPv4 prefixes, its IPv6 blocks masked
// IPv6 ones.
func checkLocalBlocks(r netmodel.Routing) error {
	for _, p := range append([]netip.Prefix{r.CIDR}, r.Secondary...) {
		if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
			return fmt.Errorf("VPC CIDR %v is not a masked IPv4 prefix", p)
		}
	}
	for _, p := range r.IPv6 {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p != p.Masked() {
			return fmt.Errorf("VPC IPv6 block %v is not a masked IPv6 prefix", p)
		}
	}
	return nil
}

// wantRouting computes the rules and routes of a VPC's subnet tables: for
// each subnet an IPv4 rule and table (unless its bridge is IPv6-only) and,
// while the VPC has an IPv6 block, an IPv6 rule and table of the same
// number. A route goes to the table of its destination's family, and is
// left out where the subnet has none (IPv4 routes of an IPv6-only subnet,
// IPv6 routes of a VPC without an IPv6 block): nothing there could use it.
// What it cannot do is reported, joined, and fails closed: a subnet without
// a bridge gets no rule, a route to an ENI whose subnet has no bridge is a
// blackhole. Routes are listed table by table in r's order, the throws
// first; a destination given twice in one table keeps its first route, and
// a VPC block's own is the throw (the local route cannot be replaced).
func wantRouting(r netmodel.Routing, env routingEnv) ([]subnetRule, []tableRoute, error) {
	if err := checkLocalBlocks(r); err != nil {
		return nil, nil, err
	}
	var (
		rules  []subnetRule
		routes []tableRoute
		errs   []error
	)
	for _, s := range r.Subnets {
		brName, err := bridgeName(s.SubnetID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		idx, ok := env.bridges[s.SubnetID]
		if !ok {
			errs = append(errs, fmt.Errorf("subnet %s has no bridge", s.SubnetID))
			continue
		}
		table := subnetTableBase + idx
		v4, v6 := !env.ipv6Only[s.SubnetID], len(r.IPv6) > 0
		seen := map[netip.Prefix]bool{}
		throw := func(blocks ...netip.Prefix) {
			for _, p := range blocks {
				if !seen[p] {
					seen[p] = true
					routes = append(routes, tableRoute{table: table, dst: p, kind: routeThrow})
				}
			}
		}
		if v4 {
			rules = append(rules, subnetRule{family: unix.AF_INET, iif: brName, table: table})
			throw(r.CIDR)
			throw(r.Secondary...)
		}
		if v6 {
			rules = append(rules, subnetRule{family: unix.AF_INET6, iif: brName, table: table})
			throw(r.IPv6...)
		}
		wholeInternet := false
		for _, rt := range s.Routes {
			dst := rt.Dest
			if !dst.IsValid() || dst.Addr().Is4In6() || dst != dst.Masked() {
				errs = append(errs, fmt.Errorf("subnet %s: destination %v is not a masked prefix", s.SubnetID, dst))
				continue
			}
			is4 := dst.Addr().Is4()
			if seen[dst] || is4 && !v4 || !is4 && !v6 {
				continue
			}
			seen[dst] = true
			route := tableRoute{table: table, dst: dst, kind: routeBlackhole}
			switch rt.Target {
			case netmodel.RouteBlackhole:
			case netmodel.RouteENI:
				dev, ok := env.bridges[rt.ViaSubnet]
				switch {
				case !rt.Via.IsValid() || rt.Via.Is4() != is4 || rt.Via.Is4In6():
					errs = append(errs, fmt.Errorf("subnet %s: route to %v: next hop %v is not an address of the destination's family", s.SubnetID, dst, rt.Via))
				case !ok:
					errs = append(errs, fmt.Errorf("subnet %s: route to %v: the next hop's subnet %s has no bridge", s.SubnetID, dst, rt.ViaSubnet))
				default:
					route.kind, route.gw, route.dev = routeVia, rt.Via, dev
				}
			case netmodel.RouteInternet:
				if !is4 {
					route = internet6Route(route, env)
					break
				}
				if env.link == 0 {
					break
				}
				if env.internet.Contains(dst.Addr()) && dst.Bits() >= env.internet.Bits() {
					route.kind, route.dev = routeLink, env.link
				} else {
					route.kind, route.gw, route.dev, route.onlink = routeVia, env.machine, env.link, true
				}
				if dst.Bits() <= env.internet.Bits() && dst.Contains(env.internet.Addr()) {
					wholeInternet = true
				}
			case netmodel.RouteEgressOnly:
				if is4 {
					errs = append(errs, fmt.Errorf("subnet %s: route to %v: an egress-only internet gateway carries IPv6 only", s.SubnetID, dst))
					break
				}
				route = internet6Route(route, env)
			case netmodel.RoutePeering:
				if dev, ok := env.peerings[rt.Peering]; ok {
					route.kind, route.dev = routeLink, dev
				}
			default:
				errs = append(errs, fmt.Errorf("subnet %s: route to %v: unknown target %d", s.SubnetID, dst, rt.Target))
			}
			routes = append(routes, route)
		}
		if wholeInternet && !seen[env.internet] {
			routes = append(routes, tableRoute{table: table, dst: env.internet, kind: routeLink, dev: env.link})
		}
	}
	return rules, routes, errors.Join(errs...)
}

// internet6Route makes a blackhole route the way to the machine over the
// internet link, while it carries IPv6: internet and egress-only gateways
// differ in what may come in (igw6.go), not in the route out.
func internet6Route(route tableRoute, env routingEnv) tableRoute {
	if env.link6 != 0 {
		route.kind, route.gw, route.dev, route.onlink = routeVia, env.machine6, env.link6, true
	}
	return route
}

// routingChange is what makes the kernel's subnet tables what is wanted:
// routes to add or replace, rules to add, then rules and routes to delete,
// in that order, so that a rule never points at a table not yet filled.
type routingChange struct {
	putRoutes []tableRoute
	addRules  []subnetRule
	delRules  []subnetRule
	delRoutes []tableRoute
}

func (c routingChange) empty() bool {
	return len(c.putRoutes)+len(c.addRules)+len(c.delRules)+len(c.delRoutes) == 0
}

// String lists the change as a readable trace, one step a line.
func (c routingChange) String() string {
	var s string
	for _, r := range c.putRoutes {
		s += "route replace " + r.String() + "\n"
	}
	for _, r := range c.addRules {
		s += "rule add " + r.String() + "\n"
	}
	for _, r := range c.delRules {
		s += "rule del " + r.String() + "\n"
	}
	for _, r := range c.delRoutes {
		s += "route del " + r.String() + "\n"
	}
	return s
}

// diffRouting computes what turns the rules and routes the kernel has (only
// vpcsim's: rules at subnetRulePriority, routes of tables from
// subnetTableBase up) into the wanted ones. What already is as wanted is not
// touched.
func diffRouting(haveRules []subnetRule, haveRoutes []tableRoute, wantRules []subnetRule, wantRoutes []tableRoute) routingChange {
	var c routingChange
	type ruleKey struct {
		family int
		iif    string
		table  int
	}
	wantR := map[ruleKey]bool{}
	for _, r := range wantRules {
		wantR[ruleKey{r.family, r.iif, r.table}] = true
	}
	haveR := map[ruleKey]bool{}
	for _, r := range haveRules {
		k := ruleKey{r.family, r.iif, r.table}
		if r.iif == "" || !wantR[k] || haveR[k] {
			c.delRules = append(c.delRules, r)
			continue
		}
		haveR[k] = true
	}
	for _, r := range wantRules {
		if !haveR[ruleKey{r.family, r.iif, r.table}] {
			c.addRules = append(c.addRules, r)
		}
	}

	wantK := map[routeKey]tableRoute{}
	for _, r := range wantRoutes {
		wantK[r.key()] = r
	}
	haveK := map[routeKey]tableRoute{}
	for _, r := range haveRoutes {
		if _, dup := haveK[r.key()]; dup {
			c.delRoutes = append(c.delRoutes, r)
			continue
		}
		haveK[r.key()] = r
		if _, ok := wantK[r.key()]; !ok {
			c.delRoutes = append(c.delRoutes, r)
		}
	}
	for _, r := range wantRoutes {
		if h, ok := haveK[r.key()]; !ok || !h.same(r) {
			c.putRoutes = append(c.putRoutes, r)
		}
	}
	slices.SortStableFunc(c.delRoutes, func(a, b tableRoute) int { return cmp.Compare(a.table, b.table) })
	return c
}
