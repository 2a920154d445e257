package ecsapi

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// settleServices runs scheduler passes and lets the tasks settle until a
// pass changes nothing, no task is between states and the scheduler waits
// for nothing soon (a short throttle or health wait is waited out: it is an
// event the scheduler set itself).
func (w *world) settleServices(t *testing.T) {
	t.Helper()
	for range 50 {
		w.settle()
		if !w.schedule() && !w.tasksBetweenStates() {
			next := w.nextPass()
			wait := next.Sub(w.now())
			if next.IsZero() || wait > 200*time.Millisecond {
				return
			}
			time.Sleep(max(wait, 0))
		}
	}
	var msgs []string
	for r := range w.services.All() {
		msgs = append(msgs, messages(w.renderServiceLocked(w.begin(), r, false))...)
	}
	t.Fatalf("the services never settled (between states: %v); events:\n%s", w.tasksBetweenStates(), strings.Join(msgs, "\n"))
}

// instanceIn launches a container instance of cluster in a subnet.
func (w *world) instanceIn(t *testing.T, typ, cluster string, sub ec2sim.Subnet) {
	t.Helper()
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=" + cluster + " >> /etc/ecs/ecs.config\n"))
	must(w.ec2.RunInstances(context.Background(), ec2West, ec2sim.RunInstancesInput{
		ImageID: "ami-12345678", InstanceType: typ, MinCount: 1, MaxCount: 1, SubnetID: sub.ID, UserData: ud}))(t)
	w.settle()
}

func (w *world) service(t *testing.T, cluster, name string) ecstypes.Service {
	t.Helper()
	out := must(w.DescribeServices(context.Background(), west, &ecstypes.DescribeServicesRequest{Cluster: str(cluster), Services: []string{name}}))(t)
	if len(out.Services) != 1 {
		t.Fatalf("describe service %s: %+v", name, out.Failures)
	}
	return out.Services[0]
}

// messages are a service's event texts, oldest first, with task and
// deployment IDs as X.
func messages(svc ecstypes.Service) []string {
	var texts []string
	for _, e := range slices.Backward(svc.Events) {
		texts = append(texts, idsOut(deref(e.Message)))
	}
	return texts
}

func idsOut(msg string) string {
	words := strings.Fields(msg)
	for i, w := range words {
		switch {
		case strings.HasPrefix(words[max(i-1, 0)], "(task") && len(strings.TrimRight(w, ").")) == 32:
			words[i] = "X" + w[32:]
		case strings.HasPrefix(w, "ecs-svc/"):
			words[i] = "ecs-svc/X" + strings.TrimLeft(w[len("ecs-svc/"):], "0123456789")
		}
	}
	return strings.Join(words, " ")
}

func (w *world) serviceTasks(t *testing.T, cluster, name string) []ecstypes.Task {
	t.Helper()
	ctx := context.Background()
	arns := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str(cluster), ServiceName: str(name)}))(t).TaskArns
	if len(arns) == 0 {
		return nil
	}
	return must(w.DescribeTasks(ctx, west, &ecstypes.DescribeTasksRequest{Cluster: str(cluster), Tasks: arns}))(t).Tasks
}

