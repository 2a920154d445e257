package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/vpcsim/vpcsim/ecsapi/ecsjson"
)

// TestECSSDK drives every implemented ECS operation through aws-sdk-go-v2's ECS
// client against a real vpcsim (kernel dataplane), and checks the answers as
// ECS gives them: cluster counts, task definition revisions and defaults,
// container instances from user data and from RegisterContainerInstance,
// draining, placement failures, bridge and awsvpc tasks, list filters, tags and
// error codes. It ends by checking that every operation ecsjson.Implemented()
// lists was answered successfully at least once here, so that a newly
// implemented operation without an SDK test fails it.
func TestECSSDK(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)

	const region = "eu-west-1"
	cfg := sdkConfig(s, region)
	cfg.RetryMaxAttempts = 1
	ec := ec2.NewFromConfig(cfg)

	// Every operation the ECS client completes without error is recorded.
	var mu sync.Mutex
	called := map[string]bool{}
	record := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("vpcsimRecordCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					mu.Lock()
					called[middleware.GetOperationName(ctx)] = true
					mu.Unlock()
				}
				return out, md, err
			}), middleware.After)
	}
	c := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.APIOptions = append(o.APIOptions, record) })

	arnPrefix := "arn:aws:ecs:" + region + ":000000000000:"
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n--- server log ---\n%s", append(args, tail(s.logText(), 30))...)
	}

	// --- EC2: a VPC, a subnet and a group for the instances and the awsvpc task.
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24"), AvailabilityZone: aws.String(region + "a")})
	if err != nil {
		t.Fatal(err)
	}
	subID := aws.ToString(sub.Subnet.SubnetId)
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("ecs-sdk"), Description: aws.String("ecs sdk test")})
	if err != nil {
		t.Fatal(err)
	}
	sgID := aws.ToString(sg.GroupId)

	// --- Clusters.
	const cluster = "sdk-ecs"
	clusterARN := arnPrefix + "cluster/" + cluster
	cc, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	if err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	if got := cc.Cluster; aws.ToString(got.ClusterArn) != clusterARN || aws.ToString(got.Status) != "ACTIVE" ||
		got.RegisteredContainerInstancesCount != 0 || got.RunningTasksCount != 0 || got.PendingTasksCount != 0 {
		t.Fatalf("CreateCluster answered %+v", got)
	}
	if again, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil || aws.ToString(again.Cluster.ClusterArn) != clusterARN {
		t.Errorf("CreateCluster of an existing cluster: %v %+v, want the same cluster", err, again)
	}
	_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("no spaces!")})
	ecsWantErr(t, "CreateCluster with a bad name", err, "InvalidParameterException")
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("sdk-other")}); err != nil {
		t.Fatalf("CreateCluster sdk-other: %v", err)
	}

	lc, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || !slices.Equal(lc.ClusterArns, []string{clusterARN, arnPrefix + "cluster/sdk-other"}) {
		t.Errorf("ListClusters: %v %v", err, lc)
	}
	// One page at a time.
	p1, err := c.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(1)})
	if err != nil || len(p1.ClusterArns) != 1 || p1.NextToken == nil {
		t.Fatalf("ListClusters page 1: %v %+v", err, p1)
	}
	p2, err := c.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(1), NextToken: p1.NextToken})
	if err != nil || len(p2.ClusterArns) != 1 || p2.NextToken != nil || p2.ClusterArns[0] == p1.ClusterArns[0] {
		t.Errorf("ListClusters page 2: %v %+v", err, p2)
	}

	dc, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("sdk-other")})
	if err != nil || aws.ToString(dc.Cluster.Status) != "INACTIVE" {
		t.Errorf("DeleteCluster sdk-other: %v %+v", err, dc)
	}
	lc, err = c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || !slices.Equal(lc.ClusterArns, []string{clusterARN}) {
		t.Errorf("ListClusters after deleting sdk-other: %v %v", err, lc)
	}

	describeCluster := func() types.Cluster {
		t.Helper()
		d, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cluster}})
		if err != nil || len(d.Clusters) != 1 {
			fail("DescribeClusters %s: %v %+v", cluster, err, d)
		}
		return d.Clusters[0]
	}
	dcs, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{cluster, "sdk-other", "nope"},
		Include:  []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings},
	})
	if err != nil || len(dcs.Clusters) != 2 || len(dcs.Failures) != 1 {
		t.Fatalf("DescribeClusters: %v %+v", err, dcs)
	}
	if got := dcs.Clusters[0]; len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "env" ||
		len(got.Settings) != 1 || got.Settings[0].Name != types.ClusterSettingNameContainerInsights {
		t.Errorf("DescribeClusters include TAGS,SETTINGS: tags %+v settings %+v", got.Tags, got.Settings)
	}
	if got := dcs.Clusters[1]; aws.ToString(got.Status) != "INACTIVE" {
		t.Errorf("a deleted cluster is described as %q, want INACTIVE", aws.ToString(got.Status))
	}
	if f := dcs.Failures[0]; aws.ToString(f.Arn) != arnPrefix+"cluster/nope" || aws.ToString(f.Reason) != "MISSING" {
		t.Errorf("DescribeClusters failure %+v, want MISSING for cluster/nope", f)
	}

	// --- Task definitions.
	webDef := func() *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("sdk-web"), NetworkMode: types.NetworkModeBridge,
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String("nginx:latest"), Memory: aws.Int32(128), StopTimeout: aws.Int32(2),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}, {ContainerPort: aws.Int32(9000)}},
			}},
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sdk")}},
		}
	}
	web1, err := c.RegisterTaskDefinition(ctx, webDef())
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	td := web1.TaskDefinition
	if aws.ToString(td.TaskDefinitionArn) != arnPrefix+"task-definition/sdk-web:1" || td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive ||
		td.NetworkMode != types.NetworkModeBridge || !slices.Contains(td.Compatibilities, types.CompatibilityEc2) {
		t.Errorf("RegisterTaskDefinition answered %+v", td)
	}
	if len(web1.Tags) != 1 || aws.ToString(web1.Tags[0].Value) != "sdk" {
		t.Errorf("RegisterTaskDefinition tags %+v", web1.Tags)
	}
	cd := td.ContainerDefinitions[0]
	if cd.Cpu != 0 || cd.Essential == nil || !*cd.Essential {
		t.Errorf("container defaults: cpu %d essential %v, want 0 and true", cd.Cpu, cd.Essential)
	}
	if len(cd.PortMappings) != 2 || aws.ToInt32(cd.PortMappings[0].HostPort) != 8080 || cd.PortMappings[0].Protocol != types.TransportProtocolTcp ||
		cd.PortMappings[1].HostPort == nil || *cd.PortMappings[1].HostPort != 0 || cd.PortMappings[1].Protocol != types.TransportProtocolTcp {
		t.Errorf("bridge port mappings %+v, want 80→8080/tcp and 9000→0/tcp", cd.PortMappings)
	}
	web2, err := c.RegisterTaskDefinition(ctx, webDef())
	if err != nil || web2.TaskDefinition.Revision != 2 {
		t.Fatalf("second RegisterTaskDefinition: %v %+v", err, web2)
	}
	vpcDef, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("sdk-vpc"), NetworkMode: types.NetworkModeAwsvpc,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Cpu: 256, Memory: aws.Int32(256), StopTimeout: aws.Int32(2),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
		}},
	})
	if err != nil {
		t.Fatalf("RegisterTaskDefinition sdk-vpc: %v", err)
	}
	if pm := vpcDef.TaskDefinition.ContainerDefinitions[0].PortMappings; len(pm) != 1 || aws.ToInt32(pm[0].HostPort) != 80 {
		t.Errorf("awsvpc port mapping %+v, want hostPort 80 = containerPort", pm)
	}
	if !slices.ContainsFunc(vpcDef.TaskDefinition.RequiresAttributes, func(a types.Attribute) bool { return aws.ToString(a.Name) == "ecs.capability.task-eni" }) {
		t.Errorf("awsvpc task definition requires %+v, want ecs.capability.task-eni", vpcDef.TaskDefinition.RequiresAttributes)
	}
	_, err = c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sdk-bad"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("x"), Memory: aws.Int32(64)}}})
	ecsWantErr(t, "RegisterTaskDefinition without an image", err, "ClientException")

	latest, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("sdk-web")})
	if err != nil || latest.TaskDefinition.Revision != 2 || latest.Tags != nil {
		t.Errorf("DescribeTaskDefinition sdk-web: %v %+v, want revision 2 without tags", err, latest)
	}
	first, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("sdk-web:1"),
		Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil || first.TaskDefinition.Revision != 1 || len(first.Tags) != 1 || aws.ToString(first.Tags[0].Key) != "team" {
		t.Errorf("DescribeTaskDefinition sdk-web:1 include TAGS: %v %+v", err, first)
	}
	_, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("sdk-web:9")})
	ecsWantErr(t, "DescribeTaskDefinition of a revision that does not exist", err, "ClientException")

	webARN := func(rev int) string { return fmt.Sprintf("%stask-definition/sdk-web:%d", arnPrefix, rev) }
	ltd, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("sdk-web")})
	if err != nil || !slices.Equal(ltd.TaskDefinitionArns, []string{webARN(1), webARN(2)}) {
		t.Errorf("ListTaskDefinitions sdk-web: %v %v", err, ltd)
	}
	ltd, err = c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("sdk-web"), Sort: types.SortOrderDesc})
	if err != nil || !slices.Equal(ltd.TaskDefinitionArns, []string{webARN(2), webARN(1)}) {
		t.Errorf("ListTaskDefinitions sdk-web DESC: %v %v", err, ltd)
	}
	ltf, err := c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("sdk-")})
	if err != nil || !slices.Equal(ltf.Families, []string{"sdk-vpc", "sdk-web"}) {
		t.Errorf("ListTaskDefinitionFamilies sdk-: %v %v", err, ltf)
	}

	dereg, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("sdk-web:1")})
	if err != nil || dereg.TaskDefinition.Status != types.TaskDefinitionStatusInactive || dereg.TaskDefinition.DeregisteredAt == nil {
		t.Errorf("DeregisterTaskDefinition sdk-web:1: %v %+v", err, dereg)
	}
	ltd, err = c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive})
	if err != nil || !slices.Equal(ltd.TaskDefinitionArns, []string{webARN(1)}) {
		t.Errorf("ListTaskDefinitions INACTIVE: %v %v", err, ltd)
	}
	ltd, err = c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("sdk-web")})
	if err != nil || !slices.Equal(ltd.TaskDefinitionArns, []string{webARN(2)}) {
		t.Errorf("ListTaskDefinitions sdk-web after deregistering :1: %v %v", err, ltd)
	}

	// --- Container instances: one registered by its user data, one by the API.
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=" + cluster + " >> /etc/ecs/ecs.config\n"))
	runA, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0ecsoptimized"), InstanceType: ec2types.InstanceTypeC5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &subID, UserData: aws.String(userData)})
	if err != nil {
		t.Fatal(err)
	}
	runB, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &subID})
	if err != nil {
		t.Fatal(err)
	}
	ec2A, ec2B := aws.ToString(runA.Instances[0].InstanceId), aws.ToString(runB.Instances[0].InstanceId)
	t.Cleanup(func() {
		ec.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{ec2A, ec2B}})
	})

	var ciA string
	ecsEventually(t, s, "the instance with ECS_CLUSTER in its user data to register", func() (bool, string) {
		l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		if err != nil || len(l.ContainerInstanceArns) != 1 {
			return false, fmt.Sprint(err, l)
		}
		ciA = l.ContainerInstanceArns[0]
		return true, ""
	})
	if !strings.HasPrefix(ciA, arnPrefix+"container-instance/"+cluster+"/") {
		t.Errorf("container instance ARN %s", ciA)
	}
	dci, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{ciA}})
	if err != nil || len(dci.ContainerInstances) != 1 {
		t.Fatalf("DescribeContainerInstances: %v %+v", err, dci)
	}
	if got := dci.ContainerInstances[0]; aws.ToString(got.Ec2InstanceId) != ec2A || aws.ToString(got.Status) != "ACTIVE" || !got.AgentConnected ||
		ecsResource(got.RegisteredResources, "CPU") != 2*1024 || ecsResource(got.RegisteredResources, "MEMORY") != 4096 {
		t.Errorf("container instance of a c5.large: ec2 %s status %s agent %v CPU %d MEMORY %d, want %s ACTIVE true 2048 4096",
			aws.ToString(got.Ec2InstanceId), aws.ToString(got.Status), got.AgentConnected,
			ecsResource(got.RegisteredResources, "CPU"), ecsResource(got.RegisteredResources, "MEMORY"), ec2A)
	}
	if n := describeCluster().RegisteredContainerInstancesCount; n != 1 {
		t.Errorf("registeredContainerInstancesCount %d after one registration, want 1", n)
	}

	waiter := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ec2B}}, time.Minute); err != nil {
		fail("instance %s never ran: %v", ec2B, err)
	}
	reg, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(cluster),
		InstanceIdentityDocument: aws.String(`{"instanceId":"` + ec2B + `","region":"` + region + `"}`)})
	if err != nil {
		fail("RegisterContainerInstance: %v", err)
	}
	ciB := aws.ToString(reg.ContainerInstance.ContainerInstanceArn)
	if got := reg.ContainerInstance; aws.ToString(got.Ec2InstanceId) != ec2B || aws.ToString(got.Status) != "ACTIVE" ||
		ecsResource(got.RegisteredResources, "CPU") != 2*1024 || ciB == ciA {
		t.Errorf("RegisterContainerInstance answered %+v", got)
	}
	if n := describeCluster().RegisteredContainerInstancesCount; n != 2 {
		t.Errorf("registeredContainerInstancesCount %d after two registrations, want 2", n)
	}

	// --- Draining: B takes no new task, so a second copy of a task with a static
	// host port finds no room (A's port 8080 is taken).
	upd, err := c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{ciB}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || len(upd.ContainerInstances) != 1 || aws.ToString(upd.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("UpdateContainerInstancesState DRAINING: %v %+v", err, upd)
	}
	lci, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster), Status: types.ContainerInstanceStatusDraining})
	if err != nil || !slices.Equal(lci.ContainerInstanceArns, []string{ciB}) {
		t.Errorf("ListContainerInstances DRAINING: %v %v", err, lci)
	}
	_, err = c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{ciB}, Status: types.ContainerInstanceStatusRegistering})
	ecsWantErr(t, "UpdateContainerInstancesState to REGISTERING", err, "InvalidParameterException")

	_, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web:1")})
	ecsWantErr(t, "RunTask of an INACTIVE revision", err, "ClientException")

	rt, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web"), StartedBy: aws.String("sdk-test")})
	if err != nil || len(rt.Tasks) != 1 || len(rt.Failures) != 0 {
		fail("RunTask sdk-web: %v %+v", err, rt)
	}
	taskA := aws.ToString(rt.Tasks[0].TaskArn)
	if got := rt.Tasks[0]; aws.ToString(got.ContainerInstanceArn) != ciA || aws.ToString(got.TaskDefinitionArn) != webARN(2) ||
		aws.ToString(got.DesiredStatus) != "RUNNING" || aws.ToString(got.StartedBy) != "sdk-test" {
		t.Errorf("RunTask answered instance %s (want A %s, B %s is DRAINING) definition %s desired %s startedBy %s",
			aws.ToString(got.ContainerInstanceArn), ciA, ciB, aws.ToString(got.TaskDefinitionArn),
			aws.ToString(got.DesiredStatus), aws.ToString(got.StartedBy))
	}
	// A task without an ENI to provision starts PENDING, with no attachment: the
	// run-task and start-task examples of aws-cli (awscli/examples/ecs) show
	// bridge tasks answered "lastStatus": "PENDING", "attachments": [], while
	// PROVISIONING is for tasks whose ENI is being made (awsvpc).
	if got := rt.Tasks[0]; aws.ToString(got.LastStatus) != "PENDING" || len(got.Attachments) != 0 {
		t.Errorf("RunTask of a bridge task answered lastStatus %s with %d attachments, want PENDING and none as ECS does",
			aws.ToString(got.LastStatus), len(got.Attachments))
	}
	rt2, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web")})
	if err != nil || len(rt2.Tasks) != 0 || len(rt2.Failures) == 0 {
		fail("second RunTask sdk-web: %v %+v, want no task and a failure", err, rt2)
	}
	if !slices.ContainsFunc(rt2.Failures, func(f types.Failure) bool {
		return aws.ToString(f.Arn) == ciA && aws.ToString(f.Reason) == "RESOURCE:PORTS"
	}) {
		t.Errorf("second RunTask failures %s, want RESOURCE:PORTS on %s", ecsFailures(rt2.Failures), ciA)
	}

	ecsWaitTask(ctx, t, s, c, cluster, taskA, "RUNNING")
	dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{taskA}})
	if err != nil || len(dt.Tasks) != 1 {
		t.Fatalf("DescribeTasks: %v %+v", err, dt)
	}
	var ports []string
	for _, b := range dt.Tasks[0].Containers[0].NetworkBindings {
		ports = append(ports, fmt.Sprintf("%d:%d/%s", aws.ToInt32(b.ContainerPort), aws.ToInt32(b.HostPort), b.Protocol))
	}
	if !slices.Equal(ports, []string{"80:8080/tcp", "9000:49153/tcp"}) {
		t.Errorf("network bindings of the bridge task %v, want 80:8080/tcp and a dynamic port 9000:49153/tcp", ports)
	}
	dci, err = c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{ciA}})
	if err != nil || len(dci.ContainerInstances) != 1 {
		t.Fatalf("DescribeContainerInstances: %v %+v", err, dci)
	}
	if got := dci.ContainerInstances[0]; ecsResource(got.RemainingResources, "MEMORY") != 4096-128 ||
		!slices.Contains(ecsStringSet(got.RemainingResources, "PORTS"), "8080") || got.RunningTasksCount != 1 {
		t.Errorf("container instance A with one task: remaining MEMORY %d PORTS %v running %d, want 3968, 8080 among them, 1",
			ecsResource(got.RemainingResources, "MEMORY"), ecsStringSet(got.RemainingResources, "PORTS"), got.RunningTasksCount)
	}

	// --- StartTask on B, ACTIVE again.
	upd, err = c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{ciB}, Status: types.ContainerInstanceStatusActive})
	if err != nil || len(upd.ContainerInstances) != 1 || aws.ToString(upd.ContainerInstances[0].Status) != "ACTIVE" {
		t.Fatalf("UpdateContainerInstancesState ACTIVE: %v %+v", err, upd)
	}
	st, err := c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web"),
		ContainerInstances: []string{ciB}})
	if err != nil || len(st.Tasks) != 1 || len(st.Failures) != 0 || aws.ToString(st.Tasks[0].ContainerInstanceArn) != ciB {
		fail("StartTask on B: %v %+v", err, st)
	}
	taskB := aws.ToString(st.Tasks[0].TaskArn)
	if got := aws.ToString(st.Tasks[0].LastStatus); got != "PENDING" {
		t.Errorf("StartTask of a bridge task answered lastStatus %s, want PENDING as ECS does", got)
	}

	// --- An awsvpc task with tags.
	rv, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-vpc"),
		StartedBy: aws.String("sdk-vpc-runner"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{subID}, SecurityGroups: []string{sgID}}},
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("sdk")}},
	})
	if err != nil || len(rv.Tasks) != 1 || len(rv.Failures) != 0 {
		fail("RunTask awsvpc: %v %+v", err, rv)
	}
	taskV := aws.ToString(rv.Tasks[0].TaskArn)
	if a := rv.Tasks[0].Attachments; len(a) != 1 || aws.ToString(a[0].Status) != "PRECREATED" {
		t.Errorf("RunTask awsvpc attachments %+v, want one PRECREATED", a)
	}
	ecsWaitTask(ctx, t, s, c, cluster, taskB, "RUNNING")
	vt := ecsWaitTask(ctx, t, s, c, cluster, taskV, "RUNNING")
	details := map[string]string{}
	if len(vt.Attachments) == 1 {
		for _, d := range vt.Attachments[0].Details {
			details[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
	}
	ip, _ := netip.ParseAddr(details["privateIPv4Address"])
	if len(vt.Attachments) != 1 || aws.ToString(vt.Attachments[0].Type) != "ElasticNetworkInterface" || aws.ToString(vt.Attachments[0].Status) != "ATTACHED" ||
		details["subnetId"] != subID || !strings.HasPrefix(details["networkInterfaceId"], "eni-") || details["macAddress"] == "" ||
		!netip.MustParsePrefix("10.9.1.0/24").Contains(ip) {
		t.Errorf("awsvpc task attachments %+v", vt.Attachments)
	}
	if ni := vt.Containers[0].NetworkInterfaces; len(ni) != 1 || aws.ToString(ni[0].PrivateIpv4Address) != ip.String() ||
		aws.ToString(ni[0].AttachmentId) != aws.ToString(vt.Attachments[0].Id) {
		t.Errorf("container network interfaces %+v, want the attachment's %s", ni, ip)
	}
	eniID := details["networkInterfaceId"]
	enis, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if err != nil || len(enis.NetworkInterfaces) != 1 || enis.NetworkInterfaces[0].Status != ec2types.NetworkInterfaceStatusInUse ||
		!aws.ToBool(enis.NetworkInterfaces[0].RequesterManaged) || aws.ToString(enis.NetworkInterfaces[0].PrivateIpAddress) != ip.String() {
		t.Errorf("the task's ENI in EC2: %v %+v", err, enis)
	}
	if len(vt.Tags) != 0 {
		t.Errorf("DescribeTasks without include TAGS answered tags %+v", vt.Tags)
	}

	if got := describeCluster(); got.RunningTasksCount != 3 || got.PendingTasksCount != 0 || got.RegisteredContainerInstancesCount != 2 {
		t.Errorf("cluster with three running tasks: running %d pending %d instances %d, want 3 0 2",
			got.RunningTasksCount, got.PendingTasksCount, got.RegisteredContainerInstancesCount)
	}

	// --- ListTasks filters.
	listTasks := func(what string, in *ecs.ListTasksInput, want ...string) {
		t.Helper()
		in.Cluster = aws.String(cluster)
		l, err := c.ListTasks(ctx, in)
		if err != nil {
			t.Errorf("ListTasks %s: %v", what, err)
			return
		}
		got, w := slices.Sorted(slices.Values(l.TaskArns)), slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			t.Errorf("ListTasks %s: %v, want %v", what, got, w)
		}
	}
	listTasks("of the cluster", &ecs.ListTasksInput{}, taskA, taskB, taskV)
	listTasks("family sdk-web", &ecs.ListTasksInput{Family: aws.String("sdk-web")}, taskA, taskB)
	listTasks("startedBy sdk-test", &ecs.ListTasksInput{StartedBy: aws.String("sdk-test")}, taskA)
	listTasks("family sdk-web on B", &ecs.ListTasksInput{Family: aws.String("sdk-web"), ContainerInstance: aws.String(ciB)}, taskB)
	listTasks("desiredStatus STOPPED", &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped})

	// --- Tags of a task and of the cluster.
	listTags := func(arn string) []string {
		t.Helper()
		l, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Errorf("ListTagsForResource %s: %v", arn, err)
			return nil
		}
		var out []string
		for _, tag := range l.Tags {
			out = append(out, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		slices.Sort(out)
		return out
	}
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(taskV),
		Tags: []types.Tag{{Key: aws.String("stage"), Value: aws.String("e2e")}, {Key: aws.String("owner"), Value: aws.String("go")}}}); err != nil {
		t.Errorf("TagResource task: %v", err)
	}
	if got := listTags(taskV); !slices.Equal(got, []string{"owner=go", "stage=e2e"}) {
		t.Errorf("tags of the task after TagResource: %v, want owner=go (overwritten) and stage=e2e", got)
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(taskV), TagKeys: []string{"owner"}}); err != nil {
		t.Errorf("UntagResource task: %v", err)
	}
	withTags, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{taskV},
		Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil || len(withTags.Tasks) != 1 || len(withTags.Tasks[0].Tags) != 1 || aws.ToString(withTags.Tasks[0].Tags[0].Key) != "stage" {
		t.Errorf("DescribeTasks include TAGS: %v %+v", err, withTags)
	}
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN),
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}}); err != nil {
		t.Errorf("TagResource cluster: %v", err)
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(clusterARN), TagKeys: []string{"env"}}); err != nil {
		t.Errorf("UntagResource cluster: %v", err)
	}
	if got := listTags(clusterARN); !slices.Equal(got, []string{"owner=me"}) {
		t.Errorf("tags of the cluster: %v, want owner=me", got)
	}
	_, err = c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN),
		Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}})
	ecsWantErr(t, "TagResource with an aws: key", err, "InvalidParameterException")

	// --- Refusals.
	_, err = c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("nope")})
	ecsWantErr(t, "ListTasks of an unknown cluster", err, "ClusterNotFoundException")
	_, err = c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("nope"), ContainerInstances: []string{ciA}})
	ecsWantErr(t, "DescribeContainerInstances of an unknown cluster", err, "ClusterNotFoundException")
	_, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-vpc")})
	ecsWantErr(t, "awsvpc RunTask without a network configuration", err, "InvalidParameterException")
	_, err = c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String("0123456789abcdef0123456789abcdef")})
	ecsWantErr(t, "StopTask of an unknown task", err, "InvalidParameterException")
	_, err = c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
	ecsWantErr(t, "DeleteCluster with registered instances", err, "ClusterContainsContainerInstancesException")

	// --- StopTask.
	stop, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(taskV), Reason: aws.String("sdk done")})
	if err != nil || aws.ToString(stop.Task.DesiredStatus) != "STOPPED" || stop.Task.StopCode != types.TaskStopCodeUserInitiated ||
		aws.ToString(stop.Task.StoppedReason) != "sdk done" {
		t.Errorf("StopTask: %v %+v", err, stop)
	}
	stopped := ecsWaitTask(ctx, t, s, c, cluster, taskV, "STOPPED")
	if len(stopped.Attachments) != 1 || aws.ToString(stopped.Attachments[0].Status) != "DELETED" || stopped.StoppedAt == nil {
		t.Errorf("stopped awsvpc task: attachments %+v stoppedAt %v", stopped.Attachments, stopped.StoppedAt)
	}
	_, err = ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	ecsWantErr(t, "the stopped task's ENI", err, "InvalidNetworkInterfaceID.NotFound")
	listTasks("desiredStatus STOPPED", &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped}, taskV)
	listTasks("startedBy sdk-vpc-runner, STOPPED", &ecs.ListTasksInput{StartedBy: aws.String("sdk-vpc-runner"), DesiredStatus: types.DesiredStatusStopped}, taskV)

	// --- DeregisterContainerInstance: refused while B runs a task, forced then.
	_, err = c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String(cluster), ContainerInstance: aws.String(ciB)})
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("DeregisterContainerInstance of an instance with a running task, without force: %v, want a refusal", err)
	}
	drg, err := c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String(cluster),
		ContainerInstance: aws.String(ciB), Force: aws.Bool(true)})
	if err != nil || aws.ToString(drg.ContainerInstance.Status) != "INACTIVE" {
		t.Errorf("DeregisterContainerInstance force: %v %+v", err, drg)
	}
	if n := describeCluster().RegisteredContainerInstancesCount; n != 1 {
		t.Errorf("registeredContainerInstancesCount %d after deregistering B, want 1", n)
	}
	lci, err = c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	if err != nil || !slices.Equal(lci.ContainerInstanceArns, []string{ciA}) {
		t.Errorf("ListContainerInstances after deregistering B: %v %v", err, lci)
	}
	ecsWaitTask(ctx, t, s, c, cluster, taskB, "STOPPED")
	// StartTask onto a deregistered instance: failure INACTIVE, "The container
	// instance that you attempted to launch a task onto was previously
	// deregistered with Amazon ECS and cannot be used" (ECS developer guide, API
	// failure reasons).
	st, err = c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web"),
		ContainerInstances: []string{ciB}})
	if err != nil || len(st.Tasks) != 0 || len(st.Failures) != 1 {
		t.Errorf("StartTask on a deregistered instance: %v %+v, want one failure", err, st)
	} else if f := st.Failures[0]; aws.ToString(f.Arn) != ciB || aws.ToString(f.Reason) != "INACTIVE" {
		t.Errorf("StartTask on a deregistered instance: failure %s, want %s INACTIVE as ECS answers", ecsFailures(st.Failures), ciB)
	}

	// --- Custom attributes on A.
	pa, err := c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String(cluster),
		Attributes: []types.Attribute{{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(ciA)}}})
	if err != nil || len(pa.Attributes) != 1 || aws.ToString(pa.Attributes[0].TargetId) != ciA {
		t.Errorf("PutAttributes: %v %+v", err, pa)
	}
	la, err := c.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String(cluster), TargetType: types.TargetTypeContainerInstance,
		AttributeName: aws.String("stack"), AttributeValue: aws.String("prod")})
	if err != nil || len(la.Attributes) != 1 {
		t.Errorf("ListAttributes: %v %+v", err, la)
	}
	if _, err := c.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: aws.String(cluster),
		Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(ciA)}}}); err != nil {
		t.Errorf("DeleteAttributes: %v", err)
	}
	_, err = c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String(cluster),
		Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(ciB)}}})
	ecsWantErr(t, "PutAttributes on a deregistered instance", err, "TargetNotFoundException")

	// --- Terminating A deregisters it and stops its task; the cluster can go.
	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{ec2A, ec2B}}); err != nil {
		t.Fatal(err)
	}
	stoppedA := ecsWaitTask(ctx, t, s, c, cluster, taskA, "STOPPED")
	if !strings.Contains(aws.ToString(stoppedA.StoppedReason), ec2A) {
		t.Errorf("task of a terminated instance stopped for %q, want the instance %s named", aws.ToString(stoppedA.StoppedReason), ec2A)
	}
	ecsEventually(t, s, "the cluster to have no container instance", func() (bool, string) {
		got := describeCluster()
		return got.RegisteredContainerInstancesCount == 0 && got.RunningTasksCount == 0,
			fmt.Sprintf("instances %d running %d", got.RegisteredContainerInstancesCount, got.RunningTasksCount)
	})
	del, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
	if err != nil || aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Errorf("DeleteCluster: %v %+v", err, del)
	}
	_, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sdk-web")})
	ecsWantErr(t, "RunTask on a deleted cluster", err, "ClusterNotFoundException")

	// --- DeleteTaskDefinitions: only INACTIVE revisions go.
	dtd, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"sdk-web:1", "sdk-web:2"}})
	if err != nil || len(dtd.TaskDefinitions) != 1 || len(dtd.Failures) != 1 {
		t.Fatalf("DeleteTaskDefinitions: %v %+v", err, dtd)
	}
	if got := dtd.TaskDefinitions[0]; aws.ToString(got.TaskDefinitionArn) != webARN(1) || got.Status != types.TaskDefinitionStatusDeleteInProgress {
		t.Errorf("DeleteTaskDefinitions deleted %s (%s), want sdk-web:1 DELETE_IN_PROGRESS", aws.ToString(got.TaskDefinitionArn), got.Status)
	}
	if f := dtd.Failures[0]; aws.ToString(f.Arn) != webARN(2) || !strings.Contains(aws.ToString(f.Reason), "ACTIVE") {
		t.Errorf("DeleteTaskDefinitions failure %+v, want sdk-web:2 still ACTIVE", f)
	}
	gone, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("sdk-web:1")})
	if err != nil || gone.TaskDefinition.Status != types.TaskDefinitionStatusDeleteInProgress {
		t.Errorf("DescribeTaskDefinition of a deleted revision: %v %+v", err, gone)
	}
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(webARN(2))}); err != nil {
		t.Errorf("DeregisterTaskDefinition by ARN: %v", err)
	}
	ltf, err = c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusInactive})
	if err != nil || !slices.Equal(ltf.Families, []string{"sdk-web"}) {
		t.Errorf("ListTaskDefinitionFamilies INACTIVE: %v %v, want [sdk-web]", err, ltf)
	}
	ltf, err = c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})
	if err != nil || !slices.Equal(ltf.Families, []string{"sdk-vpc"}) {
		t.Errorf("ListTaskDefinitionFamilies: %v %v, want [sdk-vpc]", err, ltf)
	}

	// --- Services: the calls, on a service of no tasks (TestServicesE2E
	// runs one of real tasks).
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("sdk-svc")}); err != nil {
		t.Fatal(err)
	}
	svcIn := &ecs.CreateServiceInput{Cluster: aws.String("sdk-svc"), ServiceName: aws.String("api"), TaskDefinition: aws.String("sdk-vpc"),
		DesiredCount: aws.Int32(0), NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{subID}}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}
	cs, err := c.CreateService(ctx, svcIn)
	if err != nil || aws.ToString(cs.Service.ServiceArn) != arnPrefix+"service/sdk-svc/api" || aws.ToString(cs.Service.Status) != "ACTIVE" {
		t.Fatalf("CreateService: %v %+v", err, cs)
	}
	_, err = c.CreateService(ctx, svcIn)
	ecsWantErr(t, "CreateService of a name taken", err, "InvalidParameterException")
	ls, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("sdk-svc")})
	if err != nil || !slices.Equal(ls.ServiceArns, []string{arnPrefix + "service/sdk-svc/api"}) {
		t.Errorf("ListServices: %v %+v", err, ls)
	}
	ecsEventually(t, s, "the service's first deployment to complete", func() (bool, string) {
		d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("sdk-svc"), Services: []string{"api"}})
		if err != nil || len(d.Services) != 1 {
			return false, fmt.Sprint(err)
		}
		return d.Services[0].Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted, string(d.Services[0].Deployments[0].RolloutState)
	})
	// A second deployment that cannot place its task (sdk-svc has no
	// instances) stays in progress until it is stopped.
	us, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("sdk-svc"), Service: aws.String("api"), DesiredCount: aws.Int32(1), ForceNewDeployment: true})
	if err != nil || us.Service.DesiredCount != 1 || len(us.Service.Deployments) != 2 {
		t.Fatalf("UpdateService: %v %+v", err, us)
	}
	if _, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: us.Service.CurrentServiceDeployment,
		StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
		t.Errorf("StopServiceDeployment: %v", err)
	}
	ds, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("sdk-svc"), Services: []string{"api", "nope"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil || len(ds.Services) != 1 || len(ds.Services[0].Tags) != 1 || len(ds.Failures) != 1 || aws.ToString(ds.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeServices: %v %+v", err, ds)
	}
	lsd, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("sdk-svc"), Service: aws.String("api")})
	if err != nil || len(lsd.ServiceDeployments) != 2 || aws.ToString(lsd.ServiceDeployments[1].ServiceDeploymentArn) != aws.ToString(cs.Service.CurrentServiceDeployment) ||
		lsd.ServiceDeployments[0].Status != types.ServiceDeploymentStatusRollbackInProgress && lsd.ServiceDeployments[0].Status != types.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("ListServiceDeployments: %v %+v", err, lsd)
	}
	dsd, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(cs.Service.CurrentServiceDeployment)}})
	if err != nil || len(dsd.ServiceDeployments) != 1 {
		t.Errorf("DescribeServiceDeployments: %v %+v", err, dsd)
	}
	dsr, err := c.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(lsd.ServiceDeployments[1].TargetServiceRevisionArn)}})
	if err != nil || len(dsr.ServiceRevisions) != 1 || aws.ToString(dsr.ServiceRevisions[0].TaskDefinition) != arnPrefix+"task-definition/sdk-vpc:1" {
		t.Errorf("DescribeServiceRevisions: %v %+v", err, dsr)
	}
	// An EXTERNAL service and its task sets (at scale 0: no tasks).
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("sdk-svc"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(2),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}); err != nil {
		t.Fatalf("CreateService EXTERNAL: %v", err)
	}
	cl, sv := aws.String("sdk-svc"), aws.String("ext")
	cts, err := c.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: cl, Service: sv, TaskDefinition: aws.String("sdk-vpc"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{subID}}}})
	if err != nil || cts.TaskSet.Scale == nil || cts.TaskSet.Scale.Value != 0 || aws.ToString(cts.TaskSet.Status) != "ACTIVE" ||
		aws.ToString(cts.TaskSet.TaskSetArn) != arnPrefix+"task-set/sdk-svc/ext/"+aws.ToString(cts.TaskSet.Id) {
		t.Fatalf("CreateTaskSet: %v %+v", err, cts)
	}
	setID := cts.TaskSet.Id
	if uts, err := c.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: cl, Service: sv, TaskSet: setID, Scale: &types.Scale{Value: 50, Unit: types.ScaleUnitPercent}}); err != nil ||
		uts.TaskSet.ComputedDesiredCount != 1 {
		t.Errorf("UpdateTaskSet: %v %+v", err, uts)
	}
	if _, err := c.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: cl, Service: sv, TaskSet: setID, Scale: &types.Scale{Value: 0, Unit: types.ScaleUnitPercent}}); err != nil {
		t.Errorf("UpdateTaskSet to 0: %v", err)
	}
	if ups, err := c.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: cl, Service: sv, PrimaryTaskSet: setID}); err != nil ||
		aws.ToString(ups.TaskSet.Status) != "PRIMARY" {
		t.Errorf("UpdateServicePrimaryTaskSet: %v %+v", err, ups)
	}
	if dts, err := c.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: cl, Service: sv, TaskSets: []string{aws.ToString(setID), "ecs-svc/1"}}); err != nil ||
		len(dts.TaskSets) != 1 || len(dts.Failures) != 1 || aws.ToString(dts.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeTaskSets: %v %+v", err, dts)
	}
	_, err = c.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: cl, Service: sv, TaskSet: setID})
	ecsWantErr(t, "DeleteTaskSet of the primary", err, "InvalidParameterException")
	if dts, err := c.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: cl, Service: sv, TaskSet: setID, Force: aws.Bool(true)}); err != nil ||
		aws.ToString(dts.TaskSet.Status) != "DRAINING" {
		t.Errorf("DeleteTaskSet: %v %+v", err, dts)
	}
	_, err = c.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: cl, Service: sv, TaskSet: aws.String("ecs-svc/1"), Scale: &types.Scale{Value: 1}})
	ecsWantErr(t, "UpdateTaskSet of no task set", err, "TaskSetNotFoundException")
	_, err = c.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("sdk-svc"), Service: aws.String("api"), TaskDefinition: aws.String("sdk-vpc")})
	ecsWantErr(t, "CreateTaskSet of an ECS service", err, "InvalidParameterException")
	if _, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: cl, Service: sv, Force: aws.Bool(true)}); err != nil {
		t.Errorf("DeleteService EXTERNAL: %v", err)
	}
	// No Cloud Map namespace exists yet: every one named is not found.
	_, err = c.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("local")})
	ecsWantErr(t, "ListServicesByNamespace", err, "NamespaceNotFoundException")

	dsv, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("sdk-svc"), Service: aws.String("api"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(dsv.Service.Status) != "DRAINING" {
		t.Errorf("DeleteService: %v %+v", err, dsv)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("sdk-svc"), Service: aws.String("nope"), DesiredCount: aws.Int32(1)})
	ecsWantErr(t, "UpdateService of no service", err, "ServiceNotFoundException")

	// Every implemented operation has been answered here at least once.
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d ECS operations answered, %d implemented", len(called), len(ecsjson.Implemented()))
	for _, op := range ecsjson.Implemented() {
		// ListServicesByNamespace cannot succeed until Cloud Map namespaces
		// exist; its refusal is checked above.
		if !called[op] && op != "ListServicesByNamespace" {
			t.Errorf("ECS operation %s is implemented but TestECSSDK never called it successfully: add it here", op)
		}
	}
}

