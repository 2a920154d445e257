package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestServicesE2E runs an ECS service of real containers: three awsvpc echo
// tasks on two instances in two Availability Zones. It checks that they
// spread over the zones, that the waiters of aws-sdk-go-v2 and of aws-cli v1
// and v2 succeed and fail where they would on AWS, that a task whose process
// is killed from outside is replaced with the service's events in order, and
// that a deleted service drains to INACTIVE. Then a DAEMON service follows
// an instance that comes and goes, and an EXTERNAL service runs a task set.
func TestServicesE2E(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	const cluster = "svc"
	es, subnets := twoZoneCluster(t, ctx, s, "10.72", cluster, ec2types.InstanceTypeM5Xlarge)
	register(t, ctx, es, "echo", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(16), StopTimeout: aws.Int32(1),
	})

	created, err := es.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("echo"), DesiredCount: aws.Int32(3),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: subnets}}})
	if err != nil {
		t.Fatal(err)
	}
	depID := aws.ToString(created.Service.Deployments[0].Id)
	describe := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}}
	stable := ecs.NewServicesStableWaiter(es, func(o *ecs.ServicesStableWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := stable.Wait(ctx, describe, patience); err != nil {
		svc := describeService(ctx, t, es, cluster)
		t.Fatalf("ServicesStable: %v: running %d pending %d, events %q\n%s", err, svc.RunningCount, svc.PendingCount, eventTexts(svc), tail(s.logText(), 30))
	}
	svc := describeService(ctx, t, es, cluster)
	tasks := serviceTasks(ctx, t, es, cluster)
	perAZ := map[string]int{}
	for _, tk := range tasks {
		perAZ[aws.ToString(tk.AvailabilityZone)]++
		if aws.ToString(tk.StartedBy) != depID || aws.ToString(tk.Group) != "service:web" {
			t.Errorf("task %s: startedBy %s group %s", aws.ToString(tk.TaskArn), aws.ToString(tk.StartedBy), aws.ToString(tk.Group))
		}
	}
	if svc.RunningCount != 3 || len(tasks) != 3 || perAZ["us-west-2a"] == 0 || perAZ["us-west-2b"] == 0 {
		t.Fatalf("running %d, tasks by zone %v", svc.RunningCount, perAZ)
	}
	want := []string{
		"(service web) has started 3 tasks: " + taskList(tasks) + ".",
		"(service web) (deployment " + depID + ") deployment completed.",
		"(service web) has reached a steady state.",
	}
	if got := eventTexts(svc); !slices.Equal(got, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	clis := awsCLIs(t)
	cli := func(bin string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--endpoint-url", s.endpoint, "--region", "us-west-2"}, args...)...)
		cmd.Env = s.env("AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for name, bin := range clis {
		if out, err := cli(bin, "ecs", "wait", "services-stable", "--cluster", cluster, "--services", "web"); err != nil {
			t.Errorf("aws-cli %s: wait services-stable on a stable service: %v\n%s", name, err, out)
		}
		// A service that does not exist is MISSING: a terminal failure.
		if out, err := cli(bin, "ecs", "wait", "services-stable", "--cluster", cluster, "--services", "nope"); err == nil || !strings.Contains(out, "terminal failure state") {
			t.Errorf("aws-cli %s: wait services-stable on a missing service: %v\n%s", name, err, out)
		}
	}

	// Kill one task's process from outside: the task stops, the service
	// starts another and is steady again. ECS does not report the stop it
	// did not make.
	victim := tasks[0]
	victimID := taskID(victim)
	rt := s.runtime(ctx)
	all, err := rt.Running(ctx)
	rt.Close()
	if err != nil || len(all[victimID]) != 1 || all[victimID][0].Pid == 0 {
		t.Fatalf("the victim's container: %v %v", err, all[victimID])
	}
	if err := syscall.Kill(int(all[victimID][0].Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ecsEventually(t, s, "a replacement and a steady state again", func() (bool, string) {
		got := eventTexts(describeService(ctx, t, es, cluster))
		return len(got) == 5 && got[4] == "(service web) has reached a steady state.", strings.Join(got, " | ")
	})
	svc = describeService(ctx, t, es, cluster)
	after := serviceTasks(ctx, t, es, cluster)
	if svc.RunningCount != 3 || len(after) != 3 || slices.ContainsFunc(after, func(tk ecstypes.Task) bool { return taskID(tk) == victimID }) {
		t.Fatalf("after the kill: running %d, %d tasks", svc.RunningCount, len(after))
	}
	fresh := slices.DeleteFunc(slices.Clone(after), func(tk ecstypes.Task) bool {
		return slices.ContainsFunc(tasks, func(old ecstypes.Task) bool { return aws.ToString(old.TaskArn) == aws.ToString(tk.TaskArn) })
	})
	if got := eventTexts(svc)[3]; len(fresh) != 1 || got != "(service web) has started 1 tasks: "+taskList(fresh)+"." {
		t.Fatalf("the replacement's event %q (new tasks %d)", got, len(fresh))
	}
	killed, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{aws.ToString(victim.TaskArn)}})
	if err != nil || aws.ToString(killed.Tasks[0].LastStatus) != "STOPPED" || killed.Tasks[0].StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Fatalf("the killed task: %v %+v", err, killed)
	}

	// Delete: refused while scaled above 0, then DRAINING, then INACTIVE.
	if _, err := es.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web")}); err == nil ||
		!strings.Contains(err.Error(), "The service cannot be stopped while it is scaled above 0.") {
		t.Fatalf("DeleteService without force: %v", err)
	}
	del, err := es.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(del.Service.Status) != "DRAINING" {
		t.Fatalf("DeleteService force: %v %+v", err, del)
	}
	for name, bin := range clis {
		// DRAINING or, already, INACTIVE: both end the stable wait as failed.
		if out, err := cli(bin, "ecs", "wait", "services-stable", "--cluster", cluster, "--services", "web"); err == nil || !strings.Contains(out, "terminal failure state") {
			t.Errorf("aws-cli %s: wait services-stable on a deleted service: %v\n%s", name, err, out)
		}
	}
	inactive := ecs.NewServicesInactiveWaiter(es, func(o *ecs.ServicesInactiveWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := inactive.Wait(ctx, describe, patience); err != nil {
		t.Fatalf("ServicesInactive: %v\n%s", err, tail(s.logText(), 30))
	}
	for name, bin := range clis {
		if out, err := cli(bin, "ecs", "wait", "services-inactive", "--cluster", cluster, "--services", "web"); err != nil {
			t.Errorf("aws-cli %s: wait services-inactive: %v\n%s", name, err, out)
		}
	}
	if left := serviceTasks(ctx, t, es, cluster); len(left) != 0 {
		t.Fatalf("%d tasks left after the service went INACTIVE", len(left))
	}

	// A DAEMON service: one task on each instance, following an instance
	// that comes and one that goes.
	if _, err := es.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("agent"),
		TaskDefinition: aws.String("echo"), SchedulingStrategy: ecstypes.SchedulingStrategyDaemon,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: subnets}}}); err != nil {
		t.Fatal(err)
	}
	daemonOn := func(n int) {
		t.Helper()
		ecsEventually(t, s, fmt.Sprintf("the DAEMON service on %d instances", n), func() (bool, string) {
			d, err := es.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"agent"}})
			if err != nil || len(d.Services) != 1 {
				return false, fmt.Sprint(err)
			}
			hosts := map[string]bool{}
			for _, tk := range namedServiceTasks(ctx, t, es, cluster, "agent") {
				if aws.ToString(tk.LastStatus) == "RUNNING" {
					hosts[aws.ToString(tk.ContainerInstanceArn)] = true
				}
			}
			got := d.Services[0]
			return got.DesiredCount == int32(n) && got.RunningCount == int32(n) && len(hosts) == n,
				fmt.Sprintf("desired %d running %d on %d instances", got.DesiredCount, got.RunningCount, len(hosts))
		})
	}
	daemonOn(2)
	ec := ec2.NewFromConfig(sdkConfig(s, "us-west-2"))
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=" + cluster))
	third := launch(t, ctx, ec, subnets[0], ec2types.InstanceTypeM5Xlarge, &ud)
	daemonOn(3)
	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(third.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	daemonOn(2)

	// An EXTERNAL service, made with each aws-cli, runs what its task set
	// says: a real task, started by the task set, gone when the task set is.
	for name, bin := range clis {
		ext := "ext-" + name
		if out, err := cli(bin, "ecs", "create-service", "--cluster", cluster, "--service-name", ext, "--desired-count", "1",
			"--deployment-controller", "type=EXTERNAL"); err != nil {
			t.Fatalf("aws-cli %s: create-service EXTERNAL: %v\n%s", name, err, out)
		}
		out, err := cli(bin, "ecs", "create-task-set", "--cluster", cluster, "--service", ext, "--task-definition", "echo",
			"--network-configuration", "awsvpcConfiguration={subnets=["+subnets[0]+"]}", "--scale", "value=100,unit=PERCENT",
			"--query", "taskSet.id", "--output", "text")
		if err != nil {
			t.Fatalf("aws-cli %s: create-task-set: %v\n%s", name, err, out)
		}
		setID := strings.TrimSpace(out)
		ecsEventually(t, s, "the task set's task running", func() (bool, string) {
			d, err := es.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(cluster), Service: aws.String(ext), TaskSets: []string{setID}})
			if err != nil || len(d.TaskSets) != 1 {
				return false, fmt.Sprint(err)
			}
			ts := d.TaskSets[0]
			return ts.RunningCount == 1 && ts.StabilityStatus == ecstypes.StabilityStatusSteadyState, fmt.Sprintf("running %d, %s", ts.RunningCount, ts.StabilityStatus)
		})
		tasks := namedServiceTasks(ctx, t, es, cluster, ext)
		if len(tasks) != 1 || aws.ToString(tasks[0].StartedBy) != setID || aws.ToString(tasks[0].LastStatus) != "RUNNING" {
			t.Fatalf("the task set's tasks: %+v", tasks)
		}
		if out, err := cli(bin, "ecs", "delete-task-set", "--cluster", cluster, "--service", ext, "--task-set", setID, "--force"); err != nil {
			t.Fatalf("aws-cli %s: delete-task-set: %v\n%s", name, err, out)
		}
		ecsEventually(t, s, "the task set gone with its task", func() (bool, string) {
			svc := describeNamedService(ctx, t, es, cluster, ext)
			return len(svc.TaskSets) == 0 && svc.RunningCount == 0 && svc.PendingCount == 0,
				fmt.Sprintf("%d task sets, running %d", len(svc.TaskSets), svc.RunningCount)
		})
		if _, err := es.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(ext), Force: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
}

