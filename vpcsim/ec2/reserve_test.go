package ec2

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// gatedDataplane is the fake dataplane with gates on EnsureENI and on the
// VPC and subnet calls: when a gate names the call, it announces itself on
// entered ("ensure-eni eni-…", "delete-subnet subnet-…") and holds until
// release is closed, as a slow netlink call would.
type gatedDataplane struct {
	*netmodeltest.FakeDataplane
	mu      sync.Mutex
	gate    func(netmodel.NetENI) bool
	opGate  func(op, id string) bool
	entered chan string
	release chan struct{}
}

func newGated() *gatedDataplane {
	return &gatedDataplane{FakeDataplane: netmodeltest.NewFakeDataplane(), entered: make(chan string, 1), release: make(chan struct{})}
}

func (g *gatedDataplane) hold(gate func(netmodel.NetENI) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = gate
}

// holdOp gates the next VPC or subnet call op ("ensure-vpc", "delete-vpc",
// "ensure-subnet", "delete-subnet") on the VPC or subnet id ("": any).
func (g *gatedDataplane) holdOp(op, id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opGate = func(o, i string) bool { return o == op && (id == "" || i == id) }
}

func (g *gatedDataplane) EnsureENI(ctx context.Context, e netmodel.NetENI) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil && gate(e) {
		g.hold(nil)
		g.entered <- "ensure-eni " + e.ID
		<-g.release
	}
	return g.FakeDataplane.EnsureENI(ctx, e)
}

// pass holds a VPC or subnet call when the gate names it.
func (g *gatedDataplane) pass(op, id string) {
	g.mu.Lock()
	gate := g.opGate
	held := gate != nil && gate(op, id)
	if held {
		g.opGate = nil
	}
	g.mu.Unlock()
	if held {
		g.entered <- op + " " + id
		<-g.release
	}
}

func (g *gatedDataplane) EnsureVPC(ctx context.Context, v netmodel.NetVPC) error {
	g.pass("ensure-vpc", v.ID)
	return g.FakeDataplane.EnsureVPC(ctx, v)
}

func (g *gatedDataplane) DeleteVPC(ctx context.Context, id string) error {
	g.pass("delete-vpc", id)
	return g.FakeDataplane.DeleteVPC(ctx, id)
}

func (g *gatedDataplane) EnsureSubnet(ctx context.Context, s netmodel.NetSubnet) error {
	g.pass("ensure-subnet", s.ID)
	return g.FakeDataplane.EnsureSubnet(ctx, s)
}

func (g *gatedDataplane) DeleteSubnet(ctx context.Context, s netmodel.NetSubnet) error {
	g.pass("delete-subnet", s.ID)
	return g.FakeDataplane.DeleteSubnet(ctx, s)
}

// releaser returns what lets the held call go on, once however often it is
// called (the test's own release, and a deferred one if it fails first).
func (g *gatedDataplane) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { close(g.release) }) }
}

