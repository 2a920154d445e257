package ec2

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// fromList lists, as text, the CIDRs of an ENI's kernel rules that come
// from a prefix list.
func fromList(rules []netmodel.FirewallRule, pl string) []string {
	var out []string
	for _, r := range rules {
		if r.PrefixList == pl {
			out = append(out, r.CIDR.String())
		}
	}
	return out
}

// A rule that names a prefix list is, in the firewall the dataplane gets,
// a rule per entry of the list's current version: it follows every
// modification and restore of the list, ingress and egress, through
// Authorize, ModifySecurityGroupRules and Revoke.
func TestPrefixListInSecurityGroupRules(t *testing.T) {
	f := newSGFixture(t)
	tc, ctx := f.tc, context.Background()
	pl := tc.prefixList(t, FamilyIPv4, 5, "10.1.0.0/16", "192.168.5.0/24")
	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
		{Protocol: "tcp", FromPort: port(443), ToPort: port(443), PrefixIDs: []Peer{{Value: pl.ID, Description: "offices"}}},
	}}))
	if len(rules) != 1 || rules[0].PrefixList != pl.ID || rules[0].Description != "offices" {
		t.Fatalf("the rule: %+v", rules)
	}
	web := f.eni(t, f.webENI.ID)
	if got := fromList(web.Ingress, pl.ID); !slices.Equal(got, []string{"10.1.0.0/16", "192.168.5.0/24"}) {
		t.Fatalf("web's ingress from the list: %v (%+v)", got, web.Ingress)
	}
	for _, r := range web.Ingress[2:] {
		if r.ID != rules[0].ID || r.GroupID != f.web.ID || r.Proto != netmodel.ProtoTCP || r.From != 443 || r.To != 443 {
			t.Fatalf("an entry's rule: %+v", r)
		}
	}
	// The firewall kept change by change is the one built from scratch.
	checkKept := func(t *testing.T) {
		t.Helper()
		tc.mu.Lock()
		defer tc.unlock()
		if got, want := tc.fw.vpcs[f.vpc.ID].firewall(f.vpc.ID), tc.firewallLocked(f.vpc.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("kept firewall %+v, built %+v", got, want)
		}
		if got := tc.dp.Firewall(f.vpc.ID); !reflect.DeepEqual(got, tc.firewallLocked(f.vpc.ID)) {
			t.Fatalf("the dataplane's firewall differs from the model's")
		}
	}
	checkKept(t)

	// Modified, the list changes the kernel's rules, by a change of the
	// group's one member only.
	changes := len(tc.dp.Calls("change-firewall"))
	pl = must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: pl.ID, Add: []EntryInput{entry("172.16.0.0/12")}, Remove: []string{"192.168.5.0/24"}}))
	if got := fromList(f.eni(t, f.webENI.ID).Ingress, pl.ID); !slices.Equal(got, []string{"10.1.0.0/16", "172.16.0.0/12"}) {
		t.Fatalf("after the modification: %v", got)
	}
	if calls := tc.dp.Calls("change-firewall")[changes:]; len(calls) != 1 || !strings.HasSuffix(calls[0], "enis=1 groups=0") {
		t.Fatalf("the change the dataplane got: %v", calls)
	}
	checkKept(t)
	// A new name is no change of the firewall.
	changes = len(tc.dp.Calls("change-firewall"))
	must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: pl.ID, Name: "renamed"}))
	if calls := tc.dp.Calls("change-firewall")[changes:]; len(calls) != 0 {
		t.Fatalf("a rename changed the firewall: %v", calls)
	}
	must[PrefixList](t)(tc.RestoreManagedPrefixListVersion(ctx, west, pl.ID, version(1), version(2)))
	if got := fromList(f.eni(t, f.webENI.ID).Ingress, pl.ID); !slices.Equal(got, []string{"10.1.0.0/16", "192.168.5.0/24"}) {
		t.Fatalf("after the restore: %v", got)
	}
	checkKept(t)

	// Egress too; and a rule changed to name the list.
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.client.ID}, Egress: true, Permissions: []Permission{
		{Protocol: "udp", FromPort: port(53), ToPort: port(53), PrefixIDs: []Peer{{Value: pl.ID}}},
	}}))
	if got := fromList(f.eni(t, f.clientENI.ID).Egress, pl.ID); len(got) != 2 {
		t.Fatalf("client's egress to the list: %v", got)
	}
	web80 := must[[]Rule](t)(tc.DescribeSecurityGroupRules(ctx, west, nil, []Filter{{Name: "group-id", Values: []string{f.web.ID}}}))
	id80 := web80[slices.IndexFunc(web80, func(r Rule) bool { return r.FromPort == 80 })].ID
	must1(t, tc.ModifySecurityGroupRules(ctx, west, f.web.ID, []RuleChange{{RuleID: id80, Permission: Permission{Protocol: "tcp", FromPort: port(80), ToPort: port(80), PrefixIDs: []Peer{{Value: pl.ID}}}}}))
	web = f.eni(t, f.webENI.ID)
	if i := slices.IndexFunc(web.Ingress, func(r netmodel.FirewallRule) bool { return r.From == 80 }); i < 0 || web.Ingress[i].PrefixList != pl.ID || len(fromList(web.Ingress, pl.ID)) != 4 {
		t.Fatalf("web's ingress after port 80 came to name the list: %+v", web.Ingress)
	}
	got := must[[]Rule](t)(tc.DescribeSecurityGroupRules(ctx, west, []string{id80}, nil))
	if len(got) != 1 || got[0].PrefixList != pl.ID || got[0].CIDRv4 != "" {
		t.Fatalf("DescribeSecurityGroupRules: %+v", got)
	}
	checkKept(t)

	// sg explain names the list an entry comes from.
	x := must[Explanation](t)(tc.ExplainSecurityGroups(f.webENI.ID, netip.MustParseAddr("10.1.2.3"), netmodel.ProtoTCP, 443))
	if !x.Admitted || !strings.Contains(strings.Join(x.Lines, "\n"), "10.1.0.0/16 (an entry of "+pl.ID+")") {
		t.Fatalf("explain:\n%s", strings.Join(x.Lines, "\n"))
	}

	// In use, the list is not deleted: delete-failed, naming its users,
	// which GetManagedPrefixListAssociations lists.
	failed := must[PrefixList](t)(tc.DeleteManagedPrefixList(ctx, west, pl.ID))
	if failed.State != PrefixListDeleteFailed || !strings.Contains(failed.StateMessage, f.web.ID) || !strings.Contains(failed.StateMessage, f.client.ID) {
		t.Fatalf("deleting a list in use: %+v", failed)
	}
	if got := must[[]PrefixList](t)(tc.DescribeManagedPrefixLists(ctx, west, []string{pl.ID}, nil)); got[0].State != PrefixListDeleteFailed {
		t.Fatalf("described after the failed delete: %+v", got)
	}
	assocs := must[[]PrefixListAssociation](t)(tc.GetManagedPrefixListAssociations(ctx, west, pl.ID))
	if want := []PrefixListAssociation{{f.web.ID, "000000000000"}, {f.client.ID, "000000000000"}}; !slices.Equal(assocs, want) {
		t.Fatalf("associations: %+v, want %+v", assocs, want)
	}
	// Revoked everywhere, the list's rules leave the kernel, and it goes.
	must[[]Rule](t)(tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
		{Protocol: "tcp", FromPort: port(443), ToPort: port(443), PrefixIDs: []Peer{{Value: pl.ID}}},
		{Protocol: "tcp", FromPort: port(80), ToPort: port(80), PrefixIDs: []Peer{{Value: pl.ID}}},
	}}))
	must[[]Rule](t)(tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.client.ID}, Egress: true, Permissions: []Permission{
		{Protocol: "udp", FromPort: port(53), ToPort: port(53), PrefixIDs: []Peer{{Value: pl.ID}}},
	}}))
	if got := fromList(f.eni(t, f.webENI.ID).Ingress, pl.ID); len(got) != 0 {
		t.Fatalf("revoked rules in the kernel: %v", got)
	}
	if gone := must[PrefixList](t)(tc.DeleteManagedPrefixList(ctx, west, pl.ID)); gone.State != PrefixListDeleteComplete {
		t.Fatalf("deleting the unused list: %+v", gone)
	}
	checkKept(t)
}

