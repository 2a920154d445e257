package ecsapi

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// The rolling update's bounds and the circuit breaker's threshold, against
// the examples of ECS's documentation.
func TestDeploymentArithmetic(t *testing.T) {
	for _, c := range []struct {
		desired, minPct, maxPct int
		minHealthy, maxTotal    int
	}{
		{4, 50, 200, 2, 8},  // "stop two existing tasks", "start four new tasks"
		{2, 75, 200, 2, 4},  // 75% of 2 rounds up to 2: "can't stop any tasks"
		{3, 100, 125, 3, 3}, // 125% of 3 rounds down to 3: "can't start any tasks"
		{3, 50, 200, 2, 6},
		{1, 0, 100, 0, 1},
		{0, 100, 200, 0, 0},
	} {
		lo, hi := rollingBounds(c.desired, c.minPct, c.maxPct)
		if lo != c.minHealthy || hi != c.maxTotal {
			t.Errorf("%d tasks at %d%%/%d%%: %d, %d; want %d, %d", c.desired, c.minPct, c.maxPct, lo, hi, c.minHealthy, c.maxTotal)
		}
	}
	// 0.5 × desired, rounded up, within 3 and 200.
	for desired, want := range map[int]int{1: 3, 6: 3, 7: 4, 25: 13, 400: 200, 800: 200} {
		if got := breakerThreshold(desired); got != want {
			t.Errorf("threshold for %d tasks: %d, want %d", desired, got, want)
		}
	}
}

// serviceRunning counts a service's tasks whose lastStatus is RUNNING.
func (w *world) serviceRunning(arn string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for t := range w.tasks.All() {
		if t.Service == arn && t.status() == TaskStatusRunning {
			n++
		}
	}
	return n
}

// A new revision rolls out within minimumHealthyPercent 50 and maximumPercent
// 200: never fewer than 2 of 4 tasks RUNNING, the old deployment leaves the
// list once its tasks are gone, and the new one completes.
func TestRollingDeployment(t *testing.T) {
	w := newWorld(t, WithServiceTimers(ServiceTimers{RetryBase: time.Millisecond, RetryMax: time.Millisecond}))
	ctx := context.Background()
	w.demo(t, "m5.24xlarge")
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(4)), NetworkConfiguration: w.awsvpc(),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: ecstypes.Ptr(int32(50)), MaximumPercent: ecstypes.Ptr(int32(200))}}))(t).Service
	w.settleServices(t)
	first := deref(svc.Deployments[0].Id)

	fewest, mu := 4, sync.Mutex{}
	sub := bus.On(w.Events(), func(ev TaskChanged) {
		n := w.serviceRunning(*svc.ServiceArn)
		mu.Lock()
		fewest = min(fewest, n)
		mu.Unlock()
	})
	defer sub.Cancel()
	v2 := nginx("web", ecstypes.NetworkModeAwsvpc)
	v2.ContainerDefinitions[0].Image = str("nginx:2")
	w.register(t, v2)
	up := must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), TaskDefinition: str("web:2")}))(t).Service
	if len(up.Deployments) != 2 || deref(up.Deployments[0].Status) != "PRIMARY" || deref(up.Deployments[1].Status) != "ACTIVE" ||
		deref(up.Deployments[1].Id) != first || up.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		!strings.HasSuffix(deref(up.TaskDefinition), ":2") {
		t.Fatalf("UpdateService's answer: %+v", up.Deployments)
	}
	second := deref(up.Deployments[0].Id)
	w.settleServices(t)
	w.ec2.Events().Drain()

	got := w.service(t, "demo", "web")
	if len(got.Deployments) != 1 || deref(got.Deployments[0].Id) != second || got.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted ||
		deref(got.RunningCount) != 4 {
		t.Fatalf("after the deployment: running %d, deployments %+v", deref(got.RunningCount), got.Deployments)
	}
	for _, tk := range w.serviceTasks(t, "demo", "web") {
		if deref(tk.StartedBy) != second || !strings.HasSuffix(deref(tk.TaskDefinitionArn), ":2") {
			t.Fatalf("a task of the old deployment is left: %s %s", deref(tk.StartedBy), deref(tk.TaskDefinitionArn))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fewest < 2 {
		t.Fatalf("%d tasks RUNNING at one point, below minimumHealthyPercent 50 of 4", fewest)
	}
	checkHistory(t, w, got, []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusSuccessful, ecstypes.ServiceDeploymentStatusSuccessful},
		[]string{second, first}, ":2")
	msgs := messages(got)
	if i := slices.Index(msgs, "(service web) (deployment ecs-svc/X) deployment completed."); i < 0 || msgs[len(msgs)-1] != "(service web) has reached a steady state." ||
		!slices.ContainsFunc(msgs[i-1:], func(m string) bool { return strings.HasPrefix(m, "(service web) has stopped") }) {
		t.Fatalf("events\n%s", strings.Join(msgs, "\n"))
	}
}