// newGatedCloud is a Cloud over a gated fake dataplane, with a VPC and a
// subnet (10.0.0.0/24).
func newGatedCloud(t *testing.T, opts ...Option) (*Cloud, *gatedDataplane, Subnet) {
	t.Helper()
	ctx := context.Background()
	dp := newGated()
	c, err := New(ctx, vpcsim.NewMemStore(), dp, append([]Option{WithInPlaceCheck()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	v := must[VPC](t)(c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"}))
	sub := must[Subnet](t)(c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.0.0/24", AZ: "us-west-2a"}))
	return c, dp, sub
}

// slowCall is how long a call may take, at most, while another call's
// kernel work is held: far beyond any machine's scheduling, so reaching it
// means the call waited for that kernel work.
const slowCall = 30 * time.Second

// While one CreateNetworkInterface makes its veth, other calls go on (the
// model lock is not held across the kernel work) and cannot take the
// address it reserved.
func TestKernelWorkOutsideTheLockHoldsTheAddress(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	dp.hold(func(n netmodel.NetENI) bool { return len(n.Addrs) > 0 && n.Addrs[0].Addr().String() == "10.0.0.10" })
	type result struct {
		eni ENI
		err error
	}
	slow := make(chan result, 1)
	go func() {
		e, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.10"})
		slow <- result{e, err}
	}()
	<-dp.entered
	release := dp.releaser()
	defer release()

	others := make(chan []error, 1)
	go func() {
		var errs []error
		_, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.10"})
		errs = append(errs, err)
		e, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID})
		if err == nil && e.PrimaryIP().String() == "10.0.0.10" {
			err = errTest("a second ENI got the reserved 10.0.0.10")
		}
		errs = append(errs, err)
		list, err := c.DescribeNetworkInterfaces(ctx, west, nil, nil)
		if err == nil && len(list) != 1 {
			err = errTest("DescribeNetworkInterfaces lists an ENI whose veth is still being made")
		}
		others <- append(errs, err)
	}()
	var errs []error
	select {
	case errs = <-others:
	case <-time.After(slowCall):
		release()
		t.Fatal("calls waited for another call's kernel work: the model lock is held across it")
	}
	wantCode(t, errs[0], "InvalidIPAddress.InUse")
	for _, err := range errs[1:] {
		if err != nil {
			t.Fatal(err)
		}
	}
	release()
	r := <-slow
	if r.err != nil || r.eni.PrimaryIP().String() != "10.0.0.10" {
		t.Fatalf("the held call: %+v %v", r.eni, r.err)
	}
	if k := dp.ENIs[r.eni.ID]; len(k.Addrs) == 0 || k.Addrs[0].Addr().String() != "10.0.0.10" {
		t.Fatalf("kernel: %+v", k)
	}
}

type errTest string

// signalWaits returns what a call signals on as it starts waiting for a busy
// ENI, instance or VPC.
func signalWaits(c *Cloud) <-chan struct{} {
	waiting := make(chan struct{}, 1)
	c.onWait = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	return waiting
}

func (e errTest) Error() string { return string(e) }

// A call on an ENI whose attachment is being made in the kernel waits for
// it, then decides on what was committed: DeleteNetworkInterface answers
// InUse, and the ENI is where the attachment put it.
func TestCallOnABusyENIWaits(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	waiting := signalWaits(c)
	inst := must[[]Instance](t)(c.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))[0]
	c.Wait()
	e := must[ENI](t)(c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	dp.hold(func(n netmodel.NetENI) bool { return n.ID == e.ID && n.Host == inst.ID })
	attached := make(chan error, 1)
	go func() {
		_, err := c.AttachNetworkInterface(ctx, west, e.ID, inst.ID, 1)
		attached <- err
	}()
	<-dp.entered
	deleted := make(chan error, 1)
	go func() { deleted <- c.DeleteNetworkInterface(ctx, west, e.ID) }()
	<-waiting // the delete found the ENI busy and waits
	// Another ENI's calls are not held.
	other := must[ENI](t)(c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	if err := c.DeleteNetworkInterface(ctx, west, other.ID); err != nil {
		t.Fatal(err)
	}
	close(dp.release)
	if err := <-attached; err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-deleted, "InvalidNetworkInterface.InUse")
	if k := dp.ENIs[e.ID]; k.Host != inst.ID || k.Device != 1 {
		t.Fatalf("kernel after attach and a refused delete: %+v", k)
	}
	got := must[[]ENI](t)(c.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))[0]
	if got.Attachment == nil || got.Attachment.InstanceID != inst.ID {
		t.Fatalf("model: %+v", got)
	}
}

// A kernel step that fails leaves nothing: no record, no kernel object, no
// reservation (the address is handed out again), for a new ENI and for a
// task ENI's move into its namespace.
func TestFailedKernelStepLeavesNothing(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	tc.dp.Fail["ensure-eni"] = errTest("netlink: no buffer space")
	_, err := tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.10"})
	if err == nil || !strings.Contains(err.Error(), "no buffer space") {
		t.Fatalf("create with a failing kernel: %v", err)
	}
	delete(tc.dp.Fail, "ensure-eni")
	if list := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, nil)); len(list) != 0 {
		t.Fatalf("a failed create left %+v", list)
	}
	if len(tc.dp.ENIs) != 0 || len(tc.inflight) != 0 {
		t.Fatalf("a failed create left kernel %v, in flight %v", tc.dp.ENIs, tc.inflight)
	}
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.10"}))

	task := must[ENI](t)(tc.CreateTaskENI(ctx, west, sub.ID, nil, "arn:aws:ecs:us-west-2:000000000000:attachment/f", false))
	parked := tc.dp.ENIs[task.ID]
	tc.dp.Fail["ensure-eni"] = errTest("netlink: no buffer space")
	if _, err := tc.AttachTaskENI(ctx, west, task.ID, "", "task-f"); err == nil {
		t.Fatal("attach with a failing kernel succeeded")
	}
	delete(tc.dp.Fail, "ensure-eni")
	if tc.dp.Hosts["task-f"] || tc.dp.ENIs[task.ID].Host != "" || tc.dp.ENIs[task.ID].MAC.String() != parked.MAC.String() {
		t.Fatalf("a failed attach left the kernel %v", tc.dp.Objects())
	}
	got := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{task.ID}, nil))[0]
	if got.Attachment != nil || got.Status != "available" || len(tc.inflight) != 0 || len(tc.busy) != 0 {
		t.Fatalf("a failed attach left %+v (in flight %v)", got, tc.inflight)
	}
	// Both work once the kernel does.
	must[TaskENI](t)(tc.AttachTaskENI(ctx, west, task.ID, "", "task-f"))
	if err := tc.DeleteNetworkInterface(ctx, west, e.ID); err != nil {
		t.Fatal(err)
	}
}

// AssignPrivateIpAddresses adds the address in the kernel without the model
// lock, and holds it meanwhile: another ENI cannot take it, and reads go on.
func TestAssignOutsideTheLockHoldsTheAddress(t *testing.T) {
	ctx := context.Background()
	c, dp, sub := newGatedCloud(t)
	e := must[ENI](t)(c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	dp.hold(func(n netmodel.NetENI) bool { return n.ID == e.ID && len(n.Addrs) == 2 })
	slow := make(chan error, 1)
	go func() {
		_, err := c.AssignPrivateIPAddresses(ctx, west, AssignPrivateIPsInput{ENIID: e.ID, Addresses: []string{"10.0.0.20"}})
		slow <- err
	}()
	<-dp.entered
	release := dp.releaser()
	defer release()
	others := make(chan []error, 1)
	go func() {
		_, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.0.20"})
		_, err2 := c.DescribeNetworkInterfaces(ctx, west, nil, nil)
		others <- []error{err, err2}
	}()
	var errs []error
	select {
	case errs = <-others:
	case <-time.After(slowCall):
		release()
		t.Fatal("calls waited for AssignPrivateIpAddresses's kernel work: the model lock is held across it")
	}
	wantCode(t, errs[0], "InvalidIPAddress.InUse")
	if errs[1] != nil {
		t.Fatal(errs[1])
	}
	release()
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	got := must[[]ENI](t)(c.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil))
	if len(got[0].PrivateIPs) != 2 || len(dp.ENIs[e.ID].Addrs) != 2 {
		t.Fatalf("model %v, kernel %v: want the primary and 10.0.0.20", got[0].PrivateIPs, dp.ENIs[e.ID].Addrs)
	}
}