// A REPLICA service starts its tasks spread over the Availability Zones,
// reaches a steady state, replaces a task that ends, scales in, and is
// deleted once its tasks have stopped; its events say so in ECS's words.
func TestServiceKeepsItsTasks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	subB := must(w.ec2.CreateSubnet(ctx, ec2West, ec2sim.CreateSubnetInput{VPCID: w.vpc.ID, CIDR: "10.0.1.0/24", AZ: "us-west-2b"}))(t)
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.instanceIn(t, "m5.xlarge", "demo", subB)
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{w.sub.ID, subB.ID}, SecurityGroups: []string{w.sg.ID}}}
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(3)), NetworkConfiguration: net}))(t)
	w.settleServices(t)

	svc := w.service(t, "demo", "web")
	dep := svc.Deployments[0]
	if deref(svc.RunningCount) != 3 || deref(svc.PendingCount) != 0 || deref(dep.RunningCount) != 3 ||
		dep.RolloutState != ecstypes.DeploymentRolloutStateCompleted || deref(dep.RolloutStateReason) != "ECS deployment "+deref(dep.Id)+" completed." {
		t.Fatalf("after start: running %d pending %d, deployment %+v", deref(svc.RunningCount), deref(svc.PendingCount), dep)
	}
	want := []string{
		"(service web) has started 3 tasks: (task X) (task X) (task X).",
		"(service web) (deployment ecs-svc/X) deployment completed.",
		"(service web) has reached a steady state.",
	}
	if got := messages(svc); !slices.Equal(got, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tasks := w.serviceTasks(t, "demo", "web")
	perAZ := map[string]int{}
	for _, tk := range tasks {
		perAZ[deref(tk.AvailabilityZone)]++
		if deref(tk.Group) != "service:web" || deref(tk.StartedBy) != deref(dep.Id) || deref(tk.LastStatus) != "RUNNING" {
			t.Fatalf("a service's task %+v", tk)
		}
	}
	if len(tasks) != 3 || perAZ["us-west-2a"] < 1 || perAZ["us-west-2b"] < 1 {
		t.Fatalf("3 tasks over two AZs: %v", perAZ)
	}
	if m, _ := w.Metadata(*tasks[0].TaskArn); m.ServiceName != "web" {
		t.Fatalf("the task metadata's ServiceName %q, want web", m.ServiceName)
	}
	if c := must(w.DescribeClusters(ctx, west, &ecstypes.DescribeClustersRequest{Clusters: []string{"demo"}}))(t).Clusters[0]; deref(c.ActiveServicesCount) != 1 {
		t.Fatalf("activeServicesCount %d", deref(c.ActiveServicesCount))
	}

	// A task whose essential container ends is replaced; ECS says nothing
	// of the stop it did not make.
	gone := tasks[0]
	id := (*gone.TaskArn)[strings.LastIndexByte(*gone.TaskArn, '/')+1:]
	if err := w.rt.Exit(id, "nginx", 137); err != nil {
		t.Fatal(err)
	}
	w.settleServices(t)
	svc = w.service(t, "demo", "web")
	want = append(want, "(service web) has started 1 tasks: (task X).", "(service web) has reached a steady state.")
	if got := messages(svc); !slices.Equal(got, want) || deref(svc.RunningCount) != 3 {
		t.Fatalf("after a task ended: running %d, events\n%s", deref(svc.RunningCount), strings.Join(got, "\n"))
	}
	if slices.ContainsFunc(w.serviceTasks(t, "demo", "web"), func(tk ecstypes.Task) bool { return *tk.TaskArn == *gone.TaskArn }) {
		t.Fatal("the ended task is still among the service's")
	}

	// Scale in: the scheduler stops what is too many, and says so.
	must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), DesiredCount: ecstypes.Ptr(int32(1))}))(t)
	w.settleServices(t)
	svc = w.service(t, "demo", "web")
	want = append(want, "(service web) has stopped 2 running tasks: (task X) (task X).", "(service web) has reached a steady state.")
	if got := messages(svc); !slices.Equal(got, want) || deref(svc.RunningCount) != 1 || deref(svc.DesiredCount) != 1 {
		t.Fatalf("after scaling in: running %d, events\n%s", deref(svc.RunningCount), strings.Join(got, "\n"))
	}
	stopped := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo"), ServiceName: str("web"), DesiredStatus: ecstypes.DesiredStatusStopped}))(t).TaskArns
	last := w.describe(t, "demo", stopped[len(stopped)-1])
	if last.StopCode != ecstypes.TaskStopCodeServiceSchedulerInitiated || deref(last.StoppedReason) != "Scaling activity initiated by (deployment "+deref(dep.Id)+")" {
		t.Fatalf("a task the scheduler stopped: %s %q", last.StopCode, deref(last.StoppedReason))
	}

	// Delete: DRAINING until its task has stopped, then INACTIVE, and
	// still described.
	del := must(w.DeleteService(ctx, west, &ecstypes.DeleteServiceRequest{Cluster: str("demo"), Service: str("web"), Force: ecstypes.Ptr(true)}))(t).Service
	if deref(del.Status) != "DRAINING" || deref(del.DesiredCount) != 0 {
		t.Fatalf("DeleteService's answer: %s desired %d", deref(del.Status), deref(del.DesiredCount))
	}
	if l := must(w.ListServices(ctx, west, &ecstypes.ListServicesRequest{Cluster: str("demo")}))(t); len(l.ServiceArns) != 0 {
		t.Fatalf("a DRAINING service is listed: %v", l.ServiceArns)
	}
	w.settleServices(t)
	svc = w.service(t, "demo", "web")
	if deref(svc.Status) != "INACTIVE" || deref(svc.RunningCount) != 0 || len(w.serviceTasks(t, "demo", "web")) != 0 {
		t.Fatalf("after delete: %s running %d", deref(svc.Status), deref(svc.RunningCount))
	}
	_, err := w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), DesiredCount: ecstypes.Ptr(int32(1))})
	wantErr(t, err, "ServiceNotActiveException", "Service was not ACTIVE.")
	// The name is free again.
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(0)), NetworkConfiguration: net}))(t)
}

