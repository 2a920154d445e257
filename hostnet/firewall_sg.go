package hostnet

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The security-group table (see firewall.go), built whole by addSGTable and
// changed ENI by ENI and group by group by changeSGTable. Both queue the same
// objects through the same helpers, so a change leaves exactly what a full
// build of the changed firewall makes.

const ctEstablishedRelated = expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED

// unjudged are the destinations the security groups drop between ENIs: no
// ENI's ingress rules would judge what goes to them (multicast, IPv4's
// limited broadcast, IPv6's link-local addresses).
var unjudged = []netip.Prefix{
	netip.MustParsePrefix("224.0.0.0/4"), netip.MustParsePrefix("255.255.255.255/32"),
	linkLocal6, netip.MustParsePrefix("ff00::/8"),
}

// sgTable is the security-group table and its maps, by name: sets made in the
// same transaction are found by name as well as those already there.
type sgTable struct {
	t *nftables.Table
	// fams are the families the table holds (firewallFamilies).
	fams []ipFamily
	// maps are each family's from-eni, to-eni and logged maps, by tag.
	maps   map[string]*sgMaps
	groups map[string]*nftables.Set // sets made in this transaction, by name
	nft    *nftables.Conn
}

// sgMaps are one family's verdict maps, keyed by its addresses.
type sgMaps struct {
	from, to, logged *nftables.Set
}

// all lists the maps in the order their elements are kept in (eniElements).
func (m *sgMaps) all() [3]*nftables.Set { return [3]*nftables.Set{m.from, m.to, m.logged} }

// newSGTable is the table of a VPC with IPv6 blocks (v6) or without.
func newSGTable(nft *nftables.Conn, v6 bool) *sgTable {
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: sgTableName}
	s := &sgTable{t: t, fams: firewallFamilies(v6), maps: map[string]*sgMaps{}, groups: map[string]*nftables.Set{}, nft: nft}
	for _, f := range s.fams {
		vmap := func(kind string) *nftables.Set {
			return &nftables.Set{Table: t, Name: f.name(kind, ""), IsMap: true, KeyType: f.keyType, DataType: nftables.TypeVerdict}
		}
		s.maps[f.tag] = &sgMaps{from: vmap("from-eni"), to: vmap("to-eni"), logged: vmap("logged")}
	}
	return s
}

// group is the set of a referenced group's members of family f: g-<sg-id>
// and g6-<sg-id>.
func (s *sgTable) group(gid string, f ipFamily) *nftables.Set {
	name := f.name("g", gid)
	if g := s.groups[name]; g != nil {
		return g
	}
	return &nftables.Set{Table: s.t, Name: name, KeyType: f.keyType}
}

// addGroup makes a group's sets, one per family, with its members.
func (s *sgTable) addGroup(gid string, members []netip.Addr) error {
	for _, f := range s.fams {
		g := s.group(gid, f)
		if err := addSet(s.nft, g, nil); err != nil {
			return err
		}
		s.groups[g.Name] = g
	}
	return s.groupElements(gid, members, addElements)
}

// groupElements adds (op addElements) or deletes (delElements) members of a
// group, each in its family's set.
func (s *sgTable) groupElements(gid string, members []netip.Addr, op func(*nftables.Conn, *nftables.Set, []nftables.SetElement) error) error {
	for _, f := range s.fams {
		if err := op(s.nft, s.group(gid, f), addrElements(f, members)); err != nil {
			return err
		}
	}
	return nil
}

func eniChain(t *nftables.Table, prefix, eniID string) *nftables.Chain {
	return &nftables.Chain{Name: prefix + eniID, Table: t}
}

