package ecsapi

import (
	"context"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// EC2 is what ECS asks of EC2; *vpcsim.Cloud is one. ECS never holds its own
// lock (Service.mu) while calling it: the lock order is EC2 alone, or ECS
// alone (see Service.mu).
type EC2 interface {
	// Account is the account every resource belongs to.
	Account() string
	// Events is the bus EC2 publishes vpcsim.InstanceChanged (and ENI
	// events) on, once committed; ECS follows instances there.
	Events() *bus.Bus
	// Instances lists every instance, for the start-up registration.
	Instances() []vpcsim.Instance
	// LookupInstance finds an instance by ID in any region.
	LookupInstance(id string) (vpcsim.Instance, bool)
	// InstanceENIs lists the ENIs attached to an instance now.
	InstanceENIs(instanceID string) []string
	DescribeSubnets(ctx context.Context, s vpcsim.Scope, ids []string, f []vpcsim.Filter) ([]vpcsim.Subnet, error)
	DescribeSecurityGroups(ctx context.Context, s vpcsim.Scope, ids, names []string, f []vpcsim.Filter) ([]vpcsim.SecurityGroup, error)
	// CreateTaskENI makes (or, retried, finds by its description) a task's
	// requester-managed ENI.
	CreateTaskENI(ctx context.Context, s vpcsim.Scope, subnetID string, groups []string, description string) (vpcsim.ENI, error)
	// AttachTaskENI moves the ENI into the task's namespace host (made
	// then), attached to instanceID ("" on Fargate), and answers the
	// network facts the task reports.
	AttachTaskENI(ctx context.Context, s vpcsim.Scope, eniID, instanceID, host string) (vpcsim.TaskENI, error)
	// DeleteTaskENI deletes the ENI and the task's namespace; gone is fine.
	DeleteTaskENI(ctx context.Context, s vpcsim.Scope, eniID string) error
	// ClaimHost and ReleaseHost record the namespaces of bridge and none mode
	// tasks, which ECS makes itself, so that EC2's reconciliation keeps them.
	ClaimHost(ctx context.Context, s vpcsim.Scope, host, owner string) error
	ReleaseHost(ctx context.Context, host string) error
	// HostClaims lists every claim, for ECS to release those of tasks gone.
	HostClaims() []vpcsim.HostClaim
}

var _ EC2 = (*vpcsim.Cloud)(nil)