// twoZoneCluster makes, for a service test, a VPC of net ("10.72") with a
// subnet in us-west-2a and one in us-west-2b, and a cluster with one
// container instance of typ in each; it answers the ECS client and the
// subnets once both instances have registered.
func twoZoneCluster(t *testing.T, ctx context.Context, s *server, net, cluster string, typ ec2types.InstanceType) (*ecs.Client, []string) {
	t.Helper()
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(net + ".0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var subnets []string
	for i, az := range []string{"us-west-2a", "us-west-2b"} {
		sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("%s.%d.0/24", net, i+1)), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(sub.Subnet.SubnetId))
	}
	if _, err := es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=" + cluster))
	for _, sub := range subnets {
		launch(t, ctx, ec, sub, typ, &ud)
	}
	ecsEventually(t, s, "two container instances", func() (bool, string) {
		l, err := es.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		return err == nil && len(l.ContainerInstanceArns) == 2, fmt.Sprint(err, l)
	})
	return es, subnets
}

func describeService(ctx context.Context, t *testing.T, es *ecs.Client, cluster string) ecstypes.Service {
	t.Helper()
	return describeNamedService(ctx, t, es, cluster, "web")
}

func describeNamedService(ctx context.Context, t *testing.T, es *ecs.Client, cluster, name string) ecstypes.Service {
	t.Helper()
	d, err := es.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(d.Services) != 1 {
		t.Fatalf("DescribeServices: %v %+v", err, d)
	}
	return d.Services[0]
}

// serviceTasks are the service's tasks that should be running, as ECS
// answers them.
func serviceTasks(ctx context.Context, t *testing.T, es *ecs.Client, cluster string) []ecstypes.Task {
	t.Helper()
	return namedServiceTasks(ctx, t, es, cluster, "web")
}

func namedServiceTasks(ctx context.Context, t *testing.T, es *ecs.Client, cluster, name string) []ecstypes.Task {
	t.Helper()
	l, err := es.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.TaskArns) == 0 {
		return nil
	}
	d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: l.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	return d.Tasks
}

// eventTexts are a service's event messages, oldest first.
func eventTexts(svc ecstypes.Service) []string {
	var out []string
	for _, e := range slices.Backward(svc.Events) {
		out = append(out, aws.ToString(e.Message))
	}
	return out
}

// taskList is how a service event names tasks: "(task ID) (task ID)", in any
// order the event has; it is matched against the event's own order.
func taskList(tasks []ecstypes.Task) string {
	var ids []string
	for _, tk := range tasks {
		ids = append(ids, "(task "+taskID(tk)+")")
	}
	return strings.Join(ids, " ")
}
