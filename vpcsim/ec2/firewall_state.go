package ec2

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// The firewalls the dataplane enforces, kept VPC by VPC and ENI by ENI, so
// that a commit sends only what it changed: the ENIs its transaction staged,
// the members of the groups whose rules it changed, the ENIs its flow logs
// capture. Finding them and computing the change costs what changed, not the
// number of ENIs in the account. A VPC whose firewall is not known (at
// start-up, after a failure) gets its whole firewall replaced instead.

// firewallState is what the dataplane enforces. Guarded by Cloud.mu.
type firewallState struct {
	vpcs   map[string]*vpcFirewall
	eniVPC map[string]string // every ENI of vpcs → its VPC
	// invalid are the VPCs whose firewall in the kernel is unknown: a change
	// to them failed. The next commit, whatever it changes, replaces them.
	invalid map[string]bool
	// unknown is set until the first sync: every VPC is replaced.
	unknown bool
}

func newFirewallState() firewallState {
	return firewallState{vpcs: map[string]*vpcFirewall{}, eniVPC: map[string]string{}, invalid: map[string]bool{}, unknown: true}
}

// vpcFirewall is one VPC's firewall, in the form that takes changes.
type vpcFirewall struct {
	cidr      netip.Prefix
	secondary []netip.Prefix // the VPC's secondary blocks
	ipv6      []netip.Prefix // the VPC's IPv6 blocks
	host      netip.Addr
	enis      map[string]*eniFirewall
	// members counts, for every group with members in the VPC, the member
	// ENIs that hold each address (one, unless a change moves an address).
	members map[string]map[netip.Addr]int
	byGroup map[string]map[string]bool // group → its member ENIs
	refs    map[string]int             // group → ENIs with a rule that references it
	logged  int                        // ENIs with a flow log
	// foreign holds the members of the peered VPCs' groups the VPC's rules
	// reference, as they were when the firewall was last replaced: a change
	// to them, or to the peering, replaces it again (firewallDirtyLocked).
	foreign map[string][]netip.Addr
}

func newVPCFirewall(v *VPC) *vpcFirewall {
	return &vpcFirewall{
		cidr: v.CIDR, secondary: v.SecondaryCIDRs(), ipv6: v.IPv6CIDRs(), host: hostAddr(v), enis: map[string]*eniFirewall{},
		members: map[string]map[netip.Addr]int{}, byGroup: map[string]map[string]bool{}, refs: map[string]int{},
	}
}

