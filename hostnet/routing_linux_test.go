package hostnet

import (
	"context"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// changesDuring runs fn and returns the netlink notifications the namespace
// at nsPath sent meanwhile: links, IPv4 addresses, routes and rules of both
// families, and nftables transactions. Empty means fn changed none of them
// there. Routes of the local table are left out: the kernel makes them for
// addresses (an IPv6 one when its duplicate detection ends, whenever that
// is), which are counted themselves.
func changesDuring(t *testing.T, nsPath string, fn func()) []string {
	t.Helper()
	var socks []*nl.NetlinkSocket
	must(t, inNetns(nsPath, func() error {
		rt, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV4_RULE,
			unix.RTNLGRP_IPV6_ROUTE, unix.RTNLGRP_IPV6_RULE)
		if err != nil {
			return err
		}
		socks = append(socks, rt)
		nf, err := nl.Subscribe(unix.NETLINK_NETFILTER, unix.NFNLGRP_NFTABLES)
		if err != nil {
			return err
		}
		socks = append(socks, nf)
		return nil
	}))
	fn()
	var got []string
	for i, s := range socks {
		defer s.Close()
		s.SetReceiveTimeout(&unix.Timeval{Usec: 200_000})
		for {
			msgs, _, err := s.Receive()
			if err != nil {
				break // the timeout: nothing more came
			}
			for _, m := range msgs {
				isRoute := m.Header.Type == unix.RTM_NEWROUTE || m.Header.Type == unix.RTM_DELROUTE
				if i == 0 && isRoute && len(m.Data) > 4 && m.Data[4] == unix.RT_TABLE_LOCAL {
					continue
				}
				got = append(got, []string{"rtnetlink", "nftables"}[i]+" message type "+strconv.Itoa(int(m.Header.Type)))
			}
		}
	}
	return got
}

// routeGet is `ip -n NS route get DST iif IIF from SRC`: the route a packet
// entering through iif takes, as ip prints it.
func routeGet(t *testing.T, ns, dst, iif, src string) (string, error) {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "route", "get", dst, "iif", iif, "from", src).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// subnetTable returns the IPv4 routes of a subnet's table as ip prints them.
func subnetTable(t *testing.T, ns string, table int) string {
	t.Helper()
	return ipShow(t, ns, "-4", "route", "show", "table", strconv.Itoa(table))
}

// subnetTable6 returns the IPv6 routes of a subnet's table as ip prints
// them, but for what ip adds to every IPv6 route (its metric, its
// preference).
func subnetTable6(t *testing.T, ns string, table int) string {
	t.Helper()
	out := ipShow(t, ns, "-6", "route", "show", "table", strconv.Itoa(table))
	return strings.NewReplacer(" metric 1024", "", " pref medium", "").Replace(out)
}

// ipShow runs `ip -n NS ARGS…` and returns what it prints, trimmed: nothing
// for a table that was never made.
func ipShow(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil && strings.Contains(string(out), "FIB table does not exist") {
		return ""
	}
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// ourRules lists the namespace's rules of both families at vpcsim's
// priority, as ip prints them, IPv6 ones after "-6 ".
func ourRules(t *testing.T, ns string) []string {
	t.Helper()
	var rules []string
	for _, family := range []string{"-4", "-6"} {
		out := ipShow(t, ns, family, "rule", "show", "priority", strconv.Itoa(subnetRulePriority))
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				rules = append(rules, strings.TrimPrefix(family+" ", "-4 ")+l)
			}
		}
	}
	return rules
}

