package ecsapi

import (
	"context"
	"math"
	"slices"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Task sets: what an EXTERNAL service runs. Each runs its own task
// definition and network configuration, scaled to a percentage of the
// service's desired count; the scheduler keeps each at that count
// (scheduler_taskset.go). The controller outside (a user's deploy tool)
// creates them, scales them, makes one PRIMARY and deletes the others.

// Task set statuses, as ECS names them.
const (
	taskSetPrimary  = "PRIMARY"
	taskSetActive   = "ACTIVE"
	taskSetDraining = "DRAINING"
)

// taskSetsKept is how many task sets a service may have at once.
const taskSetsKept = 5

func notExternal() *Error {
	return invalidParam("Amazon ECS only supports task set management on services configured to use external deployment controllers.")
}

func taskSetNotFound() *Error {
	return &Error{Type: "TaskSetNotFoundException", Message: "The specified task set wasn't found."}
}

// computedDesired is a task set's share of its service's desired count,
// "always rounded up" (none once it is DRAINING or its service is not
// ACTIVE). The rounding forgives float error: 3 × 70% is 2.1, never 2.1000…1.
func computedDesired(r *svcRec, ts *ecstypes.TaskSet) int {
	if deref(ts.Status) == taskSetDraining || r.status() != serviceActive {
		return 0
	}
	share := float64(deref(r.S.DesiredCount)) * deref(ts.Scale.Value) / 100
	return int(math.Ceil(share - 1e-9))
}

// checkScale is a task set's scale with ECS's default (0%) and bounds.
func checkScale(in *ecstypes.Scale) (*ecstypes.Scale, error) {
	out := ecstypes.Scale{Value: ecstypes.Ptr(0.0), Unit: ecstypes.ScaleUnitPercent}
	if in != nil && in.Value != nil {
		out.Value = in.Value
	}
	if v := *out.Value; math.IsNaN(v) || v < 0 || v > 100 {
		return nil, invalidParam("Scale value must be between 0 and 100.")
	}
	return &out, nil
}

// taskSet finds one of a service's task sets by ID or ARN.
func (r *svcRec) taskSet(ref string) *ecstypes.TaskSet {
	for i := range r.S.TaskSets {
		if ts := &r.S.TaskSets[i]; deref(ts.Id) == ref || deref(ts.TaskSetArn) == ref {
			return ts
		}
	}
	return nil
}

// taskSetServiceLocked resolves the EXTERNAL service a task set call names;
// active says it must be ACTIVE.
func (s *Service) taskSetServiceLocked(m *model, sc Scope, cluster, service *string, active bool) (*svcRec, error) {
	r, err := s.namedServiceLocked(m, sc, cluster, service)
	switch {
	case err != nil:
		return nil, err
	case !r.external():
		return nil, notExternal()
	case active && r.status() != serviceActive:
		return nil, serviceNotActive()
	}
	return r, nil
}

// editTaskSetLocked is the task set a call names, in a copy of its service
// that the transaction will store.
func (s *Service) editTaskSetLocked(m *model, sc Scope, cluster, service, ref *string) (*svcRec, *ecstypes.TaskSet, error) {
	r, err := s.taskSetServiceLocked(m, sc, cluster, service, true)
	if err != nil {
		return nil, nil, err
	}
	if r.taskSet(deref(ref)) == nil {
		return nil, nil, taskSetNotFound()
	}
	r, _ = m.services.Edit(*r.S.ServiceArn)
	return r, r.taskSet(deref(ref)), nil
}

// CreateTaskSet adds a task set to an EXTERNAL service, ACTIVE and
// STABILIZING; the scheduler starts its tasks.
func (s *Service) CreateTaskSet(ctx context.Context, sc Scope, in *ecstypes.CreateTaskSetRequest) (*ecstypes.CreateTaskSetResponse, error) {
	scale, err := checkScale(in.Scale)
	if err != nil {
		return nil, err
	}
	switch {
	case len(in.LoadBalancers) > 0:
		return nil, &Error{Type: "UnsupportedFeatureException", Message: "A task set with load balancers is not supported by vpcsim yet."}
	case len(in.ServiceRegistries) > 0:
		return nil, &Error{Type: "UnsupportedFeatureException", Message: "A task set with service registries is not supported by vpcsim yet."}
	case len(deref(in.ClientToken)) > 36:
		return nil, invalidParam("clientToken must be at most 36 characters.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	launch, err := launchTypeOf(in.LaunchType, in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	_, err = s.taskSetServiceLocked(s.begin(), sc, in.Cluster, in.Service, true)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := s.serviceTaskDefExists(sc, in.Cluster, deref(in.TaskDefinition)); err != nil {
		return nil, err
	}
	req := placementRequest{launch: launch, net: in.NetworkConfiguration}
	if err := s.askEC2(ctx, sc, in.Cluster, deref(in.TaskDefinition), &req); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, err := s.taskSetServiceLocked(m, sc, in.Cluster, in.Service, true)
	if err != nil {
		return nil, err
	}
	td, err := s.runnableTaskDefLocked(m, sc, deref(in.TaskDefinition), launch)
	if err != nil {
		return nil, err
	}
	if len(r.S.TaskSets) >= taskSetsKept {
		return nil, invalidParam("%d deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.", len(r.S.TaskSets))
	}
	id := newDeploymentID()
	now := ecstypes.NewTimestamp(s.now())
	ts := ecstypes.TaskSet{
		Id: &id, TaskSetArn: str(s.arn(sc, "task-set/"+r.clusterName()+"/"+r.name()+"/"+id)),
		ServiceArn: r.S.ServiceArn, ClusterArn: r.S.ClusterArn, ExternalId: in.ExternalId, Status: str(taskSetActive),
		TaskDefinition: td.TD.TaskDefinitionArn, CreatedAt: now, UpdatedAt: now, CapacityProviderStrategy: in.CapacityProviderStrategy,
		NetworkConfiguration: serviceNetwork(in.NetworkConfiguration), LoadBalancers: []ecstypes.LoadBalancer{},
		ServiceRegistries: []ecstypes.ServiceRegistry{}, Scale: scale,
		StabilityStatus: ecstypes.StabilityStatusStabilizing, StabilityStatusAt: now, Tags: nonNil(in.Tags),
	}
	if len(in.CapacityProviderStrategy) == 0 {
		ts.LaunchType = launch
	}
	if launch == ecstypes.LaunchTypeFargate {
		ts.PlatformVersion, ts.PlatformFamily = str(orStr(deref(in.PlatformVersion), "LATEST")), str("Linux")
	}
	r, _ = m.services.Edit(*r.S.ServiceArn)
	r.S.TaskSets = append(r.S.TaskSets, ts)
	r.Steady = false
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.CreateTaskSetResponse{TaskSet: s.renderTaskSetLocked(m, r, &ts, true)}, nil
}

// DescribeTaskSets answers an EXTERNAL service's task sets, all or those
// named; one not found is MISSING.
func (s *Service) DescribeTaskSets(ctx context.Context, sc Scope, in *ecstypes.DescribeTaskSetsRequest) (*ecstypes.DescribeTaskSetsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, err := s.taskSetServiceLocked(m, sc, in.Cluster, in.Service, false)
	if err != nil {
		return nil, err
	}
	tags := slices.Contains(in.Include, ecstypes.TaskSetFieldTags)
	_, per := s.countTasksLocked(m, r)
	out := &ecstypes.DescribeTaskSetsResponse{TaskSets: []ecstypes.TaskSet{}, Failures: []ecstypes.Failure{}}
	if len(in.TaskSets) == 0 {
		out.TaskSets = renderTaskSets(r, r.S.TaskSets, per, tags)
		return out, nil
	}
	for _, ref := range in.TaskSets {
		ts := r.taskSet(ref)
		if ts == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(ref), Reason: str("MISSING")})
			continue
		}
		out.TaskSets = append(out.TaskSets, renderTaskSets(r, []ecstypes.TaskSet{*ts}, per, tags)...)
	}
	return out, nil
}

