package ecsapi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// ECS services: the records and their API. What keeps a service's tasks
// running is the scheduler (scheduler.go).

// svcRec is an ECS service as stored: its answer shape (the counts are
// worked out from its tasks when it is answered) and what the scheduler
// remembers of it. A deleted service stays, INACTIVE, until a service of
// the same name replaces it or an hour has gone by.
type svcRec struct {
	Region     string           `json:"region"`
	Seq        int64            `json:"seq"`
	ClusterARN string           `json:"cluster"`
	S          ecstypes.Service `json:"service"`
	// Steady: the scheduler has said the service reached a steady state,
	// and it has not left it since.
	Steady bool `json:"steady,omitempty"`
	// Established are the deployments that have had a healthy task: their
	// circuit breaker no longer counts failures.
	Established []string `json:"established,omitempty"`
	// LastCompleted is the last deployment that completed, which a circuit
	// breaker rolls back to.
	LastCompleted *ecstypes.Deployment `json:"lastCompleted,omitempty"`
	// History are its service deployments, oldest first (ecsservice_history.go).
	History []svcDeployment `json:"history,omitempty"`
}

// Service statuses, as ECS names them.
const (
	serviceActive   = "ACTIVE"
	serviceDraining = "DRAINING"
	serviceInactive = "INACTIVE"
)

func (r *svcRec) status() string { return deref(r.S.Status) }
func (r *svcRec) daemon() bool   { return r.S.SchedulingStrategy == ecstypes.SchedulingStrategyDaemon }
func (r *svcRec) name() string   { return deref(r.S.ServiceName) }

// external reports whether the service's task sets, not its deployments,
// say what it runs.
func (r *svcRec) external() bool {
	return controllerOf(r.S.DeploymentController) == ecstypes.DeploymentControllerTypeExternal
}

// primary is the service's PRIMARY deployment (the newest).
func (r *svcRec) primary() *ecstypes.Deployment {
	for i := range r.S.Deployments {
		if deref(r.S.Deployments[i].Status) == "PRIMARY" {
			return &r.S.Deployments[i]
		}
	}
	return nil
}

var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// serviceARN is a service's ARN in the long format (with its cluster's name).
func (s *Service) serviceARN(sc Scope, c *clusterRec, name string) string {
	return s.arn(sc, "service/"+deref(c.C.ClusterName)+"/"+name)
}

// serviceLocked resolves a service of a cluster by name or ARN, whatever its
// status.
func (s *Service) serviceLocked(m *model, sc Scope, c *clusterRec, ref string) *svcRec {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.serviceARN(sc, c, ref)
	}
	r, _ := m.services.Get(arn)
	if r == nil || r.ClusterARN != *c.C.ClusterArn {
		return nil
	}
	return r
}

// namedServiceLocked resolves the service a call names in its cluster, or
// answers ECS's refusal.
func (s *Service) namedServiceLocked(m *model, sc Scope, cluster, ref *string) (*svcRec, error) {
	c, err := s.clusterLocked(m, sc, cluster)
	if err != nil {
		return nil, err
	}
	r := s.serviceLocked(m, sc, c, deref(ref))
	if r == nil {
		return nil, serviceNotFound()
	}
	return r, nil
}

func serviceNotFound() *Error {
	return &Error{Type: "ServiceNotFoundException", Message: "Service not found."}
}

func serviceNotActive() *Error {
	return &Error{Type: "ServiceNotActiveException", Message: "Service was not ACTIVE."}
}

// newDeploymentID is ecs-svc/ and 19 decimal digits, as ECS's are.
func newDeploymentID() string {
	var b [8]byte
	rand.Read(b[:])
	const lo = 1_000_000_000_000_000_000
	return "ecs-svc/" + strconv.FormatUint(lo+binary.BigEndian.Uint64(b[:])%(9*lo), 10)
}

