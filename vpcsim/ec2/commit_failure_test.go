package ec2

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// What a refused store write leaves: the store, the model and the kernel
// agree on the state before the call (or, for a transition in the
// background, on a state the next start-up finishes).

// refusingStore is a MemStore that refuses the first write for which refuse
// is true, once.
type refusingStore struct {
	*vpcsim.MemStore
	mu      sync.Mutex
	refuse  func(storage.Change) bool
	refused bool
}

func (s *refusingStore) Apply(changes []storage.Change) error {
	s.mu.Lock()
	if !s.refused && s.refuse != nil {
		for _, ch := range changes {
			if s.refuse(ch) {
				s.refused = true
				s.mu.Unlock()
				return errors.New("disk full")
			}
		}
	}
	s.mu.Unlock()
	return s.MemStore.Apply(changes)
}

func (s *refusingStore) arm(refuse func(storage.Change) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse, s.refused = refuse, false
}

func (s *refusingStore) wasRefused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func newRefusingCloud(t *testing.T, opts ...Option) (*testCloud, *refusingStore) {
	t.Helper()
	dp, st := netmodeltest.NewFakeDataplane(), &refusingStore{MemStore: vpcsim.NewMemStore()}
	c, err := New(context.Background(), st, dp, append([]Option{WithInPlaceCheck()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	return &testCloud{c, dp, st.MemStore}, st
}

func writesKind(kind string) func(storage.Change) bool {
	return func(ch storage.Change) bool { return ch.Kind == kind && ch.Body != nil }
}

// A launch is one write: when the store refuses the instance, its new ENIs
// are neither stored nor left in the kernel (they were stored on their own
// before the instance, and stayed as in-use ENIs of an instance that never
// existed).
func TestRunInstancesStoresENIsWithTheInstance(t *testing.T) {
	tc, st := newRefusingCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	st.arm(writesKind(kindInstance))
	_, err := tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID})
	if err == nil || !st.wasRefused() {
		t.Fatalf("launch with the store refusing the instance: %v", err)
	}
	tc.Wait()
	if enis := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, nil)); len(enis) != 0 {
		t.Fatalf("ENIs of a launch that failed: %+v", enis)
	}
	if insts := must[[]Instance](t)(tc.DescribeInstances(ctx, west, nil, nil)); len(insts) != 0 {
		t.Fatalf("instances of a launch that failed: %+v", insts)
	}
	if len(tc.dp.ENIs) != 0 {
		t.Fatalf("veths of a launch that failed: %v", tc.dp.Objects())
	}
	if again := tc.reopen(t); again.tables.enis.Len() != 0 || again.tables.instances.Len() != 0 {
		t.Fatalf("after a restart: %d ENIs, %d instances", again.tables.enis.Len(), again.tables.instances.Len())
	}
	// The addresses are free: the next launch gets the subnet's first.
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))
	if got := insts[0].ENIs[0].PrimaryIP().String(); got != "10.0.0.4" {
		t.Fatalf("first address after a failed launch is %s, want 10.0.0.4", got)
	}
}

// runningInstance launches one c5.large in sub and waits until it is running.
func runningInstance(t *testing.T, tc *testCloud, sub Subnet) Instance {
	t.Helper()
	ctx := context.Background()
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))
	tc.Wait()
	i := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{insts[0].ID}, nil))[0]
	if i.State != StateRunning {
		t.Fatalf("instance is %s, want running", i.State)
	}
	return i
}

// When the store refuses a detach, the ENI stays in the instance in the
// kernel too (it was left parked while the model said attached).
func TestDetachRefusedByTheStoreKeepsTheENIInside(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	i := runningInstance(t, tc, sub)
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	att := must[string](t)(tc.AttachNetworkInterface(ctx, west, e.ID, i.ID, 1))

	tc.store.FailNext = errors.New("disk full")
	if err := tc.DetachNetworkInterface(ctx, west, att, false); err == nil {
		t.Fatal("detach with the store refusing: want an error")
	}
	got := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))[0]
	if got.Attachment == nil || got.Attachment.ID != att || got.Status != "in-use" {
		t.Fatalf("model after a refused detach: %+v", got)
	}
	if k := tc.dp.ENIs[e.ID]; k.Host != i.ID || k.Device != 1 {
		t.Fatalf("kernel after a refused detach: %+v, want inside %s as eth1", k, i.ID)
	}
	// And the detach goes through once the store takes it.
	if err := tc.DetachNetworkInterface(ctx, west, att, false); err != nil {
		t.Fatal(err)
	}
	if k := tc.dp.ENIs[e.ID]; k.Host != "" {
		t.Fatalf("kernel after the detach: %+v", k)
	}
}

