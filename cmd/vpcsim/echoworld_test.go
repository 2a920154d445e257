package main

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// echoWorld is what the crash, load and shutdown tests start from: a VPC with
// one subnet, a cluster with container instances in it, an instance to send
// from, and the awsvpc task definition "echo" (the echo image, which answers
// HTTP on port 80 with its address and exits on SIGTERM).
type echoWorld struct {
	ec      *ec2.Client
	es      *ecs.Client
	vpcID   string
	subnet  string
	cluster string
	hosts   []ec2types.Instance // the container instances
	client  ec2types.Instance
}

func newEchoWorld(t *testing.T, ctx context.Context, s *server, vpcCIDR, subnetCIDR, cluster string, hostType ec2types.InstanceType, hosts int) *echoWorld {
	t.Helper()
	cfg := sdkConfig(s, "us-west-2")
	w := &echoWorld{ec: ec2.NewFromConfig(cfg), es: ecs.NewFromConfig(cfg), cluster: cluster}
	vpc, err := w.ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: &vpcCIDR})
	if err != nil {
		t.Fatal(err)
	}
	w.vpcID = aws.ToString(vpc.Vpc.VpcId)
	sub, err := w.ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &w.vpcID, CidrBlock: &subnetCIDR, AvailabilityZone: aws.String("us-west-2a")})
	if err != nil {
		t.Fatal(err)
	}
	w.subnet = aws.ToString(sub.Subnet.SubnetId)
	if _, err := w.es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: &cluster}); err != nil {
		t.Fatal(err)
	}
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=" + cluster))
	for range hosts {
		w.hosts = append(w.hosts, launch(t, ctx, w.ec, w.subnet, hostType, &ud))
	}
	w.client = launch(t, ctx, w.ec, w.subnet, ec2types.InstanceTypeT3Micro, nil)
	register(t, ctx, w.es, "echo", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(16), StopTimeout: aws.Int32(1),
	})
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); { // until the container instances have registered
		l, err := w.es.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: &cluster})
		if err == nil && len(l.ContainerInstanceArns) == hosts {
			return w
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the %d container instances of %s never registered", hosts, cluster)
	return nil
}

// network is the awsvpc configuration of a task in the world's subnet.
func (w *echoWorld) network(groups ...string) *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{w.subnet}, SecurityGroups: groups}}
}

// runEcho runs one echo task through es (the world's client, or one that
// does not retry) and returns its ARN, or what kept it from being placed.
func (w *echoWorld) runEcho(ctx context.Context, es *ecs.Client, groups ...string) (string, error) {
	run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: &w.cluster, TaskDefinition: aws.String("echo"), NetworkConfiguration: w.network(groups...)})
	if err != nil {
		return "", err
	}
	if len(run.Tasks) != 1 {
		return "", placementError(run.Failures)
	}
	return aws.ToString(run.Tasks[0].TaskArn), nil
}

type placementError []ecstypes.Failure

func (p placementError) Error() string {
	msg := "RunTask placed nothing:"
	for _, f := range p {
		msg += " " + aws.ToString(f.Reason)
	}
	return msg
}