// CreateService makes a service; the scheduler then starts its tasks.
func (s *Service) CreateService(ctx context.Context, sc Scope, in *ecstypes.CreateServiceRequest) (*ecstypes.CreateServiceResponse, error) {
	launch, err := checkCreateService(in)
	if err != nil {
		return nil, err
	}
	if err := s.serviceTaskDefExists(sc, in.Cluster, deref(in.TaskDefinition)); err != nil {
		return nil, err
	}
	external := controllerOf(in.DeploymentController) == ecstypes.DeploymentControllerTypeExternal
	if !external { // an EXTERNAL service's task sets say what it runs
		req := placementRequest{launch: launch, net: in.NetworkConfiguration}
		if err := s.askEC2(ctx, sc, in.Cluster, deref(in.TaskDefinition), &req); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	var td *taskDefRec
	if !external {
		if td, err = s.runnableTaskDefLocked(m, sc, deref(in.TaskDefinition), launch); err != nil {
			return nil, err
		}
	}
	name := *in.ServiceName
	arn := s.serviceARN(sc, c, name)
	if old, _ := m.services.Get(arn); old != nil && old.status() != serviceInactive {
		return nil, invalidParam("Creation of service was not idempotent.")
	}
	r := s.newServiceLocked(sc, c, td, launch, in)
	if !external {
		s.recordDeployment(m, r)
	}
	m.services.Put(r)
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.CreateServiceResponse{Service: ecstypes.Ptr(s.renderServiceLocked(m, r, true))}, nil
}

// newServiceLocked makes a service's record, with its first deployment, from
// a checked CreateService request. An EXTERNAL service (td nil) has no
// deployments, ever: task sets instead, none yet.
func (s *Service) newServiceLocked(sc Scope, c *clusterRec, td *taskDefRec, launch ecstypes.LaunchType, in *ecstypes.CreateServiceRequest) *svcRec {
	now := ecstypes.NewTimestamp(s.now())
	cfg := serviceDeploymentConfig(in.DeploymentConfiguration, in.SchedulingStrategy)
	net := serviceNetwork(in.NetworkConfiguration)
	propagate := in.PropagateTags
	if propagate == "" {
		propagate = ecstypes.PropagateTagsNone
	}
	rebalance := in.AvailabilityZoneRebalancing
	if rebalance == "" {
		rebalance = ecstypes.AvailabilityZoneRebalancingDisabled
	}
	svc := ecstypes.Service{
		ServiceArn: str(s.serviceARN(sc, c, *in.ServiceName)), ServiceName: in.ServiceName, ClusterArn: c.C.ClusterArn,
		LoadBalancers: []ecstypes.LoadBalancer{}, ServiceRegistries: []ecstypes.ServiceRegistry{},
		Status: str(serviceActive), DesiredCount: ecstypes.Ptr(deref(in.DesiredCount)),
		CapacityProviderStrategy: in.CapacityProviderStrategy, PlatformVersion: in.PlatformVersion,
		DeploymentConfiguration: cfg, RoleArn: in.Role,
		Events: []ecstypes.ServiceEvent{}, CreatedAt: now,
		PlacementConstraints: nonNil(in.PlacementConstraints), PlacementStrategy: nonNil(in.PlacementStrategy),
		NetworkConfiguration: net, HealthCheckGracePeriodSeconds: ecstypes.Ptr(deref(in.HealthCheckGracePeriodSeconds)),
		SchedulingStrategy: orStrategy(in.SchedulingStrategy), DeploymentController: &ecstypes.DeploymentController{Type: controllerOf(in.DeploymentController)},
		Tags: in.Tags, CreatedBy: str("arn:aws:iam::" + s.account + ":root"), EnableECSManagedTags: ecstypes.Ptr(deref(in.EnableECSManagedTags)),
		PropagateTags: propagate, EnableExecuteCommand: ecstypes.Ptr(deref(in.EnableExecuteCommand)),
		AvailabilityZoneRebalancing: rebalance,
	}
	if len(in.CapacityProviderStrategy) == 0 {
		svc.LaunchType = launch
	}
	if launch == ecstypes.LaunchTypeFargate && td != nil { // an EXTERNAL service's come from its PRIMARY task set
		svc.PlatformVersion = str(orStr(deref(in.PlatformVersion), "LATEST"))
		svc.PlatformFamily = str("Linux")
	}
	if td == nil {
		svc.Deployments, svc.TaskSets = []ecstypes.Deployment{}, []ecstypes.TaskSet{}
	} else {
		svc.TaskDefinition = td.TD.TaskDefinitionArn
		svc.Deployments = []ecstypes.Deployment{s.newDeployment(&svc)}
	}
	return &svcRec{Region: sc.Region, Seq: s.nextSeq(), ClusterARN: *c.C.ClusterArn, S: svc}
}

// newDeployment is a new PRIMARY deployment of what a service now asks for.
func (s *Service) newDeployment(svc *ecstypes.Service) ecstypes.Deployment {
	id := newDeploymentID()
	now := ecstypes.NewTimestamp(s.now())
	return ecstypes.Deployment{
		Id: &id, Status: str("PRIMARY"), TaskDefinition: svc.TaskDefinition, DesiredCount: svc.DesiredCount,
		FailedTasks: ecstypes.Ptr(int32(0)), CreatedAt: now, UpdatedAt: now, CapacityProviderStrategy: svc.CapacityProviderStrategy,
		LaunchType: svc.LaunchType, PlatformVersion: svc.PlatformVersion, PlatformFamily: svc.PlatformFamily,
		NetworkConfiguration: svc.NetworkConfiguration, RolloutState: ecstypes.DeploymentRolloutStateInProgress,
		RolloutStateReason: str("ECS deployment " + id + " in progress."),
	}
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// serviceDeploymentConfig is a service's deployment configuration with ECS's
// defaults filled in: 100% and 200% for REPLICA, 0% and 100% for DAEMON, the
// circuit breaker off.
func serviceDeploymentConfig(in *ecstypes.DeploymentConfiguration, strategy ecstypes.SchedulingStrategy) *ecstypes.DeploymentConfiguration {
	out := ecstypes.DeploymentConfiguration{}
	if in != nil {
		out = *in
	}
	lo, hi := int32(100), int32(200)
	if strategy == ecstypes.SchedulingStrategyDaemon {
		lo, hi = 0, 100
	}
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &ecstypes.DeploymentCircuitBreaker{Enable: ecstypes.Ptr(false), Rollback: ecstypes.Ptr(false)}
	}
	if out.MaximumPercent == nil {
		out.MaximumPercent = &hi
	}
	if out.MinimumHealthyPercent == nil {
		out.MinimumHealthyPercent = &lo
	}
	return &out
}

func orStrategy(s ecstypes.SchedulingStrategy) ecstypes.SchedulingStrategy {
	if s == "" {
		return ecstypes.SchedulingStrategyReplica
	}
	return s
}

// serviceNetwork is the network configuration as a service answers it:
// assignPublicIp DISABLED unless asked for.
func serviceNetwork(in *ecstypes.NetworkConfiguration) *ecstypes.NetworkConfiguration {
	if in == nil || in.AwsvpcConfiguration == nil {
		return in
	}
	cfg := *in.AwsvpcConfiguration
	if cfg.AssignPublicIp == "" {
		cfg.AssignPublicIp = ecstypes.AssignPublicIpDisabled
	}
	cfg.SecurityGroups = nonNil(cfg.SecurityGroups)
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &cfg}
}

