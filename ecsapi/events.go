package ecsapi

import (
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
)

// TaskChanged is published once a change to a task is stored: the task as it
// now is, or Deleted once ECS has forgotten it (an hour after it stopped).
// Followers (tests today; a service scheduler, target registration and
// service discovery next) wait on these instead of polling.
type TaskChanged struct {
	ARN           string
	Region        string
	Cluster       string
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

// emitChanges adds the events of what m changes to its transaction, which
// publishes them once (and only if) it commits.
func (s *Service) emitChanges(m *model) {
	for arn, t := range m.tasks.Staged() {
		ev := TaskChanged{ARN: arn, Deleted: t == nil}
		if t != nil {
			ev.Region, ev.Cluster = t.Region, t.ClusterARN
			ev.LastStatus, ev.DesiredStatus, ev.Version = t.status(), t.desired(), deref(t.T.Version)
		}
		m.tx.Emit(ev)
	}
}
