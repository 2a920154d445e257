package hostnet

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The security-group table (see firewall.go), built whole by addSGTable and
// changed ENI by ENI and group by group by changeSGTable. Both queue the same
// objects through the same helpers, so a change leaves exactly what a full
// build of the changed firewall makes.

const ctEstablishedRelated = expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED

// sgTable is the security-group table and its maps, by name: sets made in the
// same transaction are found by name as well as those already there.
type sgTable struct {
	t                *nftables.Table
	from, to, logged *nftables.Set
	groups           map[string]*nftables.Set // sets made in this transaction
	nft              *nftables.Conn
}

func newSGTable(nft *nftables.Conn) *sgTable {
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: sgTableName}
	vmap := func(name string) *nftables.Set {
		return &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeVerdict}
	}
	return &sgTable{t: t, from: vmap("from-eni"), to: vmap("to-eni"), logged: vmap("logged"), groups: map[string]*nftables.Set{}, nft: nft}
}

// group is a referenced group's set.
func (s *sgTable) group(gid string) *nftables.Set {
	if g := s.groups[gid]; g != nil {
		return g
	}
	return &nftables.Set{Table: s.t, Name: "g-" + gid, KeyType: nftables.TypeIPAddr}
}

// addGroup makes a group's set with its members.
func (s *sgTable) addGroup(gid string, members []netip.Addr) error {
	g := s.group(gid)
	if err := addSet(s.nft, g, nil); err != nil {
		return err
	}
	s.groups[gid] = g
	return addElements(s.nft, g, addrElements(members))
}

func eniChain(t *nftables.Table, prefix, eniID string) *nftables.Chain {
	return &nftables.Chain{Name: prefix + eniID, Table: t}
}

// addRules fills an ENI's egress and ingress chains (made or flushed before).
func (s *sgTable) addRules(e netmodel.FirewallENI) {
	out, in := eniChain(s.t, "o-", e.ID), eniChain(s.t, "i-", e.ID)
	logged := len(e.FlowLogs) > 0
	for _, r := range e.Egress {
		s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: out, Exprs: ruleExprs(r, ipDaddrOffset, s.group, logged, e.ID, expr.VerdictReturn)})
	}
	s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: out, Exprs: verdictExprs(logged, "R", e.ID, expr.VerdictDrop)})
	for _, r := range e.Ingress {
		s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: in, Exprs: ruleExprs(r, ipSaddrOffset, s.group, logged, e.ID, expr.VerdictAccept)})
	}
	s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: in, Exprs: verdictExprs(logged, "R", e.ID, expr.VerdictDrop)})
}

// addLogChain makes a flow-logged ENI's l- chain: the packets of its admitted
// connections are logged as accepted.
func (s *sgTable) addLogChain(eniID string) {
	c := s.nft.AddChain(eniChain(s.t, "l-", eniID))
	s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: c, Exprs: []expr.Any{nflog(flowLogGroup, flowLogSnaplen, "A "+eniID)}})
}

// delChain removes a chain and its rules (flushed first: the kernel deletes
// only an empty chain on older versions).
func (s *sgTable) delChain(prefix, eniID string) {
	c := eniChain(s.t, prefix, eniID)
	s.nft.FlushChain(c)
	s.nft.DelChain(c)
}

// eniElements are the map elements of an ENI: its addresses in from-eni,
// to-eni and, when it is flow-logged, logged.
type eniElements struct {
	from, to, logged map[netip.Addr]nftables.SetElement
}

func elementsOf(e *netmodel.FirewallENI) eniElements {
	out := eniElements{from: map[netip.Addr]nftables.SetElement{}, to: map[netip.Addr]nftables.SetElement{}, logged: map[netip.Addr]nftables.SetElement{}}
	if e == nil {
		return out
	}
	for _, a := range e.Addrs {
		out.from[a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("o-" + e.ID)}
		out.to[a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("i-" + e.ID)}
		if len(e.FlowLogs) > 0 {
			out.logged[a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("l-" + e.ID)}
		}
	}
	return out
}

// minus lists the elements of a whose keys b lacks, in address order.
func minus(a, b map[netip.Addr]nftables.SetElement) []nftables.SetElement {
	var out []nftables.SetElement
	for _, k := range slices.SortedFunc(maps.Keys(a), netip.Addr.Compare) {
		if _, ok := b[k]; !ok {
			out = append(out, a[k])
		}
	}
	return out
}

