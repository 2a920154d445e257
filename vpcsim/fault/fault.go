// Package fault marks the points where a crash would leave vpcsim's store, the
// kernel and containerd out of step, so that tests can kill vpcsim exactly
// there and check that a restart brings them back into agreement.
//
// In a normal build Point does nothing and costs nothing. A binary built with
// `-tags faultinject` reads VPCSIM_FAULT=NAME[@N] and kills itself with
// SIGKILL the N-th time (default first) execution reaches Point(NAME). The
// release binary cannot be made to crash by its environment.
package fault

// The points, in the order a request passes them. Each sits between two
// effects that a crash would split.
const (
	// SubnetBridgeMade: CreateSubnet made the bridge; the store has no subnet.
	SubnetBridgeMade = "subnet.bridge-made"
	// ENIAttachMoved: AttachNetworkInterface moved the veth into the instance;
	// the store still says available.
	ENIAttachMoved = "eni.attach-moved"
	// FirewallBeforeStore: every EC2 change's nftables are in; the store is not
	// yet written.
	FirewallBeforeStore = "ec2.firewall-before-store"
	// TaskENICreated: RunTask's ENI exists in EC2; the task does not know it.
	TaskENICreated = "task.eni-created"
	// TaskENIAttached: the ENI is in the task's namespace; the task's
	// attachment still says PRECREATED.
	TaskENIAttached = "task.eni-attached"
	// ContainerCreated: a container exists in containerd; it has no process.
	ContainerCreated = "runtime.container-created"
	// TaskStarted: the containers run; the task is still PENDING.
	TaskStarted = "task.started"
	// TaskContainersStopped: StopTask's containers are gone; the task says
	// STOPPING.
	TaskContainersStopped = "task.containers-stopped"
	// TaskENIDeleted: the stopped task's ENI is gone; the task is not STOPPED.
	TaskENIDeleted = "task.eni-deleted"
)

// Points lists every point, for tests that walk them all.
var Points = []string{
	SubnetBridgeMade, ENIAttachMoved, FirewallBeforeStore,
	TaskENICreated, TaskENIAttached, ContainerCreated, TaskStarted,
	TaskContainersStopped, TaskENIDeleted,
}
