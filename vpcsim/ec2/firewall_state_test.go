package ec2

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Whatever sequence of EC2 calls runs, with the dataplane or the store
// failing now and then, the firewall the fake dataplane holds (the last full
// firewall with every change since applied to it, each checked against what
// it holds) is the one firewallLocked builds from the model from scratch.
func TestFirewallChangesFollowTheModel(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runFirewallOps(t, rand.New(rand.NewPCG(seed, 12)), 300)
		})
	}
}

// fwWorld is what the random calls pick from.
type fwWorld struct {
	tc      *testCloud
	vpcs    []VPC
	subnets map[string][]Subnet // VPC → its subnets
	groups  map[string][]string // VPC → its groups
	flows   []string
	sawIPv6 bool
}

func runFirewallOps(t *testing.T, r *rand.Rand, n int) {
	ctx := context.Background()
	tc := newTestCloud(t)
	w := &fwWorld{tc: tc, subnets: map[string][]Subnet{}, groups: map[string][]string{}}
	for i, cidr := range []string{"10.0.0.0/16", "10.1.0.0/16"} {
		// The first VPC is dual-stack from the start, its subnets too; the
		// second may get an IPv6 block and ranges later (randomCall).
		v := must[VPC](t)(tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: cidr, AmazonProvidedIPv6: i == 0}))
		w.vpcs = append(w.vpcs, v)
		for j := range 2 {
			in := CreateSubnetInput{VPCID: v.ID, CIDR: fmt.Sprintf("10.%d.%d.0/28", i, j), AZ: "us-west-2a"}
			if i == 0 {
				in.IPv6CIDR = subnet64(v.IPv6[0].CIDR, j).String()
			}
			w.subnets[v.ID] = append(w.subnets[v.ID], must[Subnet](t)(tc.CreateSubnet(ctx, west, in)))
		}
		for j := range 3 {
			g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: fmt.Sprint("g", j), Description: "g"}))
			w.groups[v.ID] = append(w.groups[v.ID], g.ID)
		}
	}
	for i := range n {
		injected := ""
		switch x := r.IntN(20); {
		case x == 0:
			injected = "the change fails"
			tc.dp.Fail["change-firewall"] = errors.New("nftables said no")
		case x == 1:
			injected = "the change and the repair fail"
			tc.dp.Fail["change-firewall"] = errors.New("nftables said no")
			tc.dp.Fail["set-firewall"] = errors.New("nftables said no")
		case x == 2:
			injected = "the store fails"
			tc.store.FailNext = errors.New("disk full")
		}
		what := w.randomCall(ctx, r)
		if injected != "" {
			delete(tc.dp.Fail, "change-firewall")
			delete(tc.dp.Fail, "set-firewall")
			tc.store.FailNext = nil
			// Any commit puts right what a failure left unknown.
			sub := w.subnets[w.vpcs[0].ID][0]
			if err := tc.CreateTags(ctx, west, []string{sub.ID}, []Tag{{Key: "n", Value: fmt.Sprint(i)}}); err != nil {
				t.Fatalf("op %d (%s, %s): tag after it: %v", i, what, injected, err)
			}
		}
		for _, v := range w.vpcs {
			tc.mu.Lock()
			want := tc.firewallLocked(v.ID)
			tc.unlock()
			got := tc.dp.Firewall(v.ID)
			if !reflect.DeepEqual(normalFirewall(got), normalFirewall(want)) {
				t.Fatalf("op %d (%s, %s): the dataplane's firewall of %s\n%+v\nthe model's\n%+v", i, what, injected, v.ID, got, want)
			}
			w.noteIPv6(got)
		}
	}
	if len(tc.dp.Calls("change-firewall")) == 0 {
		t.Fatal("no change went through ChangeFirewall")
	}
	if !w.sawIPv6 {
		t.Fatal("no firewall had an IPv6 member or rule")
	}
}

// noteIPv6 remembers whether a firewall had IPv6 in it: an IPv6 member of
// a group, an ENI's IPv6 address or an IPv6 rule, so that the test cannot
// pass without IPv6 reaching the dataplane.
func (w *fwWorld) noteIPv6(fw netmodel.Firewall) {
	for _, m := range fw.Members {
		w.sawIPv6 = w.sawIPv6 || slices.ContainsFunc(m, netip.Addr.Is6)
	}
	for _, e := range fw.ENIs {
		w.sawIPv6 = w.sawIPv6 || slices.ContainsFunc(e.Addrs, netip.Addr.Is6) ||
			slices.ContainsFunc(e.Ingress, func(r netmodel.FirewallRule) bool { return r.CIDR.Addr().Is6() })
	}
}

