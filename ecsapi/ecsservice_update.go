package ecsapi

import (
	"context"
	"reflect"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// UpdateService changes a service. A new task definition, network
// configuration, platform version or capacity provider strategy, or
// forceNewDeployment, starts a new deployment, which the scheduler rolls out
// (scheduler_pass.go); the desired count and the other settings apply to the
// deployment under way.
func (s *Service) UpdateService(ctx context.Context, sc Scope, in *ecstypes.UpdateServiceRequest) (*ecstypes.UpdateServiceResponse, error) {
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, invalidParam("desiredCount cannot be a negative number.")
	}
	if err := unsupportedInUpdate(in); err != nil {
		return nil, err
	}
	if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
		return nil, err
	}
	if _, err := checkPlacement(in.PlacementConstraints, in.PlacementStrategy); err != nil {
		return nil, err
	}
	if in.HealthCheckGracePeriodSeconds != nil && *in.HealthCheckGracePeriodSeconds < 0 {
		return nil, invalidParam("Health check grace period must be greater than or equal to 0.")
	}
	// What the service would run next, checked with EC2 without s.mu.
	s.mu.Lock()
	r, err := s.namedServiceLocked(s.begin(), sc, in.Cluster, in.Service)
	switch {
	case err == nil && r.status() != serviceActive:
		err = serviceNotActive()
	case err == nil && r.daemon() && in.DesiredCount != nil:
		err = daemonDesiredCount
	case err == nil:
		err = checkControllerUpdate(r, in)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	next := r.S
	next.DeploymentConfiguration = mergeDeploymentConfig(r.S.DeploymentConfiguration, in.DeploymentConfiguration)
	if in.TaskDefinition != nil || in.NetworkConfiguration != nil || in.CapacityProviderStrategy != nil {
		if err := s.checkNext(ctx, sc, r, in, &next); err != nil {
			return nil, err
		}
	}
	if in.PlatformVersion != nil {
		next.PlatformVersion = in.PlatformVersion
	}
	deploy := deref(in.ForceNewDeployment) || deref(next.TaskDefinition) != deref(r.S.TaskDefinition) ||
		!reflect.DeepEqual(next.NetworkConfiguration, r.S.NetworkConfiguration) || deref(next.PlatformVersion) != deref(r.S.PlatformVersion) ||
		!reflect.DeepEqual(next.CapacityProviderStrategy, r.S.CapacityProviderStrategy)

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	if r, err = s.namedServiceLocked(m, sc, in.Cluster, in.Service); err != nil {
		return nil, err
	}
	if r.status() != serviceActive {
		return nil, serviceNotActive()
	}
	r, _ = m.services.Edit(*r.S.ServiceArn)
	if in.TaskDefinition != nil || in.NetworkConfiguration != nil || in.CapacityProviderStrategy != nil || in.PlatformVersion != nil {
		// Only what was asked for: another call may have changed the rest
		// since next was read.
		r.S.TaskDefinition, r.S.NetworkConfiguration, r.S.PlatformVersion = next.TaskDefinition, next.NetworkConfiguration, next.PlatformVersion
		r.S.CapacityProviderStrategy, r.S.LaunchType = next.CapacityProviderStrategy, next.LaunchType
	}
	r.S.DeploymentConfiguration = next.DeploymentConfiguration
	if in.DesiredCount != nil {
		r.S.DesiredCount = in.DesiredCount
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		r.S.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.PropagateTags != "" {
		r.S.PropagateTags = in.PropagateTags
	}
	if in.EnableECSManagedTags != nil {
		r.S.EnableECSManagedTags = in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		r.S.EnableExecuteCommand = in.EnableExecuteCommand
	}
	// Placement applies to the tasks placed from now on.
	if in.PlacementConstraints != nil {
		r.S.PlacementConstraints = in.PlacementConstraints
	}
	if in.PlacementStrategy != nil {
		if r.daemon() && len(in.PlacementStrategy) > 0 {
			return nil, invalidParam("The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again")
		}
		r.S.PlacementStrategy = in.PlacementStrategy
	}
	if in.AvailabilityZoneRebalancing != "" {
		r.S.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
	}
	now := ecstypes.NewTimestamp(s.now())
	if deploy {
		for i := range r.S.Deployments {
			r.S.Deployments[i].Status = str("ACTIVE")
		}
		r.S.Deployments = append([]ecstypes.Deployment{s.newDeployment(&r.S)}, r.S.Deployments...)
		r.Steady = false
		s.recordDeployment(m, r)
	}
	if d := r.primary(); d != nil && deref(d.DesiredCount) != deref(r.S.DesiredCount) {
		d.DesiredCount, d.UpdatedAt = r.S.DesiredCount, now
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.UpdateServiceResponse{Service: ecstypes.Ptr(s.renderServiceLocked(m, r, false))}, nil
}

// checkNext resolves what a new deployment would run: the task definition
// (it must be ACTIVE), the launch type of a capacity provider strategy, and
// the network configuration, which EC2 checks. s.mu must not be held.
func (s *Service) checkNext(ctx context.Context, sc Scope, r *svcRec, in *ecstypes.UpdateServiceRequest, next *ecstypes.Service) error {
	ref := deref(r.S.TaskDefinition)
	if in.TaskDefinition != nil {
		ref = *in.TaskDefinition
		if err := s.serviceTaskDefExists(sc, &r.ClusterARN, ref); err != nil {
			return err
		}
	}
	launch := r.S.LaunchType
	if in.CapacityProviderStrategy != nil {
		var err error
		if launch, err = launchTypeOf("", in.CapacityProviderStrategy); err != nil {
			return err
		}
		next.CapacityProviderStrategy, next.LaunchType = in.CapacityProviderStrategy, ""
	} else if launch == "" {
		launch, _ = launchTypeOf("", r.S.CapacityProviderStrategy)
	}
	net := r.S.NetworkConfiguration
	if in.NetworkConfiguration != nil {
		net = serviceNetwork(in.NetworkConfiguration)
	}
	req := placementRequest{launch: launch, net: net}
	if err := s.askEC2(ctx, sc, &r.ClusterARN, ref, &req); err != nil {
		return err
	}
	next.TaskDefinition, next.NetworkConfiguration = req.td.TD.TaskDefinitionArn, net
	return nil
}

// mergeDeploymentConfig is a service's deployment configuration with what an
// UpdateService gives of it.
func mergeDeploymentConfig(have, in *ecstypes.DeploymentConfiguration) *ecstypes.DeploymentConfiguration {
	if in == nil {
		return have
	}
	out := *have
	if in.MaximumPercent != nil {
		out.MaximumPercent = in.MaximumPercent
	}
	if in.MinimumHealthyPercent != nil {
		out.MinimumHealthyPercent = in.MinimumHealthyPercent
	}
	if in.DeploymentCircuitBreaker != nil {
		out.DeploymentCircuitBreaker = in.DeploymentCircuitBreaker
	}
	if in.Alarms != nil {
		out.Alarms = in.Alarms
	}
	return &out
}

// checkControllerUpdate refuses what a service's deployment controller does
// not let UpdateService change: an EXTERNAL service's task sets say what it
// runs, so only its count, placement, grace period and tagging change here.
func checkControllerUpdate(r *svcRec, in *ecstypes.UpdateServiceRequest) error {
	if in.DeploymentController != nil && controllerOf(in.DeploymentController) != controllerOf(r.S.DeploymentController) {
		return &Error{Type: "UnsupportedFeatureException", Message: "Changing a service's deployment controller is not supported by vpcsim yet."}
	}
	if !r.external() {
		return nil
	}
	for _, c := range []struct {
		given bool
		what  string
	}{
		{in.TaskDefinition != nil, "task definition"}, {in.NetworkConfiguration != nil, "network configuration"},
		{in.PlatformVersion != nil, "platform version"}, {len(in.CapacityProviderStrategy) > 0, "capacity provider strategy"},
		{len(in.LoadBalancers) > 0, "load balancers"}, {len(in.ServiceRegistries) > 0, "service registries"},
		{deref(in.ForceNewDeployment), "forceNewDeployment"},
	} {
		if c.given {
			return invalidParam("Unable to update %s on services with an EXTERNAL deployment controller. Create a new task set instead.", c.what)
		}
	}
	return nil
}

// unsupportedInUpdate refuses what an UpdateService may ask for that vpcsim
// does not run yet.
func unsupportedInUpdate(in *ecstypes.UpdateServiceRequest) error {
	create := &ecstypes.CreateServiceRequest{
		LoadBalancers: in.LoadBalancers, ServiceRegistries: in.ServiceRegistries, ServiceConnectConfiguration: in.ServiceConnectConfiguration,
		VolumeConfigurations: in.VolumeConfigurations, VpcLatticeConfigurations: in.VpcLatticeConfigurations,
		DeploymentConfiguration: in.DeploymentConfiguration,
	}
	return unsupportedInService(create)
}