// When the store refuses new secondary addresses, the kernel does not keep
// them and they stay free.
func TestAssignRefusedByTheStoreLeavesNoAddress(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))

	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, SecondaryCount: 1}); err == nil {
		t.Fatal("assign with the store refusing: want an error")
	}
	if k := tc.dp.ENIs[e.ID]; len(k.Addrs) != 1 {
		t.Fatalf("kernel after a refused assign: %v, want the primary address only", k.Addrs)
	}
	got := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))[0]
	if len(got.PrivateIPs) != 1 {
		t.Fatalf("model after a refused assign: %+v", got.PrivateIPs)
	}
	added := must[[]netip.Addr](t)(tc.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, SecondaryCount: 1}))
	if len(added) != 1 || added[0].String() != "10.0.0.5" {
		t.Fatalf("assigned after a refused assign: %v, want 10.0.0.5", added)
	}
}

// When the store refuses to remove secondary addresses, the kernel keeps them.
func TestUnassignRefusedByTheStoreKeepsTheAddress(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, SecondaryPrivateIPAddressCount: 1}))
	if len(e.PrivateIPs) != 2 {
		t.Fatalf("made %+v", e.PrivateIPs)
	}
	second := e.PrivateIPs[1].Addr.String()

	tc.store.FailNext = errors.New("disk full")
	if err := tc.UnassignPrivateIPAddresses(ctx, west, e.ID, []string{second}); err == nil {
		t.Fatal("unassign with the store refusing: want an error")
	}
	if k := tc.dp.ENIs[e.ID]; len(k.Addrs) != 2 {
		t.Fatalf("kernel after a refused unassign: %v, want both addresses", k.Addrs)
	}
	got := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))[0]
	if len(got.PrivateIPs) != 2 {
		t.Fatalf("model after a refused unassign: %+v", got.PrivateIPs)
	}
	// The address is still taken: a new ENI does not get it.
	other := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	if other.PrimaryIP().String() == second {
		t.Fatalf("a new ENI got %s, which the first still holds", second)
	}
}

// An instance that fails to come up is stored shutting-down with EC2's
// reason before it is torn down: when the store then refuses the tear-down,
// the instance is not back to pending with its reason lost (the shutting-down
// state was only in memory), and the next start-up finishes it.
func TestFailedLaunchIsStoredBeforeItsTearDown(t *testing.T) {
	tc, st := newRefusingCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	tc.dp.Fail["ensure-host"] = errors.New("no namespace for you")
	st.arm(func(ch storage.Change) bool {
		return ch.Kind == kindInstance && strings.Contains(string(ch.Body), `"state":"terminated"`)
	})
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))
	tc.Wait()
	if !st.wasRefused() {
		t.Fatal("the tear-down was not written")
	}
	delete(tc.dp.Fail, "ensure-host")
	got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{insts[0].ID}, nil))[0]
	if got.State != StateShuttingDown || got.StateReasonCode != "Server.InternalError" {
		t.Fatalf("after a failed launch whose tear-down was refused: %s (%q)", got.State, got.StateReasonCode)
	}
	again := tc.reopen(t)
	again.Wait()
	got = must[[]Instance](t)(again.DescribeInstances(ctx, west, []string{insts[0].ID}, nil))[0]
	if got.State != StateTerminated || got.StateReasonCode != "Server.InternalError" {
		t.Fatalf("after a restart: %s (%q)", got.State, got.StateReasonCode)
	}
	if enis := must[[]ENI](t)(again.DescribeNetworkInterfaces(ctx, west, nil, nil)); len(enis) != 0 {
		t.Fatalf("ENIs of a terminated instance: %+v", enis)
	}
}