// addRules fills an ENI's egress and ingress chains (made or flushed
// before): each rule in a variant per family it admits (ruleFamilies).
func (s *sgTable) addRules(e netmodel.FirewallENI) {
	out, in := eniChain(s.t, "o-", e.ID), eniChain(s.t, "i-", e.ID)
	logged := len(e.FlowLogs) > 0
	add := func(c *nftables.Chain, r netmodel.FirewallRule, egress bool, v expr.VerdictKind) {
		for _, f := range ruleFamilies(r, s.fams) {
			peer := f.saddr
			if egress {
				peer = f.daddr
			}
			var peers *nftables.Set
			if r.PeerGroup != "" {
				peers = s.group(r.PeerGroup, f)
			}
			s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: c, Exprs: ruleExprs(r, f, peer, peers, logged, e.ID, v)})
		}
	}
	for _, r := range e.Egress {
		add(out, r, true, expr.VerdictReturn)
	}
	s.nft.AddRule(&nftables.Rule{Table: s.t, Chain: out, Exprs: verdictExprs(logged, "R", e.ID, expr.VerdictDrop)})
	for _, r := range e.Ingress {
		add(in, r, false, expr.VerdictAccept)
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

// eniElements are the map elements of an ENI: its addresses (both
// families) in from-eni, to-eni and, when it is flow-logged, logged.
type eniElements [3]map[netip.Addr]nftables.SetElement // from, to, logged

func elementsOf(e *netmodel.FirewallENI) eniElements {
	out := eniElements{{}, {}, {}}
	if e == nil {
		return out
	}
	for _, a := range e.Addrs {
		out[0][a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("o-" + e.ID)}
		out[1][a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("i-" + e.ID)}
		if len(e.FlowLogs) > 0 {
			out[2][a] = nftables.SetElement{Key: a.AsSlice(), VerdictData: jump("l-" + e.ID)}
		}
	}
	return out
}

// mapElements are elements of the maps of both families, (eniElements'
// order), to add or to delete.
type mapElements [3][]nftables.SetElement

// queue adds (op addElements) or deletes (delElements) the elements, each in
// its family's map.
func (s *sgTable) queue(es mapElements, op func(*nftables.Conn, *nftables.Set, []nftables.SetElement) error) error {
	for _, f := range s.fams {
		for i, m := range s.maps[f.tag].all() {
			if err := op(s.nft, m, ofFamily(f, es[i])); err != nil {
				return err
			}
		}
	}
	return nil
}

// ofFamily are the elements of a list whose key is an address of family f.
func ofFamily(f ipFamily, es []nftables.SetElement) []nftables.SetElement {
	var out []nftables.SetElement
	for _, e := range es {
		if uint32(len(e.Key)) == f.keyType.Bytes {
			out = append(out, e)
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

func addSGTable(nft *nftables.Conn, fw netmodel.Firewall, v6 bool) error {
	s := newSGTable(nft, v6)
	replaceTable(nft, s.t)
	for _, gid := range slices.Sorted(maps.Keys(fw.Members)) {
		if err := s.addGroup(gid, fw.Members[gid]); err != nil {
			return err
		}
	}
	for _, f := range s.fams {
		for _, m := range s.maps[f.tag].all() {
			if err := addSet(nft, m, nil); err != nil {
				return err
			}
		}
	}
	var els mapElements
	for _, e := range fw.ENIs {
		nft.AddChain(eniChain(s.t, "o-", e.ID))
		nft.AddChain(eniChain(s.t, "i-", e.ID))
		s.addRules(e)
		if len(e.FlowLogs) > 0 {
			s.addLogChain(e.ID)
		}
		for i, m := range elementsOf(&e) {
			els[i] = append(els[i], minus(m, nil)...)
		}
	}
	if fw.Host.IsValid() {
		els[1] = append(els[1], nftables.SetElement{Key: fw.Host.AsSlice(), VerdictData: verdict(expr.VerdictAccept)})
	}
	if err := s.queue(els, addElements); err != nil {
		return err
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
	for _, f := range s.fams {
		add(ctStateIn(ctEstablishedRelated), f.is(), ipAddrInSet(f.saddr, s.maps[f.tag].logged))
		add(ctStateIn(ctEstablishedRelated), f.is(), ipAddrInSet(f.daddr, s.maps[f.tag].logged))
	}
	add(ctStateIn(ctEstablishedRelated), []expr.Any{verdict(expr.VerdictAccept)})
	// Neighbour discovery and MLD between the ENIs of a subnet (bridged, to
	// multicast or a neighbour; conntrack does not track them): security
	// groups never block them. icmpv6 type 133-137 are router solicitation
	// and advertisement, neighbour solicitation and advertisement and
	// redirect, valid only with hop limit 255 (RFC 4861), which no routed
	// packet has by the forward hook; 130-132 are MLD's query, report and
	// done and 143 the MLDv2 report, sent from link-local addresses, which
	// are never routed. So neither lets anything past the groups between
	// subnets or to and from the internet. The ENI's port (vs-spoof) keeps
	// it from sending router advertisements, redirects and advertisements
	// for addresses not its own.
	if v6 {
		icmp6 := slices.Concat(ip6.is(), l4protoIs(unix.IPPROTO_ICMPV6))
		accept := []expr.Any{verdict(expr.VerdictAccept)}
		add(icmp6, transportByteIn(0, 133, 137), ip6HopLimitIs(255), accept)
		add(icmp6, transportByteIn(0, 130, 132), ipAddrIn(ip6.saddr, linkLocal6), accept)
		add(icmp6, transportByteIs(0, 143), ipAddrIn(ip6.saddr, linkLocal6), accept)
	}
	for _, f := range s.fams {
		add(f.is(), ipAddrInSet(f.saddr, s.maps[f.tag].from))
		add(f.is(), ipAddrInSet(f.daddr, s.maps[f.tag].to))
	}
	// An address of the VPC that no ENI has: fail closed; and what no ENI's
	// ingress rules would judge though it reaches ENIs: multicast, IPv4's
	// broadcast, IPv6's link-local addresses (which the to-eni maps do not
	// hold). Then from an ENI whose egress rules let it out (it returned
	// from its o- chain), to outside the VPC: no ENI there has ingress
	// rules to judge it. Everything else (a source that is no ENI's) is
	// dropped.
	blocks := slices.Concat([]netip.Prefix{fw.CIDR}, fw.Secondary, fw.IPv6, unjudged)
	for _, f := range s.fams {
		for _, p := range blocks {
			if p.IsValid() && familyOf(p.Addr()) == f {
				add(f.is(), ipAddrIn(f.daddr, p), []expr.Any{verdict(expr.VerdictDrop)})
			}
		}
		add(f.is(), ipAddrKeyOf(f.saddr, s.maps[f.tag].from), []expr.Any{verdict(expr.VerdictAccept)})
	}
	add([]expr.Any{verdict(expr.VerdictDrop)})
	return nil
}

// changeSGTable queues a change of the security-group table, in an order the
// kernel accepts within one transaction: sets that come and chains that come
// first, then rules, then map elements (those that go before those that
// come: an address may pass from a leaving ENI to a new one), then the chains
// that no element jumps to any more, and last the sets no rule uses. Each
// family's elements go to its own maps and sets, IPv6's only with ch.IPv6.
func changeSGTable(nft *nftables.Conn, ch netmodel.FirewallChange) error {
	s := newSGTable(nft, ch.IPv6)
	for _, g := range ch.Groups {
		if !g.Before && g.After {
			if err := s.addGroup(g.ID, g.Add); err != nil {
				return err
			}
		}
	}
	for _, g := range ch.Groups {
		if g.Before && g.After {
			if err := s.groupElements(g.ID, g.Del, delElements); err != nil {
				return err
			}
			if err := s.groupElements(g.ID, g.Add, addElements); err != nil {
				return err
			}
		}
	}
	var del, add mapElements
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
		for i := range o {
			del[i] = append(del[i], minus(o[i], n[i])...)
			add[i] = append(add[i], minus(n[i], o[i])...)
		}
	}
	if err := s.queue(del, delElements); err != nil {
		return err
	}
	if err := s.queue(add, addElements); err != nil {
		return err
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
			for _, f := range s.fams {
				nft.DelSet(s.group(g.ID, f))
			}
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
