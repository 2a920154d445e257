package ecsapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// What the deployment controllers other than ECS refuse, in ECS's words: a
// CODE_DEPLOY service needs a load balancer (which vpcsim has not got yet), an
// EXTERNAL one names nothing its task sets run; task set calls are for
// EXTERNAL services only. And no Cloud Map namespace can be found yet.
func TestDeploymentControllerRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	lb := []ecstypes.LoadBalancer{{TargetGroupArn: str("arn:aws:elasticloadbalancing:us-west-2:000000000000:targetgroup/tg/1"), ContainerName: str("web"), ContainerPort: ecstypes.Ptr(int32(80))}}
	controller := func(kind ecstypes.DeploymentControllerType) *ecstypes.DeploymentController {
		return &ecstypes.DeploymentController{Type: kind}
	}
	for _, c := range []struct {
		name      string
		in        ecstypes.CreateServiceRequest
		typ, want string
	}{
		{"CODE_DEPLOY without a load balancer", ecstypes.CreateServiceRequest{TaskDefinition: str("web"), DesiredCount: ecstypes.Ptr(int32(1)),
			NetworkConfiguration: w.awsvpc(), DeploymentController: controller(ecstypes.DeploymentControllerTypeCodeDeploy)},
			"InvalidParameterException", "A service using the CODE_DEPLOY deployment controller must use an Application Load Balancer or a Network Load Balancer."},
		{"CODE_DEPLOY without a task definition", ecstypes.CreateServiceRequest{DesiredCount: ecstypes.Ptr(int32(1)), LoadBalancers: lb,
			DeploymentController: controller(ecstypes.DeploymentControllerTypeCodeDeploy)},
			"InvalidParameterException", "A task definition must be specified if the service uses either the ECS or CODE_DEPLOY deployment controllers."},
		{"CODE_DEPLOY with a load balancer", ecstypes.CreateServiceRequest{TaskDefinition: str("web"), DesiredCount: ecstypes.Ptr(int32(1)), LoadBalancers: lb,
			NetworkConfiguration: w.awsvpc(), DeploymentController: controller(ecstypes.DeploymentControllerTypeCodeDeploy)},
			"UnsupportedFeatureException", "A service with load balancers is not supported by vpcsim yet."},
		{"CODE_DEPLOY as DAEMON", ecstypes.CreateServiceRequest{TaskDefinition: str("web"), SchedulingStrategy: ecstypes.SchedulingStrategyDaemon,
			DeploymentController: controller(ecstypes.DeploymentControllerTypeCodeDeploy)},
			"InvalidParameterException", "The daemon scheduling strategy is not supported with the CODE_DEPLOY deployment controller."},
		{"EXTERNAL with a task definition", ecstypes.CreateServiceRequest{TaskDefinition: str("web"), DeploymentController: controller(ecstypes.DeploymentControllerTypeExternal)},
			"InvalidParameterException", "TaskDefinition must be blank."},
		{"EXTERNAL with an empty task definition", ecstypes.CreateServiceRequest{TaskDefinition: str(""), DeploymentController: controller(ecstypes.DeploymentControllerTypeExternal)},
			"InvalidParameterException", "Family should not be null or empty."},
		{"EXTERNAL with load balancers", ecstypes.CreateServiceRequest{LoadBalancers: lb, DeploymentController: controller(ecstypes.DeploymentControllerTypeExternal)},
			"InvalidParameterException", "LoadBalancers must be empty or null."},
		{"EXTERNAL with a network", ecstypes.CreateServiceRequest{NetworkConfiguration: w.awsvpc(), DeploymentController: controller(ecstypes.DeploymentControllerTypeExternal)},
			"InvalidParameterException", "NetworkConfiguration must be null."},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Cluster, in.ServiceName = str("demo"), str("svc")
			_, err := w.CreateService(ctx, west, &in)
			wantErr(t, err, c.typ, c.want)
		})
	}
	if list := must(w.ListServices(ctx, west, &ecstypes.ListServicesRequest{Cluster: str("demo")}))(t); len(list.ServiceArns) != 0 {
		t.Fatalf("refused calls left services: %v", list.ServiceArns)
	}

	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("ecs"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(0)), NetworkConfiguration: w.awsvpc()}))(t)
	_, err := w.CreateTaskSet(ctx, west, &ecstypes.CreateTaskSetRequest{Cluster: str("demo"), Service: str("ecs"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc()})
	wantErr(t, err, "InvalidParameterException", "Amazon ECS only supports task set management on services configured to use external deployment controllers.")
	_, err = w.DescribeTaskSets(ctx, west, &ecstypes.DescribeTaskSetsRequest{Cluster: str("demo"), Service: str("ecs")})
	wantErr(t, err, "InvalidParameterException", "Amazon ECS only supports task set management on services configured to use external deployment controllers.")
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("ecs"), DeploymentController: controller(ecstypes.DeploymentControllerTypeExternal)})
	wantErr(t, err, "UnsupportedFeatureException", "Changing a service's deployment controller is not supported by vpcsim yet.")
	must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("ecs"), DeploymentController: controller(ecstypes.DeploymentControllerTypeEcs)}))(t)

	_, err = w.ListServicesByNamespace(ctx, west, &ecstypes.ListServicesByNamespaceRequest{Namespace: str("local")})
	wantErr(t, err, "NamespaceNotFoundException", "Failed to retrieve namespace for local")
	_, err = w.ListServicesByNamespace(ctx, west, &ecstypes.ListServicesByNamespaceRequest{Namespace: str("local"), MaxResults: ecstypes.Ptr(int32(0))})
	wantErr(t, err, "InvalidParameterException", "maxResults must be between 1 and 100.")
}

