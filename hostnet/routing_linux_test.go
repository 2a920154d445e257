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
// at nsPath sent meanwhile: links, IPv4 addresses, routes and rules, and
// nftables transactions. Empty means fn changed none of them there.
func changesDuring(t *testing.T, nsPath string, fn func()) []string {
	t.Helper()
	var socks []*nl.NetlinkSocket
	must(t, inNetns(nsPath, func() error {
		rt, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV4_RULE)
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

// subnetTable returns the routes of a subnet's table as ip prints them.
func subnetTable(t *testing.T, ns string, table int) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "route", "show", "table", strconv.Itoa(table)).CombinedOutput()
	if err != nil {
		t.Fatalf("ip route show table %d: %v: %s", table, err, out)
	}
	return strings.TrimSpace(string(out))
}

// ourRules lists the namespace's rules at vpcsim's priority, as ip prints them.
func ourRules(t *testing.T, ns string) []string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "rule", "show", "priority", strconv.Itoa(subnetRulePriority)).CombinedOutput()
	if err != nil {
		t.Fatalf("ip rule show: %v: %s", err, out)
	}
	var rules []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			rules = append(rules, strings.TrimSpace(l))
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
