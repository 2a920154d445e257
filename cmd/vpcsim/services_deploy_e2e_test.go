package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestServiceDeploymentsE2E rolls a service of three real echo tasks through
// three deployments, with the scheduler's waits scaled to a tenth
// (--service-timer-scale 0.1: a task without health checks counts as
// healthy after 4 s):
//   - a new revision at minimumHealthyPercent 50 / maximumPercent 200, with
//     never fewer than 2 tasks RUNNING, sampled throughout;
//   - a revision whose container exits at once, which trips the circuit
//     breaker and rolls back to the previous deployment;
//   - a third revision, with vpcsim killed (SIGKILL) mid-deployment and
//     started again: the deployment finishes with three tasks of the new
//     revision, and no more were started than it needed.
func TestServiceDeploymentsE2E(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t, withServeArgs("--service-timer-scale", "0.1"))
	ctx := testContext(t)
	const cluster = "deploy"
	es, subnets := twoZoneCluster(t, ctx, s, "10.73", cluster, ec2types.InstanceTypeM54xlarge)
	// Revisions 1, 2 and 4 serve; 3's server exits at once (no port to listen on).
	for _, port := range []string{"80", "80", "-1", "80"} {
		register(t, ctx, es, "echo", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
			Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(16), StopTimeout: aws.Int32(1),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("PORT"), Value: aws.String(port)}},
		})
	}
	if _, err := es.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("echo:1"), DesiredCount: aws.Int32(3),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: subnets}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}}}); err != nil {
		t.Fatal(err)
	}
	describe := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}}
	stable := ecs.NewServicesStableWaiter(es, func(o *ecs.ServicesStableWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	waitStable := func(what string) ecstypes.Service {
		t.Helper()
		if err := stable.Wait(ctx, describe, patience); err != nil {
			svc := describeService(ctx, t, es, cluster)
			t.Fatalf("%s: ServicesStable: %v: running %d, deployments %d, events %q\n%s", what, err, svc.RunningCount, len(svc.Deployments),
				eventTexts(svc), tail(s.logText(), 30))
		}
		return describeService(ctx, t, es, cluster)
	}
	update := func(revision string) string {
		t.Helper()
		up, err := es.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), TaskDefinition: aws.String(revision)})
		if err != nil || len(up.Service.Deployments) < 2 {
			t.Fatalf("UpdateService to %s: %v %+v", revision, err, up)
		}
		return aws.ToString(up.Service.Deployments[0].Id)
	}
	waitStable("the first deployment")

	// 1. Roll to echo:2, sampling how many tasks are RUNNING all along.
	fewest, samples := 3, 0
	var mu sync.Mutex
	sampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-sampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
			n := 0
			for _, tk := range serviceTasks(ctx, t, es, cluster) {
				if aws.ToString(tk.LastStatus) == "RUNNING" {
					n++
				}
			}
			mu.Lock()
			fewest, samples = min(fewest, n), samples+1
			mu.Unlock()
		}
	}()
	second := update("echo:2")
	svc := waitStable("the rolling deployment")
	close(sampling)
	<-sampled
	if fewest < 2 || samples < 10 {
		t.Fatalf("%d tasks RUNNING at the fewest (%d samples): below minimumHealthyPercent 50 of 3", fewest, samples)
	}
	if d := svc.Deployments[0]; aws.ToString(d.Id) != second || d.RolloutState != ecstypes.DeploymentRolloutStateCompleted || svc.RunningCount != 3 {
		t.Fatalf("after the rolling deployment: running %d, %+v", svc.RunningCount, svc.Deployments)
	}
	for _, tk := range serviceTasks(ctx, t, es, cluster) {
		if !strings.HasSuffix(aws.ToString(tk.TaskDefinitionArn), ":2") {
			t.Fatalf("a task of %s is left", aws.ToString(tk.TaskDefinitionArn))
		}
	}

	// 2. echo:3 exits at once: the circuit breaker fails it and rolls back.
	third := update("echo:3")
	ecsEventually(t, s, "the circuit breaker", func() (bool, string) {
		got := eventTexts(describeService(ctx, t, es, cluster))
		return slices.Contains(got, "(service web) rolling back to deployment "+second+"."), strings.Join(got, " | ")
	})
	svc = waitStable("the rollback")
	msgs := eventTexts(svc)
	fail := slices.Index(msgs, "(service web) (deployment "+third+") deployment failed: tasks failed to start.")
	if fail < 0 || msgs[fail+1] != "(service web) rolling back to deployment "+second+"." ||
		!slices.Contains(msgs[fail:], "(service web) (deployment "+second+") deployment completed.") {
		t.Fatalf("events after the rollback\n%s", strings.Join(msgs, "\n"))
	}
	if aws.ToString(svc.TaskDefinition) != aws.ToString(svc.Deployments[0].TaskDefinition) || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), ":2") ||
		aws.ToString(svc.Deployments[0].Id) != second {
		t.Fatalf("after the rollback the service runs %s (deployment %s)", aws.ToString(svc.TaskDefinition), aws.ToString(svc.Deployments[0].Id))
	}

	// 3. echo:4, and vpcsim killed once one of its tasks is RUNNING.
	fourth := update("echo:4")
	ecsEventually(t, s, "a task of echo:4 RUNNING", func() (bool, string) {
		for _, tk := range serviceTasks(ctx, t, es, cluster) {
			if aws.ToString(tk.StartedBy) == fourth && aws.ToString(tk.LastStatus) == "RUNNING" {
				return true, ""
			}
		}
		return false, "none yet"
	})
	s.stop(syscall.SIGKILL)
	s.start()
	svc = waitStable("the deployment after a restart")
	started, stops := 0, ""
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		l, err := es.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), StartedBy: aws.String(fourth), DesiredStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		started += len(l.TaskArns)
		if status == ecstypes.DesiredStatusStopped && len(l.TaskArns) > 0 {
			d, _ := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: l.TaskArns})
			for _, tk := range d.Tasks {
				stops += fmt.Sprintf("\n%s %s %q", taskID(tk), tk.StopCode, aws.ToString(tk.StoppedReason))
			}
		}
	}
	if d := svc.Deployments[0]; aws.ToString(d.Id) != fourth || d.RolloutState != ecstypes.DeploymentRolloutStateCompleted || svc.RunningCount != 3 || started != 3 {
		t.Fatalf("after the restart: running %d, %d tasks of echo:4 started, deployments %+v\nstopped:%s\n%s\n%s", svc.RunningCount, started, svc.Deployments,
			stops, strings.Join(eventTexts(svc), "\n"), tail(s.logText(), 40))
	}
	if _, err := es.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}
