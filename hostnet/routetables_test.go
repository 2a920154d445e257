package hostnet

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

const (
	subA = "subnet-aaaaaaaaaaaaaaaaa"
	subB = "subnet-bbbbbbbbbbbbbbbbb"
)

func routesTrace(rules []subnetRule, routes []tableRoute) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.String() + "\n")
	}
	for _, r := range routes {
		b.WriteString(r.String() + "\n")
	}
	return b.String()
}

func TestWantRouting(t *testing.T) {
	env := routingEnv{
		bridges:  map[string]int{subA: 5, subB: 7},
		link:     9,
		peerings: map[string]int{"pcx-0a0b0000000000001": 11},
		machine:  netip.MustParseAddr("198.18.0.1"),
		internet: netip.MustParsePrefix("198.18.0.0/15"),
	}
	noLink := env
	noLink.link = 0
	route := func(dest string, target netmodel.RouteTarget) netmodel.Route {
		return netmodel.Route{Dest: netip.MustParsePrefix(dest), Target: target}
	}
	viaENI := func(dest, via, subnet string) netmodel.Route {
		return netmodel.Route{Dest: netip.MustParsePrefix(dest), Target: netmodel.RouteENI, Via: netip.MustParseAddr(via), ViaSubnet: subnet}
	}
	for _, tc := range []struct {
		name    string
		env     routingEnv
		subnets []netmodel.SubnetRouting
		// secondary are the VPC's secondary blocks (the primary is
		// 10.0.0.0/16: given again, it is one throw).
		secondary []netip.Prefix
		ipv6      []netip.Prefix // the VPC's IPv6 blocks
		want      string
		wantErr   string
	}{{
		name:    "only the local route",
		env:     env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA}, {SubnetID: subB}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
1000: iif vs-bbbbbbbbbbbb lookup 65543
table 65541: throw 10.0.0.0/16
table 65543: throw 10.0.0.0/16
`,
	}, {
		name: "every target",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("0.0.0.0/0", netmodel.RouteInternet),
			viaENI("203.0.113.0/24", "10.0.2.20", subB),
			route("192.0.2.0/24", netmodel.RouteBlackhole),
			viaENI("10.0.3.0/24", "10.0.2.20", subB), // more specific than local: wins
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: 0.0.0.0/0 via 198.18.0.1 dev 9 onlink
table 65541: 203.0.113.0/24 via 10.0.2.20 dev 7
table 65541: blackhole 192.0.2.0/24
table 65541: 10.0.3.0/24 via 10.0.2.20 dev 7
table 65541: 198.18.0.0/15 dev 9 scope link
`,
	}, {
		name: "peering routes: over a link, or blackholes without one",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			{Dest: netip.MustParsePrefix("10.1.0.0/16"), Target: netmodel.RoutePeering, Peering: "pcx-0a0b0000000000001"},
			{Dest: netip.MustParsePrefix("10.2.0.0/16"), Target: netmodel.RoutePeering, Peering: "pcx-0a0c0000000000002"},
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: 10.1.0.0/16 dev 11 scope link
table 65541: blackhole 10.2.0.0/16
`,
	}, {
		name:      "secondary blocks are local too",
		env:       env,
		secondary: []netip.Prefix{netip.MustParsePrefix("100.64.0.0/16"), netip.MustParsePrefix("10.0.0.0/16")},
		subnets:   []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{route("100.64.0.0/16", netmodel.RouteBlackhole)}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: throw 100.64.0.0/16
`,
	}, {
		name: "internet routes that do not cover the range, and one inside it",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("8.8.8.0/24", netmodel.RouteInternet),
			route("198.19.0.0/16", netmodel.RouteInternet),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: 8.8.8.0/24 via 198.18.0.1 dev 9 onlink
table 65541: 198.19.0.0/16 dev 9 scope link
`,
	}, {
		name: "the range itself routed elsewhere keeps that route",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("0.0.0.0/0", netmodel.RouteInternet),
			route("198.18.0.0/15", netmodel.RouteBlackhole),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: 0.0.0.0/0 via 198.18.0.1 dev 9 onlink
table 65541: blackhole 198.18.0.0/15
`,
	}, {
		name: "no internet link: blackholes",
		env:  noLink,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("0.0.0.0/0", netmodel.RouteInternet),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: blackhole 0.0.0.0/0
`,
	}, {
		name: "the local route and duplicates stay first",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("10.0.0.0/16", netmodel.RouteBlackhole),
			route("192.0.2.0/24", netmodel.RouteBlackhole),
			viaENI("192.0.2.0/24", "10.0.2.20", subB),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: blackhole 192.0.2.0/24
`,
	}, {
		name: "missing bridges fail closed",
		env:  routingEnv{bridges: map[string]int{subA: 5}, machine: env.machine, internet: env.internet},
		subnets: []netmodel.SubnetRouting{
			{SubnetID: subA, Routes: []netmodel.Route{viaENI("203.0.113.0/24", "10.0.2.20", subB)}},
			{SubnetID: subB},
		},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: blackhole 203.0.113.0/24
`,
		wantErr: "subnet-bbbbbbbbbbbbbbbbb has no bridge",
	}, {
		name:    "an unmasked destination",
		env:     env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{route("192.0.2.1/24", netmodel.RouteBlackhole)}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
`,
		wantErr: "192.0.2.1/24 is not a masked prefix",
	}, {
		name: "IPv6: a rule and table of each family, routes by their destination's",
		env:  env,
		ipv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")},
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("0.0.0.0/0", netmodel.RouteBlackhole),
			viaENI("2001:db8:1::/48", "fd5e:1:2:302::20", subB),
			route("2001:db8:2::/48", netmodel.RouteBlackhole),
			{Dest: netip.MustParsePrefix("fd5e:1:2:400::/56"), Target: netmodel.RoutePeering, Peering: "pcx-0a0b0000000000001"},
			route("fd5e:1:2:300::/56", netmodel.RouteBlackhole), // the local route stays
			route("::/0", netmodel.RouteEgressOnly),             // not carried yet
			route("2001:db8:3::/48", netmodel.RouteInternet),    // nor this
		}}, {SubnetID: subB}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
