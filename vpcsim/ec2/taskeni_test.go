package ec2

import (
	"context"
	"testing"
)

func TestTaskENI(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	inst := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))[0]
	tc.Wait()

	e := must[ENI](t)(tc.CreateTaskENI(ctx, west, sub.ID, nil, "arn:aws:ecs:us-west-2:000000000000:attachment/x", false))
	if !e.RequesterManaged || e.RequesterID == "" || e.RequesterID == tc.Account() {
		t.Fatalf("task ENI %+v", e)
	}
	att := must[TaskENI](t)(tc.AttachTaskENI(ctx, west, e.ID, inst.ID, "task-1"))
	if att.SubnetCIDR != sub.CIDR || att.ID != e.ID {
		t.Fatalf("the task learns %+v", att)
	}
	e = att.ENI
	if e.Attachment.DeviceIndex != 1 || e.Attachment.InstanceID != inst.ID || e.Status != "in-use" {
		t.Fatalf("attached task ENI %+v", e.Attachment)
	}
	if k := tc.dp.ENIs[e.ID]; k.Host != "task-1" || k.Device != 0 || !tc.dp.Hosts["task-1"] {
		t.Fatalf("kernel: the task's ENI belongs in its own namespace as eth0: %+v", k)
	}
	if n := len(tc.InstanceENIs(inst.ID)); n != 2 {
		t.Fatalf("instance holds %d ENIs, want 2", n)
	}
	wantCode(t, tc.DetachNetworkInterface(ctx, west, e.Attachment.ID, false), "OperationNotPermitted")
	wantCode(t, tc.DeleteNetworkInterface(ctx, west, e.ID), "InvalidNetworkInterface.InUse")

	// A restart keeps the task's namespace with its ENI inside.
	again := tc.reopen(t)
	if k := tc.dp.ENIs[e.ID]; k.Host != "task-1" || !tc.dp.Hosts["task-1"] {
		t.Fatalf("after restart: %v", tc.dp.Objects())
	}
	if err := again.DeleteTaskENI(ctx, west, e.ID); err != nil {
		t.Fatal(err)
	}
	if tc.dp.Hosts["task-1"] || tc.dp.ENIs[e.ID].ID != "" {
		t.Fatalf("after delete: %v", tc.dp.Objects())
	}
	_, err := again.DescribeNetworkInterfaces(ctx, west, []string{e.ID}, nil)
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	if err := again.DeleteTaskENI(ctx, west, e.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}

	// Fargate: no instance of the user's.
	f := must[ENI](t)(again.CreateTaskENI(ctx, west, sub.ID, nil, "fargate", false))
	f = must[TaskENI](t)(again.AttachTaskENI(ctx, west, f.ID, "", "task-2")).ENI
	if f.Attachment.InstanceID != "" || f.Attachment.InstanceOwnerID != fargateOwner {
		t.Fatalf("Fargate attachment %+v", f.Attachment)
	}
}

// A crash between EC2's step and ECS recording it must not cost an ENI: the
// same calls again find what the first ones made.
func TestTaskENIRetriesAfterACrash(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.0.0/24")
	inst := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))[0]
	tc.Wait()
	desc := "arn:aws:ecs:us-west-2:000000000000:attachment/a1"
	first := must[ENI](t)(tc.CreateTaskENI(ctx, west, sub.ID, nil, desc, false))
	again := tc.reopen(t)
	second := must[ENI](t)(again.CreateTaskENI(ctx, west, sub.ID, nil, desc, false))
	if second.ID != first.ID || second.PrimaryIP() != first.PrimaryIP() {
		t.Fatalf("a retried CreateTaskENI made %s (%s) beside %s (%s)", second.ID, second.PrimaryIP(), first.ID, first.PrimaryIP())
	}
	other := must[ENI](t)(again.CreateTaskENI(ctx, west, sub.ID, nil, desc+"-other", false))
	if other.ID == first.ID {
		t.Fatal("another attachment got the same ENI")
	}

	a := must[TaskENI](t)(again.AttachTaskENI(ctx, west, first.ID, inst.ID, "task-1"))
	delete(tc.dp.Hosts, "task-1") // as if the kernel lost it with the crash
	b := must[TaskENI](t)(again.AttachTaskENI(ctx, west, first.ID, inst.ID, "task-1"))
	if b.Attachment.ID != a.Attachment.ID || b.Attachment.DeviceIndex != 1 {
		t.Fatalf("a retried attach changed the attachment: %+v, first %+v", b.Attachment, a.Attachment)
	}
	if !tc.dp.Hosts["task-1"] || tc.dp.ENIs[first.ID].Host != "task-1" {
		t.Fatalf("a retried attach did not restore the kernel: %v", tc.dp.Objects())
	}
}
