package ecsapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// The cluster query language, on the examples of ECS's developer guide.
func TestClusterQuery(t *testing.T) {
	attrs := map[string][]string{
		"attribute:ecs.instance-type":     {"t2.small"},
		"attribute:ecs.availability-zone": {"us-east-1a"},
		"attribute:stack":                 {"prod"},
		"ec2InstanceId":                   {"i-abcd1234"},
		"task:group":                      {"service:production", "family:web"},
		"runningTasksCount":               {"3"},
	}
	q := queryTarget{values: func(s string) []string { return attrs[s] }}
	for expr, want := range map[string]bool{
		"attribute:ecs.instance-type == t2.small":                                               true,
		"attribute:ecs.instance-type =~ t2.*":                                                   true,
		"attribute:ecs.instance-type =~ m5.*":                                                   false,
		"attribute:ecs.instance-type != t2.small":                                               false,
		"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]":                           true,
		"attribute:ecs.availability-zone not in [us-east-1a, us-east-1b]":                       false,
		"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d": true,
		"not(attribute:ecs.instance-type =~ t2.*)":                                              false,
		"attribute:stack exists":                                                                true,
		"attribute:color exists":                                                                false,
		"task:group == service:production":                                                      true,
		"ec2InstanceId in ['i-abcd1234', 'i-wxyz5678']":                                         true,
		"runningTasksCount > 2 && runningTasksCount <= 3":                                       true,
		"(attribute:stack == dev or attribute:stack == prod) and not(ec2InstanceId == i-0)":     true,
	} {
		n, err := parseQuery(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := n.eval(q); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
	for _, bad := range []string{"", "attribute:x ==", "attribute:x in [a, b", "(attribute:x == a", "attribute:x ~~ a", "== a", "attribute:x == a b"} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// RunTask honours its constraints (binding: the failures say which) and
// strategies (binpack fills one instance first; spread by instance deals
// tasks out).
func TestRunTaskPlacement(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.instanceIn(t, "c5.xlarge", "demo", w.sub)
	w.register(t, nginx("web", ecstypes.NetworkModeBridge))
	calls := 0 // each call's tasks are a group of their own
	run := func(n int, constraints []ecstypes.PlacementConstraint, strategies ...ecstypes.PlacementStrategy) *ecstypes.RunTaskResponse {
		t.Helper()
		calls++
		return must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), Count: ecstypes.Ptr(int32(n)),
			Group: str(fmt.Sprint("g", calls)), PlacementConstraints: constraints, PlacementStrategy: strategies}))(t)
	}
	hosts := func(out *ecstypes.RunTaskResponse) map[string]int {
		got := map[string]int{}
		for _, tk := range out.Tasks {
			got[deref(tk.ContainerInstanceArn)]++
		}
		return got
	}
	// memberOf: only the m5.
	only := []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:ecs.instance-type =~ m5.*")}}
	out := run(2, only)
	if h := hosts(out); len(out.Tasks) != 2 || len(h) != 1 {
		t.Fatalf("memberOf m5.*: %d tasks on %v", len(out.Tasks), h)
	}
	// spread over instanceId: one on each.
	out = run(2, nil, ecstypes.PlacementStrategy{Type: ecstypes.PlacementStrategyTypeSpread, Field: str("instanceId")})
	if h := hosts(out); len(h) != 2 {
		t.Fatalf("spread instanceId: %v", h)
	}
	// binpack memory: the instance with the least memory left, both tasks.
	out = run(2, nil, ecstypes.PlacementStrategy{Type: ecstypes.PlacementStrategyTypeBinpack, Field: str("memory")},
		ecstypes.PlacementStrategy{Type: ecstypes.PlacementStrategyTypeRandom})
	if h := hosts(out); len(h) != 1 {
		t.Fatalf("binpack memory: %v", h)
	}
	// distinctInstance: a group of three on two instances places two.
	out = run(3, []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeDistinctInstance}})
	if len(out.Tasks) != 2 || len(hosts(out)) != 2 || len(out.Failures) == 0 || deref(out.Failures[0].Reason) != "DistinctInstance placement constraint unsatisfied." {
		t.Fatalf("distinctInstance: %d tasks on %v, failures %+v", len(out.Tasks), hosts(out), out.Failures)
	}
	// A constraint no instance meets.
	none := []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:ecs.instance-type == p3.2xlarge")}}
	out = run(1, none)
	if len(out.Tasks) != 0 || len(out.Failures) != 2 || deref(out.Failures[0].Reason) != "MemberOf placement constraint unsatisfied." {
		t.Fatalf("memberOf none: %+v", out.Failures)
	}
}

