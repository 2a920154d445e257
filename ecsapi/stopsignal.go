package ecsapi

import "sync"

// stopSignals wakes a task's lifecycle goroutine when a stop is requested. They
// live in memory only: after a restart, a task whose desired status is STOPPED
// is torn down at once.
type stopSignals struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// get returns the task's channel, made on first use by either side.
func (st *stopSignals) get(arn string) chan struct{} {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ch == nil {
		st.ch = map[string]chan struct{}{}
	}
	ch := st.ch[arn]
	if ch == nil {
		ch = make(chan struct{})
		st.ch[arn] = ch
	}
	return ch
}

// signal closes the task's channel, once.
func (st *stopSignals) signal(arn string) {
	ch := st.get(arn)
	st.mu.Lock()
	defer st.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (st *stopSignals) forget(arn string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.ch, arn)
}

func (s *Service) stopSignal(arn string) { s.stops.signal(arn) }

// waitForStop blocks until the task should stop (true), or the service closes
// (false): tasks then go on running, as they do through an ECS agent restart.
func (s *Service) waitForStop(arn string) bool {
	defer s.stops.forget(arn)
	if _, stop := s.snapshot(arn); stop {
		return true
	}
	select {
	case <-s.stops.get(arn):
		return true
	case <-s.closed:
		return false
	}
}

// Close ends the service's background work without stopping tasks, and waits
// for the work under way to finish.
func (s *Service) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.bg.Wait()
	s.metaMu.Lock()
	var arns []string
	for arn := range s.metaServers {
		arns = append(arns, arn)
	}
	s.metaMu.Unlock()
	for _, arn := range arns {
		s.stopMetadata(arn)
	}
}