// Forgetting long-terminated instances is one write: when the store refuses
// it, every one of them is still there (each was forgotten in a write of its
// own, in a loop over a map the reload replaced).
func TestPurgeIsOneWrite(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock sync.Mutex
	tc := newTestCloud(t, WithClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now }))
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 2, MaxCount: 2, SubnetID: sub.ID}))
	tc.Wait()
	must[[]InstanceStateChange](t)(tc.TerminateInstances(ctx, west, []string{insts[0].ID, insts[1].ID}))
	tc.Wait()
	clock.Lock()
	now = now.Add(2 * time.Hour)
	clock.Unlock()

	tc.store.FailNext = errors.New("disk full")
	got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, nil, nil))
	if len(got) != 2 || tc.tables.instances.Len() != 2 {
		t.Fatalf("after a refused purge: %d described, %d in the model, want both", len(got), tc.tables.instances.Len())
	}
	if again := tc.reopen(t); again.tables.instances.Len() != 2 {
		t.Fatalf("after a refused purge the store has %d instances, want both", again.tables.instances.Len())
	}
	if got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, nil, nil)); len(got) != 0 {
		t.Fatalf("after a purge the store takes: %d described", len(got))
	}
}

// The addresses a call hands out see the ENIs it staged and not yet stored,
// and the committed ones it changed: an address an ENI of the call holds is
// taken, one that only its committed version held is free. Dropping the call
// frees what it staged.
func TestStagedENIsHoldTheirAddresses(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/28")
	kept := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})) // .4

	tc.mu.Lock()
	s := tc.Cloud.subnet(sub.ID)
	free := tc.availableLocked(s)
	first := must[[]netip.Addr](t)(tc.freeAddrsLocked(s, 1, nil))
	staged := tc.newENILocked(eniRequest{subnet: s, addrs: first})
	tc.model().enis.Put(staged)
	second := must[[]netip.Addr](t)(tc.freeAddrsLocked(s, 1, nil))
	if first[0] == second[0] {
		tc.unlock()
		t.Fatalf("a staged ENI's address %s handed out again", first[0])
	}
	if got := tc.availableLocked(s); got != free-1 {
		tc.unlock()
		t.Fatalf("available with one ENI staged: %d, want %d", got, free-1)
	}
	// The committed ENI, deleted in the call, no longer holds its address.
	tc.model().enis.Delete(kept.ID)
	if _, err := tc.checkRequestedAddrLocked(s, "10.0.0.4", nil); err != nil {
		tc.unlock()
		t.Fatalf("address of an ENI the call deletes: %v", err)
	}
	tc.unlock()

	// Nothing was stored: the committed ENI still holds .4, .5 is free.
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	if e.PrimaryIP() != first[0] || first[0].String() != "10.0.0.5" {
		t.Fatalf("after a dropped call: %s (staged had %s), want 10.0.0.5", e.PrimaryIP(), first[0])
	}
}

// A region's default VPC is made with the region's marker, in one write: when
// the store refuses it, the next call in the region makes it again, once.
func TestDefaultVPCRefusedByTheStoreIsMadeAgain(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	eu := Scope{Region: "eu-west-1"}
	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.DescribeVpcs(ctx, eu, nil, nil); err == nil {
		t.Fatal("first call in a region with the store refusing: want an error")
	}
	if len(tc.dp.VPCs) != 0 {
		t.Fatalf("namespace of a default VPC the store refused: %v", tc.dp.Objects())
	}
	vpcs := must[[]VPC](t)(tc.DescribeVpcs(ctx, eu, nil, nil))
	if len(vpcs) != 1 || !vpcs[0].IsDefault {
		t.Fatalf("default VPCs after a refused one: %+v", vpcs)
	}
	if again := tc.reopen(t); again.tables.vpcs.Len() != 1 || again.tables.regions.Len() != 1 {
		t.Fatalf("stored: %d VPCs, %d regions", again.tables.vpcs.Len(), again.tables.regions.Len())
	}
}