// renderServiceLocked answers a service with its counts, and its tags when
// asked for.
func (s *Service) renderServiceLocked(m *model, r *svcRec, tags bool) ecstypes.Service {
	out := r.S
	out.Tags = nil
	if tags {
		out.Tags = nonNil(r.S.Tags)
	}
	out.Events = slices.Clone(r.S.Events)
	out.Deployments = slices.Clone(r.S.Deployments)
	all, per := s.countTasksLocked(m, r)
	out.RunningCount, out.PendingCount = &all.running, &all.pending
	if h := r.current(); h != nil {
		out.CurrentServiceDeployment = str(s.serviceDeploymentARN(r, h.ID))
	}
	for i := range out.Deployments {
		d := &out.Deployments[i]
		n := per.of(deref(d.Id))
		d.RunningCount, d.PendingCount, d.FailedTasks = ecstypes.Ptr(n.running), ecstypes.Ptr(n.pending), ecstypes.Ptr(n.failed)
		if slices.Contains(r.Established, deref(d.Id)) {
			d.FailedTasks = ecstypes.Ptr(int32(0)) // ECS stops counting once one task runs
		}
		if deref(d.Status) != "PRIMARY" {
			d.DesiredCount = ecstypes.Ptr(n.alive) // what it still keeps, going down
		}
		out.CurrentServiceRevisions = append(out.CurrentServiceRevisions, ecstypes.ServiceCurrentRevisionSummary{
			Arn: str(s.revisionARN(r, deref(d.Id))), RequestedTaskCount: d.DesiredCount, RunningTaskCount: d.RunningCount, PendingTaskCount: d.PendingCount})
	}
	if r.external() {
		out.TaskSets = renderTaskSets(r, r.S.TaskSets, per, tags)
	}
	return out
}

// taskCounts are a service's tasks, or those of one of its deployments or
// task sets, by state: live ones are not STOPPED, alive ones are desired
// RUNNING.
type taskCounts struct{ running, pending, live, alive, failed int32 }

// countsBy are a service's task counts by deployment or task set ID.
type countsBy map[string]*taskCounts

func (c countsBy) of(id string) *taskCounts {
	if n := c[id]; n != nil {
		return n
	}
	return &taskCounts{}
}

// countTasksLocked counts a service's tasks, all and by the deployment or
// task set that started them.
func (s *Service) countTasksLocked(m *model, r *svcRec) (taskCounts, countsBy) {
	var all taskCounts
	per := countsBy{}
	for t := range m.tasks.All() {
		if t.Service != *r.S.ServiceArn {
			continue
		}
		n := per[deref(t.T.StartedBy)]
		if n == nil {
			n = &taskCounts{}
			per[deref(t.T.StartedBy)] = n
		}
		switch st := t.status(); {
		case st == TaskStatusRunning:
			all.running++
			n.running++
		case st.pending():
			all.pending++
			n.pending++
		}
		if t.status() != TaskStatusStopped {
			all.live++
			n.live++
		}
		if t.desired() == ecstypes.DesiredStatusRunning {
			n.alive++
		}
		if s.failedLocked(m, t) {
			n.failed++
		}
	}
	return all, per
}