func TestSubnetRouteTables(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc, subA, subB := twoSubnets(t, k)
	a := attachedHost(t, k, subA, "10.0.1.10/24")
	b := attachedHost(t, k, subB, "10.0.2.10/24")
	router := attachedHost(t, k, subB, "10.0.2.20/24")
	// The router answers for 203.0.113.5 itself: a packet that reaches it
	// came through the route to it.
	rh := handleIn(t, k.NetnsPath(router))
	must(t, rh.AddrAdd(mustLink(t, rh, "lo"), &netlink.Addr{IPNet: prefixToIPNet(pfx("203.0.113.5/32"))}))

	ns := k.Prefix() + vpc.ID
	brA, _ := bridgeName(subA.ID)
	brB, _ := bridgeName(subB.ID)
	vpcH := handleIn(t, k.NetnsPath(vpc.ID))
	tableA := subnetTableBase + mustLink(t, vpcH, brA).Attrs().Index
	tableB := subnetTableBase + mustLink(t, vpcH, brB).Attrs().Index

	if err := ping(t, k.NetnsPath(a), "203.0.113.5"); err == nil {
		t.Fatal("203.0.113.5 answered before any route led to it")
	}
	viaRouter := netmodel.Route{Target: netmodel.RouteENI, Via: netip4("10.0.2.20"), ViaSubnet: subB.ID}
	r := netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR, Subnets: []netmodel.SubnetRouting{
		{SubnetID: subA.ID, Routes: []netmodel.Route{
			withDest(viaRouter, "0.0.0.0/0"), // a default route elsewhere: the local route still wins
			withDest(viaRouter, "203.0.113.0/24"),
		}},
		{SubnetID: subB.ID},
	}}
	must(t, k.SetRouting(ctx, r))

	wantRules := []string{
		"1000:\tfrom all iif " + brA + " lookup " + strconv.Itoa(tableA),
		"1000:\tfrom all iif " + brB + " lookup " + strconv.Itoa(tableB),
	}
	if got := ourRules(t, ns); !sameStrings(got, wantRules) {
		t.Errorf("rules:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRules, "\n"))
	}
	if got, want := subnetTable(t, ns, tableA), "default via 10.0.2.20 dev "+brB+" \nthrow 10.0.0.0/16 \n203.0.113.0/24 via 10.0.2.20 dev "+brB; normSpace(got) != normSpace(want) {
		t.Errorf("table of A:\n%s\nwant\n%s", got, want)
	}
	if got := subnetTable(t, ns, tableB); normSpace(got) != "throw 10.0.0.0/16" {
		t.Errorf("table of B: %q, want only the local route's throw", got)
	}
	if out, err := routeGet(t, ns, "203.0.113.5", brA, "10.0.1.10"); err != nil || !strings.Contains(out, "via 10.0.2.20 dev "+brB) {
		t.Errorf("route get 203.0.113.5 from A: %v: %s; want via the router", err, out)
	}
	if out, err := routeGet(t, ns, "10.0.2.10", brA, "10.0.1.10"); err != nil || !strings.Contains(out, "dev "+brB) || strings.Contains(out, "via") {
		t.Errorf("route get 10.0.2.10 from A: %v: %s; want the local route", err, out)
	}
	if err := pingOK(t, k.NetnsPath(a), "203.0.113.5"); err != nil {
		t.Errorf("A could not reach 203.0.113.5 through the router: %v", err)
	}
	if err := pingOK(t, k.NetnsPath(a), "10.0.2.10"); err != nil {
		t.Errorf("A could not reach B by the local route: %v", err)
	}
	if err := ping(t, k.NetnsPath(b), "203.0.113.5"); err == nil {
		t.Error("B reached 203.0.113.5: its table has no route to it")
	}

	// Again: nothing changes, not even by replacing it with the same.
	if got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("the same routing again changed the namespace: %v", got)
	}

	// The route to 203.0.113.0/24 becomes a blackhole: only that route changes.
	r.Subnets[0].Routes[1].Target = netmodel.RouteBlackhole
	got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) })
	if len(got) != 1 {
		t.Errorf("one route changed, the namespace saw %v", got)
	}
	if got := subnetTable(t, ns, tableA); !strings.Contains(got, "blackhole 203.0.113.0/24") {
		t.Errorf("table of A:\n%s\nwant a blackhole 203.0.113.0/24", got)
	}
	if out, err := routeGet(t, ns, "203.0.113.5", brA, "10.0.1.10"); err == nil {
		t.Errorf("route get 203.0.113.5 from A: %s; want no route (blackhole)", out)
	}
	if err := ping(t, k.NetnsPath(a), "203.0.113.5"); err == nil {
		t.Error("A reached 203.0.113.5 through a blackhole")
	}
	if err := pingOK(t, k.NetnsPath(a), "10.0.2.10"); err != nil {
		t.Errorf("A could not reach B by the local route: %v", err)
	}

	// A leaves the routing: its rule and table go, B's stay.
	r.Subnets = r.Subnets[1:]
	must(t, k.SetRouting(ctx, r))
	if got := ourRules(t, ns); !sameStrings(got, wantRules[1:]) {
		t.Errorf("rules after A left: %v, want %v", got, wantRules[1:])
	}
	if got := subnetTable(t, ns, tableA); got != "" {
		t.Errorf("table of A after A left:\n%s", got)
	}
	if err := ping(t, k.NetnsPath(a), "203.0.113.5"); err == nil {
		t.Error("A reached 203.0.113.5 with no route to it")
	}

	// A bridge made again gets another ifindex, so another table: the rule
	// follows, the old table goes.
	r.Subnets = append(r.Subnets, netmodel.SubnetRouting{SubnetID: subA.ID, Routes: []netmodel.Route{withDest(viaRouter, "203.0.113.0/24")}})
	must(t, k.SetRouting(ctx, r))
	must(t, k.DeleteSubnet(ctx, subA))
	must(t, k.EnsureSubnet(ctx, subA))
	must(t, k.SetRouting(ctx, r))
	newTableA := subnetTableBase + mustLink(t, vpcH, brA).Attrs().Index
	if newTableA == tableA {
		t.Fatal("the bridge made again has the same ifindex")
	}
	wantRules = []string{wantRules[1], "1000:\tfrom all iif " + brA + " lookup " + strconv.Itoa(newTableA)}
	if got := ourRules(t, ns); !sameStrings(got, wantRules) {
		t.Errorf("rules after the bridge came again: %v, want %v", got, wantRules)
	}
	if got := subnetTable(t, ns, tableA); got != "" {
		t.Errorf("the old table of A stayed:\n%s", got)
	}
	if got := subnetTable(t, ns, newTableA); !strings.Contains(got, "203.0.113.0/24 via 10.0.2.20") {
		t.Errorf("the new table of A:\n%s", got)
	}

	// No subnets: nothing of ours is left.
	must(t, k.SetRouting(ctx, netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR}))
	if got := ourRules(t, ns); len(got) > 0 {
		t.Errorf("rules left: %v", got)
	}
	if _, routes, err := readRouting(vpcH); err != nil || len(routes) > 0 {
		t.Errorf("routes left: %v %v", routes, err)
	}
}

