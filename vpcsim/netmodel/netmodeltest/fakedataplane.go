package netmodeltest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// FakeDataplane is a netmodel.Dataplane that keeps the objects it was asked for
// in memory and records each call as a readable line ("ensure-eni eni-…
// host=i-… eth0"), so API rules are tested without root. Fail makes the named
// operation fail.
type FakeDataplane struct {
	mu    sync.Mutex
	Trace []string
	VPCs  map[string]netmodel.NetVPC
	Subs  map[string]netmodel.NetSubnet
	Hosts map[string]bool
	ENIs  map[string]netmodel.NetENI
	// Firewalls holds each VPC's firewall: the last set, with the changes since.
	Firewalls map[string]netmodel.Firewall
	// Routings holds each VPC's routing, as last set.
	Routings map[string]netmodel.Routing
	// Fail maps an operation name ("ensure-eni", "ensure-subnet", …) to the error it returns.
	Fail map[string]error
}

var _ netmodel.Dataplane = (*FakeDataplane)(nil)

// NewFakeDataplane returns an empty fake.
func NewFakeDataplane() *FakeDataplane {
	return &FakeDataplane{VPCs: map[string]netmodel.NetVPC{}, Subs: map[string]netmodel.NetSubnet{}, Hosts: map[string]bool{}, ENIs: map[string]netmodel.NetENI{}, Firewalls: map[string]netmodel.Firewall{}, Routings: map[string]netmodel.Routing{}, Fail: map[string]error{}}
}

func (f *FakeDataplane) record(op, format string, args ...any) error {
	f.Trace = append(f.Trace, op+" "+fmt.Sprintf(format, args...))
	return f.Fail[op]
}

func (f *FakeDataplane) EnsureVPC(_ context.Context, v netmodel.NetVPC) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ensure-vpc", "%s %s", v.ID, v.CIDR); err != nil {
		return err
	}
	f.VPCs[v.ID] = v
	return nil
}

func (f *FakeDataplane) DeleteVPC(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete-vpc", "%s", id); err != nil {
		return err
	}
	delete(f.VPCs, id)
	delete(f.Routings, id)
	for k, s := range f.Subs {
		if s.VPCID == id {
			delete(f.Subs, k)
		}
	}
	for k, e := range f.ENIs {
		if e.VPCID == id {
			delete(f.ENIs, k)
		}
	}
	return nil
}

func (f *FakeDataplane) EnsureSubnet(_ context.Context, s netmodel.NetSubnet) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var gw []string
	if s.Gateway.IsValid() {
		gw = append(gw, fmt.Sprintf("%s gw=%s", s.CIDR, s.Gateway))
	}
	if s.Gateway6.IsValid() {
		gw = append(gw, "gw6="+s.Gateway6.String())
	}
	if err := f.record("ensure-subnet", "%s %s", s.ID, strings.Join(gw, " ")); err != nil {
		return err
	}
	if _, ok := f.VPCs[s.VPCID]; !ok {
		return fmt.Errorf("fake: subnet %s in missing VPC %s", s.ID, s.VPCID)
	}
	f.Subs[s.ID] = s
	return nil
}

func (f *FakeDataplane) DeleteSubnet(_ context.Context, s netmodel.NetSubnet) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete-subnet", "%s", s.ID); err != nil {
		return err
	}
	delete(f.Subs, s.ID)
	return nil
}

func (f *FakeDataplane) EnsureHost(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ensure-host", "%s", host); err != nil {
		return err
	}
	f.Hosts[host] = true
	return nil
}

func (f *FakeDataplane) DeleteHost(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete-host", "%s", host); err != nil {
		return err
	}
	delete(f.Hosts, host)
	// As in the kernel, a veth end inside the namespace dies with it.
	for k, e := range f.ENIs {
		if e.Host == host {
			delete(f.ENIs, k)
		}
	}
	return nil
}

func (f *FakeDataplane) EnsureENI(_ context.Context, e netmodel.NetENI) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	where := "parked"
	if e.Host != "" {
		where = fmt.Sprintf("host=%s eth%d", e.Host, e.Device)
	}
	v6 := ""
	if len(e.Addrs6) > 0 {
		v6 = fmt.Sprintf(" %v via %s", e.Addrs6, e.Gateway6)
	}
	if err := f.record("ensure-eni", "%s %s %s %v%s", e.ID, where, e.MAC, e.Addrs, v6); err != nil {
		return err
	}
	if _, ok := f.Subs[e.SubnetID]; !ok {
		return fmt.Errorf("fake: ENI %s in missing subnet %s", e.ID, e.SubnetID)
	}
	if e.Host != "" && !f.Hosts[e.Host] {
		return fmt.Errorf("fake: ENI %s into missing host %s", e.ID, e.Host)
	}
	f.ENIs[e.ID] = e
	return nil
}