// ecsWantErr checks that err is the API error code, without stopping the test.
func ecsWantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	switch {
	case err == nil:
		t.Errorf("%s: succeeded, want %s", what, code)
	case !errors.As(err, &ae):
		t.Errorf("%s: %v, want API error %s", what, err, code)
	case ae.ErrorCode() != code:
		t.Errorf("%s: %s (%s), want %s", what, ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

// ecsEventually polls f until it holds, failing the test after patience with
// f's last word and the server's log.
func ecsEventually(t *testing.T, s *server, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		ok, last := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last: %s)\n--- server log ---\n%s", patience, what, last, tail(s.logText(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ecsWaitTask waits for a task's lastStatus and returns the task.
func ecsWaitTask(ctx context.Context, t *testing.T, s *server, c *ecs.Client, cluster, arn, status string) types.Task {
	t.Helper()
	var task types.Task
	ecsEventually(t, s, "task "+arn+" "+status, func() (bool, string) {
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err != nil || len(d.Tasks) != 1 {
			return false, fmt.Sprint(err, d)
		}
		task = d.Tasks[0]
		return aws.ToString(task.LastStatus) == status, aws.ToString(task.LastStatus)
	})
	return task
}

// ecsResource is the integer value of a container instance resource.
func ecsResource(rs []types.Resource, name string) int32 {
	for _, r := range rs {
		if aws.ToString(r.Name) == name {
			return r.IntegerValue
		}
	}
	return -1
}

func ecsStringSet(rs []types.Resource, name string) []string {
	for _, r := range rs {
		if aws.ToString(r.Name) == name {
			return r.StringSetValue
		}
	}
	return nil
}

func ecsFailures(fs []types.Failure) string {
	var out []string
	for _, f := range fs {
		out = append(out, aws.ToString(f.Arn)+" "+aws.ToString(f.Reason))
	}
	return strings.Join(out, "; ")
}