func TestSetRoutingErrors(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	r := netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR}
	if err := k.SetRouting(ctx, r); err == nil {
		t.Error("SetRouting of a missing VPC succeeded")
	}
	must(t, k.EnsureVPC(ctx, vpc))
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	must(t, k.EnsureSubnet(ctx, sub))
	missing := newID("subnet")
	r.Subnets = []netmodel.SubnetRouting{
		{SubnetID: sub.ID, Routes: []netmodel.Route{
			{Dest: pfx("192.0.2.0/24"), Target: netmodel.RouteENI, Via: netip4("10.0.9.9"), ViaSubnet: missing},
			{Dest: pfx("0.0.0.0/0"), Target: netmodel.RouteInternet}, // no internet link
		}},
		{SubnetID: missing},
	}
	err := k.SetRouting(ctx, r)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("SetRouting with a subnet without bridge: %v", err)
	}
	// The rest is done, failing closed.
	ns := k.Prefix() + vpc.ID
	br, _ := bridgeName(sub.ID)
	table := subnetTableBase + mustLink(t, handleIn(t, k.NetnsPath(vpc.ID)), br).Attrs().Index
	want := "blackhole default \nthrow 10.0.0.0/16 \nblackhole 192.0.2.0/24"
	if got := subnetTable(t, ns, table); normSpace(got) != normSpace(want) {
		t.Errorf("table:\n%s\nwant\n%s", got, want)
	}
	// A routing without a valid CIDR changes nothing.
	bad := r
	bad.CIDR = pfx("10.0.0.1/16")
	if err := k.SetRouting(ctx, bad); err == nil {
		t.Error("SetRouting with an unmasked CIDR succeeded")
	}
	if got := subnetTable(t, ns, table); normSpace(got) != normSpace(want) {
		t.Errorf("table after a refused routing:\n%s\nwant\n%s", got, want)
	}
}

