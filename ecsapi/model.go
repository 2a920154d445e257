package ecsapi

import "github.com/vpcsim/vpcsim/storage"

// model is the ECS tables as one transaction sees them: every change a call
// makes is staged in it and published by commit, all or nothing. What must
// happen only once the change is stored (a stop signal, a lifecycle) waits in
// after. The caller holds s.mu from begin to commit.
type model struct {
	tx        *storage.Tx
	clusters  storage.View[clusterRec]
	taskDefs  storage.View[taskDefRec]
	revisions storage.View[revisionRec]
	instances storage.View[instanceRec]
	tasks     storage.View[taskRec]
	services  storage.View[svcRec]
	after     []func()
}

// begin starts a transaction on the ECS tables; s.mu must be held. A call
// that only reads never commits it.
func (s *Service) begin() *model {
	tx := s.db.Begin()
	return &model{
		tx: tx, clusters: s.clusters.In(tx), taskDefs: s.taskDefs.In(tx), revisions: s.revisions.In(tx),
		instances: s.instances.In(tx), tasks: s.tasks.In(tx), services: s.services.In(tx),
	}
}

// commit stores and publishes what m staged, then runs what waited for it.
// When the store refuses, the tables stay as they were and nothing runs.
func (s *Service) commit(m *model) error {
	s.emitChanges(m)
	// A change of a service or of a container instance may change what
	// the service scheduler has to do; a task's is heard through its event.
	wake := hasStaged(m.services) || hasStaged(m.instances)
	if err := m.tx.Commit(); err != nil {
		return err
	}
	for _, f := range m.after {
		f()
	}
	if wake {
		s.wakeScheduler()
	}
	return nil
}

// commitOrLog commits a change made outside a request (a task's lifecycle, an
// instance's state), where no caller can be told of a refusal.
func (s *Service) commitOrLog(m *model, what, id string) bool {
	if err := s.commit(m); err != nil {
		s.log.Error("store "+what, "id", id, "err", err)
		return false
	}
	return true
}

func hasStaged[T any](v storage.View[T]) bool {
	for range v.Staged() {
		return true
	}
	return false
}