// changeTaskSet applies change to the task set a call names (in the
// transaction's copy of its ACTIVE service), stores it, and answers it.
func (s *Service) changeTaskSet(sc Scope, cluster, service, ref *string, change func(r *svcRec, ts *ecstypes.TaskSet, now *ecstypes.Timestamp) error) (*ecstypes.TaskSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, ts, err := s.editTaskSetLocked(m, sc, cluster, service, ref)
	if err != nil {
		return nil, err
	}
	if err := change(r, ts, ecstypes.NewTimestamp(s.now())); err != nil {
		return nil, err
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return s.renderTaskSetLocked(m, r, ts, false), nil
}

// UpdateTaskSet changes a task set's scale, the one thing of it that
// changes; the scheduler follows.
func (s *Service) UpdateTaskSet(ctx context.Context, sc Scope, in *ecstypes.UpdateTaskSetRequest) (*ecstypes.UpdateTaskSetResponse, error) {
	// The scale is required; its value may be left out, as aws-sdk-go-v2
	// leaves out a 0 (it serializes no zero number), so it means 0.
	if in.Scale == nil {
		return nil, invalidParam("Scale cannot be empty.")
	}
	scale, err := checkScale(in.Scale)
	if err != nil {
		return nil, err
	}
	ts, err := s.changeTaskSet(sc, in.Cluster, in.Service, in.TaskSet, func(r *svcRec, ts *ecstypes.TaskSet, now *ecstypes.Timestamp) error {
		ts.Scale, ts.UpdatedAt, ts.StabilityStatus, ts.StabilityStatusAt = scale, now, ecstypes.StabilityStatusStabilizing, now
		r.Steady = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecstypes.UpdateTaskSetResponse{TaskSet: ts}, nil
}

// UpdateServicePrimaryTaskSet makes a task set PRIMARY (the one before it
// ACTIVE), and the service answers what it runs as its own.
func (s *Service) UpdateServicePrimaryTaskSet(ctx context.Context, sc Scope, in *ecstypes.UpdateServicePrimaryTaskSetRequest) (*ecstypes.UpdateServicePrimaryTaskSetResponse, error) {
	ts, err := s.changeTaskSet(sc, in.Cluster, in.Service, in.PrimaryTaskSet, func(r *svcRec, ts *ecstypes.TaskSet, now *ecstypes.Timestamp) error {
		if deref(ts.Status) == taskSetDraining {
			return invalidParam("A DRAINING task set cannot be made primary.")
		}
		for i := range r.S.TaskSets {
			if other := &r.S.TaskSets[i]; other != ts && deref(other.Status) == taskSetPrimary {
				other.Status, other.UpdatedAt = str(taskSetActive), now
			}
		}
		ts.Status, ts.UpdatedAt = str(taskSetPrimary), now
		r.S.TaskDefinition, r.S.LaunchType, r.S.CapacityProviderStrategy = ts.TaskDefinition, ts.LaunchType, ts.CapacityProviderStrategy
		r.S.PlatformVersion, r.S.PlatformFamily, r.S.NetworkConfiguration = ts.PlatformVersion, ts.PlatformFamily, ts.NetworkConfiguration
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecstypes.UpdateServicePrimaryTaskSetResponse{TaskSet: ts}, nil
}

// DeleteTaskSet makes a task set DRAINING: the scheduler stops its tasks,
// and it leaves the service's list once they are gone. One still scaled
// above 0, or the PRIMARY one, goes only with force.
func (s *Service) DeleteTaskSet(ctx context.Context, sc Scope, in *ecstypes.DeleteTaskSetRequest) (*ecstypes.DeleteTaskSetResponse, error) {
	ts, err := s.changeTaskSet(sc, in.Cluster, in.Service, in.TaskSet, func(r *svcRec, ts *ecstypes.TaskSet, now *ecstypes.Timestamp) error {
		// force deletes the PRIMARY task set too, as the Terraform provider's
		// force_delete expects.
		switch {
		case deref(ts.Status) == taskSetDraining:
			return nil // deleted already
		case deref(in.Force):
		case deref(ts.Status) == taskSetPrimary:
			return invalidParam("Primary TaskSet cannot be deleted")
		case computedDesired(r, ts) > 0:
			return invalidParam("The task set cannot be deleted while it is scaled above 0.")
		}
		if deref(ts.Status) == taskSetPrimary {
			r.S.TaskDefinition, r.S.NetworkConfiguration, r.S.PlatformVersion, r.S.PlatformFamily = nil, nil, nil, nil
			r.S.CapacityProviderStrategy = nil
		}
		ts.Status, ts.UpdatedAt, ts.StabilityStatus, ts.StabilityStatusAt = str(taskSetDraining), now, ecstypes.StabilityStatusStabilizing, now
		r.Steady = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecstypes.DeleteTaskSetResponse{TaskSet: ts}, nil
}

// renderTaskSetLocked answers one task set with its counts.
func (s *Service) renderTaskSetLocked(m *model, r *svcRec, ts *ecstypes.TaskSet, tags bool) *ecstypes.TaskSet {
	_, per := s.countTasksLocked(m, r)
	return &renderTaskSets(r, []ecstypes.TaskSet{*ts}, per, tags)[0]
}

// renderTaskSets answers task sets with their counts, and their tags when
// asked for.
func renderTaskSets(r *svcRec, sets []ecstypes.TaskSet, per countsBy, tags bool) []ecstypes.TaskSet {
	out := slices.Clone(sets)
	for i := range out {
		ts := &out[i]
		n := per.of(deref(ts.Id))
		ts.ComputedDesiredCount = ecstypes.Ptr(int32(computedDesired(r, ts)))
		ts.RunningCount, ts.PendingCount = ecstypes.Ptr(n.running), ecstypes.Ptr(n.pending)
		if !tags {
			ts.Tags = nil
		}
	}
	return out
}