// DescribeServices answers up to 10 services of a cluster; unknown ones are
// MISSING.
func (s *Service) DescribeServices(ctx context.Context, sc Scope, in *ecstypes.DescribeServicesRequest) (*ecstypes.DescribeServicesResponse, error) {
	if len(in.Services) == 0 {
		return nil, invalidParam("Services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, invalidParam("service names can have at most 10 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecstypes.DescribeServicesResponse{Services: []ecstypes.Service{}, Failures: []ecstypes.Failure{}}
	tags := slices.Contains(in.Include, ecstypes.ServiceFieldTags)
	for _, ref := range in.Services {
		r := s.serviceLocked(m, sc, c, ref)
		if r == nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.serviceARN(sc, c, ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: &arn, Reason: str("MISSING")})
			continue
		}
		out.Services = append(out.Services, s.renderServiceLocked(m, r, tags))
	}
	return out, nil
}

// ListServices lists a cluster's ACTIVE services (10 a page unless asked).
func (s *Service) ListServices(ctx context.Context, sc Scope, in *ecstypes.ListServicesRequest) (*ecstypes.ListServicesResponse, error) {
	s.mu.Lock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var arns []string
	for _, r := range sortedRecs(m.services.All(), func(r *svcRec) int64 { return r.Seq }) {
		switch {
		case r.ClusterARN != *c.C.ClusterArn, r.status() != serviceActive,
			in.LaunchType != "" && r.S.LaunchType != in.LaunchType,
			in.SchedulingStrategy != "" && r.S.SchedulingStrategy != in.SchedulingStrategy,
			in.ResourceManagementType == ecstypes.ResourceManagementTypeEcs:
			continue
		}
		arns = append(arns, *r.S.ServiceArn)
	}
	s.mu.Unlock()
	limit := in.MaxResults
	if limit == nil {
		limit = ecstypes.Ptr(int32(10))
	}
	p, next, err := page(arns, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListServicesResponse{ServiceArns: nonNil(p), NextToken: next}, nil
}

// ListServicesByNamespace lists the services that use a Cloud Map
// namespace. vpcsim has no Cloud Map namespaces yet (they come with service
// discovery), so no namespace a caller names can be found.
func (s *Service) ListServicesByNamespace(ctx context.Context, sc Scope, in *ecstypes.ListServicesByNamespaceRequest) (*ecstypes.ListServicesByNamespaceResponse, error) {
	if deref(in.Namespace) == "" {
		return nil, invalidParam("Namespace cannot be empty.")
	}
	if _, _, err := page([]string(nil), in.MaxResults, in.NextToken); err != nil {
		return nil, err
	}
	return nil, &Error{Type: "NamespaceNotFoundException", Message: "Failed to retrieve namespace for " + *in.Namespace}
}

// DeleteService scales a service to 0 and makes it DRAINING; it becomes
// INACTIVE once its tasks have stopped. A REPLICA service above 0 needs force
// (a DAEMON service does not).
func (s *Service) DeleteService(ctx context.Context, sc Scope, in *ecstypes.DeleteServiceRequest) (*ecstypes.DeleteServiceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, err := s.namedServiceLocked(m, sc, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	switch {
	case r.status() == serviceInactive:
		return nil, serviceNotActive()
	case r.status() == serviceActive && !r.daemon() && deref(r.S.DesiredCount) > 0 && !deref(in.Force):
		return nil, invalidParam("The service cannot be stopped while it is scaled above 0.")
	}
	r, _ = m.services.Edit(*r.S.ServiceArn)
	r.S.Status, r.S.DesiredCount = str(serviceDraining), ecstypes.Ptr(int32(0))
	now := ecstypes.NewTimestamp(s.now())
	if d := r.primary(); d != nil {
		d.DesiredCount, d.UpdatedAt = r.S.DesiredCount, now
	}
	for i := range r.S.TaskSets {
		ts := &r.S.TaskSets[i]
		ts.Status, ts.UpdatedAt, ts.StabilityStatus, ts.StabilityStatusAt = str(taskSetDraining), now, ecstypes.StabilityStatusStabilizing, now
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.DeleteServiceResponse{Service: ecstypes.Ptr(s.renderServiceLocked(m, r, false))}, nil
}

// serviceTaskDefExists answers CreateService's refusals of its cluster and
// task definition, in its words (RunTask's differ).
func (s *Service) serviceTaskDefExists(sc Scope, cluster *string, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	if _, err := s.clusterLocked(m, sc, cluster); err != nil {
		return err
	}
	if ref != "" && s.taskDefLocked(m, sc, ref) == nil {
		return clientErr("TaskDefinition not found.")
	}
	return nil
}
