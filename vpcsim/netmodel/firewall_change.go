package netmodel

import (
	"cmp"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
)

// FirewallChange is what one commit changed in one VPC's firewall: the ENIs
// whose share changed and the sets of referenced groups whose members
// changed. The dataplane applies it to the firewall it enforces (which is the
// change's old side) in one atomic step, at the cost of what changed rather
// than of the VPC's size; Firewall.Apply says what it means.
type FirewallChange struct {
	VPCID string
	// ENIs are sorted by ID, each ENI at most once.
	ENIs []ENIChange
	// Groups are sorted by ID, each group at most once.
	Groups []GroupChange
	// FlowLogged is whether any ENI of the VPC has a flow log after the
	// change: the VPC's flow capture runs exactly while it is.
	FlowLogged bool
	// IPv6 is whether the VPC has IPv6 blocks (Firewall.IPv6 is not empty),
	// before and after the change alike: the dataplane keeps the IPv6 half
	// of its tables (IPv6 sets of groups and ENIs, IPv6 variants of rules)
	// only in a VPC that has IPv6, so it must know which kind of table the
	// change applies to. A change of the VPC's IPv6 blocks is never a
	// FirewallChange: the domain applies it with SetFirewall.
	IPv6 bool
}

// ENIChange is one ENI's share before and after: Old nil for an ENI that
// comes, New nil for one that goes.
type ENIChange struct {
	Old, New *FirewallENI
}

// ID is the changed ENI's ID.
func (c ENIChange) ID() string {
	if c.New != nil {
		return c.New.ID
	}
	return c.Old.ID
}

// GroupChange is one referenced group's set: whether it exists before and
// after (it exists while some rule of the VPC references the group), and the
// addresses that join or leave it. A set that comes has all its members in
// Add; one that goes has all it had in Del.
type GroupChange struct {
	ID            string
	Before, After bool
	Add, Del      []netip.Addr // each sorted
}

// Apply returns fw with ch applied, checking that ch's old side is what fw
// holds (its IPv6 flag included): a change computed against another
// firewall is an error, not a silent drift. fw is not changed.
func (fw Firewall) Apply(ch FirewallChange) (Firewall, error) {
	out := fw.Clone()
	if err := out.ApplyInPlace(ch); err != nil {
		return fw, err
	}
	return out, nil
}

// ApplyInPlace is Apply changing fw itself, all or nothing: it checks the
// whole change before it changes anything. Its cost is the change's, plus
// moving the ENIs after a new or gone one in fw's sorted list.
func (fw *Firewall) ApplyInPlace(ch FirewallChange) error {
	if ch.VPCID != fw.VPCID {
		return fmt.Errorf("change of %s applied to the firewall of %s", ch.VPCID, fw.VPCID)
	}
	if has := len(fw.IPv6) > 0; ch.IPv6 != has {
		return fmt.Errorf("change of %s says IPv6=%v, the VPC's firewall has IPv6 blocks=%v", ch.VPCID, ch.IPv6, has)
	}
	for _, g := range ch.Groups {
		cur, ok := fw.Members[g.ID]
		if ok != g.Before {
			return fmt.Errorf("set of %s: exists=%v, the change says %v", g.ID, ok, g.Before)
		}
		for _, a := range g.Del {
			if _, found := slices.BinarySearchFunc(cur, a, netip.Addr.Compare); !found {
				return fmt.Errorf("set of %s: %s to remove is not in it", g.ID, a)
			}
		}
		for _, a := range g.Add {
			if _, found := slices.BinarySearchFunc(cur, a, netip.Addr.Compare); found && !slices.Contains(g.Del, a) {
				return fmt.Errorf("set of %s: %s to add is in it already", g.ID, a)
			}
		}
		if !g.After && len(cur)+len(g.Add) != len(g.Del) {
			return fmt.Errorf("set of %s goes, yet members stay in it", g.ID)
		}
	}
	for _, e := range ch.ENIs {
		id := e.ID()
		i, found := fw.eniIndex(id)
		switch {
		case found != (e.Old != nil):
			return fmt.Errorf("ENI %s: in the firewall=%v, the change says %v", id, found, e.Old != nil)
		case found && !reflect.DeepEqual(fw.ENIs[i], *e.Old):
			return fmt.Errorf("ENI %s: the firewall holds %+v, the change's old side is %+v", id, fw.ENIs[i], *e.Old)
		}
	}
	if fw.Members == nil {
		fw.Members = map[string][]netip.Addr{}
	}
	for _, g := range ch.Groups {
		if !g.After {
			delete(fw.Members, g.ID)
			continue
		}
		next := fw.Members[g.ID]
		for _, a := range g.Del {
			i, _ := slices.BinarySearchFunc(next, a, netip.Addr.Compare)
			next = slices.Delete(next, i, i+1)
		}
		for _, a := range g.Add {
			i, _ := slices.BinarySearchFunc(next, a, netip.Addr.Compare)
			next = slices.Insert(next, i, a)
		}
		if next == nil {
			next = []netip.Addr{}
		}
		fw.Members[g.ID] = next
	}
	for _, e := range ch.ENIs {
		i, found := fw.eniIndex(e.ID())
		switch {
		case e.New == nil:
			fw.ENIs = slices.Delete(fw.ENIs, i, i+1)
		case found:
			fw.ENIs[i] = *e.New
		default:
			fw.ENIs = slices.Insert(fw.ENIs, i, *e.New)
		}
	}
	return nil
}

// eniIndex finds an ENI in the sorted list, or where it would go.
func (fw *Firewall) eniIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(fw.ENIs, id, func(x FirewallENI, id string) int { return cmp.Compare(x.ID, id) })
}

// Clone copies what ApplyInPlace changes: the ENI list and the member lists.
func (fw Firewall) Clone() Firewall {
	out := fw
	out.ENIs = slices.Clone(fw.ENIs)
	out.Secondary = slices.Clone(fw.Secondary)
	out.IPv6 = slices.Clone(fw.IPv6)
	if fw.Members != nil {
		out.Members = make(map[string][]netip.Addr, len(fw.Members))
		for g, m := range fw.Members {
			out.Members[g] = slices.Clone(m)
		}
	}
	return out
}
