package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestKillAndRestartECS kills vpcsim with SIGKILL while an awsvpc task runs and
// checks that the restarted server serves the same ECS state, with the task's
// namespace and ENI in place, and can still stop it cleanly.
func TestKillAndRestartECS(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	ew := newEchoWorld(t, ctx, s, "10.4.0.0/16", "10.4.1.0/24", "crash", ec2types.InstanceTypeC5Large, 1)
	es, host, client := ew.es, ew.hosts[0], ew.client
	taskARN, err := ew.runEcho(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	waiter := ecs.NewTasksRunningWaiter(es, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := waiter.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("crash"), Tasks: []string{taskARN}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ip := taskIPIn(t, ctx, es, "crash", taskARN)
	// A bridge task too: its namespace is not EC2's, and its container must survive.
	register(t, ctx, es, "bridged", ecstypes.NetworkModeBridge, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(64), StopTimeout: aws.Int32(2),
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}},
	})
	br, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("crash"), TaskDefinition: aws.String("bridged")})
	if err != nil || len(br.Tasks) != 1 {
		t.Fatalf("bridge task: %v %+v", err, br)
	}
	if err := waiter.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("crash"), Tasks: []string{aws.ToString(br.Tasks[0].TaskArn)}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	bridgeURL := "http://" + aws.ToString(host.PrivateIpAddress) + ":8080/"
	before := s.fetch(t, client, bridgeURL)

	s.stop(syscall.SIGKILL)
	s.start()
	if after := s.fetch(t, client, bridgeURL); after != before {
		t.Fatalf("the bridge task's container did not survive the restart: %q, before %q", after, before)
	}

	got, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("crash"), Tasks: []string{taskARN}})
	if err != nil || len(got.Tasks) != 1 || aws.ToString(got.Tasks[0].LastStatus) != "RUNNING" {
		t.Fatalf("after restart: %v %+v", err, got)
	}
	if again := taskIPIn(t, ctx, es, "crash", taskARN); again != ip {
		t.Fatalf("the task's address changed over a restart: %s → %s", ip, again)
	}
	out, err := s.vpcsim("exec", taskARN, "--", "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), "inet "+ip+"/24") {
		t.Fatalf("the task's namespace after restart: %v %s", err, out)
	}
	td, err := es.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("echo")})
	if err != nil || aws.ToInt32(&td.TaskDefinition.Revision) != 1 {
		t.Fatalf("task definition after restart: %v", err)
	}
	for _, arn := range []string{taskARN, aws.ToString(br.Tasks[0].TaskArn)} {
		if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("crash"), Task: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	stopped := ecs.NewTasksStoppedWaiter(es, func(o *ecs.TasksStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("crash"), Tasks: []string{taskARN}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if out, err := s.vpcsim("exec", taskARN, "--", "true"); err == nil {
		t.Fatalf("the stopped task's namespace remains: %s", out)
	}
}
