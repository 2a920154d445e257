package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func maxEntries(n int) *int        { return &n }
func version(v int64) *int64       { return &v }
func entry(cidr string) EntryInput { return EntryInput{CIDR: cidr} }

// cidrsOf lists the CIDRs of entries, as text.
func cidrsOf(es []PrefixListEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.CIDR.String())
	}
	return out
}

func (tc *testCloud) prefixList(t *testing.T, family string, max int, cidrs ...string) PrefixList {
	t.Helper()
	in := CreatePrefixListInput{Name: "list", AddressFamily: family, MaxEntries: maxEntries(max)}
	for _, c := range cidrs {
		in.Entries = append(in.Entries, entry(c))
	}
	return must[PrefixList](t)(tc.CreateManagedPrefixList(context.Background(), west, in))
}

func (tc *testCloud) entries(t *testing.T, id string, v *int64) []string {
	t.Helper()
	return cidrsOf(must[[]PrefixListEntry](t)(tc.GetManagedPrefixListEntries(context.Background(), west, id, v)))
}

// A prefix list is made at version 1; every change of its entries makes a
// version, which GetManagedPrefixListEntries and
// RestoreManagedPrefixListVersion read; EC2's refusals, in its codes.
func TestPrefixListLifecycle(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	p := must[PrefixList](t)(tc.CreateManagedPrefixList(ctx, west, CreatePrefixListInput{
		Name: "office", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(3),
		Entries: []EntryInput{{CIDR: "192.168.7.9/24", Description: "branch"}, {CIDR: "10.1.0.0/16", Description: "hq"}},
		Tags:    []Tag{{Key: "team", Value: "net"}},
	}))
	if p.Version != 1 || p.State != PrefixListCreateComplete || p.OwnerID != "000000000000" || p.MaxEntries != 3 ||
		PrefixListARN(&p) != "arn:aws:ec2:us-west-2:000000000000:prefix-list/"+p.ID || checkID("x", "pl", p.ID) != nil {
		t.Fatalf("made: %+v", p)
	}
	// Entries are stored masked and answered by CIDR.
	got := must[[]PrefixListEntry](t)(tc.GetManagedPrefixListEntries(ctx, west, p.ID, nil))
	if want := []PrefixListEntry{{netip.MustParsePrefix("10.1.0.0/16"), "hq"}, {netip.MustParsePrefix("192.168.7.0/24"), "branch"}}; !slices.Equal(got, want) {
		t.Fatalf("entries: %v, want %v", got, want)
	}

	for _, c := range []struct {
		name string
		in   CreatePrefixListInput
		code string
	}{
		{"no name", CreatePrefixListInput{AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1)}, "MissingParameter"},
		{"no family", CreatePrefixListInput{Name: "x", MaxEntries: maxEntries(1)}, "MissingParameter"},
		{"no size", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4}, "MissingParameter"},
		{"another family", CreatePrefixListInput{Name: "x", AddressFamily: "ipv4", MaxEntries: maxEntries(1)}, "InvalidParameterValue"},
		{"size 0", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(0)}, "InvalidParameterValue"},
		{"size 1001", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1001)}, "InvalidParameterValue"},
		{"AWS's name", CreatePrefixListInput{Name: "com.amazonaws.us-west-2.s3", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1)}, "InvalidParameterValue"},
		{"beyond its size", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1), Entries: []EntryInput{entry("10.0.0.0/8"), entry("11.0.0.0/8")}}, "InvalidParameterValue"},
		{"not a CIDR", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1), Entries: []EntryInput{entry("10.0.0.1")}}, "InvalidParameterValue"},
		{"an IPv6 entry", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1), Entries: []EntryInput{entry("2001:db8::/32")}}, "InvalidParameterValue"},
		{"an entry twice", CreatePrefixListInput{Name: "x", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(2), Entries: []EntryInput{entry("10.0.0.0/8"), entry("10.1.2.3/8")}}, "InvalidPrefixListModification"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.CreateManagedPrefixList(ctx, west, c.in)
			wantCode(t, err, c.code)
		})
	}

	// A retry with the client token answers the list it made; the token
	// with another request is refused.
	retry := CreatePrefixListInput{Name: "retried", AddressFamily: FamilyIPv6, MaxEntries: maxEntries(2), Entries: []EntryInput{entry("2001:db8::/32")}, ClientToken: "tok"}
	first := must[PrefixList](t)(tc.CreateManagedPrefixList(ctx, west, retry))
	if again := must[PrefixList](t)(tc.CreateManagedPrefixList(ctx, west, retry)); again.ID != first.ID {
		t.Fatalf("a retry made another list: %s, %s", first.ID, again.ID)
	}
	retry.Name = "other"
	_, err := tc.CreateManagedPrefixList(ctx, west, retry)
	wantCode(t, err, "IdempotentParameterMismatch")

	// Described by ID and by the filters EC2 has; tags are tags.
	describe := func(ids []string, f ...Filter) []string {
		t.Helper()
		var out []string
		for _, l := range must[[]PrefixList](t)(tc.DescribeManagedPrefixLists(ctx, west, ids, f)) {
			out = append(out, l.ID)
		}
		return out
	}
	if got := describe(nil); !slices.Equal(got, []string{p.ID, first.ID}) {
		t.Fatalf("all lists: %v", got)
	}
	if got := describe(nil, Filter{Name: "prefix-list-name", Values: []string{"off*"}}, Filter{Name: "owner-id", Values: []string{"000000000000"}}); !slices.Equal(got, []string{p.ID}) {
		t.Fatalf("by name: %v", got)
	}
	if got := describe(nil, Filter{Name: "tag:team", Values: []string{"net"}}); !slices.Equal(got, []string{p.ID}) {
		t.Fatalf("by tag: %v", got)
	}
	if got := describe([]string{first.ID}, Filter{Name: "prefix-list-id", Values: []string{first.ID}}); !slices.Equal(got, []string{first.ID}) {
		t.Fatalf("by ID: %v", got)
	}
	_, err = tc.DescribeManagedPrefixLists(ctx, west, []string{"pl-0123456789abcdef0"}, nil)
	wantCode(t, err, "InvalidPrefixListID.NotFound")
	if _, err := tc.DescribeManagedPrefixLists(ctx, Scope{Region: "eu-west-1"}, []string{p.ID}, nil); err == nil {
		t.Fatal("a list is described in another region")
	}
	must1(t, tc.CreateTags(ctx, west, []string{p.ID}, []Tag{{Key: "env", Value: "test"}}))
	tags := must[[]TagDescription](t)(tc.DescribeTags(ctx, west, []Filter{{Name: "resource-type", Values: []string{"prefix-list"}}}))
	if len(tags) != 2 || tags[0].ResourceID != p.ID {
		t.Fatalf("the list's tags: %+v", tags)
	}

	// Modify: entries go, then come; a new version.
	p = must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{
		ID: p.ID, CurrentVersion: version(1), Add: []EntryInput{entry("172.16.0.0/12"), {CIDR: "192.168.7.0/24", Description: "moved"}}, Remove: []string{"192.168.7.0/24"},
	}))
	if p.Version != 2 || p.State != PrefixListModifyComplete {
		t.Fatalf("modified: %+v", p)
	}
	if got := tc.entries(t, p.ID, nil); !slices.Equal(got, []string{"10.1.0.0/16", "172.16.0.0/12", "192.168.7.0/24"}) {
		t.Fatalf("version 2: %v", got)
	}
	if got := tc.entries(t, p.ID, version(1)); !slices.Equal(got, []string{"10.1.0.0/16", "192.168.7.0/24"}) {
		t.Fatalf("version 1: %v", got)
	}
	for _, c := range []struct {
		name string
		in   ModifyPrefixListInput
		code string
	}{
		{"a stale version", ModifyPrefixListInput{ID: p.ID, CurrentVersion: version(1), Add: []EntryInput{entry("10.9.0.0/16")}}, "PrefixListVersionMismatch"},
		{"entries and size", ModifyPrefixListInput{ID: p.ID, MaxEntries: maxEntries(5), Add: []EntryInput{entry("10.9.0.0/16")}}, "InvalidParameterCombination"},
		{"beyond its size", ModifyPrefixListInput{ID: p.ID, Add: []EntryInput{entry("10.9.0.0/16")}}, "InvalidParameterValue"},
		{"an entry it has", ModifyPrefixListInput{ID: p.ID, Remove: []string{"10.1.0.0/16"}, Add: []EntryInput{entry("172.16.0.0/12")}}, "InvalidPrefixListModification"},
		{"an entry it has not", ModifyPrefixListInput{ID: p.ID, Remove: []string{"10.9.0.0/16"}}, "InvalidPrefixListModification"},
		{"smaller than its entries", ModifyPrefixListInput{ID: p.ID, MaxEntries: maxEntries(2)}, "InvalidParameterValue"},
		{"no such list", ModifyPrefixListInput{ID: "pl-0123456789abcdef0", Name: "x"}, "InvalidPrefixListID.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.ModifyManagedPrefixList(ctx, west, c.in)
			wantCode(t, err, c.code)
		})
	}
	// A new name or size is no new version.
	p = must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{ID: p.ID, Name: "offices", MaxEntries: maxEntries(4)}))
	if p.Version != 2 || p.Name != "offices" || p.MaxEntries != 4 {
		t.Fatalf("renamed and resized: %+v", p)
	}
	for _, v := range []int64{0, 3} {
		_, err := tc.GetManagedPrefixListEntries(ctx, west, p.ID, version(v))
		wantCode(t, err, "InvalidParameterValue")
	}

	// Restore: version 1's entries are version 3's.
	_, err = tc.RestoreManagedPrefixListVersion(ctx, west, p.ID, version(1), version(1))
	wantCode(t, err, "PrefixListVersionMismatch")
	_, err = tc.RestoreManagedPrefixListVersion(ctx, west, p.ID, version(7), version(2))
	wantCode(t, err, "InvalidParameterValue")
	p = must[PrefixList](t)(tc.RestoreManagedPrefixListVersion(ctx, west, p.ID, version(1), version(2)))
	if p.Version != 3 || p.State != PrefixListRestoreComplete {
		t.Fatalf("restored: %+v", p)
	}
	if got, want := must[[]PrefixListEntry](t)(tc.GetManagedPrefixListEntries(ctx, west, p.ID, nil)),
		must[[]PrefixListEntry](t)(tc.GetManagedPrefixListEntries(ctx, west, p.ID, version(1))); !slices.Equal(got, want) {
		t.Fatalf("version 3 %v is not version 1 %v", got, want)
	}

	// A restart serves the same lists, versions and all.
	tc = tc.reopen(t)
	if got := must[[]PrefixList](t)(tc.DescribeManagedPrefixLists(ctx, west, []string{p.ID}, nil)); len(got) != 1 || got[0].Version != 3 || got[0].Name != "offices" {
		t.Fatalf("after a restart: %+v", got)
	}
	if got := tc.entries(t, p.ID, version(2)); len(got) != 3 {
		t.Fatalf("version 2 after a restart: %v", got)
	}
	if later := tc.prefixList(t, FamilyIPv4, 1); later.Seq <= p.Seq {
		t.Fatalf("a list made after a restart comes before one made before it: %d, %d", later.Seq, p.Seq)
	}

	// Deleted, a list no one uses is gone.
	gone := must[PrefixList](t)(tc.DeleteManagedPrefixList(ctx, west, first.ID))
	if gone.State != PrefixListDeleteComplete || gone.ID != first.ID {
		t.Fatalf("deleted: %+v", gone)
	}
	_, err = tc.GetManagedPrefixListEntries(ctx, west, first.ID, nil)
	wantCode(t, err, "InvalidPrefixListID.NotFound")
	_, err = tc.DeleteManagedPrefixList(ctx, west, first.ID)
	wantCode(t, err, "InvalidPrefixListID.NotFound")

	// DescribePrefixLists: AWS's lists, of which vpcsim has none.
	if got := must[[]AWSPrefixList](t)(tc.DescribePrefixLists(ctx, west, nil, []Filter{{Name: "prefix-list-name", Values: []string{"com.amazonaws.*"}}})); len(got) != 0 {
		t.Fatalf("AWS's lists: %+v", got)
	}
	_, err = tc.DescribePrefixLists(ctx, west, []string{p.ID}, nil)
	wantCode(t, err, "InvalidPrefixListID.NotFound")
}

