package taskmeta

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// Endpoints are the tasks' metadata endpoints: one listener inside each
// awsvpc task's namespace, opened and closed as the task goes through its
// lifecycle. It is an ecsapi.TaskFollower; Option hands it to the service.
type Endpoints struct {
	listen func(host string) (net.Listener, error)
	guard  func(http.Handler) http.Handler
	log    *slog.Logger

	mu      sync.Mutex
	servers map[string]*http.Server // by task ARN; nil: the listener could not be opened
}

// NewEndpoints returns the endpoints of no task yet: listen opens a listener
// inside a host's namespace, guard puts the front door before the handler.
func NewEndpoints(listen func(host string) (net.Listener, error), guard func(http.Handler) http.Handler, log *slog.Logger) *Endpoints {
	return &Endpoints{listen: listen, guard: guard, log: log, servers: map[string]*http.Server{}}
}

// Option makes the service's tasks hold for the endpoints where the ECS agent
// has its endpoint: listening before the containers start (PENDING), closed
// before the task's network goes (DEPROVISIONING).
func (e *Endpoints) Option() ecsapi.Option {
	return ecsapi.WithFollower(e, ecsapi.TaskStatusPending, ecsapi.TaskStatusDeprovisioning)
}

// TaskChanged opens a task's endpoint when the task enters PENDING (its
// network is there; its containers start next), or is RUNNING and meant to
// run when vpcsim starts (the task is adopted as it is); it closes the
// endpoint when the task's network goes (DEPROVISIONING) or the task does.
// An endpoint is opened once: one that could not be is not tried again.
func (e *Endpoints) TaskChanged(s *ecsapi.Service, ev ecsapi.TaskChanged) {
	switch {
	case ev.Deleted, ev.LastStatus == ecsapi.TaskStatusDeprovisioning, ev.LastStatus == ecsapi.TaskStatusStopped:
		e.close(ev.ARN)
	case ev.LastStatus == ecsapi.TaskStatusPending,
		ev.LastStatus == ecsapi.TaskStatusRunning && ev.DesiredStatus == ecstypes.DesiredStatusRunning:
		e.open(s, ev.ARN)
	}
}

// open opens the endpoint of an awsvpc task whose ENI is in its namespace.
func (e *Endpoints) open(s *ecsapi.Service, arn string) {
	e.mu.Lock()
	_, tried := e.servers[arn]
	e.mu.Unlock()
	m, ok := s.Metadata(arn)
	if tried || !ok || m.Network == nil {
		return
	}
	ln, err := e.listen(m.Network.Host)
	if err != nil {
		e.log.Error("open the task metadata endpoint", "task", arn, "err", err)
		e.mu.Lock()
		e.servers[arn] = nil
		e.mu.Unlock()
		return
	}
	// The agent's timeouts, and a connection cap: the task's own processes
	// cannot exhaust vpcsim's files.
	srv, limited := frontdoor.NewServer(ln, e.guard(New(s, arn)), frontdoor.Metadata)
	e.mu.Lock()
	e.servers[arn] = srv
	e.mu.Unlock()
	go srv.Serve(limited)
}

// close closes a task's endpoint, if it has one.
func (e *Endpoints) close(arn string) {
	e.mu.Lock()
	srv := e.servers[arn]
	delete(e.servers, arn)
	e.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// Close closes every endpoint; the service that they follow is closed first
// (its tasks go on running, and find their endpoints again when it starts).
func (e *Endpoints) Close() {
	e.mu.Lock()
	var arns []string
	for arn := range e.servers {
		arns = append(arns, arn)
	}
	e.mu.Unlock()
	for _, arn := range arns {
		e.close(arn)
	}
}