// normalFirewall makes empty lists alike, whether nil or not.
func normalFirewall(fw netmodel.Firewall) netmodel.Firewall {
	if len(fw.ENIs) == 0 {
		fw.ENIs = nil
	}
	return fw
}

// randomCall makes one random EC2 call that may change a firewall and says
// which. API errors (a group still in use, an address range full) are part of
// the game: the firewall must follow whatever the model became.
func (w *fwWorld) randomCall(ctx context.Context, r *rand.Rand) string {
	tc := w.tc
	v := w.vpcs[r.IntN(len(w.vpcs))]
	groups := w.groups[v.ID]
	someGroups := func() []string {
		var out []string
		for _, g := range groups {
			if r.IntN(2) == 0 {
				out = append(out, g)
			}
		}
		if len(out) == 0 {
			out = []string{groups[r.IntN(len(groups))]}
		}
		return out
	}
	enis := func() []ENI {
		out, _ := tc.DescribeNetworkInterfaces(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}})
		return out
	}
	anENI := func() (ENI, bool) {
		es := enis()
		if len(es) == 0 {
			return ENI{}, false
		}
		return es[r.IntN(len(es))], true
	}
	perm := func() Permission {
		p := Permission{Protocol: []string{"tcp", "udp", "icmp", "-1", "icmpv6"}[r.IntN(5)]}
		if p.Protocol == "tcp" || p.Protocol == "udp" {
			p.FromPort, p.ToPort = port(int32(80+r.IntN(3))), port(int32(80+r.IntN(3)+3))
		}
		if p.Protocol == "icmp" || p.Protocol == "icmpv6" {
			p.FromPort, p.ToPort = port(-1), port(-1)
		}
		switch r.IntN(3) {
		case 0:
			p.Groups = []Peer{{Value: groups[r.IntN(len(groups))]}}
		case 1:
			p.CIDRs = []Peer{{Value: []string{"0.0.0.0/0", "10.0.0.0/16", "10.1.0.0/24"}[r.IntN(3)]}}
		default:
			p.CIDRsV6 = []Peer{{Value: []string{"::/0", "fd00::/8", "2001:db8::/64"}[r.IntN(3)]}}
		}
		return p
	}
	// The VPC's IPv6 block as it is now (invalid: none), and one subnet as
	// it is now.
	block6 := func() netip.Prefix {
		if got, _ := tc.DescribeVpcs(ctx, west, []string{v.ID}, nil); len(got) == 1 && len(got[0].IPv6) > 0 {
			return got[0].IPv6[0].CIDR
		}
		return netip.Prefix{}
	}
	aSubnet := func() (Subnet, int) {
		j := r.IntN(2)
		got, _ := tc.DescribeSubnets(ctx, west, []string{w.subnets[v.ID][j].ID}, nil)
		return got[0], j
	}
	switch op := r.IntN(20); op {
	case 0, 1:
		sub := w.subnets[v.ID][r.IntN(2)]
		_, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, Groups: someGroups(), SecondaryPrivateIPAddressCount: r.IntN(2), IPv6Count: r.IntN(3) / 2})
		return fmt.Sprint("create an ENI: ", err)
	case 2:
		if e, ok := anENI(); ok {
			return fmt.Sprint("delete ", e.ID, ": ", tc.DeleteNetworkInterface(ctx, west, e.ID))
		}
	case 3:
		if e, ok := anENI(); ok {
			return fmt.Sprint("groups of ", e.ID, ": ", tc.ModifyNetworkInterfaceAttribute(ctx, west, e.ID, ModifyNetworkInterfaceInput{Groups: someGroups()}))
		}
	case 4:
		if e, ok := anENI(); ok {
			check := r.IntN(2) == 0
			return fmt.Sprint("source/dest check of ", e.ID, ": ", tc.ModifyNetworkInterfaceAttribute(ctx, west, e.ID, ModifyNetworkInterfaceInput{SourceDestCheck: &check}))
		}
	case 5:
		if e, ok := anENI(); ok {
			_, err := tc.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, SecondaryCount: 1})
			return fmt.Sprint("assign to ", e.ID, ": ", err)
		}
	case 6:
		if e, ok := anENI(); ok && len(e.PrivateIPs) > 1 {
			return fmt.Sprint("unassign from ", e.ID, ": ", tc.UnassignPrivateIPAddresses(ctx, west, e.ID, []string{e.PrivateIPs[1].Addr.String()}))
		}
	case 7, 8:
		_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: groups[r.IntN(len(groups))]}, Egress: r.IntN(3) == 0, Permissions: []Permission{perm()}})
		return fmt.Sprint("authorize: ", err)
	case 9:
		g := groups[r.IntN(len(groups))]
		sg, _ := tc.DescribeSecurityGroups(ctx, west, []string{g}, nil, nil)
		if len(sg) == 1 && len(sg[0].Rules) > 0 {
			rule := sg[0].Rules[r.IntN(len(sg[0].Rules))]
			_, err := tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g}, Egress: rule.Egress, RuleIDs: []string{rule.ID}})
			return fmt.Sprint("revoke ", rule.ID, ": ", err)
		}
	case 10:
		res := []string{v.ID}
		typ := FlowLogVPC
		switch r.IntN(3) {
		case 0:
			typ, res = FlowLogSubnet, []string{w.subnets[v.ID][r.IntN(2)].ID}
		case 1:
			if e, ok := anENI(); ok {
				typ, res = FlowLogENI, []string{e.ID}
			}
		}
		out, err := tc.CreateFlowLogs(ctx, west, toGroup(typ, "ALL", res...))
		w.flows = append(w.flows, out.FlowLogIDs...)
		return fmt.Sprint("flow log of ", res, ": ", err)
	case 11:
		if len(w.flows) > 0 {
			i := r.IntN(len(w.flows))
			id := w.flows[i]
			w.flows = slices.Delete(w.flows, i, i+1)
			_, err := tc.DeleteFlowLogs(ctx, west, []string{id})
			return fmt.Sprint("delete ", id, ": ", err)
		}
	case 12:
		if e, ok := anENI(); ok {
			return fmt.Sprint("tag ", e.ID, ": ", tc.CreateTags(ctx, west, []string{e.ID}, []Tag{{Key: "k", Value: fmt.Sprint(r.IntN(9))}}))
		}
	case 13:
		// Peer the two VPCs, or unpeer them: the sets of the groups they
		// reference across follow.
		a, b := w.vpcs[0].ID, w.vpcs[1].ID
		tc.mu.Lock()
		live := tc.liveBetweenLocked(a, b, tc.now())
		tc.unlock()
		if live != nil {
			return fmt.Sprint("unpeer: ", tc.DeleteVpcPeering(ctx, west, live.ID))
		}
		p, err := tc.CreateVpcPeering(ctx, west, CreatePeeringInput{VPCID: a, PeerVPCID: b})
		if err == nil {
			_, err = tc.AcceptVpcPeering(ctx, west, p.ID)
		}
		return fmt.Sprint("peer: ", err)
	case 14:
		other := w.vpcs[0]
		if other.ID == v.ID {
			other = w.vpcs[1]
		}
		p := perm()
		p.CIDRs, p.Groups = nil, []Peer{{Value: w.groups[other.ID][r.IntN(3)]}}
		_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: groups[r.IntN(len(groups))]}, Egress: r.IntN(3) == 0, Permissions: []Permission{p}})
		return fmt.Sprint("authorize a peered group: ", err)
	case 15:
		cidr := fmt.Sprintf("10.%d.0.0/24", 100+slices.IndexFunc(w.vpcs, func(x VPC) bool { return x.ID == v.ID }))
		got, _ := tc.DescribeVpcs(ctx, west, []string{v.ID}, nil)
		for _, a := range got[0].Secondary {
			_, _, err := tc.DisassociateVpcCIDR(ctx, west, a.ID)
			return fmt.Sprint("disassociate ", cidr, ": ", err)
		}
		_, err := tc.AssociateVpcCIDR(ctx, west, v.ID, cidr)
		return fmt.Sprint("associate ", cidr, ": ", err)
	case 16:
		// The VPC's IPv6 block comes or goes (not while a subnet has a range
		// of it): its firewall is replaced.
		got, _ := tc.DescribeVpcs(ctx, west, []string{v.ID}, nil)
		if b := got[0].IPv6; len(b) > 0 {
			_, _, err := tc.DisassociateVpcCIDR(ctx, west, b[0].ID)
			return fmt.Sprint("disassociate ", b[0].CIDR, ": ", err)
		}
		_, err := tc.AssociateVpcIPv6(ctx, west, AssociateVpcIPv6Input{VPCID: v.ID})
		return fmt.Sprint("associate an IPv6 block: ", err)
	case 17:
		sub, j := aSubnet()
		if len(sub.IPv6) > 0 {
			_, _, err := tc.DisassociateSubnetIPv6(ctx, west, sub.IPv6[0].ID)
			return fmt.Sprint("disassociate ", sub.IPv6[0].CIDR, ": ", err)
		}
		if b := block6(); b.IsValid() {
			_, err := tc.AssociateSubnetIPv6(ctx, west, sub.ID, subnet64(b, j).String())
			return fmt.Sprint("associate ", subnet64(b, j), ": ", err)
		}
	case 18:
		if e, ok := anENI(); ok {
			_, err := tc.AssignIPv6Addresses(ctx, west, AssignIPv6Input{ENIID: e.ID, Count: 1})
			return fmt.Sprint("assign IPv6 to ", e.ID, ": ", err)
		}
	case 19:
		if e, ok := anENI(); ok && len(e.IPv6) > 0 {
			a := e.IPv6[r.IntN(len(e.IPv6))]
			_, err := tc.UnassignIPv6Addresses(ctx, west, e.ID, []string{a.String()})
			return fmt.Sprint("unassign ", a, " from ", e.ID, ": ", err)
		}
	}
	return "nothing"
}

