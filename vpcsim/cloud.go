package vpcsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Cloud is the EC2 (VPC part) of one account, across regions. Every operation
// validates first, then changes the model, the kernel and the store together:
// a refused or failed call leaves none of them changed.
type Cloud struct {
	store         Store
	dp            Dataplane
	account       string
	defaultRegion string
	now           clock
	log           *slog.Logger
	keptHosts     []string
	keepStrays    bool
	quotas        quota.Limits
	connectPublic bool // see WithConnectPublic

	// hookMu guards hooks, called without mu held.
	hookMu sync.Mutex
	hooks  []func(Instance)

	// bg tracks instance transitions running in the background.
	bg sync.WaitGroup

	// beforeFilter, set by tests only, runs as a Describe call starts matching
	// its filters, after it released the model lock.
	beforeFilter func()

	// mu guards the model below.
	mu        sync.Mutex
	seq       int64
	regions   map[string]bool // regions whose default VPC exists
	vpcs      map[string]*VPC
	subnets   map[string]*Subnet
	groups    map[string]*SecurityGroup
	enis      map[string]*ENI
	instances map[string]*Instance
	used      map[string]map[netip.Addr]string // subnet → address → ENI holding it
	firewalls map[string]appliedFirewall       // VPC → what the dataplane enforces
	// firewallsBehind is set while the last firewall sync failed: the next
	// commit syncs whatever it changes (touchesFirewalls would skip it).
	firewallsBehind bool
	flowLogs        flowLogState // see flowlog.go
}

// Option configures a Cloud.
type Option func(*Cloud)

// WithAccount sets the account ID (default 000000000000).
func WithAccount(id string) Option { return func(c *Cloud) { c.account = id } }

// WithDefaultRegion sets the region of requests that name none (default us-east-1).
func WithDefaultRegion(r string) Option { return func(c *Cloud) { c.defaultRegion = r } }

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(c *Cloud) { c.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Cloud) { c.log = l } }

// WithKeptHosts names namespaces that the start-up reconciliation must keep
// although EC2 does not own them: those of ECS tasks in bridge or none mode,
// whose containers outlive a restart of vpcsim.
func WithKeptHosts(hosts []string) Option { return func(c *Cloud) { c.keptHosts = hosts } }

// WithStraysKept makes the start-up reconciliation remove nothing the store
// does not know: for a store that is new, which knows nothing of what is on
// the machine (serve tells the user to run `vpcsim down` instead).
func WithStraysKept() Option { return func(c *Cloud) { c.keepStrays = true } }

// OnInstanceState registers f to be called (without locks held) after an instance
// changes state; ECS uses it to register container instances.
func OnInstanceState(f func(Instance)) Option {
	return func(c *Cloud) { c.hooks = append(c.hooks, f) }
}

