package ecsapi

import (
	"context"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Runtime runs a task's containers. The ECS domain owns this interface and drives
// it from the task state machine; the containerd runtime implements it for real,
// NopRuntime runs no processes (`--dataplane none`), and fakes serve the tests
// (ecsapi/ecstest).
type Runtime interface {
	// Start pulls the images and starts every container of the task inside the
	// network namespace at NetnsPath (awsvpc: the task's own; bridge and none:
	// the task's own; host: its instance's), and reports each container's
	// runtime ID. It returns when all have started or one could not.
	Start(ctx context.Context, run TaskRun) (StartResult, error)
	// Stop stops the task's containers (SIGTERM, then SIGKILL after each one's
	// stopTimeout), removes them, and reports the exit code of each container it
	// stopped; stopping a task that has none succeeds.
	Stop(ctx context.Context, taskID string) (map[string]int, error)
}

// TaskRun is what a runtime needs to start one task.
type TaskRun struct {
	TaskID    string
	TaskARN   string
	NetnsPath string // the network namespace every container joins (each mode has one)
	// NetworkMode is the task definition's (bridge when it names none).
	NetworkMode ecstypes.NetworkMode
	// CPU (units, 1024 a vCPU) and Memory (MiB) are the task-level limits, with
	// the task's overrides: 0 when the task definition sets none.
	CPU, Memory int
	// PidMode and IpcMode are the task definition's ("" for each container's own).
	PidMode    ecstypes.PidMode
	IpcMode    ecstypes.IpcMode
	Containers []ContainerRun
	// Volumes are the task definition's, which containers' mountPoints name.
	Volumes []ecstypes.Volume
	// Exited is called once for each container that ends by itself (not by Stop),
	// with its exit code and the runtime's reason, e.g. "OutOfMemoryError".
	Exited func(container string, exitCode int, reason string)
	// Health is called when a container with a healthCheck changes health:
	// "HEALTHY" or "UNHEALTHY" (it is "UNKNOWN" until the first verdict).
	Health func(container string, status ecstypes.HealthStatus)
}

// ContainerRun is one container of a task, with overrides applied.
type ContainerRun struct {
	Def         ecstypes.ContainerDefinition
	Command     []string
	Environment []ecstypes.KeyValuePair
	StopTimeout time.Duration
}

// StartResult is what Start reports.
type StartResult struct {
	PullStarted, PullStopped time.Time
	RuntimeIDs               map[string]string // container name → runtime ID
	ImageDigests             map[string]string // container name → image digest
}

// Restarter is a Runtime that can start a container that ended by itself
// again, in place (a container restart policy); its next exit is reported
// through the task's Exited again.
type Restarter interface {
	Restart(ctx context.Context, taskID, container string) error
}

// Adopter is a Runtime that can take back the containers of a task that ran
// before vpcsim restarted, reporting their exits from then on.
type Adopter interface {
	Adopt(ctx context.Context, run TaskRun) error
}