// The kept state of each VPC builds the same firewall as the model does, and
// a commit that changes one ENI sends that ENI alone.
func TestFirewallChangeNamesOnlyWhatChanged(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	before := len(f.tc.dp.Calls("change-firewall"))
	off := false
	must1(t, f.tc.ModifyNetworkInterfaceAttribute(ctx, west, f.webENI.ID, ModifyNetworkInterfaceInput{SourceDestCheck: &off}))
	calls := f.tc.dp.Calls("change-firewall")
	if len(calls) != before+1 || calls[len(calls)-1] != fmt.Sprintf("change-firewall %s enis=1 groups=0", f.vpc.ID) {
		t.Fatalf("changes sent: %v", calls[before:])
	}
	// A tag changes nothing in the firewall: nothing is sent.
	must1(t, f.tc.CreateTags(ctx, west, []string{f.webENI.ID, f.web.ID}, []Tag{{Key: "k", Value: "v"}}))
	if n := len(f.tc.dp.Calls("change-firewall")); n != before+1 {
		t.Fatalf("a tag sent %d changes", n-before-1)
	}
	f.tc.mu.Lock()
	defer f.tc.unlock()
	if got, want := f.tc.fw.vpcs[f.vpc.ID].firewall(f.vpc.ID), f.tc.firewallLocked(f.vpc.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("kept state\n%+v\nmodel\n%+v", got, want)
	}
	if m := f.tc.fw.vpcs[f.vpc.ID].members[f.client.ID]; len(m) != 1 || m[f.clientENI.PrimaryIP()] != 1 {
		t.Fatalf("members of the client group: %v", m)
	}
}

