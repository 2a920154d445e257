package hostnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	mnetlink "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nftSpec is a small nftables table as it must be, whole: its chains with
// their rules, each rule known by its comment (which says everything the rule
// does, as `nft list ruleset` would print it), and its maps (address to
// address, or address to a jump) with their elements. A table that differs in
// anything it can read back — a chain, a rule's comment, an element — is
// replaced whole, in one transaction, so no packet ever meets half a table;
// one that matches is left alone, so applying the same spec again sends
// nothing.
type nftSpec struct {
	table  *nftables.Table
	maps   []*nftMap
	chains []nftChain
}

// nftMap is a map from IPv4 address to IPv4 address, e.g. public → private,
// or, made by newJumpMap, a verdict map from IPv4 address to a jump to a
// chain of the table.
type nftMap struct {
	set   *nftables.Set
	elems map[netip.Addr]netip.Addr
	jumps map[netip.Addr]string // a verdict map's elements: address → chain; nil for an address map
}

func newAddrMap(t *nftables.Table, name string, elems map[netip.Addr]netip.Addr) *nftMap {
	return &nftMap{
		set:   &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeIPAddr},
		elems: elems,
	}
}

// newJumpMap is a verdict map whose elements jump to chains of the spec:
// address → chain name.
func newJumpMap(t *nftables.Table, name string, jumps map[netip.Addr]string) *nftMap {
	if jumps == nil {
		jumps = map[netip.Addr]string{}
	}
	return &nftMap{
		set:   &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeVerdict},
		jumps: jumps,
	}
}

type nftChain struct {
	chain *nftables.Chain
	rules []nftRule
}

// nftRule is one rule: its comment and its expressions. exprs is called only
// once the spec's maps are queued, so that lookups can name them by ID.
type nftRule struct {
	comment string
	exprs   func() []expr.Any
}

// comments lists the rules' comments of every chain, by chain name: all of
// the rules the spec can be compared by.
func (s *nftSpec) comments() map[string][]string {
	out := map[string][]string{}
	for _, c := range s.chains {
		out[c.chain.Name] = []string{}
		for _, r := range c.rules {
			out[c.chain.Name] = append(out[c.chain.Name], r.comment)
		}
	}
	return out
}

// nftTableState is what of a table readNFTTable found.
type nftTableState struct {
	exists bool
	same   bool                                 // exactly as the spec says
	maps   map[string]map[netip.Addr]netip.Addr // the address maps' elements, by map name
	jumps  map[string]map[netip.Addr]string     // the verdict maps' elements, by map name
}

// readNFTTable reads the spec's table from the namespace nft talks to and
// compares it with the spec.
func readNFTTable(nft *nftables.Conn, s *nftSpec) (nftTableState, error) {
	st := nftTableState{maps: map[string]map[netip.Addr]netip.Addr{}, jumps: map[string]map[netip.Addr]string{}}
	if _, err := nft.ListTableOfFamily(s.table.Name, s.table.Family); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return st, nil
		}
		return st, err
	}
	st.exists = true
	same := true
	chains, err := nft.ListChainsOfTableFamily(s.table.Family)
	if err != nil {
		return st, err
	}
	have := map[string]*nftables.Chain{}
	for _, c := range chains {
		if c.Table != nil && c.Table.Name == s.table.Name {
			have[c.Name] = c
		}
	}
	if len(have) != len(s.chains) {
		same = false
	}
	comments := s.comments()
	for _, want := range s.chains {
		c := have[want.chain.Name]
		if c == nil || !sameBaseChain(c, want.chain) {
			same = false
			continue
		}
		rules, err := nft.GetRules(s.table, c)
		if err != nil {
			return st, fmt.Errorf("rules of chain %s: %w", c.Name, err)
		}
		got := make([]string, 0, len(rules))
		for _, r := range rules {
			got = append(got, ruleComment(r))
		}
		if !slices.Equal(got, comments[c.Name]) {
			same = false
		}
	}
	sets, err := nft.GetSets(s.table)
	if err != nil {
		return st, err
	}
	if len(sets) != len(s.maps) {
		same = false
	}
	// A set is read as the spec's map of its name says: elements of the
	// other kind fail to parse, and so differ.
	verdictMap := map[string]bool{}
	for _, m := range s.maps {
		verdictMap[m.set.Name] = m.jumps != nil
	}
	for _, set := range sets {
		elems, err := nft.GetSetElements(set)
		if err != nil {
			return st, fmt.Errorf("elements of %s: %w", set.Name, err)
		}
		m, j := map[netip.Addr]netip.Addr{}, map[netip.Addr]string{}
		for _, e := range elems {
			k, okK := netip.AddrFromSlice(e.Key)
			if verdictMap[set.Name] {
				chain, okV := jumpChain(e.Val)
				if !okK || !okV {
					same = false
					continue
				}
				j[k] = chain
				continue
			}
			v, okV := netip.AddrFromSlice(e.Val)
			if !okK || !okV {
				same = false
				continue
			}
			m[k] = v
		}
		if verdictMap[set.Name] {
			st.jumps[set.Name] = j
		} else {
			st.maps[set.Name] = m
		}
	}
	for _, want := range s.maps {
		if want.jumps != nil {
			got, ok := st.jumps[want.set.Name]
			if !ok || !maps.Equal(got, want.jumps) {
				same = false
			}
			continue
		}
		got, ok := st.maps[want.set.Name]
		if !ok || !maps.Equal(got, want.elems) {
			same = false
		}
	}
	st.same = same
	return st, nil
}