// An EXTERNAL service runs what its task sets say, each at its share of the
// desired count (rounded up), with no deployments of its own: task sets are
// made, scaled, made PRIMARY and deleted as a controller outside asks, and
// the scheduler follows each, saying so in ECS's words.
func TestExternalServiceRunsItsTaskSets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.demo(t, "m5.4xlarge")                                 // room for 7 awsvpc tasks
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc)) // web:2
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("ext"),
		DesiredCount: ecstypes.Ptr(int32(4)), DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeExternal}}))(t).Service
	if svc.Deployments == nil || len(svc.Deployments) != 0 || svc.TaskSets == nil || len(svc.TaskSets) != 0 || svc.TaskDefinition != nil ||
		svc.DeploymentController.Type != ecstypes.DeploymentControllerTypeExternal {
		t.Fatalf("an EXTERNAL service as made: %+v", svc)
	}
	set := func(taskDef string, scale float64) ecstypes.TaskSet {
		t.Helper()
		return *must(w.CreateTaskSet(ctx, west, &ecstypes.CreateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskDefinition: str(taskDef),
			NetworkConfiguration: w.awsvpc(), Scale: &ecstypes.Scale{Value: &scale, Unit: ecstypes.ScaleUnitPercent},
			Tags: []ecstypes.Tag{{Key: str("team"), Value: str("blue")}}}))(t).TaskSet
	}
	a := set("web:1", 100)
	if deref(a.Status) != "ACTIVE" || a.StabilityStatus != ecstypes.StabilityStatusStabilizing || deref(a.ComputedDesiredCount) != 4 ||
		deref(a.TaskSetArn) != "arn:aws:ecs:us-west-2:000000000000:task-set/demo/ext/"+deref(a.Id) || a.LaunchType != ecstypes.LaunchTypeEc2 ||
		len(deref(a.Id)) != len("ecs-svc/")+19 || a.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp != ecstypes.AssignPublicIpDisabled {
		t.Fatalf("CreateTaskSet's answer %+v", a)
	}
	w.settleServices(t)
	taskSets := func(refs ...string) []ecstypes.TaskSet {
		t.Helper()
		return must(w.DescribeTaskSets(ctx, west, &ecstypes.DescribeTaskSetsRequest{Cluster: str("demo"), Service: str("ext"), TaskSets: refs}))(t).TaskSets
	}
	startedBy := func() map[string]int {
		per := map[string]int{}
		for _, tk := range w.serviceTasks(t, "demo", "ext") {
			if deref(tk.LastStatus) == "RUNNING" && deref(tk.Group) == "service:ext" {
				per[deref(tk.StartedBy)]++
			}
		}
		return per
	}
	if got := taskSets(deref(a.Id))[0]; got.StabilityStatus != ecstypes.StabilityStatusSteadyState || deref(got.RunningCount) != 4 || startedBy()[deref(a.Id)] != 4 {
		t.Fatalf("task set A after settling: %+v, tasks %v", got, startedBy())
	}
	want := []string{
		"(service ext, taskSet ecs-svc/X) has started 4 tasks: (task X) (task X) (task X) (task X).",
		"(service ext, taskSet ecs-svc/X) updated state to STEADY_STATE.",
		"(service ext) has reached a steady state.",
	}
	if got := messages(w.service(t, "demo", "ext")); !slices.Equal(got, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	primary := func(ref string) {
		t.Helper()
		if ts := must(w.UpdateServicePrimaryTaskSet(ctx, west, &ecstypes.UpdateServicePrimaryTaskSetRequest{Cluster: str("demo"), Service: str("ext"), PrimaryTaskSet: str(ref)}))(t).TaskSet; deref(ts.Status) != "PRIMARY" {
			t.Fatalf("UpdateServicePrimaryTaskSet: %+v", ts)
		}
	}
	primary(deref(a.TaskSetArn))
	if svc := w.service(t, "demo", "ext"); !strings.HasSuffix(deref(svc.TaskDefinition), "task-definition/web:1") || len(svc.Deployments) != 0 || deref(svc.RunningCount) != 4 {
		t.Fatalf("the service after its primary task set: %+v", svc)
	}

	// A second task set at half the count; the first scaled to 30% keeps
	// ceil(1.2) = 2 tasks.
	b := set("web:2", 50)
	w.settleServices(t)
	scale := 30.0
	must(w.UpdateTaskSet(ctx, west, &ecstypes.UpdateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: a.Id, Scale: &ecstypes.Scale{Value: &scale}}))(t)
	w.settleServices(t)
	if got := startedBy(); got[deref(a.Id)] != 2 || got[deref(b.Id)] != 2 || len(got) != 2 {
		t.Fatalf("tasks by task set: %v", got)
	}
	_, err := w.DeleteTaskSet(ctx, west, &ecstypes.DeleteTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: a.Id})
	wantErr(t, err, "InvalidParameterException", "Primary TaskSet cannot be deleted")
	primary(deref(b.Id))
	if got := taskSets(deref(a.Id))[0]; deref(got.Status) != "ACTIVE" {
		t.Fatalf("the primary before: %+v", got)
	}
	_, err = w.DeleteTaskSet(ctx, west, &ecstypes.DeleteTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: a.Id})
	wantErr(t, err, "InvalidParameterException", "The task set cannot be deleted while it is scaled above 0.")
	gone := must(w.DeleteTaskSet(ctx, west, &ecstypes.DeleteTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: a.Id, Force: ecstypes.Ptr(true)}))(t).TaskSet
	if deref(gone.Status) != "DRAINING" || deref(gone.ComputedDesiredCount) != 0 {
		t.Fatalf("DeleteTaskSet's answer %+v", gone)
	}
	again := must(w.DeleteTaskSet(ctx, west, &ecstypes.DeleteTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: a.Id}))(t).TaskSet
	if deref(again.Status) != "DRAINING" || !again.UpdatedAt.Time().Equal(gone.UpdatedAt.Time()) {
		t.Fatalf("a second DeleteTaskSet: %+v", again)
	}
	_, err = w.UpdateTaskSet(ctx, west, &ecstypes.UpdateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: b.Id})
	wantErr(t, err, "InvalidParameterException", "Scale cannot be empty.")
	w.settleServices(t)
	d := must(w.DescribeTaskSets(ctx, west, &ecstypes.DescribeTaskSetsRequest{Cluster: str("demo"), Service: str("ext"), TaskSets: []string{deref(a.Id), deref(b.TaskSetArn)}}))(t)
	if len(d.TaskSets) != 1 || len(d.Failures) != 1 || deref(d.Failures[0].Reason) != "MISSING" || deref(d.Failures[0].Arn) != deref(a.Id) || d.TaskSets[0].Tags != nil {
		t.Fatalf("DescribeTaskSets after the delete: %+v", d)
	}
	if got := startedBy(); got[deref(b.Id)] != 2 || len(got) != 1 {
		t.Fatalf("tasks by task set after the delete: %v", got)
	}

	// The desired count changes every task set's share; what a task set
	// runs does not change through the service.
	must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("ext"), DesiredCount: ecstypes.Ptr(int32(6))}))(t)
	w.settleServices(t)
	if got := startedBy(); got[deref(b.Id)] != 3 {
		t.Fatalf("after the count went to 6: %v", got)
	}
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("ext"), TaskDefinition: str("web:1")})
	wantErr(t, err, "InvalidParameterException", "Unable to update task definition on services with an EXTERNAL deployment controller. Create a new task set instead.")
	_, err = w.UpdateTaskSet(ctx, west, &ecstypes.UpdateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: str("ecs-svc/1"), Scale: &ecstypes.Scale{Value: &scale}})
	wantErr(t, err, "TaskSetNotFoundException", "The specified task set wasn't found.")
	scale = 101
	_, err = w.UpdateTaskSet(ctx, west, &ecstypes.UpdateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskSet: b.Id, Scale: &ecstypes.Scale{Value: &scale}})
	wantErr(t, err, "InvalidParameterException", "Scale value must be between 0 and 100.")

	// Tags of a task set are its own.
	tags := must(w.ListTagsForResource(ctx, west, &ecstypes.ListTagsForResourceRequest{ResourceArn: b.TaskSetArn}))(t).Tags
	if len(tags) != 1 || deref(tags[0].Value) != "blue" {
		t.Fatalf("a task set's tags: %+v", tags)
	}

	// At most five task sets.
	for range 4 {
		set("web:2", 0)
	}
	_, err = w.CreateTaskSet(ctx, west, &ecstypes.CreateTaskSetRequest{Cluster: str("demo"), Service: str("ext"), TaskDefinition: str("web"), NetworkConfiguration: w.awsvpc()})
	wantErr(t, err, "InvalidParameterException", "5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.")

	// Deleted, the service stops every task set's tasks and is INACTIVE.
	must(w.DeleteService(ctx, west, &ecstypes.DeleteServiceRequest{Cluster: str("demo"), Service: str("ext"), Force: ecstypes.Ptr(true)}))(t)
	w.settleServices(t)
	if svc := w.service(t, "demo", "ext"); deref(svc.Status) != "INACTIVE" || len(svc.TaskSets) != 0 || len(startedBy()) != 0 {
		t.Fatalf("after DeleteService: %s, task sets %+v, tasks %v", deref(svc.Status), svc.TaskSets, startedBy())
	}
}
