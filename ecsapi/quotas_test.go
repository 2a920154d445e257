package ecsapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

func quotaWorld(t *testing.T, profile, overrides string) *world {
	t.Helper()
	l, err := quota.Parse(profile, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return newWorld(t, WithQuotas(l))
}

// big is a task definition whose one environment value is n bytes long.
func big(family string, n int) ecstypes.RegisterTaskDefinitionRequest {
	td := nginx(family, ecstypes.NetworkModeAwsvpc)
	td.ContainerDefinitions[0].Environment = []ecstypes.KeyValuePair{{Name: str("PAD"), Value: str(strings.Repeat("x", n))}}
	return td
}

// TestTaskDefinitionSizeLimit: ECS takes a task definition up to 64 KiB (as
// JSON) and ten containers, whatever the quotas; beyond, ClientException in
// ECS's words, and no revision is handed out.
func TestTaskDefinitionSizeLimit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	overhead := jsonLength(big("fat", 0))
	w.register(t, big("fat", 65536-overhead)) // exactly 64 KiB
	_, err := w.RegisterTaskDefinition(ctx, west, ptr(big("fat", 65536-overhead+1)))
	wantErr(t, err, "ClientException", "Actual length: '65537'. Max allowed length is '65536' bytes.")
	_, err = w.RegisterTaskDefinition(ctx, west, ptr(big("fat", 1<<20)))
	wantErr(t, err, "ClientException", fmt.Sprintf("Actual length: '%d'. Max allowed length is '65536' bytes.", overhead+1<<20))
	if td := w.register(t, big("fat", 10)); deref(td.Revision) != 2 {
		t.Fatalf("after two refusals the next revision is %d, want 2", deref(td.Revision))
	}

	many := nginx("many", ecstypes.NetworkModeBridge)
	for i := 1; len(many.ContainerDefinitions) < 11; i++ {
		c := many.ContainerDefinitions[0]
		c.Name, c.PortMappings = str(fmt.Sprintf("c%d", i)), nil
		many.ContainerDefinitions = append(many.ContainerDefinitions, c)
	}
	_, err = w.RegisterTaskDefinition(ctx, west, &many)
	wantErr(t, err, "ClientException", "Too many containers.")
	many.ContainerDefinitions = many.ContainerDefinitions[:10]
	w.register(t, many)
}

func ptr[T any](v T) *T { return &v }

// TestTaskDefinitionQuotas: revisions per family count every revision handed
// out (deregistered ones too, as in ECS); the bytes of every revision kept are
// bounded per region, also after a restart.
func TestTaskDefinitionQuotas(t *testing.T) {
	w := quotaWorld(t, "local", "task-definition-revisions-per-family=2,task-definition-bytes=20000")
	ctx := context.Background()
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	must(w.DeregisterTaskDefinition(ctx, west, &ecstypes.DeregisterTaskDefinitionRequest{TaskDefinition: str("web:1")}))(t)
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	_, err := w.RegisterTaskDefinition(ctx, west, ptr(nginx("web", ecstypes.NetworkModeAwsvpc)))
	wantErr(t, err, "LimitExceededException", "The limit for the resource was exceeded. (vpcsim's quota task-definition-revisions-per-family is 2: serve --quota task-definition-revisions-per-family=N sets it)")

	w.register(t, big("fat", 15000))
	_, err = w.RegisterTaskDefinition(ctx, west, ptr(big("fat", 5000)))
	if e, ok := AsError(err); !ok || e.Type != "LimitExceededException" || !strings.Contains(e.Message, "task-definition-bytes is 20000") {
		t.Fatalf("a registration beyond 20000 bytes: %v", err)
	}
	// Another region keeps its own bytes.
	if _, err := w.RegisterTaskDefinition(ctx, Scope{Region: "eu-west-1"}, ptr(big("fat", 5000))); err != nil {
		t.Fatal(err)
	}
	// The bytes are counted again from the store after a restart.
	l, _ := quota.Parse("local", "task-definition-bytes=20000")
	again, err := New(ctx, w.store, w.ec2, w.rt, WithQuotas(l))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	_, err = again.RegisterTaskDefinition(ctx, west, ptr(big("fat", 5000)))
	wantErr(t, err, "LimitExceededException", "")
}