// sameBaseChain reports whether a chain read back hooks in as want says: a
// base chain as want's hook, type, priority and policy; a regular chain (want
// has no hook) not at all.
func sameBaseChain(c, want *nftables.Chain) bool {
	if want.Hooknum == nil {
		return c.Hooknum == nil
	}
	if c.Type != want.Type || c.Hooknum == nil || want.Hooknum == nil || *c.Hooknum != *want.Hooknum ||
		c.Priority == nil || want.Priority == nil || *c.Priority != *want.Priority {
		return false
	}
	policy := nftables.ChainPolicyAccept
	if want.Policy != nil {
		policy = *want.Policy
	}
	return c.Policy == nil && policy == nftables.ChainPolicyAccept || c.Policy != nil && *c.Policy == policy
}

// queueReplace queues, on nft, the replacement of the spec's table by what the
// spec says: one transaction once flushed.
func (s *nftSpec) queueReplace(nft *nftables.Conn) error {
	replaceTable(nft, s.table)
	for _, m := range s.maps {
		m.set.ID = 0 // a new ID for this transaction
		if err := addSet(nft, m.set, nil); err != nil {
			return err
		}
		if m.jumps != nil {
			continue // filled once the chains they jump to are there
		}
		elems := make([]nftables.SetElement, 0, len(m.elems))
		for _, k := range slices.SortedFunc(maps.Keys(m.elems), netip.Addr.Compare) {
			elems = append(elems, nftables.SetElement{Key: k.AsSlice(), Val: m.elems[k].AsSlice()})
		}
		if err := addElements(nft, m.set, elems); err != nil {
			return err
		}
	}
	for _, c := range s.chains {
		ch := nft.AddChain(c.chain)
		for _, r := range c.rules {
			nft.AddRule(&nftables.Rule{
				Table:    s.table,
				Chain:    ch,
				Exprs:    r.exprs(),
				UserData: userdata.AppendString(nil, userdata.TypeComment, r.comment),
			})
		}
	}
	for _, m := range s.maps {
		if m.jumps == nil {
			continue
		}
		elems := make([]nftables.SetElement, 0, len(m.jumps))
		for _, k := range slices.SortedFunc(maps.Keys(m.jumps), netip.Addr.Compare) {
			elems = append(elems, nftables.SetElement{Key: k.AsSlice(), VerdictData: jump(m.jumps[k])})
		}
		if err := addElements(nft, m.set, elems); err != nil {
			return err
		}
	}
	return nil
}

// jumpChain reads a verdict map element's value as google/nftables returns it
// (the NFTA_DATA_VERDICT attribute's nested attributes; the library does not
// decode verdicts): the chain of a jump, and whether it is one.
func jumpChain(val []byte) (string, bool) {
	ad, err := mnetlink.NewAttributeDecoder(val)
	if err != nil {
		return "", false
	}
	ad.ByteOrder = binary.BigEndian
	var code uint32
	var chain string
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			code = ad.Uint32()
		case unix.NFTA_VERDICT_CHAIN:
			chain = ad.String()
		}
	}
	if ad.Err() != nil || int32(code) != int32(expr.VerdictJump) || chain == "" {
		return "", false
	}
	return chain, true
}

// deleteNFTTable deletes a table of the namespace nft talks to; missing is
// success.
func deleteNFTTable(nft *nftables.Conn, t *nftables.Table) error {
	if _, err := nft.ListTableOfFamily(t.Name, t.Family); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	nft.DelTable(t)
	if err := nft.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
