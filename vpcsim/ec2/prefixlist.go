package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Customer-managed prefix lists: a named set of CIDRs, versioned, that
// security group rules and routes name instead of a CIDR. What the kernel
// does with them is in prefixlist_use.go: every rule and route that names a
// list is as many rules and routes as the list's current version has
// entries, and they follow the list when it changes.
//
// EC2 changes a list asynchronously (create-in-progress, then
// create-complete, …); vpcsim answers every call with the state it settles
// in, at once. AWS-managed lists (com.amazonaws.REGION.s3, …) are not
// described: vpcsim has no AWS services whose addresses they could honestly
// hold.

// PrefixListState is a prefix list's state, as EC2 names it: the outcome
// of the last operation on it.
type PrefixListState string

// The states vpcsim's settled answers take; the -in-progress ones and
// create-failed never show.
const (
	PrefixListCreateComplete  PrefixListState = "create-complete"
	PrefixListModifyComplete  PrefixListState = "modify-complete"
	PrefixListModifyFailed    PrefixListState = "modify-failed"
	PrefixListRestoreComplete PrefixListState = "restore-complete"
	PrefixListDeleteComplete  PrefixListState = "delete-complete"
	PrefixListDeleteFailed    PrefixListState = "delete-failed"
)

// EC2's bounds on prefix lists.
const (
	prefixListMaxEntries   = 1000 // MaxEntries, at most
	prefixListEntriesAsked = 100  // entries one request adds (Entry.N, AddEntry.N) or removes
	prefixListVersionsKept = 1000 // the oldest goes when a list has more
	prefixListNameMax      = 255
)

// Address families of a prefix list.
const (
	FamilyIPv4 = "IPv4"
	FamilyIPv6 = "IPv6"
)