func withDest(r netmodel.Route, dest string) netmodel.Route {
	r.Dest = pfx(dest)
	return r
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// normSpace sorts the lines and squeezes their blanks, for comparing ip's output.
func normSpace(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }

// dualStack gives the VPC of twoSubnets the IPv6 block fd5e:1:2:300::/56,
// its subnets A and B the /64s :301 and :302, and adds an IPv6-only subnet
// C with :303.
func dualStack(t *testing.T, k *Kernel, vpc netmodel.NetVPC, subA, subB *netmodel.NetSubnet) (block netip.Prefix, subC netmodel.NetSubnet) {
	t.Helper()
	ctx := context.Background()
	subA.Gateway6, subB.Gateway6 = pfx("fd5e:1:2:301::1/64"), pfx("fd5e:1:2:302::1/64")
	must(t, k.EnsureSubnet(ctx, *subA))
	must(t, k.EnsureSubnet(ctx, *subB))
	subC = netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, Gateway6: pfx("fd5e:1:2:303::1/64")}
	must(t, k.EnsureSubnet(ctx, subC))
	return pfx("fd5e:1:2:300::/56"), subC
}

// IPv6 routing: a rule and table of each family per subnet (IPv6 only for
// an IPv6-only one), the local route between subnets, a route via an ENI's
// IPv6 address that carries, a blackhole that drops, and nothing changed by
// setting the same routing again.
func TestSubnetRouteTablesIPv6(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	vpc, subA, subB := twoSubnets(t, k)
	block, subC := dualStack(t, k, vpc, &subA, &subB)
	a := attachedHost6(t, k, subA, "10.0.1.10/24", "fd5e:1:2:301::10/64")
	b := attachedHost6(t, k, subB, "10.0.2.10/24", "fd5e:1:2:302::10/64")
	router := attachedHost6(t, k, subB, "10.0.2.20/24", "fd5e:1:2:302::20/64")
	c := attachedHost6(t, k, subC, "", "fd5e:1:2:303::10/64")
	// The router answers for 2001:db8:5::5 itself: a packet that reaches it
	// came through the route to it.
	rh := handleIn(t, k.NetnsPath(router))
	must(t, rh.AddrAdd(mustLink(t, rh, "lo"), &netlink.Addr{IPNet: prefixToIPNet(pfx("2001:db8:5::5/128")), Flags: unix.IFA_F_NODAD}))

	ns := k.Prefix() + vpc.ID
	vpcH := handleIn(t, k.NetnsPath(vpc.ID))
	tableOf := func(sub netmodel.NetSubnet) (string, int) {
		br, _ := bridgeName(sub.ID)
		return br, subnetTableBase + mustLink(t, vpcH, br).Attrs().Index
	}
	brA, tableA := tableOf(subA)
	brB, tableB := tableOf(subB)
	brC, tableC := tableOf(subC)

	if err := ping(t, k.NetnsPath(a), "2001:db8:5::5"); err == nil {
		t.Fatal("2001:db8:5::5 answered before any route led to it")
	}
	viaRouter := netmodel.Route{Target: netmodel.RouteENI, Via: netip.MustParseAddr("fd5e:1:2:302::20"), ViaSubnet: subB.ID}
	r := netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR, IPv6: []netip.Prefix{block}, Subnets: []netmodel.SubnetRouting{
		{SubnetID: subA.ID, Routes: []netmodel.Route{
			withDest(viaRouter, "::/0"), // a default route elsewhere: the local route still wins
			withDest(viaRouter, "2001:db8:5::/48"),
		}},
		{SubnetID: subB.ID},
		{SubnetID: subC.ID, Routes: []netmodel.Route{
			{Dest: pfx("2001:db8:5::/48"), Target: netmodel.RouteBlackhole},
			{Dest: pfx("0.0.0.0/0"), Target: netmodel.RouteBlackhole}, // no IPv4 table to hold it
		}},
	}}
	must(t, k.SetRouting(ctx, r))

	rule := func(family, br string, table int) string {
		return family + "1000:\tfrom all iif " + br + " lookup " + strconv.Itoa(table)
	}
	wantRules := []string{
		rule("", brA, tableA), rule("-6 ", brA, tableA),
		rule("", brB, tableB), rule("-6 ", brB, tableB),
		rule("-6 ", brC, tableC),
	}
	if got := ourRules(t, ns); !sameStrings(got, wantRules) {
		t.Errorf("rules:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRules, "\n"))
	}
	for _, tc := range []struct {
		table       int
		want, want6 string
	}{
		{tableA, "throw 10.0.0.0/16", "throw fd5e:1:2:300::/56 dev lo\ndefault via fd5e:1:2:302::20 dev " + brB + "\n2001:db8:5::/48 via fd5e:1:2:302::20 dev " + brB},
		{tableB, "throw 10.0.0.0/16", "throw fd5e:1:2:300::/56 dev lo"},
		{tableC, "", "throw fd5e:1:2:300::/56 dev lo\nblackhole 2001:db8:5::/48 dev lo"},
	} {
		if got := subnetTable(t, ns, tc.table); normSpace(got) != normSpace(tc.want) {
			t.Errorf("IPv4 table %d:\n%s\nwant\n%s", tc.table, got, tc.want)
		}
		if got := subnetTable6(t, ns, tc.table); normSpace(got) != normSpace(tc.want6) {
			t.Errorf("IPv6 table %d:\n%s\nwant\n%s", tc.table, got, tc.want6)
		}
	}
	if out, err := routeGet(t, ns, "2001:db8:5::5", brA, "fd5e:1:2:301::10"); err != nil || !strings.Contains(out, "via fd5e:1:2:302::20 dev "+brB) {
		t.Errorf("route get 2001:db8:5::5 from A: %v: %s; want via the router", err, out)
	}
	if out, err := routeGet(t, ns, "fd5e:1:2:303::10", brA, "fd5e:1:2:301::10"); err != nil || !strings.Contains(out, "dev "+brC) || strings.Contains(out, "via") {
		t.Errorf("route get fd5e:1:2:303::10 from A: %v: %s; want the local route", err, out)
	}
	for _, p := range []struct{ from, to string }{
		{a, "2001:db8:5::5"},    // through the router
		{a, "fd5e:1:2:302::10"}, // the local route, A to B
		{c, "fd5e:1:2:301::10"}, // and from the IPv6-only subnet to A
		{a, "10.0.2.10"},        // IPv4 as before
	} {
		if err := pingOK(t, k.NetnsPath(p.from), p.to); err != nil {
			t.Errorf("%s → %s: %v", p.from, p.to, err)
		}
	}
	for _, p := range []struct{ from, to, why string }{
		{b, "2001:db8:5::5", "B has no route to it"},
		{c, "2001:db8:5::5", "C's route to it is a blackhole"},
	} {
		if err := ping(t, k.NetnsPath(p.from), p.to); err == nil {
			t.Errorf("%s reached %s: %s", p.from, p.to, p.why)
		}
	}

	// Again: nothing changes.
	if got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) }); len(got) > 0 {
		t.Errorf("the same routing again changed the namespace: %v", got)
	}
	// A's route to 2001:db8:5::/48 becomes a blackhole: only that route
	// changes, and A no longer reaches it.
	r.Subnets[0].Routes[1].Target = netmodel.RouteBlackhole
	if got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) }); len(got) != 1 {
		t.Errorf("one route changed, the namespace saw %v", got)
	}
	if err := ping(t, k.NetnsPath(a), "2001:db8:5::5"); err == nil {
		t.Error("A reached 2001:db8:5::5 through a blackhole")
	}

	// Without IPv6 blocks, the IPv6 rules and tables go, the IPv4 ones stay.
	r.IPv6 = nil
	must(t, k.SetRouting(ctx, r))
	if got := ourRules(t, ns); !sameStrings(got, []string{wantRules[0], wantRules[2]}) {
		t.Errorf("rules without IPv6 blocks: %v", got)
	}
	for _, table := range []int{tableA, tableB, tableC} {
		if got := subnetTable6(t, ns, table); got != "" {
			t.Errorf("IPv6 table %d without IPv6 blocks:\n%s", table, got)
		}
	}
	must(t, k.SetRouting(ctx, netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR}))
	if _, routes, err := readRouting(vpcH); err != nil || len(routes) > 0 {
		t.Errorf("routes left: %v %v", routes, err)
	}
}
