package ecsapi

import (
	"fmt"
	"slices"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// TaskStatus is a task's lastStatus: where it is in the ECS task lifecycle
// (AWS's "Amazon ECS task lifecycle"). The wire keeps it a string
// (ecstypes.Task.LastStatus: botocore's model has no enum for it); the domain
// reads and changes it only as a TaskStatus, through taskRec.status and
// taskRec.setStatus.
type TaskStatus string

// The task lifecycle's states, in the order a task goes through them.
const (
	TaskStatusProvisioning   TaskStatus = "PROVISIONING"   // awsvpc: the ENI is made and attached
	TaskStatusPending        TaskStatus = "PENDING"        // images are pulled, containers started
	TaskStatusActivating     TaskStatus = "ACTIVATING"     // (load balancer targets, service discovery: nothing yet)
	TaskStatusRunning        TaskStatus = "RUNNING"        // until StopTask, an essential container's exit, or its host going
	TaskStatusDeactivating   TaskStatus = "DEACTIVATING"   // (the same, undone)
	TaskStatusStopping       TaskStatus = "STOPPING"       // containers are stopped
	TaskStatusDeprovisioning TaskStatus = "DEPROVISIONING" // the task's network goes: its ENI detached and deleted
	TaskStatusStopped        TaskStatus = "STOPPED"        // for an hour, then forgotten
)

// taskTransitions is the task lifecycle's state machine: for each lastStatus,
// the ones a task may go to next ("" is a task not made yet). Every change of
// a task's lastStatus is checked against it (setStatus), so it is all that
// DescribeTasks can ever show a task doing.
//
//	(new)          → PROVISIONING (awsvpc), PENDING (other network modes)
//	PROVISIONING   → PENDING, DEACTIVATING
//	PENDING        → ACTIVATING, DEACTIVATING, PENDING
//	ACTIVATING     → RUNNING, DEACTIVATING, PENDING
//	RUNNING        → DEACTIVATING
//	DEACTIVATING   → STOPPING, DEACTIVATING
//	STOPPING       → DEPROVISIONING, DEACTIVATING
//	DEPROVISIONING → STOPPED, DEACTIVATING
//	STOPPED        (final)
//
// The odd edges, each as vpcsim's lifecycle takes it (lifecycle.go):
//   - → DEACTIVATING from PROVISIONING, PENDING or ACTIVATING: a stop (StopTask,
//     a failure to start, an essential container's exit) takes a task that is
//     not RUNNING yet through the whole teardown from its first step, as it
//     does a RUNNING one. (AWS's documentation does not say which states ECS
//     shows a task stopped before it ran; vpcsim shows every one.)
//   - PENDING → PENDING: tasks of the bridge, host and none modes are made
//     PENDING (they have no ENI to provision), and bringUp stores its PENDING
//     step for them again; a restart while PENDING does the same.
//   - ACTIVATING → PENDING: a restart finds the task between its containers'
//     start and RUNNING; bringUp takes it up again from PENDING (its runtime
//     adopts what is already there).
//   - DEACTIVATING, STOPPING, DEPROVISIONING → DEACTIVATING: a restart in the
//     middle of a teardown does it again from its first step; every step
//     undoes only what is still there.
var taskTransitions = map[TaskStatus][]TaskStatus{
	"":                       {TaskStatusProvisioning, TaskStatusPending},
	TaskStatusProvisioning:   {TaskStatusPending, TaskStatusDeactivating},
	TaskStatusPending:        {TaskStatusActivating, TaskStatusDeactivating, TaskStatusPending},
	TaskStatusActivating:     {TaskStatusRunning, TaskStatusDeactivating, TaskStatusPending},
	TaskStatusRunning:        {TaskStatusDeactivating},
	TaskStatusDeactivating:   {TaskStatusStopping, TaskStatusDeactivating},
	TaskStatusStopping:       {TaskStatusDeprovisioning, TaskStatusDeactivating},
	TaskStatusDeprovisioning: {TaskStatusStopped, TaskStatusDeactivating},
	TaskStatusStopped:        nil,
}

// desiredTransitions is the same for a task's desiredStatus (the model's enum,
// ecstypes.DesiredStatus): a task is made to run, and a stop request is final.
// PENDING is in the model's enum (ListTasks filters on it); vpcsim never sets
// it, and the table keeps the edges it could have.
var desiredTransitions = map[ecstypes.DesiredStatus][]ecstypes.DesiredStatus{
	"":                            {ecstypes.DesiredStatusRunning},
	ecstypes.DesiredStatusPending: {ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped},
	ecstypes.DesiredStatusRunning: {ecstypes.DesiredStatusStopped},
	ecstypes.DesiredStatusStopped: nil,
}

// illegalTransition is a change of a task's status that the lifecycle's table
// does not have: a bug in vpcsim, never the user's doing. The change is
// refused and logged as an error; vpcsim goes on serving (a panic in a
// lifecycle would take every other task down with it).
type illegalTransition struct {
	Task, What string // What: "lastStatus" or "desiredStatus"
	From, To   string
}

func (e *illegalTransition) Error() string {
	from := e.From
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("illegal task %s transition %s → %s of %s", e.What, from, e.To, e.Task)
}

// status is the task's lastStatus.
func (t *taskRec) status() TaskStatus { return TaskStatus(deref(t.T.LastStatus)) }

// desired is the task's desiredStatus.
func (t *taskRec) desired() ecstypes.DesiredStatus {
	return ecstypes.DesiredStatus(deref(t.T.DesiredStatus))
}

// setStatus is the one way a task's lastStatus changes: to to, when the table
// allows it from where the task is; otherwise the task stays as it is.
func (t *taskRec) setStatus(to TaskStatus) error {
	if err := checkTransition(taskTransitions, "lastStatus", t, t.status(), to); err != nil {
		return err
	}
	t.T.LastStatus = str(string(to))
	return nil
}

// setDesired is the one way a task's desiredStatus changes, as setStatus.
func (t *taskRec) setDesired(to ecstypes.DesiredStatus) error {
	if err := checkTransition(desiredTransitions, "desiredStatus", t, t.desired(), to); err != nil {
		return err
	}
	t.T.DesiredStatus = str(string(to))
	return nil
}

func checkTransition[S ~string](table map[S][]S, what string, t *taskRec, from, to S) error {
	if slices.Contains(table[from], to) {
		return nil
	}
	return &illegalTransition{Task: deref(t.T.TaskArn), What: what, From: string(from), To: string(to)}
}

// pending reports whether the status counts as pending (a cluster's
// pendingTasksCount): on the way to RUNNING.
func (st TaskStatus) pending() bool {
	return st == TaskStatusProvisioning || st == TaskStatusPending || st == TaskStatusActivating
}