// A change the dataplane refuses leaves the VPC's firewall unknown: the call
// is refused, the firewall of the tables is put back whole (SetFirewall), and
// the next change goes through ChangeFirewall again.
func TestFirewallChangeFailureIsRepairedWhole(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	sets := len(f.tc.dp.Calls("set-firewall"))
	f.tc.dp.Fail["change-firewall"] = errors.New("nftables said no")
	if _, err := f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{tcp(443, "0.0.0.0/0")}}); err == nil {
		t.Fatal("authorize with a failing change: want an error")
	}
	delete(f.tc.dp.Fail, "change-firewall")
	if got := f.tc.dp.Calls("set-firewall"); len(got) != sets+1 || got[len(got)-1] != fmt.Sprintf("set-firewall %s enis=2", f.vpc.ID) {
		t.Fatalf("after a failed change: %v, want the VPC's firewall set whole once", got[sets:])
	}
	if len(f.eni(t, f.webENI.ID).Ingress) != 2 {
		t.Fatal("the refused rule reached the firewall")
	}
	changes := len(f.tc.dp.Calls("change-firewall"))
	must[[]Rule](t)(f.tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: f.web.ID}, Permissions: []Permission{tcp(443, "0.0.0.0/0")}}))
	if len(f.tc.dp.Calls("change-firewall")) != changes+1 || len(f.tc.dp.Calls("set-firewall")) != sets+1 {
		t.Fatalf("the next change: %v", f.tc.dp.Trace[len(f.tc.dp.Trace)-3:])
	}
	if len(f.eni(t, f.webENI.ID).Ingress) != 3 {
		t.Fatal("the next change did not reach the firewall")
	}
}