// New loads the model from store and makes the kernel match it (Reconcile),
// finishing any instance transition a previous run left half-done.
func New(ctx context.Context, store Store, dp Dataplane, opts ...Option) (*Cloud, error) {
	c := &Cloud{
		store: store, dp: dp, account: "000000000000", defaultRegion: "us-east-1",
		now: time.Now, log: slog.Default(),
	}
	for _, o := range opts {
		o(c)
	}
	if c.dp == nil {
		c.dp = NopDataplane{}
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.disconnectRefusedLocked()
	topo := c.topologyLocked()
	topo.Hosts = append(topo.Hosts, c.keptHosts...)
	topo.KeepStrays = c.keepStrays
	c.mu.Unlock()
	if err := c.dp.Reconcile(ctx, topo); err != nil {
		c.log.Warn("reconcile at start-up left differences", "err", err)
	}
	c.mu.Lock()
	if err := c.syncFirewallsLocked(ctx); err != nil {
		c.log.Warn("security groups at start-up", "err", err)
	}
	c.mu.Unlock()
	c.resumeTransitions()
	return c, nil
}

// Account is the account ID every resource belongs to.
func (c *Cloud) Account() string { return c.account }

// DefaultRegion is the region of requests that carry none.
func (c *Cloud) DefaultRegion() string { return c.defaultRegion }

// Wait blocks until background instance transitions have finished; for tests and shutdown.
func (c *Cloud) Wait() { c.bg.Wait() }

// Document kinds in the store.
const (
	kindRegion   = "ec2.region"
	kindVPC      = "ec2.vpc"
	kindSubnet   = "ec2.subnet"
	kindGroup    = "ec2.security-group"
	kindENI      = "ec2.network-interface"
	kindInstance = "ec2.instance"
)

func (c *Cloud) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.regions = map[string]bool{}
	c.vpcs = map[string]*VPC{}
	c.subnets = map[string]*Subnet{}
	c.groups = map[string]*SecurityGroup{}
	c.enis = map[string]*ENI{}
	c.instances = map[string]*Instance{}
	c.used = map[string]map[netip.Addr]string{}
	var regions []string
	err := errors.Join(
		LoadAll(c.store, kindRegion, func(r *string) { regions = append(regions, *r) }),
		LoadAll(c.store, kindVPC, func(v *VPC) { c.vpcs[v.ID] = v; c.bumpSeq(v.Seq) }),
		LoadAll(c.store, kindSubnet, func(s *Subnet) { c.subnets[s.ID] = s; c.bumpSeq(s.Seq) }),
		LoadAll(c.store, kindGroup, func(g *SecurityGroup) { c.groups[g.ID] = g; c.bumpSeq(g.Seq) }),
		LoadAll(c.store, kindENI, func(e *ENI) { c.enis[e.ID] = e; c.bumpSeq(e.Seq) }),
		LoadAll(c.store, kindInstance, func(i *Instance) { c.instances[i.ID] = i; c.bumpSeq(i.Seq) }),
		c.loadFlowLogsLocked(),
	)
	if err != nil {
		return fmt.Errorf("load the EC2 model: %w", err)
	}
	for _, r := range regions {
		c.regions[r] = true
	}
	for _, e := range c.enis {
		c.holdAddrsLocked(e)
	}
	return nil
}

func (c *Cloud) bumpSeq(s int64) {
	if s > c.seq {
		c.seq = s
	}
}

func (c *Cloud) nextSeq() int64 {
	c.seq++
	return c.seq
}

// commitLocked makes the kernel's security groups match the changed model, then
// stores t. When either refuses, the in-memory model is reloaded from the store
// (and the firewalls follow it), so memory and kernel never hold what the store
// does not.
func (c *Cloud) commitLocked(t *Batch) error {
	err := t.Err
	if err == nil && (touchesFirewalls(t) || c.firewallsBehind) {
		err = c.syncFirewallsLocked(context.Background())
	}
	if err == nil {
		fault.Point(fault.FirewallBeforeStore)
		if err = c.store.Apply(t.Changes); err != nil {
			err = fmt.Errorf("store: %w", err)
		}
	}
	if err == nil {
		return nil
	}
	c.mu.Unlock()
	if lerr := c.load(); lerr != nil {
		c.log.Error("reload after a failed write", "err", lerr)
	}
	c.mu.Lock()
	if ferr := c.syncFirewallsLocked(context.Background()); ferr != nil {
		c.log.Error("security groups after a failed write", "err", ferr)
	}
	return err
}

// scopeLocked checks the region and creates its default VPC on first use, as a
// fresh AWS account has one in every region.
func (c *Cloud) scopeLocked(ctx context.Context, s Scope) error {
	if !KnownRegion(s.Region) {
		return Errorf("InvalidParameterValue", "Invalid region: %s", s.Region)
	}
	if c.regions[s.Region] {
		return nil
	}
	return c.createDefaultVPCLocked(ctx, s.Region)
}

// lock takes the model's lock and prepares the scope's region.
func (c *Cloud) lock(ctx context.Context, s Scope) error {
	c.mu.Lock()
	if err := c.scopeLocked(ctx, s); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}

// PrivateDNSName is the EC2 hostname of a private address in a region.
func PrivateDNSName(region string, a netip.Addr) string {
	b := a.As4()
	host := fmt.Sprintf("ip-%d-%d-%d-%d", b[0], b[1], b[2], b[3])
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}