// firewall is the whole Firewall the state stands for, as firewallLocked
// builds it.
func (s *vpcFirewall) firewall(vpcID string) netmodel.Firewall {
	fw := netmodel.Firewall{VPCID: vpcID, CIDR: s.cidr, Secondary: slices.Clone(s.secondary), IPv6: slices.Clone(s.ipv6), Host: s.host, Members: map[string][]netip.Addr{}}
	for g, n := range s.refs {
		if n > 0 {
			fw.Members[g] = slices.SortedFunc(maps.Keys(s.members[g]), netip.Addr.Compare)
			if f, ok := s.foreign[g]; ok {
				fw.Members[g] = slices.Clone(f)
			}
			if fw.Members[g] == nil {
				fw.Members[g] = []netip.Addr{}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.enis)) {
		fw.ENIs = append(fw.ENIs, s.enis[id].fw)
	}
	return fw
}

// groupTouch remembers a set as it was before a change: whether it existed
// and which of the addresses the change touches it held.
type groupTouch struct {
	existed bool
	had     map[netip.Addr]bool
}

// touches records, group by group, the sets a change touches.
type touches map[string]*groupTouch

func (t touches) group(s *vpcFirewall, g string) *groupTouch {
	if t[g] == nil {
		t[g] = &groupTouch{existed: s.refs[g] > 0, had: map[netip.Addr]bool{}}
	}
	return t[g]
}

// put adds (sign 1) or takes away (sign -1) an ENI's share of the counts.
func (s *vpcFirewall) put(id string, e *eniFirewall, sign int, t touches) {
	for _, g := range e.groups {
		gt := t.group(s, g)
		if s.members[g] == nil {
			s.members[g] = map[netip.Addr]int{}
			s.byGroup[g] = map[string]bool{}
		}
		for _, a := range e.fw.Addrs {
			if _, ok := gt.had[a]; !ok {
				gt.had[a] = s.members[g][a] > 0
			}
			if s.members[g][a] += sign; s.members[g][a] <= 0 {
				delete(s.members[g], a)
			}
		}
		if sign > 0 {
			s.byGroup[g][id] = true
		} else {
			delete(s.byGroup[g], id)
		}
		if len(s.byGroup[g]) == 0 {
			delete(s.byGroup, g)
			delete(s.members, g)
		}
	}
	for _, g := range e.peers {
		t.group(s, g)
		if s.refs[g] += sign; s.refs[g] <= 0 {
			delete(s.refs, g)
		}
	}
	if len(e.fw.FlowLogs) > 0 {
		s.logged += sign
	}
	if sign > 0 {
		s.enis[id] = e
	} else {
		delete(s.enis, id)
	}
}

// groupChanges turns what a change touched into the changes of the sets.
func (s *vpcFirewall) groupChanges(t touches) []netmodel.GroupChange {
	var out []netmodel.GroupChange
	for _, g := range slices.Sorted(maps.Keys(t)) {
		gt := t[g]
		ch := netmodel.GroupChange{ID: g, Before: gt.existed, After: s.refs[g] > 0}
		switch {
		case !ch.Before && !ch.After:
			continue
		case !ch.Before:
			ch.Add = slices.SortedFunc(maps.Keys(s.members[g]), netip.Addr.Compare)
		case !ch.After:
			// All it had: the members now that the change did not touch,
			// and those it touched that were there before.
			for a := range s.members[g] {
				if _, touched := gt.had[a]; !touched {
					ch.Del = append(ch.Del, a)
				}
			}
			for a, had := range gt.had {
				if had {
					ch.Del = append(ch.Del, a)
				}
			}
			slices.SortFunc(ch.Del, netip.Addr.Compare)
		default:
			for a, had := range gt.had {
				switch now := s.members[g][a] > 0; {
				case had && !now:
					ch.Del = append(ch.Del, a)
				case !had && now:
					ch.Add = append(ch.Add, a)
				}
			}
			if len(ch.Add) == 0 && len(ch.Del) == 0 {
				continue
			}
			slices.SortFunc(ch.Add, netip.Addr.Compare)
			slices.SortFunc(ch.Del, netip.Addr.Compare)
		}
		out = append(out, ch)
	}
	return out
}

// firewallDirty is what a transaction may have changed in the firewalls:
// ENIs to recompute, VPC by VPC, and VPCs to replace as a whole.
type firewallDirty struct {
	enis map[string]map[string]bool
	full map[string]bool
}

func (d *firewallDirty) eni(vpcID, eniID string) {
	if d.enis[vpcID] == nil {
		d.enis[vpcID] = map[string]bool{}
	}
	d.enis[vpcID][eniID] = true
}

// firewallDirtyLocked finds, from the transaction's staged records, what it
// may change in the firewalls: its ENIs (new, changed or gone), the members
// of groups whose rules it changed or whose rules name a prefix list whose
// entries it changed, the ENIs its flow logs capture, and VPCs
// that come, go, change their blocks (IPv4 or IPv6) or their connection
// to the host. It reads the
// staged records and the kept state's indexes only.
func (c *Cloud) firewallDirtyLocked(m *model) firewallDirty {
	d := firewallDirty{enis: map[string]map[string]bool{}, full: map[string]bool{}}
	st := &c.fw
	for id, e := range m.enis.Staged() {
		if e != nil {
			d.eni(e.VPCID, id)
		}
		if v, ok := st.eniVPC[id]; ok {
			d.eni(v, id)
		}
	}
	for id, g := range m.groups.Staged() {
		old, _ := c.tables.groups.Get(id)
		if g != nil && old != nil && reflect.DeepEqual(g.Rules, old.Rules) {
			continue // its tags or its description: no rule changed
		}
		if g == nil {
			g = old
		}
		if g == nil {
			continue
		}
		if s := st.vpcs[g.VPCID]; s != nil {
			for e := range s.byGroup[id] {
				d.eni(g.VPCID, e)
			}
		}
	}
	c.prefixListFirewallDirtyLocked(m, &d)
	for id, f := range m.flowLogs.Staged() {
		if old, ok := c.tables.flowLogs.Get(id); ok {
			c.flowLogDirtyLocked(&d, old.ResourceID)
		}
		if f != nil {
			c.flowLogDirtyLocked(&d, f.ResourceID)
		}
	}
	for id, v := range m.vpcs.Staged() {
		s := st.vpcs[id]
		if v == nil || s == nil || s.cidr != v.CIDR || !slices.Equal(s.secondary, v.SecondaryCIDRs()) || !slices.Equal(s.ipv6, v.IPv6CIDRs()) || s.host != hostAddr(v) {
			d.full[id] = true
		}
	}
	c.foreignDirtyLocked(m, &d)
	return d
}

// foreignDirtyLocked replaces the firewalls that reference a peered VPC's
// groups whose members the transaction may change (their ENIs), and those
// of both VPCs of a peering it changes: such references are few, and
// replacing is what keeps their sets, which hold another VPC's addresses,
// simple.
func (c *Cloud) foreignDirtyLocked(m *model, d *firewallDirty) {
	st := &c.fw
	for id, p := range m.peerings.Staged() {
		old, _ := c.tables.peerings.Get(id)
		for _, q := range []*VpcPeering{p, old} {
			if q != nil && (old == nil || p == nil || old.State != p.State) {
				d.full[q.Requester.VPCID], d.full[q.Accepter.VPCID] = true, true
			}
		}
	}
	referenced := map[string][]string{} // group → VPCs whose rules reference it
	for id, s := range st.vpcs {
		for g := range s.foreign {
			referenced[g] = append(referenced[g], id)
		}
	}
	if len(referenced) == 0 {
		return
	}
	for id, e := range m.enis.Staged() {
		old, _ := c.tables.enis.Get(id)
		for _, x := range []*ENI{e, old} {
			if x == nil {
				continue
			}
			for _, g := range x.Groups {
				for _, v := range referenced[g] {
					d.full[v] = true
				}
			}
		}
	}
}

// flowLogDirtyLocked marks the ENIs a flow log of a resource captures.
func (c *Cloud) flowLogDirtyLocked(d *firewallDirty, resource string) {
	st := &c.fw
	switch {
	case strings.HasPrefix(resource, "eni-"):
		if v, ok := st.eniVPC[resource]; ok {
			d.eni(v, resource)
		}
		if e := c.eni(resource); e != nil {
			d.eni(e.VPCID, resource)
		}
	case strings.HasPrefix(resource, "subnet-"):
		sub := c.subnet(resource)
		if sub == nil {
			sub, _ = c.tables.subnets.Get(resource)
		}
		if sub == nil {
			return
		}
		if s := st.vpcs[sub.VPCID]; s != nil {
			for id, e := range s.enis {
				if e.subnet == resource {
					d.eni(sub.VPCID, id)
				}
			}
		}
	case strings.HasPrefix(resource, "vpc-"):
		if s := st.vpcs[resource]; s != nil {
			for id := range s.enis {
				d.eni(resource, id)
			}
		}
	}
}

// syncFirewallsLocked makes the dataplane enforce the model's security
// groups where d says they may have changed: ChangeFirewall with what changed
// for a VPC whose firewall is known, SetFirewall with the whole firewall for
// one that is new, unknown or whose change failed before. A VPC whose change
// fails is marked unknown (the next commit replaces it) and the error is
// returned. Called again with the same d after the transaction was dropped,
// it puts back what the committed model says: that is how commitLocked
// undoes a change the store refused.
func (c *Cloud) syncFirewallsLocked(ctx context.Context, d firewallDirty) error {
	st := &c.fw
	full := maps.Clone(d.full)
	if full == nil {
		full = map[string]bool{}
	}
	for id := range st.invalid {
		full[id] = true
	}
	if st.unknown {
		for v := range c.allVPCs() {
			full[v.ID] = true
		}
	}
	ids := slices.Collect(maps.Keys(full))
	for id := range d.enis {
		if !full[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		v := c.vpc(id)
		var err error
		switch {
		case v == nil:
			st.drop(id)
			delete(st.invalid, id)
		case full[id] || st.vpcs[id] == nil:
			err = c.replaceFirewallLocked(ctx, v)
		default:
			err = c.changeFirewallLocked(ctx, v, d.enis[id])
		}
		if err != nil {
			st.drop(id)
			st.invalid[id] = true
			errs = append(errs, fmt.Errorf("security groups of %s: %w", id, err))
		}
	}
	st.unknown = false
	return errors.Join(errs...)
}

// drop forgets a VPC's firewall.
func (st *firewallState) drop(vpcID string) {
	if s := st.vpcs[vpcID]; s != nil {
		for id := range s.enis {
			delete(st.eniVPC, id)
		}
	}
	delete(st.vpcs, vpcID)
}

// replaceFirewallLocked builds a VPC's firewall from every ENI of the model
// and has the dataplane replace the whole of it.
func (c *Cloud) replaceFirewallLocked(ctx context.Context, v *VPC) error {
	s := newVPCFirewall(v)
	t := touches{}
	for e := range c.allENIs() {
		if e.VPCID == v.ID {
			s.put(e.ID, c.eniFirewallLocked(e), 1, t)
		}
	}
	for g := range s.refs {
		if c.foreignGroupLocked(v.ID, g) {
			if s.foreign == nil {
				s.foreign = map[string][]netip.Addr{}
			}
			s.foreign[g] = c.foreignMembersLocked(v.ID, g)
		}
	}
	c.fw.drop(v.ID)
	if err := c.dp.SetFirewall(ctx, s.firewall(v.ID)); err != nil {
		return err
	}
	c.fw.vpcs[v.ID] = s
	for id := range s.enis {
		c.fw.eniVPC[id] = v.ID
	}
	delete(c.fw.invalid, v.ID)
	return nil
}

// changeFirewallLocked recomputes the given ENIs of a VPC whose firewall is
// known and has the dataplane apply what differs. The kept state is changed
// first; when the dataplane fails, the caller drops it.
func (c *Cloud) changeFirewallLocked(ctx context.Context, v *VPC, enis map[string]bool) error {
	st := &c.fw
	s := st.vpcs[v.ID]
	// The IPv6 blocks are the kept firewall's: a change of them is a full
	// replace (firewallDirtyLocked), never a change.
	ch := netmodel.FirewallChange{VPCID: v.ID, IPv6: len(s.ipv6) > 0}
	t := touches{}
	for _, id := range slices.Sorted(maps.Keys(enis)) {
		old := s.enis[id]
		var next *eniFirewall
		if e := c.eni(id); e != nil && e.VPCID == v.ID {
			next = c.eniFirewallLocked(e)
		}
		if reflect.DeepEqual(old, next) {
			continue
		}
		var change netmodel.ENIChange
		if old != nil {
			s.put(id, old, -1, t)
			delete(st.eniVPC, id)
			change.Old = &old.fw
		}
		if next != nil {
			s.put(id, next, 1, t)
			st.eniVPC[id] = v.ID
			change.New = &next.fw
		}
		ch.ENIs = append(ch.ENIs, change)
	}
	for g := range t {
		if _, ok := s.foreign[g]; ok || c.foreignGroupLocked(v.ID, g) {
			// A peered VPC's group: its set is made whole.
			return c.replaceFirewallLocked(ctx, v)
		}
	}
	ch.Groups = s.groupChanges(t)
	if len(ch.ENIs) == 0 && len(ch.Groups) == 0 {
		return nil
	}
	ch.FlowLogged = s.logged > 0
	slices.SortFunc(ch.ENIs, func(a, b netmodel.ENIChange) int { return cmp.Compare(a.ID(), b.ID()) })
	return c.dp.ChangeFirewall(ctx, ch)
}