// A task that cannot be placed stays wanted: the service says why once, and
// starts it when an instance comes.
func TestServiceWaitsForRoom(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	td := nginx("web", ecstypes.NetworkModeBridge)
	td.ContainerDefinitions[0].PortMappings[0].HostPort = ecstypes.Ptr(int32(80))
	w.register(t, td)
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2))}))(t)
	w.settleServices(t)
	w.schedule()
	svc := w.service(t, "demo", "web")
	noInstances := "(service web) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	if got := messages(svc); !slices.Equal(got, []string{noInstances}) || deref(svc.DesiredCount) != 2 || deref(svc.RunningCount) != 0 {
		t.Fatalf("with no instance: desired %d running %d, events %q", deref(svc.DesiredCount), deref(svc.RunningCount), got)
	}
	// One instance: the bridge tasks both want host port 80, so the second
	// waits, and the service says why.
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.settleServices(t)
	svc = w.service(t, "demo", "web")
	got := messages(svc)
	ci := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo")}))(t).ContainerInstanceArns[0]
	port := "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance " +
		ci[strings.LastIndexByte(ci, '/')+1:] + ") is already using a port required by your task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	if len(got) != 3 || got[1] != "(service web) has started 1 tasks: (task X)." || got[2] != port || deref(svc.RunningCount) != 1 {
		t.Fatalf("with one instance: running %d, events\n%s", deref(svc.RunningCount), strings.Join(got, "\n"))
	}
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.settleServices(t)
	svc = w.service(t, "demo", "web")
	if got := messages(svc); deref(svc.RunningCount) != 2 || got[len(got)-1] != "(service web) has reached a steady state." {
		t.Fatalf("with two instances: running %d, events\n%s", deref(svc.RunningCount), strings.Join(got, "\n"))
	}
}

// Tasks that never start are tried again ever more slowly, and the service
// says it cannot start them; its count of what it wants does not change.
func TestServiceThrottlesTasksThatFailToStart(t *testing.T) {
	w := newWorld(t, WithServiceTimers(ServiceTimers{RetryBase: time.Hour, RetryMax: time.Hour}))
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	w.rt.FailStart = errTest("CannotPullContainerError: pull access denied")
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(1)), NetworkConfiguration: w.awsvpc()}))(t)
	w.settleServices(t)
	svc := w.service(t, "demo", "web")
	stopped := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo"), ServiceName: str("web"), DesiredStatus: ecstypes.DesiredStatusStopped}))(t).TaskArns
	want := []string{
		"(service web) has started 1 tasks: (task X).",
		"(service web) has started 1 tasks: (task X).",
		"(service web) is unable to consistently start tasks successfully.",
	}
	if got := messages(svc); !slices.Equal(got, want) || len(stopped) != 2 || deref(svc.DesiredCount) != 1 {
		t.Fatalf("%d tasks tried, events\n%s", len(stopped), strings.Join(got, "\n"))
	}
}

// After a restart the scheduler counts the tasks it started: none is started
// twice. And StopAll (serve --stop-tasks-on-exit) stops the scheduler first.
func TestServiceSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc()}))(t)
	w.settleServices(t)
	before := w.service(t, "demo", "web")
	w.Close()

	again, err := New(ctx, w.store, w.ec2, w.rt, WithInPlaceCheck())
	if err != nil {
		t.Fatal(err)
	}
	w2 := *w
	w2.Service = again
	t.Cleanup(again.Close)
	w2.settleServices(t)
	after := w2.service(t, "demo", "web")
	if len(after.Events) != len(before.Events) || deref(after.RunningCount) != 2 || len(w2.serviceTasks(t, "demo", "web")) != 2 {
		t.Fatalf("after a restart: running %d, events %q", deref(after.RunningCount), messages(after))
	}

	if n, err := again.StopAll(ctx, "vpcsim stopped"); err != nil || n != 2 {
		t.Fatalf("StopAll: %d, %v", n, err)
	}
	w2.settleServices(t)
	if tasks := w2.serviceTasks(t, "demo", "web"); len(tasks) != 0 {
		t.Fatalf("the scheduler started %d tasks after StopAll", len(tasks))
	}
}

