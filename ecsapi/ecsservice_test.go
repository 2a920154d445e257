package ecsapi

import (
	"context"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// What CreateService and the other service calls refuse, in ECS's words, and
// that a refusal leaves nothing behind.
func TestServiceCallsRefuse(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	w.register(t, nginx("bridge", ecstypes.NetworkModeBridge))
	good := func() *ecstypes.CreateServiceRequest {
		return &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
			DesiredCount: ecstypes.Ptr(int32(0)), NetworkConfiguration: w.awsvpc(w.sg.ID)}
	}
	for _, c := range []struct {
		name      string
		change    func(*ecstypes.CreateServiceRequest)
		typ, want string
	}{
		{"bad name", func(in *ecstypes.CreateServiceRequest) { in.ServiceName = str("a b") },
			"InvalidParameterException", `Service must match ^[a-zA-Z0-9\-_]{1,255}$, but was a b`},
		{"name too long", func(in *ecstypes.CreateServiceRequest) { in.ServiceName = str(strings.Repeat("a", 256)) },
			"InvalidParameterException", ""},
		{"no desired count", func(in *ecstypes.CreateServiceRequest) { in.DesiredCount = nil },
			"InvalidParameterException", "Desired count must be provided for services using the REPLICA scheduling strategy."},
		{"negative desired count", func(in *ecstypes.CreateServiceRequest) { in.DesiredCount = ecstypes.Ptr(int32(-1)) },
			"InvalidParameterException", "desiredCount cannot be a negative number."},
		{"no such cluster", func(in *ecstypes.CreateServiceRequest) { in.Cluster = str("nope") },
			"ClusterNotFoundException", "Cluster not found."},
		{"no such task definition", func(in *ecstypes.CreateServiceRequest) { in.TaskDefinition = str("nope:3") },
			"ClientException", "TaskDefinition not found."},
		{"awsvpc without its network", func(in *ecstypes.CreateServiceRequest) { in.NetworkConfiguration = nil },
			"InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified."},
		{"a network for bridge mode", func(in *ecstypes.CreateServiceRequest) { in.TaskDefinition = str("bridge") },
			"InvalidParameterException", "Network Configuration is not valid for the given networkMode of this task definition."},
		{"minimum above 100", func(in *ecstypes.CreateServiceRequest) {
			in.DeploymentConfiguration = &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: ecstypes.Ptr(int32(101))}
		}, "InvalidParameterException", "minimumHealthyPercent must be between 0 and 100."},
		{"maximum below 100", func(in *ecstypes.CreateServiceRequest) {
			in.DeploymentConfiguration = &ecstypes.DeploymentConfiguration{MaximumPercent: ecstypes.Ptr(int32(50)), MinimumHealthyPercent: ecstypes.Ptr(int32(0))}
		}, "InvalidParameterException", "maximumPercent must be greater than or equal to 100."},
		{"launch type and capacity providers", func(in *ecstypes.CreateServiceRequest) {
			in.LaunchType = ecstypes.LaunchTypeEc2
			in.CapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: str("FARGATE")}}
		}, "InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."},
		{"DAEMON with a desired count", func(in *ecstypes.CreateServiceRequest) { in.SchedulingStrategy = ecstypes.SchedulingStrategyDaemon },
			"InvalidParameterException", "The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again"},
		{"DAEMON above 100%", func(in *ecstypes.CreateServiceRequest) {
			in.SchedulingStrategy, in.DesiredCount = ecstypes.SchedulingStrategyDaemon, nil
			in.DeploymentConfiguration = &ecstypes.DeploymentConfiguration{MaximumPercent: ecstypes.Ptr(int32(200))}
		}, "InvalidParameterException", "The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again"},
		{"DAEMON with capacity providers", func(in *ecstypes.CreateServiceRequest) {
			in.SchedulingStrategy, in.DesiredCount = ecstypes.SchedulingStrategyDaemon, nil
			in.CapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: str("cp")}}
		}, "InvalidParameterException", "Specifying a capacity provider strategy is not supported when you create a service using the DAEMON scheduling strategy."},
		{"a memberOf that does not parse", func(in *ecstypes.CreateServiceRequest) {
			in.PlacementConstraints = []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:ecs.instance-type ==")}}
		}, "InvalidParameterException", "Invalid expression for memberOf placement constraint: attribute:ecs.instance-type =="},
		{"binpack of what is not a resource", func(in *ecstypes.CreateServiceRequest) {
			in.PlacementStrategy = []ecstypes.PlacementStrategy{{Type: ecstypes.PlacementStrategyTypeBinpack, Field: str("disk")}}
		}, "InvalidParameterException", `Invalid field "disk" for the binpack placement strategy: cpu or memory.`},
		{"bad tag", func(in *ecstypes.CreateServiceRequest) {
			in.Tags = []ecstypes.Tag{{Key: str("aws:x"), Value: str("v")}}
		},
			"InvalidParameterException", "Tag keys cannot start with aws:."},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.change(in)
			_, err := w.CreateService(ctx, west, in)
			wantErr(t, err, c.typ, c.want)
		})
	}
	list := must(w.ListServices(ctx, west, &ecstypes.ListServicesRequest{Cluster: str("demo")}))(t)
	if len(list.ServiceArns) != 0 {
		t.Fatalf("refused calls left services: %v", list.ServiceArns)
	}

	created := must(w.CreateService(ctx, west, good()))(t).Service
	if deref(created.ServiceArn) != "arn:aws:ecs:us-west-2:000000000000:service/demo/web" || deref(created.Status) != "ACTIVE" ||
		created.LaunchType != ecstypes.LaunchTypeEc2 || created.SchedulingStrategy != ecstypes.SchedulingStrategyReplica ||
		deref(created.DeploymentConfiguration.MaximumPercent) != 200 || deref(created.DeploymentConfiguration.MinimumHealthyPercent) != 100 ||
		created.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp != ecstypes.AssignPublicIpDisabled || len(created.Deployments) != 1 ||
		!strings.HasPrefix(deref(created.Deployments[0].Id), "ecs-svc/") || len(deref(created.Deployments[0].Id)) != len("ecs-svc/")+19 ||
		created.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Fatalf("CreateService's answer %+v", created)
	}
	_, err := w.CreateService(ctx, west, good())
	wantErr(t, err, "InvalidParameterException", "Creation of service was not idempotent.")
	_, err = w.DescribeServices(ctx, west, &ecstypes.DescribeServicesRequest{Cluster: str("demo"), Services: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")})
	wantErr(t, err, "InvalidParameterException", "service names can have at most 10 items.")
	d := must(w.DescribeServices(ctx, west, &ecstypes.DescribeServicesRequest{Cluster: str("demo"), Services: []string{"web", "nope"}}))(t)
	if len(d.Services) != 1 || len(d.Failures) != 1 || deref(d.Failures[0].Reason) != "MISSING" ||
		deref(d.Failures[0].Arn) != "arn:aws:ecs:us-west-2:000000000000:service/demo/nope" {
		t.Fatalf("DescribeServices %+v", d)
	}
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("nope"), DesiredCount: ecstypes.Ptr(int32(1))})
	wantErr(t, err, "ServiceNotFoundException", "Service not found.")
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: str("arn:aws:elasticloadbalancing:us-west-2:000000000000:targetgroup/tg/1")}}})
	wantErr(t, err, "UnsupportedFeatureException", "A service with load balancers is not supported by vpcsim yet.")
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), TaskDefinition: str("nope:1")})
	wantErr(t, err, "ClientException", "TaskDefinition not found.")
	_, err = w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: ecstypes.Ptr(int32(-1))}})
	wantErr(t, err, "InvalidParameterException", "minimumHealthyPercent must be between 0 and 100.")
	_, err = w.ListServices(ctx, west, &ecstypes.ListServicesRequest{Cluster: str("demo"), MaxResults: ecstypes.Ptr(int32(101))})
	wantErr(t, err, "InvalidParameterException", "maxResults must be between 1 and 100.")
	_, err = w.DeleteCluster(ctx, west, &ecstypes.DeleteClusterRequest{Cluster: str("demo")})
	wantErr(t, err, "ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")

	must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), DesiredCount: ecstypes.Ptr(int32(2))}))(t)
	_, err = w.DeleteService(ctx, west, &ecstypes.DeleteServiceRequest{Cluster: str("demo"), Service: str("web")})
	wantErr(t, err, "InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
}

// Services are tagged as the other resources are, and answer their tags only
// when asked.
func TestServiceTags(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(0)), NetworkConfiguration: w.awsvpc(), Tags: []ecstypes.Tag{{Key: str("team"), Value: str("a")}}}))(t).Service
	must(w.TagResource(ctx, west, &ecstypes.TagResourceRequest{ResourceArn: svc.ServiceArn, Tags: []ecstypes.Tag{{Key: str("env"), Value: str("dev")}}}))(t)
	tags := must(w.ListTagsForResource(ctx, west, &ecstypes.ListTagsForResourceRequest{ResourceArn: svc.ServiceArn}))(t).Tags
	if len(tags) != 2 {
		t.Fatalf("tags %+v", tags)
	}
	plain := must(w.DescribeServices(ctx, west, &ecstypes.DescribeServicesRequest{Cluster: str("demo"), Services: []string{"web"}}))(t).Services[0]
	tagged := must(w.DescribeServices(ctx, west, &ecstypes.DescribeServicesRequest{Cluster: str("demo"), Services: []string{"web"},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}}))(t).Services[0]
	if plain.Tags != nil || len(tagged.Tags) != 2 {
		t.Fatalf("tags without include %v, with %v", plain.Tags, tagged.Tags)
	}
}