// A list keeps its last 1,000 versions, as EC2 does; what only older ones
// held is dropped.
func TestPrefixListKeepsAThousandVersions(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	p := tc.prefixList(t, FamilyIPv4, 1, "10.0.0.0/8")
	for v := int64(1); v <= prefixListVersionsKept; v++ {
		p = must[PrefixList](t)(tc.ModifyManagedPrefixList(ctx, west, ModifyPrefixListInput{
			ID: p.ID, Remove: []string{p.Entries()[0].CIDR.String()}, Add: []EntryInput{entry(fmt.Sprintf("10.%d.%d.0/24", v/256, v%256))},
		}))
	}
	if p.Version != 1001 || p.Oldest != 2 || len(p.Spans) != prefixListVersionsKept {
		t.Fatalf("version %d, oldest %d, %d spans", p.Version, p.Oldest, len(p.Spans))
	}
	_, err := tc.GetManagedPrefixListEntries(ctx, west, p.ID, version(1))
	wantCode(t, err, "InvalidParameterValue")
	if got := tc.entries(t, p.ID, version(2)); !slices.Equal(got, []string{"10.0.1.0/24"}) {
		t.Fatalf("the oldest version kept: %v", got)
	}
}

func TestPrefixListQuota(t *testing.T) {
	tc := quotaCloud(t, "local", "prefix-lists=1")
	tc.prefixList(t, FamilyIPv4, 1)
	_, err := tc.CreateManagedPrefixList(context.Background(), west, CreatePrefixListInput{Name: "second", AddressFamily: FamilyIPv4, MaxEntries: maxEntries(1)})
	wantCode(t, err, "PrefixListLimitExceeded")
}
