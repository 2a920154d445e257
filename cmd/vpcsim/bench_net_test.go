package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// netSeconds is how long each measurement of BenchmarkTaskNetwork lasts.
const netSeconds = 4

// BenchmarkTaskNetwork measures the seed's claim on real packets: TCP
// throughput (one connection) and new connections per second (one after
// another) between the same two tasks, a server on one container instance and
// a client on another, in awsvpc mode (the client's ENI to the server's ENI,
// through the VPC's subnet bridge and its security groups) and in bridge mode
// (the client's container to the server's instance address and host port:
// masqueraded out of the first instance, through the VPC, DNATed into the
// second), in the same run. The client is a task of the echo image
// (`echo tcpbench`, testdata/images/echo/tcp.go) that prints its figures and
// exits; its logs are read.
func BenchmarkTaskNetwork(b *testing.B) {
	s := benchServer(b)
	const cluster = "net"
	lab := newECSLab(b, s, cluster, "10.11.0.0/16", "10.11.1.0/24", ec2types.InstanceTypeM5Large, 2)
	ctx, es := context.Background(), lab.es
	addrOf := map[string]string{} // EC2 instance ID → its private address
	for _, i := range lab.instances {
		addrOf[aws.ToString(i.InstanceId)] = aws.ToString(i.PrivateIpAddress)
	}
	cis := lab.containerInstances
	desc, err := es.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: cis})
	if err != nil {
		b.Fatal(err)
	}
	client, server := desc.ContainerInstances[0], desc.ContainerInstances[1]
	serverAddr := addrOf[aws.ToString(server.Ec2InstanceId)]

	awsvpc := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{lab.subnet}}}
	for _, mode := range []ecstypes.NetworkMode{ecstypes.NetworkModeAwsvpc, ecstypes.NetworkModeBridge} {
		// The server publishes its two ports (on its instance, in bridge mode); the client nothing.
		ports := []ecstypes.PortMapping{{ContainerPort: aws.Int32(5201), HostPort: aws.Int32(5201)}, {ContainerPort: aws.Int32(5202), HostPort: aws.Int32(5202)}}
		for _, def := range []ecstypes.ContainerDefinition{
			{Name: aws.String("sink"), Command: []string{"tcpserve", "5201"}, PortMappings: ports},
			{Name: aws.String("tcpbench")},
		} {
			def.Image, def.Memory, def.StopTimeout = aws.String("vpcsim/echo"), aws.Int32(128), aws.Int32(2)
			if _, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(aws.ToString(def.Name) + "-" + string(mode)), NetworkMode: mode,
				ContainerDefinitions: []ecstypes.ContainerDefinition{def}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	startOn := func(ci ecstypes.ContainerInstance, family string, mode ecstypes.NetworkMode, command []string) string {
		in := &ecs.StartTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(family + "-" + string(mode)), ContainerInstances: []string{aws.ToString(ci.ContainerInstanceArn)}}
		if mode == ecstypes.NetworkModeAwsvpc {
			in.NetworkConfiguration = awsvpc
		}
		if command != nil {
			in.Overrides = &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String(family), Command: command}}}
		}
		out, err := es.StartTask(ctx, in)
		if err != nil || len(out.Tasks) != 1 {
			b.Fatalf("start %s (%s): %v %+v", family, mode, err, out)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}

	type figures struct{ mbps, conns float64 }
	got := map[ecstypes.NetworkMode]figures{}
	// Two rounds, the modes taking turns; each mode's best figures count
	// (the machine may be busy with something else for a moment).
	for i := range 4 {
		mode := []ecstypes.NetworkMode{ecstypes.NetworkModeAwsvpc, ecstypes.NetworkModeBridge}[i%2]
		sink := startOn(server, "sink", mode, nil)
		b.Cleanup(func() { stopTasks(b, es, cluster, []string{sink}) })
		waitTasks(b, es, cluster, []string{sink}, "RUNNING", time.Minute)
		target := serverAddr // bridge: the server's instance, its host ports
		if mode == ecstypes.NetworkModeAwsvpc {
			d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{sink}})
			if err != nil {
				b.Fatal(err)
			}
			target = aws.ToString(d.Tasks[0].Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
		}
		bench := startOn(client, "tcpbench", mode, []string{"tcpbench", target, "5201", strconv.Itoa(netSeconds)})
		waitTasks(b, es, cluster, []string{bench}, "STOPPED", 2*netSeconds*time.Second+time.Minute)
		d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{bench}})
		if err != nil {
			b.Fatal(err)
		}
		var f figures
		var logs []byte
		for range 20 { // the last lines may reach the log file a moment after the exit
			logs, _ = s.vpcsim("logs", "--data-dir", s.dataDir, bench)
			for line := range strings.Lines(string(logs)) {
				fmt.Sscanf(line, "throughput-MB/s %g", &f.mbps)
				fmt.Sscanf(line, "connections/s %g", &f.conns)
			}
			if f.conns > 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if c := d.Tasks[0].Containers[0]; aws.ToInt32(c.ExitCode) != 0 || f.conns == 0 {
			b.Fatalf("the %s client to %s exited %d (%s, %s): %q", mode, target, aws.ToInt32(c.ExitCode), aws.ToString(c.Reason), aws.ToString(d.Tasks[0].StoppedReason), logs)
		}
		got[mode] = figures{max(got[mode].mbps, f.mbps), max(got[mode].conns, f.conns)}
		if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: &sink}); err != nil {
			b.Fatal(err)
		}
		waitTasks(b, es, cluster, []string{sink}, "STOPPED", time.Minute)
	}
	for _, mode := range []ecstypes.NetworkMode{ecstypes.NetworkModeAwsvpc, ecstypes.NetworkModeBridge} {
		b.Run(string(mode), func(b *testing.B) {
			b.ReportMetric(got[mode].mbps, "tcp-MB/s")
			b.ReportMetric(got[mode].conns, "conns/s")
		})
	}
}
