package main

import (
	"context"
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// percentiles reports p50 and p95 of samples as benchmark metrics.
func percentiles(b *testing.B, name string, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(p float64) float64 { return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), name+"-p50-ms")
	b.ReportMetric(at(0.95), name+"-p95-ms")
}

// BenchmarkRunTaskAwsvpc measures RunTask → RUNNING for an awsvpc task of a
// local image (ENI made and moved into a fresh namespace, container started in
// it), and StopTask → STOPPED, on a real server.
func BenchmarkRunTaskAwsvpc(b *testing.B) {
	s := benchServer(b)
	ctx := context.Background()
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	vpc, _ := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.8.0.0/22"), AvailabilityZone: aws.String("us-west-2a")})
	if err != nil {
		b.Fatal(err)
	}
	es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")})
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=bench"))
	if _, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: ec2types.InstanceTypeM524xlarge,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId, UserData: &ud}); err != nil {
		b.Fatal(err)
	}
	es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx:latest"), Memory: aws.Int32(64), StopTimeout: aws.Int32(1)}}})
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{aws.ToString(sub.Subnet.SubnetId)}}}
	for range 100 { // wait for the container instance
		if l, _ := es.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("bench")}); l != nil && len(l.ContainerInstanceArns) == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var up, down []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("bench"), TaskDefinition: aws.String("web"), NetworkConfiguration: net})
		if err != nil || len(run.Tasks) != 1 {
			b.Fatalf("run: %v %+v", err, run)
		}
		arn := run.Tasks[0].TaskArn
		waitStatus(b, es, arn, "RUNNING")
		up = append(up, time.Since(start))
		start = time.Now()
		es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("bench"), Task: arn})
		waitStatus(b, es, arn, "STOPPED")
		down = append(down, time.Since(start))
	}
	b.StopTimer()
	percentiles(b, "running", up)
	percentiles(b, "stopped", down)
}

// BenchmarkENICreateAttach measures CreateNetworkInterface + AttachNetworkInterface
// (a veth made, moved into a running instance as eth1 with its address) and the
// detach and delete that undo it.
func BenchmarkENICreateAttach(b *testing.B) {
	s := benchServer(b)
	ctx := context.Background()
	ec := ec2.NewFromConfig(sdkConfig(s, "us-west-2"))
	vpc, _ := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/24"), AvailabilityZone: aws.String("us-west-2a")})
	if err != nil {
		b.Fatal(err)
	}
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: ec2types.InstanceTypeM5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId})
	if err != nil {
		b.Fatal(err)
	}
	inst := run.Instances[0].InstanceId
	w := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*inst}}, time.Minute); err != nil {
		b.Fatal(err)
	}
	var attach []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		eni, err := ec.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
		if err != nil {
			b.Fatal(err)
		}
		att, err := ec.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, InstanceId: inst, DeviceIndex: aws.Int32(1)})
		if err != nil {
			b.Fatal(err)
		}
		attach = append(attach, time.Since(start))
		ec.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId})
		ec.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId})
	}
	b.StopTimer()
	percentiles(b, "create+attach", attach)
}

func waitStatus(b *testing.B, es *ecs.Client, arn *string, status string) {
	for range 2000 {
		d, err := es.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: []string{*arn}})
		if err == nil && len(d.Tasks) == 1 && aws.ToString(d.Tasks[0].LastStatus) == status {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("task %s never reached %s", *arn, status)
}

// benchServer is a server for a benchmark, which needs what end-to-end tests need.
func benchServer(b *testing.B) *server {
	requireE2E(b)
	return startServer(b)
}
