package ecsapi

import (
	"context"

	"github.com/vpcsim/vpcsim/vpcsim/bus"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// EC2 is what ECS asks of EC2; *ec2sim.Cloud is one. ECS never holds its own
// lock (Service.mu) while calling it: the lock order is EC2 alone, or ECS
// alone (see Service.mu).
type EC2 interface {
	// Account is the account every resource belongs to.
	Account() string
	// Events is the bus EC2 publishes ec2sim.InstanceChanged (and ENI
	// events) on, once committed; ECS follows instances there.
	Events() *bus.Bus
	// Instances lists every instance, for the start-up registration.
	Instances() []ec2sim.Instance
	// LookupInstance finds an instance by ID in any region.
	LookupInstance(id string) (ec2sim.Instance, bool)
	// InstanceENIs lists the ENIs attached to an instance now.
	InstanceENIs(instanceID string) []string
	DescribeSubnets(ctx context.Context, s ec2sim.Scope, ids []string, f []ec2sim.Filter) ([]ec2sim.Subnet, error)
	DescribeSecurityGroups(ctx context.Context, s ec2sim.Scope, ids, names []string, f []ec2sim.Filter) ([]ec2sim.SecurityGroup, error)
	// CreateTaskENI makes (or, retried, finds by its description) a task's
	// requester-managed ENI.
	CreateTaskENI(ctx context.Context, s ec2sim.Scope, subnetID string, groups []string, description string, public bool) (ec2sim.ENI, error)
	// AttachTaskENI moves the ENI into the task's namespace host (made
	// then), attached to instanceID ("" on Fargate), and answers the
	// network facts the task reports.
	AttachTaskENI(ctx context.Context, s ec2sim.Scope, eniID, instanceID, host string) (ec2sim.TaskENI, error)
	// DeleteTaskENI deletes the ENI and the task's namespace; gone is fine.
	DeleteTaskENI(ctx context.Context, s ec2sim.Scope, eniID string) error
	// ClaimHost and ReleaseHost record the namespaces of bridge and none mode
	// tasks, which ECS makes itself, so that EC2's reconciliation keeps them.
	ClaimHost(ctx context.Context, s ec2sim.Scope, host, owner string) error
	ReleaseHost(ctx context.Context, host string) error
	// HostClaims lists every claim, for ECS to release those of tasks gone.
	HostClaims() []ec2sim.HostClaim
}

var _ EC2 = (*ec2sim.Cloud)(nil)
