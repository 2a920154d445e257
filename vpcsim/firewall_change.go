package vpcsim

import (
	"cmp"
	"fmt"
	"maps"
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
// holds: a change computed against another firewall is an error, not a
// silent drift. fw is not changed.
func (fw Firewall) Apply(ch FirewallChange) (Firewall, error) {
	if ch.VPCID != fw.VPCID {
		return fw, fmt.Errorf("change of %s applied to the firewall of %s", ch.VPCID, fw.VPCID)
	}
	out := fw
	out.Members = maps.Clone(fw.Members)
	if out.Members == nil {
		out.Members = map[string][]netip.Addr{}
	}
	for _, g := range ch.Groups {
		cur, ok := out.Members[g.ID]
		if ok != g.Before {
			return fw, fmt.Errorf("set of %s: exists=%v, the change says %v", g.ID, ok, g.Before)
		}
		next := slices.Clone(cur)
		for _, a := range g.Del {
			i, found := slices.BinarySearchFunc(next, a, netip.Addr.Compare)
			if !found {
				return fw, fmt.Errorf("set of %s: %s to remove is not in it", g.ID, a)
			}
			next = slices.Delete(next, i, i+1)
		}
		for _, a := range g.Add {
			i, found := slices.BinarySearchFunc(next, a, netip.Addr.Compare)
			if found {
				return fw, fmt.Errorf("set of %s: %s to add is in it already", g.ID, a)
			}
			next = slices.Insert(next, i, a)
		}
		switch {
		case !g.After && len(next) > 0:
			return fw, fmt.Errorf("set of %s goes, yet %v stay in it", g.ID, next)
		case !g.After:
			delete(out.Members, g.ID)
		default:
			if next == nil {
				next = []netip.Addr{}
			}
			out.Members[g.ID] = next
		}
	}
	out.ENIs = slices.Clone(fw.ENIs)
	for _, e := range ch.ENIs {
		id := e.ID()
		i, found := slices.BinarySearchFunc(out.ENIs, id, func(x FirewallENI, id string) int { return cmp.Compare(x.ID, id) })
		switch {
		case found != (e.Old != nil):
			return fw, fmt.Errorf("ENI %s: in the firewall=%v, the change says %v", id, found, e.Old != nil)
		case found && !reflect.DeepEqual(out.ENIs[i], *e.Old):
			return fw, fmt.Errorf("ENI %s: the firewall holds %+v, the change's old side is %+v", id, out.ENIs[i], *e.Old)
		case e.New == nil:
			out.ENIs = slices.Delete(out.ENIs, i, i+1)
		case found:
			out.ENIs[i] = *e.New
		default:
			out.ENIs = slices.Insert(out.ENIs, i, *e.New)
		}
	}
	return out, nil
}
