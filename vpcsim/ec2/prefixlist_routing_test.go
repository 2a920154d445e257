package ec2

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A route to a prefix list is, in the routing the dataplane gets, a route
// per entry of the list's current version to the route's target; a route
// to a CIDR that is also an entry wins, as on EC2, and the VPC's own range
// stays local. The routes follow the list, the route's target, and a
// restart.
func TestPrefixListRoutes(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	igw := must[InternetGateway](t)(tc.CreateInternetGateway(ctx, west, nil))
	must1(t, tc.AttachInternetGateway(ctx, west, igw.ID, v.ID))
	rt := must[RouteTable](t)(tc.CreateRouteTable(ctx, west, v.ID, nil))
	must[string](t)(tc.AssociateRouteTable(ctx, west, rt.ID, sub.ID, ""))
	eni := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	pl := tc.prefixList(t, FamilyIPv4, 5, "198.51.100.0/24", "203.0.113.0/24", "10.0.0.0/16", "10.9.0.0/16")
	must1(t, tc.CreateRoute(ctx, west, RouteInput{TableID: rt.ID, DestCIDR: "10.9.0.0/16", ENI: eni.ID}))
	must1(t, tc.CreateRoute(ctx, west, RouteInput{TableID: rt.ID, DestPrefixList: pl.ID, Gateway: igw.ID}))

	// routes maps the kernel routes of the subnet to their targets.
	routes := func(t *testing.T, tc *testCloud) map[string]netmodel.RouteTarget {
		t.Helper()
		r := tc.dp.Routing(v.ID)
		i := slices.IndexFunc(r.Subnets, func(s netmodel.SubnetRouting) bool { return s.SubnetID == sub.ID })
		if i < 0 {
			t.Fatalf("no routing of %s: %+v", sub.ID, r)
		}
		out := map[string]netmodel.RouteTarget{}
		for _, route := range r.Subnets[i].Routes {
			if _, twice := out[route.Dest.String()]; twice {
				t.Fatalf("%s is routed twice: %+v", route.Dest, r.Subnets[i].Routes)
			}
			out[route.Dest.String()] = route.Target
		}
		return out
	}
	want := map[string]netmodel.RouteTarget{
		"10.9.0.0/16":     netmodel.RouteBlackhole, // the CIDR route's: its ENI is detached
		"198.51.100.0/24": netmodel.RouteInternet,
		"203.0.113.0/24":  netmodel.RouteInternet,
	}
	if got := routes(t, tc); !maps.Equal(got, want) {
		t.Fatalf("the kernel's routes: %v, want %v", got, want)
	}
	views := must[[]RouteTableView](t)(tc.DescribeRouteTables(ctx, west, []string{rt.ID}, []Filter{{Name: "route.destination-prefix-list-id", Values: []string{pl.ID}}}))
	if len(views) != 1 || len(views[0].Routes) != 3 || views[0].Routes[2].PrefixList != pl.ID || views[0].Routes[2].Gateway != igw.ID ||
		views[0].Routes[2].State != "active" || views[0].Routes[2].Dest.IsValid() {
		t.Fatalf("described: %+v", views)
	}

	for _, c := range []struct {
		name string
		in   RouteInput
		code string
	}{
		{"the list again", RouteInput{TableID: rt.ID, DestPrefixList: pl.ID, ENI: eni.ID}, "RouteAlreadyExists"},
		{"an unknown list", RouteInput{TableID: rt.ID, DestPrefixList: "pl-0123456789abcdef0", Gateway: igw.ID}, "InvalidPrefixListID.NotFound"},
		{"a list and a CIDR", RouteInput{TableID: rt.ID, DestPrefixList: pl.ID, DestCIDR: "10.8.0.0/16", Gateway: igw.ID}, "InvalidParameterCombination"},
	} {
		t.Run(c.name, func(t *testing.T) { wantCode(t, tc.CreateRoute(ctx, west, c.in), c.code) })
	}

	// The list changes: so do the routes.
	must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: pl.ID, Remove: []string{"203.0.113.0/24"}, Add: []EntryInput{entry("192.0.2.0/24")}}))
	delete(want, "203.0.113.0/24")
	want["192.0.2.0/24"] = netmodel.RouteInternet
	if got := routes(t, tc); !maps.Equal(got, want) {
		t.Fatalf("after the modification: %v, want %v", got, want)
	}

	// In use, the list is not deleted.
	failed := must[PrefixList](t)(tc.DeleteManagedPrefixList(ctx, west, pl.ID))
	if failed.State != PrefixListDeleteFailed || !strings.Contains(failed.StateMessage, rt.ID) {
		t.Fatalf("deleting a list a route uses: %+v", failed)
	}
	if got := must[[]PrefixListAssociation](t)(tc.GetManagedPrefixListAssociations(ctx, west, pl.ID)); len(got) != 1 || got[0].ResourceID != rt.ID {
		t.Fatalf("associations: %+v", got)
	}

	// A new target: every entry follows it (a detached ENI: blackholes).
	must1(t, tc.ReplaceRoute(ctx, west, RouteInput{TableID: rt.ID, DestPrefixList: pl.ID, ENI: eni.ID}))
	for _, dest := range []string{"198.51.100.0/24", "192.0.2.0/24"} {
		want[dest] = netmodel.RouteBlackhole
	}
	if got := routes(t, tc); !maps.Equal(got, want) {
		t.Fatalf("after the replace: %v, want %v", got, want)
	}

	// After a restart the kernel gets them again.
	tc.dp.Routings = map[string]netmodel.Routing{}
	tc = tc.reopen(t)
	if got := routes(t, tc); !maps.Equal(got, want) {
		t.Fatalf("after a restart: %v, want %v", got, want)
	}

	// Deleted, the route's entries leave the kernel; the list may go.
	wantCode(t, tc.DeleteRoute(ctx, west, rt.ID, "", "pl-0123456789abcdef0"), "InvalidRoute.NotFound")
	must1(t, tc.DeleteRoute(ctx, west, rt.ID, "", pl.ID))
	if got := routes(t, tc); !maps.Equal(got, map[string]netmodel.RouteTarget{"10.9.0.0/16": netmodel.RouteBlackhole}) {
		t.Fatalf("after the route went: %v", got)
	}
	if gone := must[PrefixList](t)(tc.DeleteManagedPrefixList(ctx, west, pl.ID)); gone.State != PrefixListDeleteComplete {
		t.Fatalf("deleting the unused list: %+v", gone)
	}
}