// PrefixList is a customer-managed prefix list.
type PrefixList struct {
	ID            string          `json:"id"` // pl-…
	Region        string          `json:"region"`
	OwnerID       string          `json:"owner"`
	Name          string          `json:"name"`
	AddressFamily string          `json:"family"` // IPv4 or IPv6
	MaxEntries    int             `json:"max"`
	Version       int64           `json:"version"`
	Oldest        int64           `json:"oldest"` // the oldest version still kept
	State         PrefixListState `json:"state"`
	StateMessage  string          `json:"stateMessage,omitempty"`
	// Spans are the entries of every version kept, each with the versions
	// that hold it: a change stores what it changed, not the whole list.
	Spans []entrySpan `json:"spans,omitempty"`
	// ClientToken is the CreateManagedPrefixList token that made it, and
	// Request that request's fingerprint: a retry answers the same list.
	ClientToken string `json:"clientToken,omitempty"`
	Request     string `json:"request,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	Seq         int64  `json:"seq"`
}

// PrefixListEntry is one CIDR of a prefix list.
type PrefixListEntry struct {
	CIDR        netip.Prefix `json:"cidr"`
	Description string       `json:"description,omitempty"`
}

// entrySpan is an entry and the versions that hold it: from Since up to,
// not including, Until (0: up to the current version).
type entrySpan struct {
	PrefixListEntry
	Since int64 `json:"since"`
	Until int64 `json:"until,omitempty"`
}

// PrefixListARN is the list's ARN.
func PrefixListARN(p *PrefixList) string {
	return "arn:aws:ec2:" + p.Region + ":" + p.OwnerID + ":prefix-list/" + p.ID
}

// EntriesAt lists the entries of a version the list keeps, by CIDR.
func (p *PrefixList) EntriesAt(v int64) []PrefixListEntry {
	var out []PrefixListEntry
	for _, s := range p.Spans {
		if s.Since <= v && (s.Until == 0 || v < s.Until) {
			out = append(out, s.PrefixListEntry)
		}
	}
	slices.SortFunc(out, func(a, b PrefixListEntry) int { return comparePrefix(a.CIDR, b.CIDR) })
	return out
}

// Entries lists the entries of the current version, by CIDR.
func (p *PrefixList) Entries() []PrefixListEntry { return p.EntriesAt(p.Version) }

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// newVersion makes next the entries of a new version. An entry kept keeps
// its span; the oldest versions go beyond prefixListVersionsKept.
func (p *PrefixList) newVersion(next []PrefixListEntry) {
	v := p.Version + 1
	kept := map[PrefixListEntry]bool{}
	for i := range p.Spans {
		s := &p.Spans[i]
		if s.Until != 0 {
			continue
		}
		if slices.Contains(next, s.PrefixListEntry) {
			kept[s.PrefixListEntry] = true
		} else {
			s.Until = v
		}
	}
	for _, e := range next {
		if !kept[e] {
			p.Spans = append(p.Spans, entrySpan{PrefixListEntry: e, Since: v})
			kept[e] = true
		}
	}
	p.Version = v
	if p.Version-p.Oldest >= prefixListVersionsKept {
		p.Oldest = p.Version - prefixListVersionsKept + 1
		p.Spans = slices.DeleteFunc(p.Spans, func(s entrySpan) bool { return s.Until != 0 && s.Until <= p.Oldest })
	}
}

func copyPrefixList(p *PrefixList) PrefixList {
	out := *p
	out.Spans = slices.Clone(p.Spans)
	out.Tags = slices.Clone(p.Tags)
	return out
}

// EntryInput is an entry a request gives: a CIDR as written, and a
// description.
type EntryInput struct {
	CIDR        string
	Description string
}

// CreatePrefixListInput is CreateManagedPrefixList's request.
type CreatePrefixListInput struct {
	Name          string
	AddressFamily string
	MaxEntries    *int
	Entries       []EntryInput
	Tags          []Tag
	ClientToken   string
}

// CreateManagedPrefixList makes a prefix list at version 1 holding the
// given entries. A retry with the same ClientToken answers the list the
// first try made.
func (c *Cloud) CreateManagedPrefixList(ctx context.Context, s Scope, in CreatePrefixListInput) (PrefixList, error) {
	switch {
	case in.Name == "":
		return PrefixList{}, missingParameter("prefixListName")
	case in.AddressFamily == "":
		return PrefixList{}, missingParameter("addressFamily")
	case in.MaxEntries == nil:
		return PrefixList{}, missingParameter("maxEntries")
	}
	if err := checkPrefixListName(in.Name); err != nil {
		return PrefixList{}, err
	}
	if in.AddressFamily != FamilyIPv4 && in.AddressFamily != FamilyIPv6 {
		return PrefixList{}, invalidValue("Invalid value '%s' for addressFamily. Valid values: IPv4, IPv6.", in.AddressFamily)
	}
	if err := checkMaxEntries(*in.MaxEntries); err != nil {
		return PrefixList{}, err
	}
	entries, err := parseEntries(in.AddressFamily, in.Entries)
	if err != nil {
		return PrefixList{}, err
	}
	for i, e := range entries {
		if j := slices.IndexFunc(entries[:i], func(o PrefixListEntry) bool { return o.CIDR == e.CIDR }); j >= 0 {
			return PrefixList{}, entryExists(in.Entries[i].CIDR, entries[j].Description)
		}
	}
	if len(entries) > *in.MaxEntries {
		return PrefixList{}, tooManyEntries(len(entries), *in.MaxEntries)
	}
	if err := checkTags(in.Tags); err != nil {
		return PrefixList{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return PrefixList{}, err
	}
	defer c.unlock()
	fingerprint := prefixListRequest(s, in)
	if in.ClientToken != "" {
		for p := range c.model().prefixLists.All() {
			if p.Region == s.Region && p.ClientToken == in.ClientToken {
				if p.Request != fingerprint {
					return PrefixList{}, Errorf("IdempotentParameterMismatch", "The client token %s was used with other parameters.", in.ClientToken)
				}
				return copyPrefixList(p), nil
			}
		}
	}
	if err := c.checkQuota(quota.PrefixLists, 1+countWhere(c.model().prefixLists.All(), func(p *PrefixList) bool { return p.Region == s.Region })); err != nil {
		return PrefixList{}, err
	}
	p := &PrefixList{
		ID: newID("pl"), Region: s.Region, OwnerID: c.account, Name: in.Name, AddressFamily: in.AddressFamily,
		MaxEntries: *in.MaxEntries, Oldest: 1, State: PrefixListCreateComplete, Tags: slices.Clone(in.Tags), Seq: c.nextSeq(),
	}
	if in.ClientToken != "" {
		p.ClientToken, p.Request = in.ClientToken, fingerprint
	}
	p.newVersion(entries)
	c.model().prefixLists.Put(p)
	return c.commitPrefixListLocked(p)
}

// prefixListRequest identifies what a CreateManagedPrefixList request asked,
// to tell a retry from another request with the same client token.
func prefixListRequest(s Scope, in CreatePrefixListInput) string {
	in.ClientToken = ""
	b, _ := json.Marshal(struct {
		Region string
		In     CreatePrefixListInput
	}{s.Region, in})
	return string(b)
}

// checkPrefixListName refuses a name EC2 refuses: empty, too long, or one
// of AWS's own. (vpcsim's wording.)
func checkPrefixListName(name string) error {
	switch {
	case len(name) > prefixListNameMax:
		return invalidValue("Invalid value for prefixListName. Length exceeds maximum of %d.", prefixListNameMax)
	case strings.HasPrefix(name, "com.amazonaws"):
		return invalidValue("The prefix list name cannot start with com.amazonaws.")
	}
	return nil
}

// checkMaxEntries refuses a size outside EC2's bounds. (vpcsim's wording.)
func checkMaxEntries(n int) error {
	if n < 1 || n > prefixListMaxEntries {
		return invalidValue("Invalid value '%d' for maxEntries. It must be between 1 and %d.", n, prefixListMaxEntries)
	}
	return nil
}

// parseEntries reads a request's entries: CIDRs of the list's family,
// stored masked, as EC2 stores them.
func parseEntries(family string, in []EntryInput) ([]PrefixListEntry, error) {
	if len(in) > prefixListEntriesAsked {
		return nil, invalidValue("A request may add at most %d entries to a prefix list.", prefixListEntriesAsked)
	}
	out := make([]PrefixListEntry, 0, len(in))
	for _, e := range in {
		p, err := parseEntryCIDR(family, e.CIDR)
		if err != nil {
			return nil, err
		}
		if len(e.Description) > prefixListNameMax {
			return nil, invalidValue("Invalid value for description. Length exceeds maximum of %d.", prefixListNameMax)
		}
		out = append(out, PrefixListEntry{CIDR: p, Description: e.Description})
	}
	return out, nil
}

func parseEntryCIDR(family, cidr string) (netip.Prefix, error) {
	if cidr == "" {
		return netip.Prefix{}, missingParameter("cidr")
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, invalidValue("The CIDR '%s' is not valid.", cidr)
	}
	if p.Addr().Is4() != (family == FamilyIPv4) {
		return netip.Prefix{}, invalidValue("The CIDR '%s' does not match the address family (%s) of the prefix list.", cidr, family)
	}
	return p.Masked(), nil
}

// entryExists is EC2's refusal of an entry the list holds already.
func entryExists(cidr, description string) error {
	return Errorf("InvalidPrefixListModification", "An entry with the CIDR (%s) and description (%s) already exists.", cidr, description)
}

// tooManyEntries refuses entries beyond the list's size. (vpcsim's wording.)
func tooManyEntries(n, max int) error {
	return invalidValue("The prefix list would have %d entries; its maximum is %d.", n, max)
}

// prefixListLocked finds a prefix list of the region.
func (c *Cloud) prefixListLocked(s Scope, id string) (*PrefixList, error) {
	if id == "" {
		return nil, missingParameter("prefixListId")
	}
	p := get(c.model().prefixLists, id)
	if p == nil || p.Region != s.Region {
		return nil, notFound("InvalidPrefixListID.NotFound", "prefix list", id)
	}
	return p, nil
}

// lockPrefixList takes the model's lock and finds a prefix list of the
// region; the caller unlocks when it is found.
func (c *Cloud) lockPrefixList(ctx context.Context, s Scope, id string) (*PrefixList, error) {
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	p, err := c.prefixListLocked(s, id)
	if err != nil {
		c.unlock()
		return nil, err
	}
	return p, nil
}

// commitPrefixListLocked commits the call's changes and answers a copy of
// the list as they leave it.
func (c *Cloud) commitPrefixListLocked(p *PrefixList) (PrefixList, error) {
	if err := c.commitLocked(); err != nil {
		return PrefixList{}, err
	}
	return copyPrefixList(p), nil
}

// DescribeManagedPrefixLists lists the region's prefix lists: those named
// (all must exist), filtered.
func (c *Cloud) DescribeManagedPrefixLists(ctx context.Context, s Scope, ids []string, f []Filter) ([]PrefixList, error) {
	return describeFiltered(ctx, c, s, f, func() ([]PrefixList, error) {
		list, err := pick(ids, func(id string) (*PrefixList, error) { return c.prefixListLocked(s, id) },
			func() []*PrefixList {
				return inRegion(sortedBySeq(c.model().prefixLists.All(), func(p *PrefixList) int64 { return p.Seq }), s, func(p *PrefixList) string { return p.Region })
			})
		return copies(list, err, copyPrefixList)
	}, func(p *PrefixList) []Tag { return p.Tags }, func(p *PrefixList, name string) ([]string, bool) {
		switch name {
		case "owner-id":
			return []string{p.OwnerID}, true
		case "prefix-list-id":
			return []string{p.ID}, true
		case "prefix-list-name":
			return []string{p.Name}, true
		}
		return nil, false
	})
}

// GetManagedPrefixListEntries answers the entries of a version of a list
// (nil: the current one), by CIDR.
func (c *Cloud) GetManagedPrefixListEntries(ctx context.Context, s Scope, id string, version *int64) ([]PrefixListEntry, error) {
	p, err := c.lockPrefixList(ctx, s, id)
	if err != nil {
		return nil, err
	}
	defer c.unlock()
	v := p.Version
	if version != nil {
		v = *version
		if err := checkVersionKept(p, v, "targetVersion"); err != nil {
			return nil, err
		}
	}
	return p.EntriesAt(v), nil
}

// checkVersionKept refuses a version the list does not keep. (vpcsim's
// wording.)
func checkVersionKept(p *PrefixList, v int64, param string) error {
	if v < p.Oldest || v > p.Version {
		return invalidValue("Invalid value '%d' for %s. The prefix list %s has versions %d to %d.", v, param, p.ID, p.Oldest, p.Version)
	}
	return nil
}

// ModifyPrefixListInput is ModifyManagedPrefixList's request; nil and ""
// leave a field as it is.
type ModifyPrefixListInput struct {
	ID             string
	CurrentVersion *int64
	Name           string
	Add            []EntryInput
	Remove         []string // CIDRs
	MaxEntries     *int
}

// ModifyManagedPrefixList renames a list, changes its entries (a new
// version: what Remove names goes, then what Add gives comes) or resizes
// it. A resize that a security group using the list cannot hold within its
// rule quota is not made: the list answers modify-failed, and the state
// message names the groups, as EC2 does.
func (c *Cloud) ModifyManagedPrefixList(ctx context.Context, s Scope, in ModifyPrefixListInput) (PrefixList, error) {
	changesEntries := len(in.Add) > 0 || len(in.Remove) > 0
	if in.MaxEntries != nil && changesEntries {
		return PrefixList{}, Errorf("InvalidParameterCombination", "You cannot modify the entries and the maximum entries for the prefix list in the same request.")
	}
	if in.Name != "" {
		if err := checkPrefixListName(in.Name); err != nil {
			return PrefixList{}, err
		}
	}
	if in.MaxEntries != nil {
		if err := checkMaxEntries(*in.MaxEntries); err != nil {
			return PrefixList{}, err
		}
	}
	if len(in.Remove) > prefixListEntriesAsked {
		return PrefixList{}, invalidValue("A request may remove at most %d entries from a prefix list.", prefixListEntriesAsked)
	}
	p, err := c.lockPrefixList(ctx, s, in.ID)
	if err != nil {
		return PrefixList{}, err
	}
	defer c.unlock()
	if err := checkCurrentVersion(p, in.CurrentVersion); err != nil {
		return PrefixList{}, err
	}
	var next []PrefixListEntry
	if changesEntries {
		if next, err = changedEntries(p, in.Add, in.Remove); err != nil {
			return PrefixList{}, err
		}
	}
	if in.MaxEntries != nil && *in.MaxEntries < len(p.Entries()) {
		return PrefixList{}, tooManyEntries(len(p.Entries()), *in.MaxEntries)
	}
	var over []string
	if in.MaxEntries != nil && *in.MaxEntries > p.MaxEntries {
		over = c.groupsOverRuleQuotaLocked(p.ID, *in.MaxEntries)
	}
	p = edit(c.model().prefixLists, p.ID)
	if len(over) > 0 {
		// Nothing of the request is made.
		p.State = PrefixListModifyFailed
		p.StateMessage = fmt.Sprintf("These resources cannot support the new maximum size: %s.", strings.Join(firstTen(over), ", "))
		if err := c.commitLocked(); err != nil {
			return PrefixList{}, err
		}
		return copyPrefixList(p), nil
	}
	p.State, p.StateMessage = PrefixListModifyComplete, ""
	if in.Name != "" {
		p.Name = in.Name
	}
	if in.MaxEntries != nil {
		p.MaxEntries = *in.MaxEntries
	}
	if changesEntries {
		p.newVersion(next)
	}
	return c.commitPrefixListLocked(p)
}

// checkCurrentVersion refuses a request made against another version than
// the list's current one.
func checkCurrentVersion(p *PrefixList, v *int64) error {
	if v != nil && *v != p.Version {
		return Errorf("PrefixListVersionMismatch", "The prefix list has the incorrect version number.")
	}
	return nil
}

// changedEntries is the list's current entries less those remove names,
// with add's: each removed CIDR must be an entry, no added one may be.
func changedEntries(p *PrefixList, add []EntryInput, remove []string) ([]PrefixListEntry, error) {
	next := p.Entries()
	for _, cidr := range remove {
		pfx, err := parseEntryCIDR(p.AddressFamily, cidr)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(next, func(e PrefixListEntry) bool { return e.CIDR == pfx })
		if i < 0 {
			return nil, Errorf("InvalidPrefixListModification", "The prefix list %s has no entry with the CIDR (%s).", p.ID, cidr)
		}
		next = slices.Delete(next, i, i+1)
	}
	added, err := parseEntries(p.AddressFamily, add)
	if err != nil {
		return nil, err
	}
	for i, e := range added {
		if j := slices.IndexFunc(next, func(o PrefixListEntry) bool { return o.CIDR == e.CIDR }); j >= 0 {
			return nil, entryExists(add[i].CIDR, next[j].Description)
		}
		next = append(next, e)
	}
	if len(next) > p.MaxEntries {
		return nil, tooManyEntries(len(next), p.MaxEntries)
	}
	return next, nil
}

// RestoreManagedPrefixListVersion makes the entries of an earlier version
// the entries of a new one.
func (c *Cloud) RestoreManagedPrefixListVersion(ctx context.Context, s Scope, id string, previous, current *int64) (PrefixList, error) {
	switch {
	case id == "":
		return PrefixList{}, missingParameter("prefixListId")
	case previous == nil:
		return PrefixList{}, missingParameter("previousVersion")
	case current == nil:
		return PrefixList{}, missingParameter("currentVersion")
	}
	p, err := c.lockPrefixList(ctx, s, id)
	if err != nil {
		return PrefixList{}, err
	}
	defer c.unlock()
	if err := checkCurrentVersion(p, current); err != nil {
		return PrefixList{}, err
	}
	if err := checkVersionKept(p, *previous, "previousVersion"); err != nil {
		return PrefixList{}, err
	}
	entries := p.EntriesAt(*previous)
	if len(entries) > p.MaxEntries {
		return PrefixList{}, tooManyEntries(len(entries), p.MaxEntries)
	}
	p = edit(c.model().prefixLists, p.ID)
	p.State, p.StateMessage = PrefixListRestoreComplete, ""
	p.newVersion(entries)
	return c.commitPrefixListLocked(p)
}

// DeleteManagedPrefixList deletes a list no security group rule or route
// names; it answers the list as it was, delete-complete. A list still in
// use stays, delete-failed, its state message naming (up to ten of) the
// resources that use it, as EC2 leaves it.
func (c *Cloud) DeleteManagedPrefixList(ctx context.Context, s Scope, id string) (PrefixList, error) {
	p, err := c.lockPrefixList(ctx, s, id)
	if err != nil {
		return PrefixList{}, err
	}
	defer c.unlock()
	if users := c.prefixListUsersLocked(p.ID); len(users) > 0 {
		p = edit(c.model().prefixLists, p.ID)
		p.State, p.StateMessage = PrefixListDeleteFailed, fmt.Sprintf("The prefix list is in use by: %s.", strings.Join(firstTen(users), ", "))
	} else {
		c.model().prefixLists.Delete(p.ID)
		out := copyPrefixList(p)
		out.State, out.StateMessage = PrefixListDeleteComplete, ""
		p = &out
	}
	return c.commitPrefixListLocked(p)
}

func firstTen(ids []string) []string { return ids[:min(len(ids), 10)] }