-6 1000: iif vs-baaaaaaaaaaa lookup 65541
1000: iif vs-bbbbbbbbbbbb lookup 65543
-6 1000: iif vs-bbbbbbbbbbbb lookup 65543
table 65541: throw 10.0.0.0/16
table 65541: throw fd5e:1:2:300::/56
table 65541: blackhole 0.0.0.0/0
table 65541: 2001:db8:1::/48 via fd5e:1:2:302::20 dev 7
table 65541: blackhole 2001:db8:2::/48
table 65541: fd5e:1:2:400::/56 dev 11 scope link
table 65541: blackhole ::/0
table 65541: blackhole 2001:db8:3::/48
table 65543: throw 10.0.0.0/16
table 65543: throw fd5e:1:2:300::/56
`,
	}, {
		name: "IPv6 to the internet over a link that carries it",
		env: routingEnv{bridges: env.bridges, link: 9, link6: 9, machine: env.machine, internet: env.internet,
			machine6: netip.MustParseAddr("2001:2:0:1200::1")},
		ipv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")},
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("::/0", netmodel.RouteEgressOnly),
			route("2001:db8:3::/48", netmodel.RouteInternet),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
-6 1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: throw fd5e:1:2:300::/56
table 65541: ::/0 via 2001:2:0:1200::1 dev 9 onlink
table 65541: 2001:db8:3::/48 via 2001:2:0:1200::1 dev 9 onlink
`,
	}, {
		name: "IPv6-only subnets have no IPv4 rule or table",
		env:  routingEnv{bridges: env.bridges, ipv6Only: map[string]bool{subA: true}},
		ipv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56"), netip.MustParsePrefix("fd5e:1:2:500::/56")},
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("0.0.0.0/0", netmodel.RouteBlackhole),
			route("2001:db8:2::/48", netmodel.RouteBlackhole),
		}}},
		want: `-6 1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw fd5e:1:2:300::/56
table 65541: throw fd5e:1:2:500::/56
table 65541: blackhole 2001:db8:2::/48
`,
	}, {
		name: "IPv6 routes of a VPC without an IPv6 block are left out",
		env:  env,
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			route("2001:db8:2::/48", netmodel.RouteBlackhole),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
`,
	}, {
		name: "a next hop of the other family, an egress-only route to IPv4",
		env:  env,
		ipv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")},
		subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			viaENI("2001:db8:1::/48", "10.0.2.20", subB),
			viaENI("203.0.113.0/24", "fd5e:1:2:302::20", subB),
			route("192.0.2.0/24", netmodel.RouteEgressOnly),
		}}},
		want: `1000: iif vs-baaaaaaaaaaa lookup 65541
-6 1000: iif vs-baaaaaaaaaaa lookup 65541
table 65541: throw 10.0.0.0/16
table 65541: throw fd5e:1:2:300::/56
table 65541: blackhole 2001:db8:1::/48
table 65541: blackhole 203.0.113.0/24
table 65541: blackhole 192.0.2.0/24
`,
		wantErr: "egress-only internet gateway carries IPv6 only",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := netmodel.Routing{VPCID: "vpc-0123456789abcdef0", CIDR: netip.MustParsePrefix("10.0.0.0/16"), Secondary: tc.secondary, IPv6: tc.ipv6, Subnets: tc.subnets}
			rules, routes, err := wantRouting(r, tc.env)
			if got := routesTrace(rules, routes); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, _, err := wantRouting(netmodel.Routing{CIDR: netip.MustParsePrefix("10.0.0.1/16")}, env); err == nil {
		t.Error("an unmasked VPC CIDR was taken")
	}
	for _, block := range []string{"fd5e:1:2:301::/56", "10.1.0.0/16", "::ffff:10.1.0.0/112"} {
		r := netmodel.Routing{CIDR: netip.MustParsePrefix("10.0.0.0/16"), IPv6: []netip.Prefix{netip.MustParsePrefix(block)}}
		if _, _, err := wantRouting(r, env); err == nil {
			t.Errorf("IPv6 block %s was taken", block)
		}
	}
}

// TestRouteRoundTrip checks that every route wantRouting makes reads back,
// from the netlink form the kernel keeps, as the same: otherwise SetRouting
// would replace it every time.
func TestRouteRoundTrip(t *testing.T) {
	env := routingEnv{bridges: map[string]int{subA: 5, subB: 7}, link: 9, machine: netip.MustParseAddr("198.18.0.1"), internet: netip.MustParsePrefix("198.18.0.0/15"),
		peerings: map[string]int{"pcx-0a0b0000000000001": 11}, link6: 9, machine6: netip.MustParseAddr("2001:2:0:1200::1")}
	r := netmodel.Routing{CIDR: netip.MustParsePrefix("10.0.0.0/16"), IPv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")},
		Subnets: []netmodel.SubnetRouting{{SubnetID: subA, Routes: []netmodel.Route{
			{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: netmodel.RouteInternet},
			{Dest: netip.MustParsePrefix("192.0.2.0/24"), Target: netmodel.RouteBlackhole},
			{Dest: netip.MustParsePrefix("203.0.113.0/24"), Target: netmodel.RouteENI, Via: netip.MustParseAddr("10.0.2.20"), ViaSubnet: subB},
			{Dest: netip.MustParsePrefix("10.1.0.0/16"), Target: netmodel.RoutePeering, Peering: "pcx-0a0b0000000000001"},
			{Dest: netip.MustParsePrefix("::/0"), Target: netmodel.RouteBlackhole},
			{Dest: netip.MustParsePrefix("2001:db8:1::/48"), Target: netmodel.RouteENI, Via: netip.MustParseAddr("fd5e:1:2:302::20"), ViaSubnet: subB},
			{Dest: netip.MustParsePrefix("fd5e:1:2:400::/56"), Target: netmodel.RoutePeering, Peering: "pcx-0a0b0000000000001"},
			{Dest: netip.MustParsePrefix("2001:db8:3::/48"), Target: netmodel.RouteEgressOnly},
		}}}}
	_, routes, err := wantRouting(r, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range routes {
		// As the kernel reports it: with its family and type; an IPv6 one
		// with the default metric, at universe scope.
		nr := *want.netlink()
		if nr.Type == 0 {
			nr.Type = 1 // RTN_UNICAST, which the kernel reports for a route added without a type
		}
		nr.Family = unix.AF_INET
		if want.dst.Addr().Is6() {
			nr.Family, nr.Priority, nr.Scope = unix.AF_INET6, ip6DefaultMetric, 0
		}
		got := parseTableRoute(nr)
		if got.key() != want.key() || !got.same(want) {
			t.Errorf("%s read back as %s", want, got)
		}
	}
}

func TestDiffRouting(t *testing.T) {
	rule := func(iif string, table int) subnetRule { return subnetRule{iif: iif, table: table} }
	ruleOf := func(family int, iif string, table int) subnetRule {
		return subnetRule{family: family, iif: iif, table: table}
	}
	blackhole := func(table int, dst string) tableRoute {
		return tableRoute{table: table, dst: netip.MustParsePrefix(dst), kind: routeBlackhole}
	}
	throw := func(table int, dst string) tableRoute {
		return tableRoute{table: table, dst: netip.MustParsePrefix(dst), kind: routeThrow}
	}
	for _, tc := range []struct {
		name                  string
		haveRules, wantRules  []subnetRule
		haveRoutes, wantRoute []tableRoute
		want                  string
	}{{
		name:       "all in place",
		haveRules:  []subnetRule{rule("vs-ba", 65541)},
		wantRules:  []subnetRule{rule("vs-ba", 65541)},
		haveRoutes: []tableRoute{throw(65541, "10.0.0.0/16"), blackhole(65541, "0.0.0.0/0")},
		wantRoute:  []tableRoute{throw(65541, "10.0.0.0/16"), blackhole(65541, "0.0.0.0/0")},
		want:       "",
	}, {
		name:       "from nothing",
		wantRules:  []subnetRule{rule("vs-ba", 65541)},
		wantRoute:  []tableRoute{throw(65541, "10.0.0.0/16")},
		want:       "route replace table 65541: throw 10.0.0.0/16\nrule add 1000: iif vs-ba lookup 65541\n",
		haveRoutes: nil,
	}, {
		name:       "a route changes its target",
		haveRules:  []subnetRule{rule("vs-ba", 65541)},
		wantRules:  []subnetRule{rule("vs-ba", 65541)},
		haveRoutes: []tableRoute{throw(65541, "10.0.0.0/16"), {table: 65541, dst: netip.MustParsePrefix("0.0.0.0/0"), kind: routeVia, gw: netip.MustParseAddr("10.0.2.20"), dev: 7}},
		wantRoute:  []tableRoute{throw(65541, "10.0.0.0/16"), blackhole(65541, "0.0.0.0/0")},
		want:       "route replace table 65541: blackhole 0.0.0.0/0\n",
	}, {
		name:       "a bridge made again: new table, the old one goes",
		haveRules:  []subnetRule{rule("vs-ba", 65541), rule("vs-bb", 65543)},
		wantRules:  []subnetRule{rule("vs-ba", 65550)},
		haveRoutes: []tableRoute{throw(65541, "10.0.0.0/16"), throw(65543, "10.0.0.0/16")},
		wantRoute:  []tableRoute{throw(65550, "10.0.0.0/16")},
		want: "route replace table 65550: throw 10.0.0.0/16\n" +
			"rule add 1000: iif vs-ba lookup 65550\n" +
			"rule del 1000: iif vs-ba lookup 65541\n" +
			"rule del 1000: iif vs-bb lookup 65543\n" +
			"route del table 65541: throw 10.0.0.0/16\n" +
			"route del table 65543: throw 10.0.0.0/16\n",
	}, {
		name:       "strays: a foreign rule, a route with a metric, a route vpcsim does not make",
		haveRules:  []subnetRule{rule("vs-ba", 65541), rule("", 65541), rule("vs-ba", 65541)},
		wantRules:  []subnetRule{rule("vs-ba", 65541)},
		haveRoutes: []tableRoute{throw(65541, "10.0.0.0/16"), {table: 65541, dst: netip.MustParsePrefix("10.0.0.0/16"), kind: routeThrow, metric: 5}, {table: 65541, dst: netip.MustParsePrefix("0.0.0.0/0"), kind: routeOther}},
		wantRoute:  []tableRoute{throw(65541, "10.0.0.0/16"), blackhole(65541, "0.0.0.0/0")},
		want: "route replace table 65541: blackhole 0.0.0.0/0\n" +
			"rule del 1000: (not vpcsim's) lookup 65541\n" +
			"rule del 1000: iif vs-ba lookup 65541\n" +
			"route del table 65541: throw 10.0.0.0/16 tos 0 metric 5\n",
	}, {
		name:       "IPv6 added beside IPv4: the same table number, another family",
		haveRules:  []subnetRule{ruleOf(unix.AF_INET, "vs-ba", 65541), ruleOf(unix.AF_INET6, "vs-bb", 65541)},
		wantRules:  []subnetRule{ruleOf(unix.AF_INET, "vs-ba", 65541), ruleOf(unix.AF_INET6, "vs-ba", 65541)},
		haveRoutes: []tableRoute{throw(65541, "10.0.0.0/16"), blackhole(65541, "::/0")},
		wantRoute:  []tableRoute{throw(65541, "10.0.0.0/16"), throw(65541, "fd5e:1:2:300::/56"), blackhole(65541, "0.0.0.0/0"), blackhole(65541, "::/0")},
		want: "route replace table 65541: throw fd5e:1:2:300::/56\n" +
			"route replace table 65541: blackhole 0.0.0.0/0\n" +
			"rule add -6 1000: iif vs-ba lookup 65541\n" +
			"rule del -6 1000: iif vs-bb lookup 65541\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ch := diffRouting(tc.haveRules, tc.haveRoutes, tc.wantRules, tc.wantRoute)
			if got := ch.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if ch.empty() != (tc.want == "") {
				t.Errorf("empty() = %v", ch.empty())
			}
		})
	}
}
