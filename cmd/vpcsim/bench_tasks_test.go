package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// BenchmarkTasks measures RunTask → RUNNING of an awsvpc task of a local
// image (the ENI made, moved into a new namespace as eth0, the container
// started in it) and StopTask → STOPPED (the container exits on SIGTERM, the
// namespace and the ENI go), as the tasks alive grow: alive=N samples a task
// while N-1 others run. Then the resident memory of vpcsim, its containerd,
// the shims and the tasks, idle (just started) and with 200 tasks alive.
//
// 200 awsvpc tasks need 15 m5.24xlarge container instances (14 task ENIs
// each); the echo image's server (testdata/images/echo) is the task.
func BenchmarkTasks(b *testing.B) {
	s := benchServer(b)
	idle := s.footprint(b)
	const cluster = "bench"
	lab := newECSLab(b, s, cluster, "10.8.0.0/16", "10.8.0.0/22", ec2types.InstanceTypeM524xlarge, 15)
	ctx, es := context.Background(), lab.es
	if _, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(32), StopTimeout: aws.Int32(2)}}}); err != nil {
		b.Fatal(err)
	}
	run := &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("web"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{lab.subnet}}}}

	var alive []string // the tasks kept running under the samples
	b.Cleanup(func() { stopTasks(b, es, cluster, alive) })
	sample := func(name string) {
		b.Run(name, func(b *testing.B) {
			var up, down []time.Duration
			for b.Loop() {
				begin := time.Now()
				arns := runTasks(b, es, run, 1)
				waitTasks(b, es, cluster, arns, "RUNNING", time.Minute)
				up = append(up, time.Since(begin))
				// Not at once: a SIGTERM that came before the Go runtime of
				// the container's PID 1 handles it would be ignored, and the
				// stop would take the whole stopTimeout.
				time.Sleep(100 * time.Millisecond)
				begin = time.Now()
				if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: &arns[0]}); err != nil {
					b.Fatal(err)
				}
				waitTasks(b, es, cluster, arns, "STOPPED", time.Minute)
				down = append(down, time.Since(begin))
			}
			reportPercentiles(b, "running-", up, 50, 95)
			reportPercentiles(b, "stopped-", down, 50, 95)
		})
	}
	for _, level := range []int{1, 50, 100, 200} {
		more := runTasks(b, es, run, level-1-len(alive))
		alive = append(alive, more...)
		waitTasks(b, es, cluster, more, "RUNNING", 5*time.Minute)
		sample(fmt.Sprintf("alive=%d", level))
	}
	last := runTasks(b, es, run, 1)
	alive = append(alive, last...)
	waitTasks(b, es, cluster, last, "RUNNING", time.Minute)
	busy := s.footprint(b)
	b.Run("memory/idle", func(b *testing.B) { idle.report(b) })
	b.Run(fmt.Sprintf("memory/alive=%d", len(alive)), func(b *testing.B) { busy.report(b) })
	// One alive again, after the 200 have gone, then 200 again: on a machine
	// whose speed drifts within a run, each figure of 200 alive has one of
	// 1 alive taken just before it to be read against (what the machine
	// and containerd kept from the first 200 shows as the difference
	// between the two alive=1 figures).
	stopTasks(b, es, cluster, alive)
	alive = nil
	sample("alive=1/after-200")
	more := runTasks(b, es, run, 199)
	alive = append(alive, more...)
	waitTasks(b, es, cluster, more, "RUNNING", 5*time.Minute)
	sample("alive=200/again")
}

// runTasks runs n tasks as in asks, at most 10 a call.
func runTasks(b *testing.B, es *ecs.Client, in *ecs.RunTaskInput, n int) []string {
	b.Helper()
	var arns []string
	for n > 0 {
		call := *in
		call.Count = aws.Int32(int32(min(n, 10)))
		out, err := es.RunTask(context.Background(), &call)
		if err != nil || len(out.Failures) > 0 || len(out.Tasks) == 0 {
			b.Fatalf("run %d tasks: %v %+v", min(n, 10), err, out)
		}
		for _, t := range out.Tasks {
			arns = append(arns, aws.ToString(t.TaskArn))
		}
		n -= len(out.Tasks)
	}
	return arns
}

// waitContainerInstances waits until n container instances have registered in cluster.
func waitContainerInstances(b *testing.B, es *ecs.Client, cluster string, n int) []string {
	b.Helper()
	for range 200 {
		l, err := es.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: &cluster})
		if err == nil && len(l.ContainerInstanceArns) == n {
			return l.ContainerInstanceArns
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("%d container instances never registered in %s", n, cluster)
	return nil
}

// stopTasks stops arns and waits until they have stopped (or a minute and a
// half has gone by: the server's cleanup, `vpcsim down`, removes what is left).
func stopTasks(b *testing.B, es *ecs.Client, cluster string, arns []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, arn := range arns {
		if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: &cluster, Task: aws.String(arn)}); err != nil {
			b.Logf("stop %s: %v", arn, err)
		}
	}
	for len(arns) > 0 && ctx.Err() == nil {
		d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &cluster, Tasks: arns[:min(len(arns), 100)]})
		if err != nil {
			b.Logf("describe the stopping tasks: %v", err)
			return
		}
		stopped := 0
		for _, t := range d.Tasks {
			if aws.ToString(t.LastStatus) == "STOPPED" {
				stopped++
			}
		}
		if stopped == len(d.Tasks) {
			arns = arns[len(d.Tasks):]
			continue
		}
		time.Sleep(100 * time.Millisecond)
	}
}
