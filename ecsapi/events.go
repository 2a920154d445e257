package ecsapi

import (
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// TaskChanged is published once a change to a task is stored: the task as it
// now is, or Deleted once ECS has forgotten it (an hour after it stopped).
// Subscribers (tests) wait on these instead of polling; TaskFollowers
// (follow.go: the task metadata endpoints; a service scheduler, target
// registration and service discovery next) act on them, and a task's
// lifecycle may wait for them.
type TaskChanged struct {
	ARN           string
	Region        string
	Cluster       string
	Service       string // the ARN of the ECS service the task is of, if any
	LastStatus    TaskStatus
	DesiredStatus ecstypes.DesiredStatus
	Version       int64
	Deleted       bool
}

// WithBus publishes the service's events on b (default: EC2's bus, the one
// bus of a vpcsim).
func WithBus(b *bus.Bus) Option { return func(s *Service) { s.events = b } }

// Events is the bus the service publishes its events on.
func (s *Service) Events() *bus.Bus { return s.events }

// ServiceChanged is published once a change to an ECS service is stored
// (its desired count, status or events): what the service scheduler did
// can be waited on.
type ServiceChanged struct {
	ARN     string
	Region  string
	Cluster string
	Status  string // ACTIVE, DRAINING or INACTIVE
	Steady  bool   // the scheduler has found it in a steady state
}

// emitChanges adds the events of what m changes to its transaction, which
// publishes them once (and only if) it commits.
func (s *Service) emitChanges(m *model) {
	for arn, t := range m.tasks.Staged() {
		m.tx.Emit(taskEvent(arn, t))
	}
	for arn, r := range m.services.Staged() {
		if r != nil {
			m.tx.Emit(ServiceChanged{ARN: arn, Region: r.Region, Cluster: r.ClusterARN, Status: r.status(), Steady: r.Steady})
		}
	}
}

// taskEvent is the event of a task as it is (nil: deleted).
func taskEvent(arn string, t *taskRec) TaskChanged {
	if t == nil {
		return TaskChanged{ARN: arn, Deleted: true}
	}
	return TaskChanged{
		ARN: arn, Region: t.Region, Cluster: t.ClusterARN, Service: t.Service,
		LastStatus: t.status(), DesiredStatus: t.desired(), Version: deref(t.T.Version),
	}
}
