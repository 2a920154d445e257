package ecsapi

import (
	"context"
	"sync"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Fifty RunTask calls at once on one subnet: no address handed out twice, and
// every instance's CPU, memory and ENIs accounted exactly.
func TestConcurrentRunTask(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "load")
	for range 4 {
		w.instance(t, "m5.24xlarge", "load") // 15 ENIs: 14 for tasks
	}
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	var wg sync.WaitGroup
	results := make([]*ecstypes.RunTaskResponse, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("load"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc()})
		}()
	}
	wg.Wait()
	w.settleTasks()
	placed := 0
	perInstance := map[string]int{}
	ips := map[string]string{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		for _, tk := range r.Tasks {
			placed++
			got := w.describe(t, "load", *tk.TaskArn)
			if deref(got.LastStatus) != "RUNNING" {
				t.Fatalf("task %s is %s", *tk.TaskArn, deref(got.LastStatus))
			}
			ip := detail(got, "privateIPv4Address")
			if other, dup := ips[ip]; dup {
				t.Fatalf("address %s handed to %s and %s", ip, other, *tk.TaskArn)
			}
			ips[ip] = *tk.TaskArn
			perInstance[deref(got.ContainerInstanceArn)]++
		}
	}
	if placed != 50 {
		var failures []string
		for _, r := range results {
			for _, f := range r.Failures {
				failures = append(failures, deref(f.Reason)+" "+deref(f.Detail))
			}
		}
		t.Fatalf("placed %d of 50: %v", placed, failures)
	}
	subs := must(w.ec2.DescribeSubnets(ctx, ec2West, []string{w.sub.ID}, nil))(t)
	if subs[0].AvailableIPs != 251-4-50 {
		t.Fatalf("subnet shows %d free, want %d", subs[0].AvailableIPs, 251-4-50)
	}
	var arns []string
	for arn := range perInstance {
		arns = append(arns, arn)
	}
	cis := must(w.DescribeContainerInstances(ctx, west, &ecstypes.DescribeContainerInstancesRequest{Cluster: str("load"), ContainerInstances: arns}))(t)
	for _, ci := range cis.ContainerInstances {
		n := perInstance[*ci.ContainerInstanceArn]
		if n > 14 {
			t.Fatalf("%d tasks on an instance with 14 task ENIs", n)
		}
		if cpu := valueOf(ci.RemainingResources[0]); cpu != 96*1024-int32(n)*100 {
			t.Fatalf("remaining CPU %d with %d tasks", cpu, n)
		}
		if mem := valueOf(ci.RemainingResources[1]); mem != 393216-int32(n)*512 {
			t.Fatalf("remaining memory %d with %d tasks", mem, n)
		}
		if got := len(w.ec2.InstanceENIs(*ci.Ec2InstanceId)); got != n+1 {
			t.Fatalf("instance holds %d ENIs with %d tasks", got, n)
		}
	}
}

// A restart serves the same ECS state.
func TestRestartKeepsECS(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "keep")
	w.instance(t, "c5.large", "keep")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("keep"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc()}))(t).Tasks[0].TaskArn
	w.settleTasks()
	before := w.describe(t, "keep", arn)
	w.Close()

	again, err := New(ctx, w.store, w.ec2, w.rt)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	w2 := *w
	w2.Service = again
	after := w2.describe(t, "keep", arn)
	if deref(after.LastStatus) != "RUNNING" || detail(after, "privateIPv4Address") != detail(before, "privateIPv4Address") {
		t.Fatalf("after restart %+v", after)
	}
	td := must(again.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("web")}))(t)
	if deref(td.TaskDefinition.Revision) != 1 {
		t.Fatal("task definition lost")
	}
	next := nginx("web", ecstypes.NetworkModeAwsvpc)
	if r := must(again.RegisterTaskDefinition(ctx, west, &next))(t); deref(r.TaskDefinition.Revision) != 2 {
		t.Fatalf("revision after restart %d, want 2", deref(r.TaskDefinition.Revision))
	}
	must(again.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("keep"), Task: &arn}))(t)
	w2.settleTasks()
	if got := w2.describe(t, "keep", arn); deref(got.LastStatus) != "STOPPED" {
		t.Fatalf("stop after restart: %s", deref(got.LastStatus))
	}
}
