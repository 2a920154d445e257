package ecsapi

import (
	"context"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// A reboot of a container instance's host ends what ran on it: the agent
// disconnects and the tasks stop, as ECS words a host going down, while
// the instance stays registered and ACTIVE; the agent is back once the
// host is, and a service replaces its tasks.
func TestRebootedHostStopsItsTasks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	inst := w.instance(t, "m5.xlarge", "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	w.settleServices(t)
	before := w.serviceTasks(t, "demo", "web")
	if len(before) != 2 {
		t.Fatalf("%d tasks before the reboot", len(before))
	}
	ci := func() ecstypes.ContainerInstance {
		t.Helper()
		arns := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo")}))(t).ContainerInstanceArns
		if len(arns) != 1 {
			t.Fatalf("container instances %v", arns)
		}
		return must(w.DescribeContainerInstances(ctx, west, &ecstypes.DescribeContainerInstancesRequest{Cluster: str("demo"), ContainerInstances: arns}))(t).ContainerInstances[0]
	}
	arn := deref(ci().ContainerInstanceArn)

	// What ECS does with each of the reboot's two changes.
	rebooting := inst
	rebooting.State, rebooting.Rebooting = ec2sim.StateRunning, true
	w.instanceChanged(rebooting)
	if got := ci(); deref(got.AgentConnected) || deref(got.Status) != "ACTIVE" || deref(got.ContainerInstanceArn) != arn {
		t.Fatalf("while its host reboots: agent connected %v, %s", deref(got.AgentConnected), deref(got.Status))
	}
	for _, tk := range before {
		got := w.describe(t, "demo", *tk.TaskArn)
		if got.DesiredStatus == nil || *got.DesiredStatus != "STOPPED" || got.StopCode != ecstypes.TaskStopCodeTerminationNotice ||
			deref(got.StoppedReason) != "Host EC2 (instance "+inst.ID+") rebooted." {
			t.Fatalf("a task of a rebooting host: desired %s, %s %q", deref(got.DesiredStatus), got.StopCode, deref(got.StoppedReason))
		}
	}
	rebooting.Rebooting = false
	w.instanceChanged(rebooting)
	if got := ci(); !deref(got.AgentConnected) {
		t.Fatal("the agent did not connect again after the reboot")
	}

	// Through EC2: the service replaces what the reboot stopped, on the
	// same container instance.
	w.settleServices(t)
	mid := w.serviceTasks(t, "demo", "web")
	if err := w.ec2.RebootInstances(ctx, ec2West, []string{inst.ID}); err != nil {
		t.Fatal(err)
	}
	w.settleServices(t)
	for _, tk := range mid {
		if got := w.describe(t, "demo", *tk.TaskArn); deref(got.LastStatus) != "STOPPED" || deref(got.StoppedReason) != "Host EC2 (instance "+inst.ID+") rebooted." {
			t.Fatalf("a task of the rebooted host: %s %q", deref(got.LastStatus), deref(got.StoppedReason))
		}
	}
	after := w.serviceTasks(t, "demo", "web")
	if got := ci(); !deref(got.AgentConnected) || deref(got.RunningTasksCount) != 2 || len(after) != 2 {
		t.Fatalf("after a reboot: agent connected %v, %d running, %d service tasks", deref(got.AgentConnected), deref(got.RunningTasksCount), len(after))
	}
	for _, tk := range after {
		if deref(tk.LastStatus) != "RUNNING" || deref(tk.ContainerInstanceArn) != arn || *tk.TaskArn == *mid[0].TaskArn || *tk.TaskArn == *mid[1].TaskArn {
			t.Fatalf("a task after the reboot: %s on %s", deref(tk.LastStatus), deref(tk.ContainerInstanceArn))
		}
	}
	if got := must(w.ec2.DescribeInstances(ctx, ec2West, []string{inst.ID}, nil))(t)[0]; got.State != ec2sim.StateRunning || got.Rebooting {
		t.Fatalf("the instance after its reboot: %s rebooting %v", got.State, got.Rebooting)
	}
}