func addSGTable(nft *nftables.Conn, fw netmodel.Firewall) error {
	s := newSGTable(nft)
	replaceTable(nft, s.t)
	for _, gid := range slices.Sorted(maps.Keys(fw.Members)) {
		if err := s.addGroup(gid, fw.Members[gid]); err != nil {
			return err
		}
	}
	for _, m := range []*nftables.Set{s.from, s.to, s.logged} {
		if err := addSet(nft, m, nil); err != nil {
			return err
		}
	}
	var from, to, logged []nftables.SetElement
	for _, e := range fw.ENIs {
		nft.AddChain(eniChain(s.t, "o-", e.ID))
		nft.AddChain(eniChain(s.t, "i-", e.ID))
		s.addRules(e)
		if len(e.FlowLogs) > 0 {
			s.addLogChain(e.ID)
		}
		els := elementsOf(&e)
		from = append(from, minus(els.from, nil)...)
		to = append(to, minus(els.to, nil)...)
		logged = append(logged, minus(els.logged, nil)...)
	}
	if fw.Host.IsValid() {
		to = append(to, nftables.SetElement{Key: fw.Host.AsSlice(), VerdictData: verdict(expr.VerdictAccept)})
	}
	for _, add := range []struct {
		m  *nftables.Set
		es []nftables.SetElement
	}{{s.from, from}, {s.to, to}, {s.logged, logged}} {
		if err := addElements(nft, add.m, add.es); err != nil {
			return err
		}
	}

	accept := nftables.ChainPolicyAccept
	fwd := nft.AddChain(&nftables.Chain{
		Name: "forward", Table: s.t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	add := func(exprs ...[]expr.Any) {
		nft.AddRule(&nftables.Rule{Table: s.t, Chain: fwd, Exprs: slices.Concat(exprs...)})
	}
	// Packets of admitted connections: counted into the flow logs of the ENIs
	// that send or receive them, then let through without another look.
	add(ctStateIn(ctEstablishedRelated), isIPv4(), ipAddrInSet(ipSaddrOffset, s.logged))
	add(ctStateIn(ctEstablishedRelated), isIPv4(), ipAddrInSet(ipDaddrOffset, s.logged))
	add(ctStateIn(ctEstablishedRelated), []expr.Any{verdict(expr.VerdictAccept)})
	add(isIPv4(), ipAddrInSet(ipSaddrOffset, s.from))
	add(isIPv4(), ipAddrInSet(ipDaddrOffset, s.to))
	// An address of a secondary block that no ENI has: fail closed, as for
	// the primary block below.
	for _, p := range fw.Secondary {
		if p.IsValid() && p.Addr().Is4() && p.Bits() > 0 {
			add(isIPv4(), ipAddrIn(ipDaddrOffset, p), []expr.Any{verdict(expr.VerdictDrop)})
		}
	}
	// From an ENI whose egress rules let it out (it returned from its o-
	// chain), to outside the VPC: no ENI there has ingress rules to judge it.
	if fw.CIDR.IsValid() && fw.CIDR.Addr().Is4() && fw.CIDR.Bits() > 0 {
		add(isIPv4(), ipAddrKeyOf(ipSaddrOffset, s.from), ipAddrNotIn(ipDaddrOffset, fw.CIDR), []expr.Any{verdict(expr.VerdictAccept)})
	}
	add([]expr.Any{verdict(expr.VerdictDrop)})
	return nil
}

// changeSGTable queues a change of the security-group table, in an order the
// kernel accepts within one transaction: sets that come and chains that come
// first, then rules, then map elements (those that go before those that
// come: an address may pass from a leaving ENI to a new one), then the chains
// that no element jumps to any more, and last the sets no rule uses.
func changeSGTable(nft *nftables.Conn, ch netmodel.FirewallChange) error {
	s := newSGTable(nft)
	for _, g := range ch.Groups {
		if !g.Before && g.After {
			if err := s.addGroup(g.ID, g.Add); err != nil {
				return err
			}
		}
	}
	for _, g := range ch.Groups {
		if g.Before && g.After {
			if err := delElements(nft, s.group(g.ID), addrElements(g.Del)); err != nil {
				return err
			}
			if err := addElements(nft, s.group(g.ID), addrElements(g.Add)); err != nil {
				return err
			}
		}
	}
	var del, add [3][]nftables.SetElement // from, to, logged
	for _, c := range ch.ENIs {
		oldLogged := c.Old != nil && len(c.Old.FlowLogs) > 0
		newLogged := c.New != nil && len(c.New.FlowLogs) > 0
		switch {
		case c.Old == nil:
			nft.AddChain(eniChain(s.t, "o-", c.New.ID))
			nft.AddChain(eniChain(s.t, "i-", c.New.ID))
			s.addRules(*c.New)
		case c.New != nil && !sameRules(*c.Old, *c.New):
			nft.FlushChain(eniChain(s.t, "o-", c.New.ID))
			nft.FlushChain(eniChain(s.t, "i-", c.New.ID))
			s.addRules(*c.New)
		}
		if newLogged && !oldLogged {
			s.addLogChain(c.New.ID)
		}
		o, n := elementsOf(c.Old), elementsOf(c.New)
		for i, pair := range [][2]map[netip.Addr]nftables.SetElement{{o.from, n.from}, {o.to, n.to}, {o.logged, n.logged}} {
			del[i] = append(del[i], minus(pair[0], pair[1])...)
			add[i] = append(add[i], minus(pair[1], pair[0])...)
		}
	}
	maps := []*nftables.Set{s.from, s.to, s.logged}
	for i, m := range maps {
		if err := delElements(nft, m, del[i]); err != nil {
			return err
		}
	}
	for i, m := range maps {
		if err := addElements(nft, m, add[i]); err != nil {
			return err
		}
	}
	for _, c := range ch.ENIs {
		if c.Old == nil {
			continue
		}
		if c.New == nil {
			s.delChain("o-", c.Old.ID)
			s.delChain("i-", c.Old.ID)
		}
		if len(c.Old.FlowLogs) > 0 && (c.New == nil || len(c.New.FlowLogs) == 0) {
			s.delChain("l-", c.Old.ID)
		}
	}
	for _, g := range ch.Groups {
		if g.Before && !g.After {
			nft.DelSet(s.group(g.ID))
		}
	}
	return nil
}

// sameRules reports whether two versions of an ENI have the same o- and i-
// chains: the same rules, logged or not alike.
func sameRules(a, b netmodel.FirewallENI) bool {
	return reflect.DeepEqual(a.Ingress, b.Ingress) && reflect.DeepEqual(a.Egress, b.Egress) &&
		(len(a.FlowLogs) > 0) == (len(b.FlowLogs) > 0)
}