// The scheduler works on its own: woken by the commit that made the service
// and by its tasks' events, it starts them and finds the service steady with
// no test calling it.
func TestSchedulerRunsOnItsOwn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	steady := make(chan struct{})
	var once sync.Once
	sub := bus.On(w.Events(), func(ev ServiceChanged) {
		if ev.Steady {
			once.Do(func() { close(steady) })
		}
	})
	defer sub.Cancel()
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc()}))(t)
	select {
	case <-steady:
	case <-time.After(time.Minute): // only when the scheduler never runs
		t.Fatal("the service never became steady on its own")
	}
	if svc := w.service(t, "demo", "web"); deref(svc.RunningCount) != 2 {
		t.Fatalf("steady with %d running", deref(svc.RunningCount))
	}
}

// A DAEMON service runs one task on each ACTIVE instance of its cluster, and
// follows them: a new instance gets one, a drained or terminated instance's
// goes, and its desired count is theirs.
func TestDaemonServiceFollowsInstances(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.register(t, nginx("agent", ecstypes.NetworkModeAwsvpc))
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("agent"), TaskDefinition: str("agent"),
		SchedulingStrategy: ecstypes.SchedulingStrategyDaemon, NetworkConfiguration: w.awsvpc()}))(t).Service
	if cfg := svc.DeploymentConfiguration; deref(cfg.MinimumHealthyPercent) != 0 || deref(cfg.MaximumPercent) != 100 || svc.SchedulingStrategy != ecstypes.SchedulingStrategyDaemon {
		t.Fatalf("a DAEMON service's defaults: %+v", cfg)
	}
	w.settleServices(t)
	perInstance := func() map[string]int {
		out := map[string]int{}
		for _, tk := range w.serviceTasks(t, "demo", "agent") {
			out[deref(tk.ContainerInstanceArn)]++
		}
		return out
	}
	if got := w.service(t, "demo", "agent"); deref(got.DesiredCount) != 1 || deref(got.RunningCount) != 1 || len(perInstance()) != 1 {
		t.Fatalf("one instance: desired %d running %d", deref(got.DesiredCount), deref(got.RunningCount))
	}
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.settleServices(t)
	cis := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo")}))(t).ContainerInstanceArns
	if got, per := w.service(t, "demo", "agent"), perInstance(); deref(got.DesiredCount) != 2 || deref(got.RunningCount) != 2 || per[cis[0]] != 1 || per[cis[1]] != 1 {
		t.Fatalf("two instances: desired %d running %d, tasks by instance %v", deref(got.DesiredCount), deref(got.RunningCount), per)
	}
	// ECS's scheduler does not place on a DRAINING instance and stops the
	// daemon task there.
	must(w.UpdateContainerInstancesState(ctx, west, &ecstypes.UpdateContainerInstancesStateRequest{Cluster: str("demo"),
		ContainerInstances: cis[:1], Status: ecstypes.ContainerInstanceStatusDraining}))(t)
	w.settleServices(t)
	if got, per := w.service(t, "demo", "agent"), perInstance(); deref(got.DesiredCount) != 1 || deref(got.RunningCount) != 1 || per[cis[0]] != 0 || per[cis[1]] != 1 {
		t.Fatalf("one instance draining: desired %d running %d, tasks by instance %v", deref(got.DesiredCount), deref(got.RunningCount), per)
	}
	_, err := w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("agent"), DesiredCount: ecstypes.Ptr(int32(3))})
	wantErr(t, err, "InvalidParameterException", "The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again")
	// A DAEMON service needs no force to go.
	must(w.DeleteService(ctx, west, &ecstypes.DeleteServiceRequest{Cluster: str("demo"), Service: str("agent")}))(t)
	w.settleServices(t)
	if got := w.service(t, "demo", "agent"); deref(got.Status) != "INACTIVE" || len(perInstance()) != 0 {
		t.Fatalf("after delete: %s, tasks %v", deref(got.Status), perInstance())
	}
}

// A steady service says so again every six hours, as ECS's does; a repeat
// of the newest event comes no sooner.
func TestSteadyStateRepeats(t *testing.T) {
	clock := newTestClock()
	w := newWorld(t, WithClock(clock.now))
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(1)), NetworkConfiguration: w.awsvpc()}))(t)
	w.settleServices(t)
	steady := func() int {
		n := 0
		for _, m := range messages(w.service(t, "demo", "web")) {
			if m == "(service web) has reached a steady state." {
				n++
			}
		}
		return n
	}
	clock.advance(5 * time.Hour)
	w.settleServices(t)
	if n := steady(); n != 1 {
		t.Fatalf("after 5 hours: %d steady-state events, want 1", n)
	}
	clock.advance(time.Hour)
	w.settleServices(t)
	if n := steady(); n != 2 {
		t.Fatalf("after 6 hours: %d steady-state events, want 2", n)
	}
}
