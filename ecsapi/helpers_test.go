package ecsapi

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

var west = Scope{Region: "us-west-2"}
var ec2West = ec2sim.Scope{Region: "us-west-2"}

// world is an ECS service over a real EC2 model with a fake dataplane and a
// fake runtime.
type world struct {
	*Service
	ec2   *ec2sim.Cloud
	dp    *netmodeltest.FakeDataplane
	rt    *fakeRuntime
	store *vpcsim.MemStore
	vpc   ec2sim.VPC
	sub   ec2sim.Subnet // us-west-2a, 10.0.0.0/24
	sg    ec2sim.SecurityGroup
}

func newWorld(t *testing.T, opts ...Option) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{dp: netmodeltest.NewFakeDataplane(), rt: newFakeRuntime(), store: vpcsim.NewMemStore()}
	var err error
	if w.ec2, err = ec2sim.New(ctx, w.store, w.dp, ec2sim.WithInPlaceCheck()); err != nil {
		t.Fatal(err)
	}
	if w.Service, err = New(ctx, w.store, w.ec2, w.rt, append([]Option{WithInPlaceCheck()}, opts...)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.ec2.Wait(); w.Close() })
	w.vpc = must(w.ec2.CreateVpc(ctx, ec2West, ec2sim.CreateVpcInput{CIDRBlock: "10.0.0.0/16"}))(t)
	w.sub = must(w.ec2.CreateSubnet(ctx, ec2West, ec2sim.CreateSubnetInput{VPCID: w.vpc.ID, CIDR: "10.0.0.0/24", AZ: "us-west-2a"}))(t)
	w.sg = must(w.ec2.CreateSecurityGroup(ctx, ec2West, ec2sim.CreateSecurityGroupInput{VPCID: w.vpc.ID, Name: "web", Description: "web"}))(t)
	return w
}

// settle waits for EC2's background transitions (and what they set off in ECS).
func (w *world) settle() {
	w.ec2.Wait()
	w.ec2.Events().Drain()
	w.settleTasks()
}

// must(f())(t) is f's value, failing the test on f's error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, err error, typ, msg string) {
	t.Helper()
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("got %v, want %s", err, typ)
	}
	if e.Type != typ || (msg != "" && e.Message != msg) {
		t.Fatalf("got %s %q, want %s %q", e.Type, e.Message, typ, msg)
	}
}

func (w *world) cluster(t *testing.T, name string) *ecstypes.Cluster {
	t.Helper()
	return must(w.CreateCluster(context.Background(), west, &ecstypes.CreateClusterRequest{ClusterName: &name}))(t).Cluster
}

// instance launches an EC2 instance whose user data names cluster, and waits for it.
func (w *world) instance(t *testing.T, typ, cluster string) ec2sim.Instance {
	t.Helper()
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=" + cluster + " >> /etc/ecs/ecs.config\n"))
	insts := must(w.ec2.RunInstances(context.Background(), ec2West, ec2sim.RunInstancesInput{
		ImageID: "ami-12345678", InstanceType: typ, MinCount: 1, MaxCount: 1, SubnetID: w.sub.ID, UserData: ud}))(t)
	w.settle()
	return insts[0]
}

func (w *world) register(t *testing.T, td ecstypes.RegisterTaskDefinitionRequest) *ecstypes.TaskDefinition {
	t.Helper()
	return must(w.RegisterTaskDefinition(context.Background(), west, &td))(t).TaskDefinition
}

// nginx is the seed's task definition.
func nginx(family string, mode ecstypes.NetworkMode) ecstypes.RegisterTaskDefinitionRequest {
	return ecstypes.RegisterTaskDefinitionRequest{
		Family: str(family), NetworkMode: mode,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: str("nginx"), Image: str("nginx:latest"), Cpu: ecstypes.Ptr(int32(100)), Memory: ecstypes.Ptr(int32(512)), Essential: ecstypes.Ptr(true),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: ecstypes.Ptr(int32(80)), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	}
}

func (w *world) awsvpc(groups ...string) *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{w.sub.ID}, SecurityGroups: groups}}
}

func (w *world) describe(t *testing.T, cluster, arn string) ecstypes.Task {
	t.Helper()
	out := must(w.DescribeTasks(context.Background(), west, &ecstypes.DescribeTasksRequest{Cluster: str(cluster), Tasks: []string{arn}}))(t)
	if len(out.Tasks) != 1 {
		t.Fatalf("describe %s: %+v", arn, out.Failures)
	}
	return out.Tasks[0]
}

func detail(t ecstypes.Task, name string) string {
	for _, d := range t.Attachments[0].Details {
		if deref(d.Name) == name {
			return deref(d.Value)
		}
	}
	return ""
}

type errTest string

func (e errTest) Error() string { return string(e) }

// testClock is a wall clock the test moves (WithClock(c.now)).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
