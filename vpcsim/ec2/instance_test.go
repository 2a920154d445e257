package ec2

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

func TestInstanceLifecycle(t *testing.T) {
	var seen []string
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	c, err := New(context.Background(), st, dp, WithInPlaceCheck())
	if err != nil {
		t.Fatal(err)
	}
	sub := bus.On(c.Events(), func(ev InstanceChanged) { seen = append(seen, ev.Instance.State) })
	defer sub.Cancel()
	tc := &testCloud{c, dp, st}
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a := tc.subnet(t, v.ID, "10.0.0.0/24")
	b := must[Subnet](t)(tc.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.1.0/24", AZ: "us-west-2b"}))
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=x >> /etc/ecs/ecs.config\n"))
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: a.ID, UserData: ud}))
	i := insts[0]
	if i.State != StatePending || len(i.ENIs) != 1 || i.ENIs[0].Attachment.DeviceIndex != 0 || !i.ENIs[0].Attachment.DeleteOnTermination {
		t.Fatalf("launched %+v", i)
	}
	tc.Wait()
	got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{i.ID}, nil))[0]
	if got.State != StateRunning || got.UserData != ud {
		t.Fatalf("after launch %+v", got)
	}
	primary := got.ENIs[0]
	if k := dp.ENIs[primary.ID]; k.Host != i.ID || k.Device != 0 || k.Gateway.String() != "10.0.0.1" {
		t.Fatalf("kernel primary ENI %+v", k)
	}

	// A second ENI from the same AZ attaches as eth1; one from another AZ is refused.
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: a.ID}))
	far := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: b.ID}))
	_, err = tc.AttachNetworkInterface(ctx, west, far.ID, i.ID, 1)
	wantCode(t, err, "InvalidParameterValue")
	att := must[string](t)(tc.AttachNetworkInterface(ctx, west, e.ID, i.ID, 1))
	if k := dp.ENIs[e.ID]; k.Host != i.ID || k.Device != 1 {
		t.Fatalf("attached ENI in the kernel: %+v", k)
	}
	_, err = tc.AttachNetworkInterface(ctx, west, e.ID, i.ID, 2)
	wantCode(t, err, "InvalidParameterValue")
	wantCode(t, tc.DeleteNetworkInterface(ctx, west, e.ID), "InvalidNetworkInterface.InUse")
	wantCode(t, tc.DetachNetworkInterface(ctx, west, primary.Attachment.ID, false), "OperationNotPermitted")
	// c5.large holds 3 ENIs.
	e3 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: a.ID}))
	e4 := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: a.ID}))
	must[string](t)(tc.AttachNetworkInterface(ctx, west, e3.ID, i.ID, 2))
	_, err = tc.AttachNetworkInterface(ctx, west, e4.ID, i.ID, 3)
	wantCode(t, err, "AttachmentLimitExceeded")
	if err := tc.DetachNetworkInterface(ctx, west, att, false); err != nil {
		t.Fatal(err)
	}
	if k := dp.ENIs[e.ID]; k.Host != "" {
		t.Fatalf("detached ENI still inside: %+v", k)
	}

	// Stop parks everything; start brings it back.
	chg := must[[]InstanceStateChange](t)(tc.StopInstances(ctx, west, []string{i.ID}))
	if chg[0].PreviousState != StateRunning || chg[0].CurrentState != StateStopping {
		t.Fatalf("stop %+v", chg)
	}
	tc.Wait()
	if dp.Hosts[i.ID] || dp.ENIs[primary.ID].Host != "" {
		t.Fatalf("stopped instance in the kernel: %v", dp.Objects())
	}
	must[[]InstanceStateChange](t)(tc.StartInstances(ctx, west, []string{i.ID}))
	tc.Wait()
	if !dp.Hosts[i.ID] || dp.ENIs[primary.ID].Host != i.ID || dp.ENIs[e3.ID].Device != 2 {
		t.Fatalf("restarted instance in the kernel: %v", dp.Objects())
	}

	_, err = tc.TerminateInstances(ctx, west, []string{i.ID, "i-0123456789abcdef0", "i-0123456789abcdef1"})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	chg = must[[]InstanceStateChange](t)(tc.TerminateInstances(ctx, west, []string{i.ID}))
	if chg[0].CurrentState != StateShuttingDown {
		t.Fatalf("terminate %+v", chg)
	}
	tc.Wait()
	got = must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{i.ID}, nil))[0]
	if got.State != StateTerminated || len(got.ENIs) != 0 {
		t.Fatalf("terminated %+v", got)
	}
	if _, err := tc.DescribeNetworkInterfaces(ctx, west, []string{primary.ID}, nil); err == nil {
		t.Fatal("the primary ENI (DeleteOnTermination) survived")
	}
	left := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, []string{e3.ID}, nil))[0]
	if left.Status != "available" || left.Attachment != nil || dp.ENIs[e3.ID].Host != "" {
		t.Fatalf("secondary ENI after terminate: %+v", left)
	}
	if dp.Hosts[i.ID] {
		t.Fatal("namespace of a terminated instance remains")
	}
	// Every stored state is published, in order, once committed.
	c.Events().Drain()
	want := []string{StatePending, StateRunning, StateStopping, StateStopped, StatePending, StateRunning, StateShuttingDown, StateTerminated}
	if !slices.Equal(seen, want) {
		t.Fatalf("events said %v, want %v", seen, want)
	}
}