// A service's memberOf constraint binds its tasks, and when no instance
// meets it the service says so.
func TestServicePlacementConstraint(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	subB := must(w.ec2.CreateSubnet(ctx, ec2West, ec2sim.CreateSubnetInput{VPCID: w.vpc.ID, CIDR: "10.0.1.0/24", AZ: "us-west-2b"}))(t)
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.instanceIn(t, "m5.xlarge", "demo", subB)
	w.register(t, nginx("web", ecstypes.NetworkModeBridge))
	must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount:         ecstypes.Ptr(int32(3)),
		PlacementConstraints: []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:ecs.availability-zone == us-west-2b")}},
		PlacementStrategy:    []ecstypes.PlacementStrategy{{Type: ecstypes.PlacementStrategyTypeBinpack, Field: str("cpu")}}}))(t)
	w.settleServices(t)
	for _, tk := range w.serviceTasks(t, "demo", "web") {
		if deref(tk.AvailabilityZone) != "us-west-2b" {
			t.Fatalf("a task in %s, outside the constraint", deref(tk.AvailabilityZone))
		}
	}
	must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), DesiredCount: ecstypes.Ptr(int32(4)),
		PlacementConstraints: []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:ecs.instance-type == p3.2xlarge")}}}))(t)
	w.settleServices(t)
	got := messages(w.service(t, "demo", "web"))
	last := got[len(got)-1]
	if want := `encountered error "MemberOf placement constraint unsatisfied.". For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`; len(last) < len(want) || last[len(last)-len(want):] != want {
		t.Fatalf("events %q", got)
	}
}

// Custom attributes: put on one instance, they steer a memberOf constraint;
// listed beside the agent's; limited to 10; deleted.
func TestCustomAttributes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.register(t, nginx("web", ecstypes.NetworkModeBridge))
	cis := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo")}))(t).ContainerInstanceArns
	id := cis[1][strings.LastIndexByte(cis[1], '/')+1:]
	put := func(name, value string) error {
		_, err := w.PutAttributes(ctx, west, &ecstypes.PutAttributesRequest{Cluster: str("demo"),
			Attributes: []ecstypes.Attribute{{Name: str(name), Value: str(value), TargetType: ecstypes.TargetTypeContainerInstance, TargetId: str(id)}}})
		return err
	}
	if err := put("stack", "prod"); err != nil {
		t.Fatal(err)
	}
	out := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("web"), Count: ecstypes.Ptr(int32(2)),
		PlacementConstraints: []ecstypes.PlacementConstraint{{Type: ecstypes.PlacementConstraintTypeMemberOf, Expression: str("attribute:stack == prod")}}}))(t)
	for _, tk := range out.Tasks {
		if deref(tk.ContainerInstanceArn) != cis[1] {
			t.Fatalf("a task of stack prod on %s", deref(tk.ContainerInstanceArn))
		}
	}
	list := must(w.ListAttributes(ctx, west, &ecstypes.ListAttributesRequest{Cluster: str("demo"), TargetType: ecstypes.TargetTypeContainerInstance, AttributeName: str("stack")}))(t).Attributes
	if len(out.Tasks) != 2 || len(list) != 1 || deref(list[0].TargetId) != cis[1] || deref(list[0].Value) != "prod" {
		t.Fatalf("%d tasks; ListAttributes stack: %+v", len(out.Tasks), list)
	}
	all := must(w.ListAttributes(ctx, west, &ecstypes.ListAttributesRequest{Cluster: str("demo"), TargetType: ecstypes.TargetTypeContainerInstance, AttributeName: str("ecs.instance-type")}))(t).Attributes
	if len(all) != 2 {
		t.Fatalf("the agent's attributes are listed too: %+v", all)
	}
	wantErr(t, put("ecs.mine", "x"), "InvalidParameterException", "Attribute names that start with ecs. or com.amazonaws.ecs. are reserved for Amazon ECS.")
	wantErr(t, put("bad name", "x"), "InvalidParameterException", "")
	for i := range 9 {
		if err := put(fmt.Sprint("a", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, put("eleventh", "v"), "AttributeLimitExceededException", "")
	_, err := w.PutAttributes(ctx, west, &ecstypes.PutAttributesRequest{Cluster: str("demo"),
		Attributes: []ecstypes.Attribute{{Name: str("x"), TargetType: ecstypes.TargetTypeContainerInstance, TargetId: str("0123456789abcdef0123456789abcdef")}}})
	wantErr(t, err, "TargetNotFoundException", "")
	must(w.DeleteAttributes(ctx, west, &ecstypes.DeleteAttributesRequest{Cluster: str("demo"),
		Attributes: []ecstypes.Attribute{{Name: str("stack"), TargetType: ecstypes.TargetTypeContainerInstance, TargetId: str(id)}}}))(t)
	if l := must(w.ListAttributes(ctx, west, &ecstypes.ListAttributesRequest{Cluster: str("demo"), TargetType: ecstypes.TargetTypeContainerInstance, AttributeName: str("stack")}))(t).Attributes; len(l) != 0 {
		t.Fatalf("after DeleteAttributes: %+v", l)
	}
}

// ListContainerInstances filters with the cluster query language, as
// placement constraints do; an expression that does not parse is refused.
func TestListContainerInstancesFilter(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	w.instanceIn(t, "m5.xlarge", "demo", w.sub)
	w.instanceIn(t, "c5.xlarge", "demo", w.sub)
	list := func(filter string) []string {
		t.Helper()
		return must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo"), Filter: str(filter)}))(t).ContainerInstanceArns
	}
	if got := list("attribute:ecs.instance-type == c5.xlarge"); len(got) != 1 {
		t.Fatalf("the c5.xlarge: %v", got)
	}
	if got := list("attribute:ecs.instance-type =~ *.xlarge and agentConnected == true"); len(got) != 2 {
		t.Fatalf("both: %v", got)
	}
	_, err := w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo"), Filter: str("attribute:ecs.instance-type ==")})
	wantErr(t, err, "InvalidParameterException", "Invalid filter expression: attribute:ecs.instance-type ==")
}