func (f *FakeDataplane) DeleteENI(_ context.Context, e netmodel.NetENI) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete-eni", "%s", e.ID); err != nil {
		return err
	}
	delete(f.ENIs, e.ID)
	return nil
}

func (f *FakeDataplane) SetFirewall(_ context.Context, fw netmodel.Firewall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("set-firewall", "%s enis=%d", fw.VPCID, len(fw.ENIs)); err != nil {
		return err
	}
	f.Firewalls[fw.VPCID] = fw.Clone() // changed in place later
	return nil
}

// ChangeFirewall applies the change to the VPC's firewall (see
// Firewall.Apply), all or nothing: a change whose old side is not what the
// fake holds is an error, so a test sees any drift.
func (f *FakeDataplane) ChangeFirewall(_ context.Context, ch netmodel.FirewallChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("change-firewall", "%s enis=%d groups=%d", ch.VPCID, len(ch.ENIs), len(ch.Groups)); err != nil {
		return err
	}
	cur, ok := f.Firewalls[ch.VPCID]
	if !ok {
		return fmt.Errorf("fake: change of the firewall of %s, which has none", ch.VPCID)
	}
	if err := cur.ApplyInPlace(ch); err != nil {
		return fmt.Errorf("fake: %w", err)
	}
	f.Firewalls[ch.VPCID] = cur
	return nil
}

// Firewall returns the firewall a VPC has (the last set, with the changes since).
func (f *FakeDataplane) Firewall(vpcID string) netmodel.Firewall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Firewalls[vpcID].Clone()
}

func (f *FakeDataplane) SetRouting(_ context.Context, r netmodel.Routing) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	public := 0
	if r.Internet != nil {
		public = len(r.Internet.NAT)
	}
	if err := f.record("set-routing", "%s subnets=%d internet=%v public=%d", r.VPCID, len(r.Subnets), r.Internet != nil, public); err != nil {
		return err
	}
	if _, ok := f.VPCs[r.VPCID]; !ok {
		return fmt.Errorf("fake: routing of missing VPC %s", r.VPCID)
	}
	f.Routings[r.VPCID] = r.Clone()
	return nil
}

func (f *FakeDataplane) EnsureNAT(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ensure-nat", "%s", host); err != nil {
		return err
	}
	if !f.Hosts[host] {
		return fmt.Errorf("fake: NAT gateway in missing host %s", host)
	}
	return nil
}

// Routing returns the routing a VPC has, as last set.
func (f *FakeDataplane) Routing(vpcID string) netmodel.Routing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Routings[vpcID].Clone()
}

func (f *FakeDataplane) Reconcile(_ context.Context, want netmodel.Topology) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("reconcile", "%d vpcs %d subnets %d hosts %d enis", len(want.VPCs), len(want.Subnets), len(want.Hosts), len(want.ENIs)); err != nil {
		return err
	}
	if !want.KeepStrays {
		f.VPCs, f.Subs, f.ENIs = map[string]netmodel.NetVPC{}, map[string]netmodel.NetSubnet{}, map[string]netmodel.NetENI{}
		if !want.KeepStrayHosts {
			f.Hosts = map[string]bool{}
		}
	}
	for _, v := range want.VPCs {
		f.VPCs[v.ID] = v
	}
	for _, s := range want.Subnets {
		f.Subs[s.ID] = s
	}
	for _, h := range want.Hosts {
		f.Hosts[h] = true
	}
	for _, e := range want.ENIs {
		f.ENIs[e.ID] = e
	}
	return nil
}

// Objects lists what the fake holds, sorted, one line each: for comparing the
// kernel a test expects with the one it has.
func (f *FakeDataplane) Objects() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.VPCs {
		out = append(out, "vpc "+id)
	}
	for id := range f.Subs {
		out = append(out, "subnet "+id)
	}
	for h := range f.Hosts {
		out = append(out, "host "+h)
	}
	for id, e := range f.ENIs {
		out = append(out, fmt.Sprintf("eni %s host=%s dev=%d", id, e.Host, e.Device))
	}
	slices.Sort(out)
	return out
}

// Calls returns the trace lines that start with op.
func (f *FakeDataplane) Calls(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.Trace {
		if strings.HasPrefix(l, op+" ") {
			out = append(out, l)
		}
	}
	return out
}