// A rule may name only a list that exists.
func TestPrefixListRuleRefusals(t *testing.T) {
	f := newSGFixture(t)
	tc, ctx := f.tc, context.Background()
	for _, c := range []struct {
		name, pl, code string
	}{
		{"malformed", "prefix-1", "InvalidPrefixListId.Malformed"},
		{"unknown", "pl-0123456789abcdef0", "InvalidPrefixListID.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
				{Protocol: "-1", PrefixIDs: []Peer{{Value: c.pl}}},
			}})
			wantCode(t, err, c.code)
		})
	}
}

// A rule that names a list counts as the list's maximum size against the
// group's rule quota, inbound and outbound each; a resize beyond what a
// group using the list can hold leaves the list modify-failed.
func TestPrefixListRuleQuota(t *testing.T) {
	tc := quotaCloud(t, "local", "rules-per-security-group=10")
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "g", Description: "g"}))
	pl := tc.prefixList(t, FamilyIPv4, 8, "10.1.0.0/16")
	viaList := func(p int32) Permission {
		return Permission{Protocol: "tcp", FromPort: port(p), ToPort: port(p), PrefixIDs: []Peer{{Value: pl.ID}}}
	}
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(1, "0.0.0.0/0"), tcp(2, "0.0.0.0/0"), viaList(443)}}))
	_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(3, "0.0.0.0/0")}})
	wantCode(t, err, "RulesPerSecurityGroupLimitExceeded")
	// Outbound is counted apart: the all-traffic rule and the list's 8.
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Egress: true, Permissions: []Permission{viaList(443)}}))
	// A rule that comes to name the list counts as its size.
	rules := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, []string{g.ID}, nil, nil))[0].Rules
	rule1 := rules[slices.IndexFunc(rules, func(r Rule) bool { return r.FromPort == 1 })]
	wantCode(t, tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rule1.ID, Permission: viaList(1)}}), "RulesPerSecurityGroupLimitExceeded")

	failed := must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: pl.ID, MaxEntries: maxEntries(9), Name: "bigger"}))
	if failed.State != PrefixListModifyFailed || failed.MaxEntries != 8 || failed.Name != "list" || !strings.Contains(failed.StateMessage, g.ID) {
		t.Fatalf("a resize the group cannot hold: %+v", failed)
	}
	if ok := must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: pl.ID, MaxEntries: maxEntries(2)})); ok.State != PrefixListModifyComplete || ok.MaxEntries != 2 || ok.StateMessage != "" {
		t.Fatalf("a smaller size: %+v", ok)
	}
	// Smaller, the list leaves room for more rules.
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(3, "0.0.0.0/0")}}))
}

// After a restart the kernel gets the list's entries again.
func TestPrefixListFirewallAfterRestart(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	pl := f.tc.prefixList(t, FamilyIPv4, 2, "10.1.0.0/16")
	must[[]Rule](t)(f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{
		{Protocol: "-1", PrefixIDs: []Peer{{Value: pl.ID}}},
	}}))
	f.tc.dp.Firewalls = map[string]netmodel.Firewall{} // as after a reboot
	f.tc = f.tc.reopen(t)
	if got := fromList(f.eni(t, f.webENI.ID).Ingress, pl.ID); !slices.Equal(got, []string{"10.1.0.0/16"}) {
		t.Fatalf("after a restart: %v", got)
	}
}
