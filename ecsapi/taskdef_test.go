package ecsapi

import (
	"context"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestTaskDefinitions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	td := w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	if deref(td.Revision) != 1 || td.Status != ecstypes.TaskDefinitionStatusActive || deref(td.TaskDefinitionArn) != "arn:aws:ecs:us-west-2:000000000000:task-definition/web:1" {
		t.Fatalf("registered %+v", td)
	}
	c := td.ContainerDefinitions[0]
	if deref(c.PortMappings[0].HostPort) != 80 || c.Environment == nil || c.MountPoints == nil || c.VolumesFrom == nil {
		t.Fatalf("defaults ECS fills in are missing: %+v", c)
	}
	if td2 := w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc)); deref(td2.Revision) != 2 {
		t.Fatalf("second revision %d", deref(td2.Revision))
	}
	got := must(w.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("web")}))(t)
	if deref(got.TaskDefinition.Revision) != 2 {
		t.Fatal("the family names its latest active revision")
	}
	must(w.DeregisterTaskDefinition(ctx, west, &ecstypes.DeregisterTaskDefinitionRequest{TaskDefinition: str("web:2")}))(t)
	got = must(w.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("web")}))(t)
	if deref(got.TaskDefinition.Revision) != 1 {
		t.Fatal("after deregistering :2 the family names :1")
	}
	if got := must(w.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("web:2")}))(t); got.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive {
		t.Fatal("an inactive revision stays describable")
	}
	_, err := w.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("nope")})
	wantErr(t, err, "ClientException", "Unable to describe task definition.")

	list := must(w.ListTaskDefinitions(ctx, west, &ecstypes.ListTaskDefinitionsRequest{FamilyPrefix: str("web")}))(t)
	if len(list.TaskDefinitionArns) != 1 {
		t.Fatalf("active revisions: %v", list.TaskDefinitionArns)
	}
	fams := must(w.ListTaskDefinitionFamilies(ctx, west, &ecstypes.ListTaskDefinitionFamiliesRequest{}))(t)
	if len(fams.Families) != 1 || fams.Families[0] != "web" {
		t.Fatalf("families %v", fams.Families)
	}
	del := must(w.DeleteTaskDefinitions(ctx, west, &ecstypes.DeleteTaskDefinitionsRequest{TaskDefinitions: []string{"web:1", "web:2"}}))(t)
	if len(del.TaskDefinitions) != 1 || len(del.Failures) != 1 || del.TaskDefinitions[0].Status != ecstypes.TaskDefinitionStatusDeleteInProgress {
		t.Fatalf("delete %+v", del)
	}

	for _, tt := range []struct {
		change func(*ecstypes.RegisterTaskDefinitionRequest)
		msg    string
	}{
		{func(r *ecstypes.RegisterTaskDefinitionRequest) {
			r.ContainerDefinitions[0].PortMappings[0].HostPort = ecstypes.Ptr(int32(8080))
		},
			"When networkMode=awsvpc, the host ports and container ports in port mappings must match."},
		{func(r *ecstypes.RegisterTaskDefinitionRequest) { r.ContainerDefinitions[0].Links = []string{"db"} }, "Links are not supported when networkMode=awsvpc."},
		{func(r *ecstypes.RegisterTaskDefinitionRequest) { r.ContainerDefinitions[0].Image = nil }, "Container.image should not be null or empty."},
		{func(r *ecstypes.RegisterTaskDefinitionRequest) { r.ContainerDefinitions[0].Memory = nil },
			"Invalid setting for container 'nginx'. At least one of 'memory' or 'memoryReservation' must be specified."},
		{func(r *ecstypes.RegisterTaskDefinitionRequest) {
			r.NetworkMode = ecstypes.NetworkModeBridge
			r.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
		},
			"Fargate only supports network mode ‘awsvpc’."},
		{func(r *ecstypes.RegisterTaskDefinitionRequest) {
			r.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
			r.Cpu, r.Memory = str("256"), str("4096")
		}, "No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values."},
	} {
		req := nginx("bad", ecstypes.NetworkModeAwsvpc)
		tt.change(&req)
		_, err := w.RegisterTaskDefinition(ctx, west, &req)
		wantErr(t, err, "ClientException", tt.msg)
	}
	// Task-level memory makes container memory optional; vCPU/GB forms are normalised.
	req := nginx("fg", ecstypes.NetworkModeAwsvpc)
	req.ContainerDefinitions[0].Memory = nil
	req.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
	req.Cpu, req.Memory = str("0.25 vCPU"), str("0.5 GB")
	fg := w.register(t, req)
	if deref(fg.Cpu) != "256" || deref(fg.Memory) != "512" || len(fg.Compatibilities) != 2 {
		t.Fatalf("fargate task definition %+v", fg)
	}
}
