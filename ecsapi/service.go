// Package ecsapi is the ECS domain of vpcsim: clusters, task definitions,
// container instances and tasks with their whole lifecycle. It is pure Go: it
// asks EC2 (package vpcsim) for ENIs and instances, and a Runtime for containers.
// Its request and response types are the API's own shapes (shapes_gen.go),
// since the JSON protocol carries them as they are.
package ecsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Scope is where a request runs: ECS resources are per region.
type Scope struct {
	Region string
}

// KnownRegion reports whether ECS serves a region here: those EC2 serves.
func KnownRegion(name string) bool { return vpcsim.KnownRegion(name) }

// Service is the ECS API of one account.
type Service struct {
	store   vpcsim.Store
	ec2     *vpcsim.Cloud
	rt      Runtime
	account string
	now     func() time.Time
	log     *slog.Logger
	netns   func(host string) string // a task host's namespace path, for the runtime
	quotas  quota.Limits
	// stepDelay spaces the lifecycle's states so that they can be observed; 0 in tests.
	stepDelay time.Duration

	taskNet    TaskNetwork
	linkStats  func(netnsPath string) (map[string]NetworkStats, error)
	metaListen func(host string) (net.Listener, error)
	metaServe  MetadataServer
	// metaMu guards metaServers, the endpoints of running tasks.
	metaMu      sync.Mutex
	metaServers map[string]*http.Server

	bg        sync.WaitGroup
	stops     stopSignals
	closed    chan struct{}
	closeOnce sync.Once

	// mu guards the model below.
	mu        sync.Mutex
	seq       int64
	clusters  map[string]*clusterRec  // by ARN
	taskDefs  map[string]*taskDefRec  // by ARN
	revisions map[string]int32        // region/family → last revision handed out
	instances map[string]*instanceRec // by ARN
	tasks     map[string]*taskRec     // by ARN
	// taskDefBytes is, by region, the length of every task definition revision
	// kept (see quota.TaskDefinitionBytes).
	taskDefBytes map[string]int
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithNetnsPath tells the service where the dataplane keeps a host's namespace.
func WithNetnsPath(f func(host string) string) Option { return func(s *Service) { s.netns = f } }

// WithStepDelay spaces the task lifecycle's steps (default none).
func WithStepDelay(d time.Duration) Option { return func(s *Service) { s.stepDelay = d } }

// New loads the ECS model from store, registers the container instances that EC2
// instances ask for, and resumes every task lifecycle a previous run left.
func New(ctx context.Context, store vpcsim.Store, ec2 *vpcsim.Cloud, rt Runtime, opts ...Option) (*Service, error) {
	s := &Service{
		store: store, ec2: ec2, rt: rt, account: ec2.Account(), now: time.Now, log: slog.Default(),
		netns: func(string) string { return "" }, closed: make(chan struct{}),
		metaServers: map[string]*http.Server{},
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	ec2.Subscribe(s.instanceChanged)
	for _, inst := range ec2.Instances() {
		s.instanceChanged(inst)
	}
	s.resume(ctx)
	return s, nil
}

// Document kinds in the store.
const (
	kindCluster  = "ecs.cluster"
	kindTaskDef  = "ecs.task-definition"
	kindInstance = "ecs.container-instance"
	kindTask     = "ecs.task"
	kindRevision = "ecs.revision"
)

type revisionRec struct {
	Key  string `json:"key"`
	Last int32  `json:"last"`
}

func (s *Service) load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters, s.taskDefs, s.instances, s.tasks = map[string]*clusterRec{}, map[string]*taskDefRec{}, map[string]*instanceRec{}, map[string]*taskRec{}
	s.revisions = map[string]int32{}
	err := errors.Join(
		vpcsim.LoadAll(s.store, kindCluster, func(r *clusterRec) { s.clusters[*r.C.ClusterArn] = r; s.bump(r.Seq) }),
		vpcsim.LoadAll(s.store, kindTaskDef, func(r *taskDefRec) { s.taskDefs[*r.TD.TaskDefinitionArn] = r; s.bump(r.Seq) }),
		vpcsim.LoadAll(s.store, kindInstance, func(r *instanceRec) { s.instances[*r.CI.ContainerInstanceArn] = r; s.bump(r.Seq) }),
		vpcsim.LoadAll(s.store, kindTask, func(r *taskRec) { s.tasks[*r.T.TaskArn] = r; s.bump(r.Seq) }),
		vpcsim.LoadAll(s.store, kindRevision, func(r *revisionRec) { s.revisions[r.Key] = r.Last }),
	)
	if err != nil {
		return fmt.Errorf("load the ECS model: %w", err)
	}
	s.taskDefBytes = map[string]int{}
	for _, r := range s.taskDefs {
		if r.Size == 0 { // kept before vpcsim measured them
			r.Size = jsonLength(r.TD)
		}
		s.taskDefBytes[r.Region] += r.Size
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

// commitLocked stores t; when the store refuses, memory is reloaded from it so
// the two never disagree.
func (s *Service) commitLocked(t *vpcsim.Batch) error {
	err := t.Err
	if err == nil {
		err = s.store.Apply(t.Changes)
	}
	if err == nil {
		return nil
	}
	s.mu.Unlock()
	if lerr := s.load(); lerr != nil {
		s.log.Error("reload after a failed write", "err", lerr)
	}
	s.mu.Lock()
	return fmt.Errorf("store: %w", err)
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