func TestClusterAndInstanceQuotas(t *testing.T) {
	w := quotaWorld(t, "local", "clusters=2,container-instances-per-cluster=1")
	ctx := context.Background()
	w.cluster(t, "a")
	w.cluster(t, "b")
	w.cluster(t, "a") // creating an existing cluster makes none
	_, err := w.CreateCluster(ctx, west, &ecstypes.CreateClusterRequest{ClusterName: str("c")})
	wantErr(t, err, "ClientException", "The maximum number of clusters has been reached. (vpcsim's quota clusters is 2: serve --quota clusters=N sets it)")
	must(w.DeleteCluster(ctx, west, &ecstypes.DeleteClusterRequest{Cluster: str("b")}))(t)
	w.cluster(t, "c") // an INACTIVE cluster does not count

	w.instance(t, "c5.large", "a")
	w.instance(t, "c5.large", "a")
	list := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("a")}))(t)
	if len(list.ContainerInstanceArns) != 1 {
		t.Fatalf("two instances for a cluster of container-instances-per-cluster=1: %v registered", list.ContainerInstanceArns)
	}
}

// TestTaskQuotas: a RunTask beyond the tasks the region may hold places what
// fits and names the rest in failures, as ECS words it; Fargate's running
// tasks have a bound of their own; overrides are bounded as ECS bounds them.
func TestTaskQuotas(t *testing.T) {
	w := quotaWorld(t, "local", "tasks=3,fargate-tasks=1")
	ctx := context.Background()
	w.cluster(t, "q")
	w.instance(t, "m5.24xlarge", "q")
	w.register(t, nginx("svc", ecstypes.NetworkModeBridge))
	w.register(t, nginx("svc-host", ecstypes.NetworkModeHost))
	fg := nginx("fg", ecstypes.NetworkModeAwsvpc)
	fg.RequiresCompatibilities, fg.Cpu, fg.Memory = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, str("256"), str("512")
	w.register(t, fg)

	runFargate := func() *ecstypes.RunTaskResponse {
		return must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("q"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("fg"), Count: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc()}))(t)
	}
	const reason = "You've reached the limit on the number of tasks you can run concurrently"
	run := runFargate()
	if len(run.Tasks) != 1 || len(run.Failures) != 1 || !strings.HasPrefix(deref(run.Failures[0].Reason), reason+" (vpcsim's quota fargate-tasks is 1") {
		t.Fatalf("2 Fargate tasks of fargate-tasks=1: %d placed, failures %+v", len(run.Tasks), run.Failures)
	}
	w.settle()
	run = must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("q"), TaskDefinition: str("svc"), Count: ecstypes.Ptr(int32(5))}))(t)
	if len(run.Tasks) != 2 || len(run.Failures) != 1 || !strings.HasPrefix(deref(run.Failures[0].Reason), reason+" (vpcsim's quota tasks is 3") {
		t.Fatalf("5 tasks with 2 of tasks=3 left: %d placed, failures %+v", len(run.Tasks), run.Failures)
	}
	w.settle()
	// A stopped task counts until it is forgotten.
	must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("q"), Task: run.Tasks[0].TaskArn}))(t)
	w.settle()
	start := must(w.StartTask(ctx, west, &ecstypes.StartTaskRequest{Cluster: str("q"), TaskDefinition: str("svc-host"),
		ContainerInstances: []string{deref(run.Tasks[0].ContainerInstanceArn)}}))(t)
	if len(start.Tasks) != 0 || len(start.Failures) != 1 || !strings.HasPrefix(deref(start.Failures[0].Reason), reason) {
		t.Fatalf("StartTask beyond tasks=3: %+v", start)
	}

	o := &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: str("nginx"), Command: []string{strings.Repeat("x", 8200)}}}}
	_, err := w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("q"), TaskDefinition: str("svc"), Overrides: o})
	wantErr(t, err, "InvalidParameterException", "Container Overrides length must be at most 8192")
	_, err = w.StartTask(ctx, west, &ecstypes.StartTaskRequest{Cluster: str("q"), TaskDefinition: str("svc"), Overrides: o, ContainerInstances: []string{"x"}})
	wantErr(t, err, "InvalidParameterException", "Container Overrides length must be at most 8192")
}
