package ecsapi

import (
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// The service events the scheduler writes, in ECS's words: "(service NAME)"
// first, task IDs bare, counts never made singular ("1 tasks"). The README
// lists which texts were seen in real ECS output and which are inferred.

// eventsKept is how many events a service keeps, as ECS answers them.
const eventsKept = 100

// addEvents puts messages (oldest first) at the head of a service's events,
// newest first; a message the same as the newest is left out unless that is
// ServiceTimers.RepeatEvents old, as ECS omits repeats "until either the
// cause is resolved or six hours passes". It reports whether it added any.
func (s *Service) addEvents(r *svcRec, msgs ...string) bool {
	added := false
	now := ecstypes.NewTimestamp(s.now())
	for _, msg := range msgs {
		if len(r.S.Events) > 0 && deref(r.S.Events[0].Message) == msg &&
			(s.timers.RepeatEvents <= 0 || s.now().Before(r.S.Events[0].CreatedAt.Time().Add(s.timers.RepeatEvents))) {
			continue
		}
		ev := ecstypes.ServiceEvent{Id: str(newUUID()), CreatedAt: now, Message: str(msg)}
		r.S.Events = append([]ecstypes.ServiceEvent{ev}, r.S.Events...)
		added = true
	}
	if len(r.S.Events) > eventsKept {
		r.S.Events = r.S.Events[:eventsKept]
	}
	return added
}

func taskIDs(tasks []*taskRec) string {
	var b strings.Builder
	for i, t := range tasks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("(task " + t.ID + ")")
	}
	return b.String()
}

func startedEvent(name string, tasks []*taskRec, replaced int) string {
	msg := "(service " + name + ") has started " + strconv.Itoa(len(tasks)) + " tasks: " + taskIDs(tasks) + "."
	if replaced > 0 {
		msg += " Amazon ECS replaced " + strconv.Itoa(replaced) + " tasks due to an unhealthy status."
	}
	return msg
}

func stoppedEvent(name string, tasks []*taskRec) string {
	return "(service " + name + ") has stopped " + strconv.Itoa(len(tasks)) + " running tasks: " + taskIDs(tasks) + "."
}

func unhealthyEvent(name string, t *taskRec) string {
	return "(service " + name + ") (task " + t.ID + ") failed container health checks."
}

func steadyEvent(name string) string { return "(service " + name + ") has reached a steady state." }

func completedEvent(name, depID string) string {
	return "(service " + name + ") (deployment " + depID + ") deployment completed."
}

func failedEvent(name, depID string) string {
	return "(service " + name + ") (deployment " + depID + ") deployment failed: tasks failed to start."
}

func rollbackEvent(name, depID string) string {
	return "(service " + name + ") rolling back to deployment " + depID + "."
}

func stuckEvent(name string) string {
	return "(service " + name + ") was unable to stop or start tasks during a deployment because of the service deployment configuration. " +
		"Update the minimumHealthyPercent or maximumPercent value and try again."
}

func throttledEvent(name string) string {
	return "(service " + name + ") is unable to consistently start tasks successfully."
}

// unplacedEvent says why a task could not be placed, from what placement
// answered of the instances (none: the cluster has no ACTIVE instance).
func unplacedEvent(name string, fails []ecstypes.Failure) string {
	const lead, tail = ") was unable to place a task because no container instance met all of its requirements. ",
		" For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	if len(fails) == 0 {
		return "(service " + name + lead + "Reason: No Container Instances were found in your cluster." + tail
	}
	f := fails[0]
	arn := deref(f.Arn)
	closest := "The closest matching (container-instance " + arn[strings.LastIndexByte(arn, '/')+1:] + ")"
	var why string
	switch reason := deref(f.Reason); reason {
	case "RESOURCE:MEMORY":
		why = " has insufficient memory available."
	case "RESOURCE:CPU":
		why = " has insufficient CPU units available."
	case "RESOURCE:PORTS", "RESOURCE:PORTS_UDP":
		why = " is already using a port required by your task."
	case "AGENT":
		why = " doesn't have the agent connected."
	default: // RESOURCE:ENI, LOCATION: ECS's texts for these were not found
		why = ` encountered error "` + reason + `".`
	}
	return "(service " + name + lead + closest + why + tail
}

// unableEvent says why the scheduler could not place a task at all.
func unableEvent(name, reason string) string {
	return "(service " + name + ") was unable to place a task. Reason: " + reason
}