// A revision whose tasks cannot start trips the circuit breaker: its
// deployment is FAILED and the service rolls back to the last deployment
// that completed, with ECS's events.
func TestCircuitBreakerRollsBack(t *testing.T) {
	w := newWorld(t, WithServiceTimers(ServiceTimers{RetryBase: time.Millisecond, RetryMax: time.Millisecond}))
	ctx := context.Background()
	w.demo(t, "m5.24xlarge")
	on := &ecstypes.DeploymentCircuitBreaker{Enable: ecstypes.Ptr(true), Rollback: ecstypes.Ptr(true)}
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc(),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: on}}))(t).Service
	w.settleServices(t)
	first := deref(svc.Deployments[0].Id)

	bad := nginx("web", ecstypes.NetworkModeAwsvpc)
	bad.ContainerDefinitions[0].Image = str("nginx:missing")
	w.register(t, bad)
	w.rt.FailImage = "nginx:missing"
	up := must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), TaskDefinition: str("web:2")}))(t).Service
	second := deref(up.Deployments[0].Id)
	w.settleServices(t)

	got := w.service(t, "demo", "web")
	msgs := messages(got)
	// In this order, with what the scheduler stopped of the failed
	// deployment between the rollback and its completion.
	fail := slices.Index(msgs, "(service web) (deployment ecs-svc/X) deployment failed: tasks failed to start.")
	if fail < 0 || fail+1 >= len(msgs) || msgs[fail+1] != "(service web) rolling back to deployment ecs-svc/X." ||
		!slices.Equal(msgs[len(msgs)-2:], []string{"(service web) (deployment ecs-svc/X) deployment completed.", "(service web) has reached a steady state."}) {
		t.Fatalf("events\n%s", strings.Join(msgs, "\n"))
	}
	var failedID string
	for _, e := range got.Events {
		if m := deref(e.Message); strings.Contains(m, "deployment failed") {
			failedID = m[strings.Index(m, "ecs-svc/"):strings.Index(m, ") deployment failed")]
		}
	}
	d := got.Deployments
	if failedID != second || len(d) != 1 || deref(d[0].Id) != first || d[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted ||
		!strings.HasSuffix(deref(got.TaskDefinition), ":1") || deref(got.RunningCount) != 2 {
		t.Fatalf("after the rollback: failed %s (want %s), task definition %s, running %d, deployments %+v",
			failedID, second, deref(got.TaskDefinition), deref(got.RunningCount), d)
	}
	newest := checkHistory(t, w, got, []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusRollbackSuccessful, ecstypes.ServiceDeploymentStatusSuccessful},
		[]string{second, first}, ":2")
	if rb := newest.Rollback; rb == nil || !strings.HasSuffix(deref(rb.ServiceRevisionArn), "/"+strings.TrimPrefix(first, "ecs-svc/")) ||
		newest.DeploymentCircuitBreaker.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered || deref(newest.DeploymentCircuitBreaker.Threshold) != 3 {
		t.Fatalf("the rolled back service deployment: %+v %+v", newest.Rollback, newest.DeploymentCircuitBreaker)
	}
	stopped := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo"), ServiceName: str("web"), DesiredStatus: ecstypes.DesiredStatusStopped}))(t).TaskArns
	if len(stopped) < 3 { // the threshold for 2 tasks: 3
		t.Fatalf("%d tasks of the bad revision tried, want at least 3", len(stopped))
	}
}

// checkHistory checks a service's service deployments, newest first: their
// statuses, the deployments they follow (their revisions are named by the
// deployments' digits), that the newest is the service's current one and
// replaced the one before, and that the newest revision runs the task
// definition revision named by suffix.
func checkHistory(t *testing.T, w *world, svc ecstypes.Service, statuses []ecstypes.ServiceDeploymentStatus, deps []string, suffix string) ecstypes.ServiceDeployment {
	t.Helper()
	ctx := context.Background()
	list := must(w.ListServiceDeployments(ctx, west, &ecstypes.ListServiceDeploymentsRequest{Cluster: str("demo"), Service: str("web")}))(t).ServiceDeployments
	if len(list) != len(statuses) {
		t.Fatalf("%d service deployments, want %d", len(list), len(statuses))
	}
	var arns, revisions []string
	for i, b := range list {
		if b.Status != statuses[i] || !strings.HasSuffix(deref(b.TargetServiceRevisionArn), "/web/"+strings.TrimPrefix(deps[i], "ecs-svc/")) ||
			!strings.HasPrefix(deref(b.ServiceDeploymentArn), "arn:aws:ecs:us-west-2:000000000000:service-deployment/demo/web/") {
			t.Fatalf("service deployment %d: %s %s %s, want %s of %s", i, deref(b.ServiceDeploymentArn), b.Status, deref(b.TargetServiceRevisionArn), statuses[i], deps[i])
		}
		arns, revisions = append(arns, *b.ServiceDeploymentArn), append(revisions, *b.TargetServiceRevisionArn)
	}
	if deref(svc.CurrentServiceDeployment) != arns[0] {
		t.Fatalf("currentServiceDeployment %s, want %s", deref(svc.CurrentServiceDeployment), arns[0])
	}
	d := must(w.DescribeServiceDeployments(ctx, west, &ecstypes.DescribeServiceDeploymentsRequest{ServiceDeploymentArns: append(arns[:1], arns[0]+"x")}))(t)
	if len(d.ServiceDeployments) != 1 || len(d.Failures) != 1 || deref(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("DescribeServiceDeployments: %+v", d)
	}
	newest := d.ServiceDeployments[0]
	// A rolled back deployment's tasks are its source revision's again.
	running := newest.TargetServiceRevision
	if newest.Status == ecstypes.ServiceDeploymentStatusRollbackSuccessful {
		running = &newest.SourceServiceRevisions[0]
	}
	if len(newest.SourceServiceRevisions) != 1 || deref(newest.SourceServiceRevisions[0].Arn) != revisions[1] ||
		deref(running.RunningTaskCount) != deref(svc.RunningCount) {
		t.Fatalf("the newest service deployment: sources %+v, target %+v", newest.SourceServiceRevisions, newest.TargetServiceRevision)
	}
	revs := must(w.DescribeServiceRevisions(ctx, west, &ecstypes.DescribeServiceRevisionsRequest{ServiceRevisionArns: revisions}))(t)
	if len(revs.ServiceRevisions) != len(revisions) || !strings.HasSuffix(deref(revs.ServiceRevisions[0].TaskDefinition), suffix) ||
		deref(revs.ServiceRevisions[0].ContainerImages[0].ContainerName) != "nginx" {
		t.Fatalf("DescribeServiceRevisions: %+v", revs)
	}
	return newest
}

