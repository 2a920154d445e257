// Package ecsapi is the ECS domain of vpcsim: clusters, task definitions,
// container instances and tasks with their whole lifecycle. It is pure Go: it
// asks EC2 (vpcsim/ec2) for ENIs and instances, and a Runtime for containers.
// Its request and response types are the API's own shapes (package ecstypes),
// since the JSON protocol carries them as they are.
package ecsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Scope is where a request runs: ECS resources are per region.
type Scope struct {
	Region string
}

// KnownRegion reports whether ECS serves a region here: those EC2 serves.
func KnownRegion(name string) bool { return ec2sim.KnownRegion(name) }

// Service is the ECS API of one account.
type Service struct {
	db      *storage.DB
	ec2     EC2
	rt      Runtime
	account string
	now     func() time.Time
	log     *slog.Logger
	netns   func(host string) string // a task host's namespace path, for the runtime
	quotas  quota.Limits
	// stepDelay spaces the lifecycle's states so that they can be observed; 0 in tests.
	stepDelay time.Duration

	taskNet   TaskNetwork
	linkStats func(netnsPath string) (map[string]NetworkStats, error)
	followers []*follower // see follow.go
	sched     scheduler   // see scheduler.go
	timers    ServiceTimers

	bg        sync.WaitGroup
	stops     stopSignals
	closed    chan struct{}
	closeOnce sync.Once

	// mu guards the tables below and every transaction on them (see model.go).
	// Lock order: mu is a leaf. ECS never calls EC2 (nor the runtime, nor
	// the dataplane) with mu held: it reads what it needs from EC2 first,
	// or stages its change, unlocks, calls, and locks again to record the
	// outcome. EC2 reaches ECS only through events, delivered on the bus's
	// own goroutines with no EC2 lock held.
	mu        sync.Mutex
	seq       int64
	clusters  *storage.Table[clusterRec]  // by ARN
	taskDefs  *storage.Table[taskDefRec]  // by ARN
	revisions *storage.Table[revisionRec] // by region/family: the last revision handed out
	instances *storage.Table[instanceRec] // by ARN
	tasks     *storage.Table[taskRec]     // by ARN
	services  *storage.Table[svcRec]      // by ARN
	// purgeAfter is when the next stopped task is due to be forgotten
	// (zero: unknown); see purgeLocked.
	purgeAfter time.Time
	// taskDefBytes is, by region, the length of every task definition revision
	// kept (see quota.TaskDefinitionBytes).
	taskDefBytes map[string]int

	storageOpts []storage.Option
	events      *bus.Bus
	instanceSub *bus.Subscription // EC2's instance events
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithNetnsPath tells the service where the dataplane keeps a host's namespace.
func WithNetnsPath(f func(host string) string) Option { return func(s *Service) { s.netns = f } }

// WithInPlaceCheck makes every commit check that no committed record was
// changed in place (see storage.CheckInPlace): for tests.
func WithInPlaceCheck() Option {
	return func(s *Service) { s.storageOpts = append(s.storageOpts, storage.CheckInPlace()) }
}

// WithStepDelay spaces the task lifecycle's steps (default none).
func WithStepDelay(d time.Duration) Option { return func(s *Service) { s.stepDelay = d } }

// New loads the ECS model from store, registers the container instances that EC2
// instances ask for, and resumes every task lifecycle a previous run left.
func New(ctx context.Context, store vpcsim.Store, ec2 EC2, rt Runtime, opts ...Option) (*Service, error) {
	s := &Service{
		ec2: ec2, rt: rt, account: ec2.Account(), now: time.Now, log: slog.Default(),
		netns: func(string) string { return "" }, closed: make(chan struct{}), timers: DefaultServiceTimers,
		sched: scheduler{wake: make(chan struct{}, 1)},
	}
	for _, o := range opts {
		o(s)
	}
	if s.events == nil {
		s.events = ec2.Events()
	}
	if err := s.load(store); err != nil {
		return nil, err
	}
	s.startFollowers()
	// Instances are followed from now on; those already there are
	// registered first (an event that also reports one changes nothing).
	s.instanceSub = bus.On(ec2.Events(), func(ev ec2sim.InstanceChanged) {
		if !ev.Deleted {
			s.instanceChanged(ev.Instance)
		}
	})
	for _, inst := range ec2.Instances() {
		s.instanceChanged(inst)
	}
	s.releaseHostsOfGoneTasks(ctx)
	s.resume(ctx)
	s.startScheduler()
	return s, nil
}

// The kinds of the store's documents, and how each record is keyed.
var (
	clusterKind  = storage.Kind[clusterRec]{Name: "ecs.cluster", ID: func(r *clusterRec) string { return *r.C.ClusterArn }}
	taskDefKind  = storage.Kind[taskDefRec]{Name: "ecs.task-definition", ID: func(r *taskDefRec) string { return *r.TD.TaskDefinitionArn }}
	instanceKind = storage.Kind[instanceRec]{Name: "ecs.container-instance", ID: func(r *instanceRec) string { return *r.CI.ContainerInstanceArn }}
	taskKind     = storage.Kind[taskRec]{Name: "ecs.task", ID: func(r *taskRec) string { return *r.T.TaskArn }}
	revisionKind = storage.Kind[revisionRec]{Name: "ecs.revision", ID: func(r *revisionRec) string { return r.Key }}
	serviceKind  = storage.Kind[svcRec]{Name: "ecs.service", ID: func(r *svcRec) string { return *r.S.ServiceArn }}
)

// revisionRec is the last revision handed out in a family ("region/family").
type revisionRec struct {
	Key  string `json:"key"`
	Last int32  `json:"last"`
}

func (s *Service) load(store vpcsim.Store) error {
	s.db = storage.New(store, s.storageOpts...)
	s.db.OnCommit(s.events.Publish)
	var errs []error
	open := func(err error) { errs = append(errs, err) }
	var err error
	s.clusters, err = storage.NewTable(s.db, clusterKind)
	open(err)
	s.taskDefs, err = storage.NewTable(s.db, taskDefKind)
	open(err)
	s.instances, err = storage.NewTable(s.db, instanceKind)
	open(err)
	s.tasks, err = storage.NewTable(s.db, taskKind)
	open(err)
	s.revisions, err = storage.NewTable(s.db, revisionKind)
	open(err)
	s.services, err = storage.NewTable(s.db, serviceKind)
	open(err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("load the ECS model: %w", err)
	}
	for c := range s.clusters.All() {
		s.bump(c.Seq)
	}
	for r := range s.instances.All() {
		s.bump(r.Seq)
	}
	for t := range s.tasks.All() {
		s.bump(t.Seq)
	}
	for r := range s.services.All() {
		s.bump(r.Seq)
	}
	s.taskDefBytes = map[string]int{}
	for r := range s.taskDefs.All() {
		s.bump(r.Seq)
		s.taskDefBytes[r.Region] += r.size()
	}
	return nil
}

func (s *Service) bump(seq int64) {
	if seq > s.seq {
		s.seq = seq
	}
}

func (s *Service) nextSeq() int64 {
	s.seq++
	return s.seq
}

// arn builds an ECS ARN of the scope's region.
func (s *Service) arn(sc Scope, resource string) string {
	return "arn:aws:ecs:" + sc.Region + ":" + s.account + ":" + resource
}

// newHexID is the 32-hex-digit ID of tasks and container instances.
func newHexID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID is the form of attachment and container IDs.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func str(s string) *string { return &s }

// deref is *p, or T's zero value when p is nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