func TestRunInstancesRules(t *testing.T) {
	aws, _ := quota.Profile(quota.ProfileAWS)
	tc := newTestCloud(t, WithQuotas(aws))
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	tiny := tc.subnet(t, v.ID, "10.0.0.0/28")
	base := RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: tiny.ID}
	for _, tt := range []struct {
		change func(*RunInstancesInput)
		code   string
	}{
		{func(in *RunInstancesInput) { in.ImageID = "" }, "MissingParameter"},
		{func(in *RunInstancesInput) { in.InstanceType = "z9.huge" }, "InvalidParameterValue"},
		{func(in *RunInstancesInput) { in.InstanceType = "c7g.large" }, "InvalidParameterValue"}, // arm64 on amd64
		{func(in *RunInstancesInput) {
			in.Settings.DisableAPIStop = ptrTo(true)
			in.Settings.CPUCredits = "unlimited"
			in.InstanceType = "m6i.large"
		},
			"InstanceCreditSpecification.NotSupported"},
		{func(in *RunInstancesInput) {
			in.BlockDevices = []BlockDeviceInput{{DeviceName: RootDevice, EBS: &EBSInput{Size: 2}}}
		}, "InvalidBlockDeviceMapping"},
		{func(in *RunInstancesInput) { in.MinCount = 0 }, "InvalidParameterValue"},
		{func(in *RunInstancesInput) { in.UserData = "%%%" }, "InvalidParameterValue"},
		{func(in *RunInstancesInput) { in.SubnetID = "subnet-0123456789abcdef0" }, "InvalidSubnetID.NotFound"},
		{func(in *RunInstancesInput) { in.MinCount, in.MaxCount = 12, 12 }, "InsufficientFreeAddressesInSubnet"},
		{func(in *RunInstancesInput) { in.SecurityGroupIDs = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
	} {
		in := base
		tt.change(&in)
		_, err := tc.RunInstances(ctx, west, in)
		wantCode(t, err, tt.code)
	}
	if n := tc.tables.instances.Len(); n != 0 {
		t.Fatalf("refused launches left %d instances", n)
	}
	// MaxCount beyond what fits launches what fits, when MinCount fits.
	in := base
	in.MinCount, in.MaxCount = 2, 30
	got := must[[]Instance](t)(tc.RunInstances(ctx, west, in))
	if len(got) != 11 || got[0].ReservationID != got[10].ReservationID {
		t.Fatalf("launched %d", len(got))
	}
	// No subnet: the default subnet of the default VPC.
	in = base
	in.SubnetID = ""
	d := must[[]Instance](t)(tc.RunInstances(ctx, west, in))
	if d[0].VPCID == v.ID {
		t.Fatalf("launched into %s, want the default VPC", d[0].VPCID)
	}
	// A fresh AWS account holds 20 instances that are not terminated.
	in.MinCount, in.MaxCount = 9, 9
	_, err := tc.RunInstances(ctx, west, in)
	wantCode(t, err, "InstanceLimitExceeded")
}

func ptrTo[T any](v T) *T { return &v }

// A reboot keeps the instance running with its addresses, ENIs, volumes
// and namespace; the kernel only puts its network back as configured. It
// is stored and published twice (rebooting, then back), which is how ECS
// learns of it. Only a running instance reboots: a terminated one is
// ignored, as EC2 ignores it; pending, stopping and stopped ones are
// refused, all or nothing.
func TestRebootInstances(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	type seen struct {
		id        string
		state     string
		rebooting bool
	}
	var mu sync.Mutex
	var events []seen
	sub := bus.On(tc.Events(), func(ev InstanceChanged) {
		mu.Lock()
		events = append(events, seen{ev.Instance.ID, ev.Instance.State, ev.Instance.Rebooting})
		mu.Unlock()
	})
	defer sub.Cancel()
	v := tc.vpc(t, "10.0.0.0/16")
	s := tc.subnet(t, v.ID, "10.0.0.0/24")
	insts := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 3, MaxCount: 3, SubnetID: s.ID}))
	run, stopped, gone := insts[0].ID, insts[1].ID, insts[2].ID
	tc.Wait()
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: s.ID}))
	must[string](t)(tc.AttachNetworkInterface(ctx, west, e.ID, run, 1))
	must[[]InstanceStateChange](t)(tc.StopInstances(ctx, west, []string{stopped}))
	must[[]InstanceStateChange](t)(tc.TerminateInstances(ctx, west, []string{gone}))
	tc.Wait()
	before := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{run}, nil))[0]
	tc.Events().Drain()
	mu.Lock()
	events = nil
	mu.Unlock()
	tc.dp.Trace = nil

	for _, tt := range []struct {
		ids  []string
		code string
	}{
		{nil, "MissingParameter"},
		{[]string{"i-nope"}, "InvalidInstanceID.Malformed"},
		{[]string{run, "i-0123456789abcdef0", "i-0123456789abcdef1"}, "InvalidInstanceID.NotFound"},
		{[]string{run, stopped}, "IncorrectInstanceState"},
	} {
		wantCode(t, tc.RebootInstances(ctx, west, tt.ids), tt.code)
	}
	err := tc.RebootInstances(ctx, west, []string{stopped})
	if e, _ := AsAPIError(err); e == nil || e.Message != "The instance '"+stopped+"' is not in a state from which it can be rebooted." {
		t.Fatalf("reboot a stopped instance: %v", err)
	}
	if err := tc.RebootInstances(ctx, west, []string{run, gone}); err != nil {
		t.Fatal(err)
	}
	tc.Wait()
	tc.Events().Drain()

	after := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{run}, nil))[0]
	if after.State != StateRunning || after.Rebooting || after.LaunchTime != before.LaunchTime || len(after.ENIs) != 2 ||
		after.ENIs[0].ID != before.ENIs[0].ID || after.ENIs[0].PrimaryIP() != before.ENIs[0].PrimaryIP() || after.ENIs[1].ID != e.ID ||
		len(after.Volumes) != 1 || after.Volumes[0].ID != before.Volumes[0].ID {
		t.Fatalf("after a reboot %+v, before %+v", after, before)
	}
	if g := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{gone}, nil))[0]; g.State != StateTerminated || g.Rebooting {
		t.Fatalf("a terminated instance rebooted: %+v", g)
	}
	st := must[[]InstanceStatus](t)(tc.DescribeInstanceStatus(ctx, west, []string{run}, nil, false))
	if len(st) != 1 || st[0].Status != "ok" {
		t.Fatalf("status after a reboot %+v", st)
	}
	// The namespace and the ENIs stayed; the network was put back as it is.
	want := []string{"ensure-host " + run, "ensure-eni " + before.ENIs[0].ID + " host=" + run + " eth0", "ensure-eni " + e.ID + " host=" + run + " eth1"}
	ok := len(tc.dp.Trace) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(tc.dp.Trace[i], want[i])
	}
	if !ok || !tc.dp.Hosts[run] || tc.dp.ENIs[e.ID].Host != run {
		t.Fatalf("the kernel's reboot:\n%s", strings.Join(tc.dp.Trace, "\n"))
	}
	// Refused calls stored nothing; the reboot two changes; the
	// terminated instance's is no change.
	mu.Lock()
	got := slices.DeleteFunc(slices.Clone(events), func(s seen) bool { return s.id == gone })
	mu.Unlock()
	if !slices.Equal(got, []seen{{run, StateRunning, true}, {run, StateRunning, false}}) {
		t.Fatalf("events %+v", got)
	}
}

// A reboot the store did not finish is finished by the next start-up.
func TestRebootResumes(t *testing.T) {
	tc, st := newRefusingCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	s := tc.subnet(t, v.ID, "10.0.0.0/24")
	id := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: s.ID}))[0].ID
	tc.Wait()
	st.arm(func(ch storage.Change) bool {
		return ch.Kind == kindInstance && ch.Body != nil && !strings.Contains(string(ch.Body), `"rebooting"`)
	})
	if err := tc.RebootInstances(ctx, west, []string{id}); err != nil {
		t.Fatal(err)
	}
	tc.Wait()
	if !st.wasRefused() || !tc.instance(id).Rebooting {
		t.Fatalf("refused %v, rebooting %v", st.wasRefused(), tc.instance(id).Rebooting)
	}
	again := tc.reopen(t)
	again.Wait()
	if got := must[[]Instance](t)(again.DescribeInstances(ctx, west, []string{id}, nil))[0]; got.State != StateRunning || got.Rebooting {
		t.Fatalf("after a restart: %s, rebooting %v", got.State, got.Rebooting)
	}
}