// StopServiceDeployment rolls a deployment in progress back to the last one
// that completed; one not in progress is a conflict.
func TestStopServiceDeployment(t *testing.T) {
	w := newWorld(t, WithServiceTimers(ServiceTimers{RetryBase: time.Millisecond, RetryMax: time.Millisecond}))
	ctx := context.Background()
	w.demo(t, "m5.24xlarge")
	svc := must(w.CreateService(ctx, west, &ecstypes.CreateServiceRequest{Cluster: str("demo"), ServiceName: str("web"), TaskDefinition: str("web"),
		DesiredCount: ecstypes.Ptr(int32(2)), NetworkConfiguration: w.awsvpc()}))(t).Service
	w.settleServices(t)
	first := deref(svc.Deployments[0].Id)
	// Revision 2's health check never passes: its tasks never count as
	// healthy, and the rollout stays in progress.
	v2 := nginx("web", ecstypes.NetworkModeAwsvpc)
	v2.ContainerDefinitions[0].HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD", "false"}}
	w.register(t, v2)
	up := must(w.UpdateService(ctx, west, &ecstypes.UpdateServiceRequest{Cluster: str("demo"), Service: str("web"), TaskDefinition: str("web:2")}))(t).Service
	w.settleServices(t)
	arn := deref(up.CurrentServiceDeployment)

	_, err := w.StopServiceDeployment(ctx, west, &ecstypes.StopServiceDeploymentRequest{ServiceDeploymentArn: str(arn), StopType: ecstypes.StopServiceDeploymentStopTypeAbort})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = w.StopServiceDeployment(ctx, west, &ecstypes.StopServiceDeploymentRequest{ServiceDeploymentArn: str(arn + "x")})
	wantErr(t, err, "ServiceDeploymentNotFoundException", "")
	must(w.StopServiceDeployment(ctx, west, &ecstypes.StopServiceDeploymentRequest{ServiceDeploymentArn: str(arn), StopType: ecstypes.StopServiceDeploymentStopTypeRollback}))(t)
	_, err = w.StopServiceDeployment(ctx, west, &ecstypes.StopServiceDeploymentRequest{ServiceDeploymentArn: str(arn)})
	wantErr(t, err, "ConflictException", "")
	w.settleServices(t)

	got := w.service(t, "demo", "web")
	if len(got.Deployments) != 1 || deref(got.Deployments[0].Id) != first || !strings.HasSuffix(deref(got.TaskDefinition), ":1") || deref(got.RunningCount) != 2 {
		t.Fatalf("after StopServiceDeployment: %s running %d, deployments %+v", deref(got.TaskDefinition), deref(got.RunningCount), got.Deployments)
	}
	d := must(w.DescribeServiceDeployments(ctx, west, &ecstypes.DescribeServiceDeploymentsRequest{ServiceDeploymentArns: []string{arn}}))(t).ServiceDeployments[0]
	if d.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || d.Rollback == nil {
		t.Fatalf("the stopped service deployment: %s %+v", d.Status, d.Rollback)
	}
}

// demo makes the cluster "demo" with one container instance of typ, and the
// awsvpc task definition "web".
func (w *world) demo(t *testing.T, typ string) {
	t.Helper()
	w.cluster(t, "demo")
	w.instanceIn(t, typ, "demo", w.sub)
	w.register(t, nginx("web", ecstypes.NetworkModeAwsvpc))
}
