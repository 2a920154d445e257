package ecsapi

import (
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// checkCreateService applies ECS's rules to a CreateService request that need
// nothing stored, and answers the service's launch type. What vpcsim cannot
// run yet (load balancers, service registries, Service Connect) is refused as
// not supported.
func checkCreateService(in *ecstypes.CreateServiceRequest) (ecstypes.LaunchType, error) {
	if !serviceNameRE.MatchString(deref(in.ServiceName)) {
		return "", invalidParam("Service must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %s", deref(in.ServiceName))
	}
	if err := checkController(in); err != nil {
		return "", err
	}
	if err := unsupportedInService(in); err != nil {
		return "", err
	}
	if in.SchedulingStrategy == ecstypes.SchedulingStrategyDaemon {
		if err := checkDaemon(in); err != nil {
			return "", err
		}
	}
	switch {
	case in.DesiredCount == nil && in.SchedulingStrategy != ecstypes.SchedulingStrategyDaemon && controllerOf(in.DeploymentController) != ecstypes.DeploymentControllerTypeExternal:
		return "", invalidParam("Desired count must be provided for services using the REPLICA scheduling strategy.")
	case in.DesiredCount != nil && *in.DesiredCount < 0:
		return "", invalidParam("desiredCount cannot be a negative number.")
	case in.HealthCheckGracePeriodSeconds != nil && *in.HealthCheckGracePeriodSeconds < 0:
		return "", invalidParam("Health check grace period must be greater than or equal to 0.")
	case len(deref(in.ClientToken)) > 36:
		return "", invalidParam("clientToken must be at most 36 characters.")
	}
	if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
		return "", err
	}
	if _, err := checkPlacement(in.PlacementConstraints, in.PlacementStrategy); err != nil {
		return "", err
	}
	if err := checkTags(in.Tags); err != nil {
		return "", err
	}
	return launchTypeOf(in.LaunchType, in.CapacityProviderStrategy)
}

// controllerOf is the deployment controller a request names, ECS if none.
func controllerOf(c *ecstypes.DeploymentController) ecstypes.DeploymentControllerType {
	if c == nil || c.Type == "" {
		return ecstypes.DeploymentControllerTypeEcs
	}
	return c.Type
}

// checkController applies ECS's rules of the deployment controllers other
// than ECS. A CODE_DEPLOY service needs a load balancer, which vpcsim has not
// got yet, so none can be made (as on AWS without one). An EXTERNAL service
// leaves what it runs to its task sets (taskset.go), so it names none of it.
func checkController(in *ecstypes.CreateServiceRequest) error {
	kind := controllerOf(in.DeploymentController)
	if kind == ecstypes.DeploymentControllerTypeEcs {
		return nil
	}
	if in.SchedulingStrategy == ecstypes.SchedulingStrategyDaemon {
		return invalidParam("The daemon scheduling strategy is not supported with the %s deployment controller.", kind)
	}
	if kind == ecstypes.DeploymentControllerTypeCodeDeploy {
		switch {
		case deref(in.TaskDefinition) == "":
			return invalidParam("A task definition must be specified if the service uses either the ECS or CODE_DEPLOY deployment controllers.")
		case len(in.LoadBalancers) == 0:
			return invalidParam("A service using the CODE_DEPLOY deployment controller must use an Application Load Balancer or a Network Load Balancer.")
		}
		return nil
	}
	switch {
	case in.TaskDefinition != nil && *in.TaskDefinition == "":
		return invalidParam("Family should not be null or empty.")
	case in.TaskDefinition != nil:
		return invalidParam("TaskDefinition must be blank.")
	case len(in.LoadBalancers) > 0:
		return invalidParam("LoadBalancers must be empty or null.")
	case in.NetworkConfiguration != nil:
		return invalidParam("NetworkConfiguration must be null.")
	}
	return nil
}

// checkDeploymentConfig applies ECS's bounds to a REPLICA service's
// percentages: a minimum of 0–100 and a maximum of at least 100 (and above
// the minimum) in ECS's texts.
func checkDeploymentConfig(cfg *ecstypes.DeploymentConfiguration) error {
	if cfg == nil {
		return nil
	}
	lo, hi := int32(100), int32(200)
	if cfg.MinimumHealthyPercent != nil {
		lo = *cfg.MinimumHealthyPercent
	}
	if cfg.MaximumPercent != nil {
		hi = *cfg.MaximumPercent
	}
	switch {
	case lo < 0 || lo > 100:
		return invalidParam("minimumHealthyPercent must be between 0 and 100.")
	case hi < 100:
		return invalidParam("maximumPercent must be greater than or equal to 100.")
	case hi <= lo && !(hi == 100 && lo == 100):
		return invalidParam("maximumPercent must be greater than minimumHealthyPercent.")
	}
	if cb := cfg.DeploymentCircuitBreaker; cb != nil && (cb.Enable == nil || cb.Rollback == nil) {
		return invalidParam("deploymentCircuitBreaker requires enable and rollback.")
	}
	return nil
}

// unsupportedInService refuses what a service may ask for that vpcsim does not
// run yet.
func unsupportedInService(in *ecstypes.CreateServiceRequest) error {
	no := func(what string) error {
		return &Error{Type: "UnsupportedFeatureException", Message: what + " is not supported by vpcsim yet."}
	}
	switch {
	case len(in.LoadBalancers) > 0:
		return no("A service with load balancers")
	case len(in.ServiceRegistries) > 0:
		return no("A service with service registries")
	case in.ServiceConnectConfiguration != nil:
		return no("Service Connect")
	case len(in.VolumeConfigurations) > 0:
		return no("A service with volume configurations")
	case len(in.VpcLatticeConfigurations) > 0:
		return no("A service with VPC Lattice configurations")
	case in.DeploymentConfiguration != nil && in.DeploymentConfiguration.Strategy != "" && in.DeploymentConfiguration.Strategy != ecstypes.DeploymentStrategyRolling:
		return no("The deployment strategy " + string(in.DeploymentConfiguration.Strategy))
	}
	return nil
}

// daemonDesiredCount is ECS's refusal of a desired count for a DAEMON
// service, which runs one task on each instance.
var daemonDesiredCount = invalidParam("The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again")

// checkDaemon applies ECS's rules of DAEMON services.
func checkDaemon(in *ecstypes.CreateServiceRequest) error {
	switch {
	case in.DesiredCount != nil:
		return daemonDesiredCount
	case len(in.PlacementStrategy) > 0:
		return invalidParam("The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again")
	case in.DeploymentConfiguration != nil && deref(in.DeploymentConfiguration.MaximumPercent) > 100:
		return invalidParam("The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again")
	case len(in.CapacityProviderStrategy) > 0:
		return invalidParam("Specifying a capacity provider strategy is not supported when you create a service using the DAEMON scheduling strategy.")
	case in.LaunchType == ecstypes.LaunchTypeFargate:
		return invalidParam("The daemon scheduling strategy is not supported for the FARGATE launch type.")
	}
	return nil
}
