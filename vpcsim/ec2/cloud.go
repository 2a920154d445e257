package ec2

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
	"github.com/vpcsim/vpcsim/vpcsim/fault"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Cloud is the EC2 (VPC part) of one account, across regions. Every operation
// validates first, then changes the model, the kernel and the store together:
// a refused or failed call leaves none of them changed.
type Cloud struct {
	db            *storage.DB
	storageOpts   []storage.Option
	dp            netmodel.Dataplane
	account       string
	defaultRegion string
	now           clock
	log           *slog.Logger
	keepStrays    bool
	imageCheck    bool // WithImageCheck
	quotas        quota.Limits
	connectPublic bool         // see WithConnectPublic
	publicRange   netip.Prefix // see WithPublicRange

	// events carries what commits change to the other services (events.go).
	events *bus.Bus

	// bg tracks instance transitions running in the background.
	bg sync.WaitGroup

	// beforeFilter, set by tests only, runs as a Describe call starts matching
	// its filters, after it released the model lock.
	beforeFilter func()
	// onWait, set by tests only, runs (under mu) as a call starts waiting
	// for a busy ENI or instance.
	onWait func()

	// mu guards the model below. Lock order: Service.mu (ECS) is never
	// held when mu is taken (ECS asks EC2 before or after its own lock),
	// and mu is never held when another service's lock is taken (EC2 tells
	// the others through the bus, after commit). Under mu only the storage
	// engine's and the dataplane's own locks are taken: the firewall is
	// applied at commit, under mu (commitLocked). Netlink and namespace
	// work on ENIs, instances, VPCs and subnets runs without mu: reserve
	// under it, work, relock, commit (reserve.go); a call on a reserved ENI
	// or a busy instance or VPC waits on idle.
	mu     sync.Mutex
	idle   *sync.Cond // on mu: signalled when ENIs land or instances and VPCs stop being busy
	seq    int64
	tables tables
	// cur is the transaction of the call holding mu (see model).
	cur *model
	// used is what the committed ENIs hold: subnet → address → ENI. A
	// call's staged ENIs are seen through takenLocked.
	used map[string]map[netip.Addr]string
	// inflight are the ENIs calls are making or changing without mu, as
	// they will be; makingVPCs and makingSubnets the VPCs and subnets calls
	// are making without mu, not yet stored; busy the instances whose
	// namespace, and the VPCs whose subnet bridges, a call is changing
	// without mu (see reserve.go).
	inflight      map[string]*ENI
	makingVPCs    map[string]*VPC
	makingSubnets map[string]*Subnet
	busy          map[string]bool
	launching     map[string]int // region → instances whose launch is in flight
	fw            firewallState  // what the dataplane enforces (firewall_state.go)
	// routing is the routing the dataplane has, by VPC; routingUnknown is
	// set until every VPC's was set once (routing.go).
	routing        map[string]netmodel.Routing
	routingUnknown bool
	flowLogs       flowLogState // see flowlog.go
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

// WithImageCheck makes RunInstances refuse an image that is neither in the
// catalogue nor registered, as EC2 does (InvalidAMIID.NotFound). Without it
// any well-formed image ID launches (with the defaults of the catalogue's
// images), so that tests and examples may name made-up ones.
func WithImageCheck() Option { return func(c *Cloud) { c.imageCheck = true } }

// WithStraysKept makes the start-up reconciliation remove nothing the store
// does not know: for a store that is new, which knows nothing of what is on
// the machine (serve tells the user to run `vpcsim down` instead).
func WithStraysKept() Option { return func(c *Cloud) { c.keepStrays = true } }

// WithInPlaceCheck makes every commit check that no committed record was
// changed in place (see storage.CheckInPlace): for tests.
func WithInPlaceCheck() Option {
	return func(c *Cloud) { c.storageOpts = append(c.storageOpts, storage.CheckInPlace()) }
}

// New loads the model from store and makes the kernel match it (Reconcile),
// finishing any instance transition a previous run left half-done.
func New(ctx context.Context, store vpcsim.Store, dp netmodel.Dataplane, opts ...Option) (*Cloud, error) {
	c := &Cloud{
		dp: dp, account: "000000000000", defaultRegion: "us-east-1",
		now: time.Now, log: slog.Default(), fw: newFirewallState(),
		inflight: map[string]*ENI{}, makingVPCs: map[string]*VPC{}, makingSubnets: map[string]*Subnet{},
		busy: map[string]bool{}, launching: map[string]int{},
		publicRange: DefaultPublicRange, routing: map[string]netmodel.Routing{}, routingUnknown: true,
	}
	c.idle = sync.NewCond(&c.mu)
	for _, o := range opts {
		o(c)
	}
	if c.dp == nil {
		c.dp = netmodel.NopDataplane{}
	}
	if c.events == nil {
		c.events = bus.New()
	}
	c.db = storage.New(store, c.storageOpts...)
	c.db.OnCommit(c.events.Publish)
	if err := c.load(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.disconnectRefusedLocked()
	topo := c.topologyLocked()
	topo.KeepStrays = c.keepStrays
	if m := c.model(); get(m.markers, markerHostClaims) == nil {
		topo.KeepStrayHosts = true
		marker := markerHostClaims
		m.markers.Put(&marker)
	}
	c.ensureMainRouteTablesLocked()
	c.ensureDefaultACLsLocked()
	c.ensureDefaultGatewaysLocked()
	c.ensureDefaultDHCPOptionsLocked()
	// The disconnections, markers, main route tables and default DHCP options go to the store without a firewall sync (that
	// follows the reconciliation); the kernel is not connected to a refused
	// range even when the store refuses them, and the next start-up retries.
	if m := c.model(); m.tx.Changed() {
		if err := m.tx.Commit(); err != nil {
			c.log.Error("store the disconnections (the next start-up retries)", "err", err)
		}
	}
	c.unlock()
	if err := c.dp.Reconcile(ctx, topo); err != nil {
		c.log.Warn("reconcile at start-up left differences", "err", err)
	}
	c.mu.Lock()
	if err := c.syncFirewallsLocked(ctx, firewallDirty{}); err != nil { // every VPC: the state is unknown
		c.log.Warn("security groups at start-up", "err", err)
	}
	if err := c.syncRoutingLocked(ctx, nil); err != nil { // every VPC: the state is unknown
		c.log.Warn("routing at start-up", "err", err)
	}
	c.unlock()
	c.ensureNATs(ctx)
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
	kindRegion          = "ec2.region"
	kindVPC             = "ec2.vpc"
	kindSubnet          = "ec2.subnet"
	kindGroup           = "ec2.security-group"
	kindENI             = "ec2.network-interface"
	kindInstance        = "ec2.instance"
	kindRouteTable      = "ec2.route-table"
	kindKeyPair         = "ec2.key-pair"
	kindDHCPOptions     = "ec2.dhcp-options"
	kindInternetGateway = "ec2.internet-gateway"
	kindEgressOnlyIGW   = "ec2.egress-only-internet-gateway"
	kindAddress         = "ec2.address"
	kindNatGateway      = "ec2.nat-gateway"
	kindImage           = "ec2.image"
	kindNetworkACL      = "ec2.network-acl"
	kindVpcPeering      = "ec2.vpc-peering"
	kindLaunchTemplate  = "ec2.launch-template"
	kindPrefixList      = "ec2.prefix-list"
)

// load opens the EC2 tables (once, at start-up) and derives what is not
// stored: the addresses ENIs hold and the last sequence number handed out.
func (c *Cloud) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.openTables(); err != nil {
		return fmt.Errorf("load the EC2 model: %w", err)
	}
	c.used = map[string]map[netip.Addr]string{}
	t := &c.tables
	for v := range t.vpcs.All() {
		c.bumpSeq(v.Seq)
	}
	for s := range t.subnets.All() {
		c.bumpSeq(s.Seq)
	}
	for g := range t.groups.All() {
		c.bumpSeq(g.Seq)
	}
	for e := range t.enis.All() {
		c.bumpSeq(e.Seq)
		c.holdAddrsLocked(e)
	}
	for i := range t.instances.All() {
		c.bumpSeq(i.Seq)
	}
	for f := range t.flowLogs.All() {
		c.bumpSeq(f.Seq)
	}
	for r := range t.rts.All() {
		c.bumpSeq(r.Seq)
	}
	for k := range t.keyPairs.All() {
		c.bumpSeq(k.Seq)
	}
	for d := range t.dhcp.All() {
		c.bumpSeq(d.Seq)
	}
	for h := range t.hostClaims.All() {
		c.bumpSeq(h.Seq)
	}
	for g := range t.igws.All() {
		c.bumpSeq(g.Seq)
	}
	for g := range t.eigws.All() {
		c.bumpSeq(g.Seq)
	}
	for a := range t.addresses.All() {
		c.bumpSeq(a.Seq)
	}
	for g := range t.nats.All() {
		c.bumpSeq(g.Seq)
	}
	for im := range t.images.All() {
		c.bumpSeq(im.Seq)
	}
	for a := range t.acls.All() {
		c.bumpSeq(a.Seq)
	}
	for p := range t.peerings.All() {
		c.bumpSeq(p.Seq)
	}
	for lt := range t.launchTemplates.All() {
		c.bumpSeq(lt.Seq)
	}
	for p := range t.prefixLists.All() {
		c.bumpSeq(p.Seq)
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

// commitLocked makes the kernel's security groups match the call's model,
// then stores and publishes it (see model). When either refuses, the tables
// stay as they were, the call's changes are dropped and the firewalls are
// made to match the tables again, so kernel and tables never hold what the
// store does not. The caller undoes its own kernel changes.
func (c *Cloud) commitLocked() error {
	m := c.model()
	// What the call may change in the firewalls, found from what it staged:
	// synced now, and synced again from the tables if the commit fails.
	dirty := c.firewallDirtyLocked(m)
	routes := c.routingDirtyLocked(m)
	err := c.syncFirewallsLocked(context.Background(), dirty)
	if err == nil {
		err = c.syncRoutingLocked(context.Background(), routes)
	}
	if err == nil {
		fault.Point(fault.FirewallBeforeStore)
		c.emitChangesLocked(m)
		staged := m.stagedENIs()
		old := c.committedOf(staged)
		var gone []string
		for id, s := range m.subnets.Staged() {
			if s == nil {
				gone = append(gone, id)
			}
		}
		c.cur = nil
		if err = m.tx.Commit(); err == nil {
			c.publishAddrsLocked(old, staged)
			for _, id := range gone {
				delete(c.used, id)
			}
			return nil
		}
	}
	m.tx.Abort()
	c.cur = nil
	if ferr := c.syncFirewallsLocked(context.Background(), dirty); ferr != nil {
		c.log.Error("security groups after a failed write", "err", ferr)
	}
	if rerr := c.syncRoutingLocked(context.Background(), routes); rerr != nil {
		c.log.Error("routing after a failed write", "err", rerr)
	}
	return err
}

// scopeLocked checks the region and creates its default VPC on first use, as a
// fresh AWS account has one in every region.
func (c *Cloud) scopeLocked(ctx context.Context, s Scope) error {
	if !KnownRegion(s.Region) {
		return Errorf("InvalidParameterValue", "Invalid region: %s", s.Region)
	}
	if c.regionReady(s.Region) {
		return nil
	}
	return c.createDefaultVPCLocked(ctx, s.Region)
}

// lock takes the model's lock and prepares the scope's region.
func (c *Cloud) lock(ctx context.Context, s Scope) error {
	c.mu.Lock()
	if err := c.scopeLocked(ctx, s); err != nil {
		c.unlock()
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

// topologyLocked is the kernel state the whole model wants.
func (c *Cloud) topologyLocked() netmodel.Topology {
	var t netmodel.Topology
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		t.VPCs = append(t.VPCs, netVPC(v))
	}
	for _, s := range sortedBySeq(c.allSubnets(), func(v *Subnet) int64 { return v.Seq }) {
		t.Subnets = append(t.Subnets, netSubnet(s))
	}
	for _, i := range sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }) {
		if instanceUp(i.State) {
			t.Hosts = append(t.Hosts, i.ID)
		}
	}
	for _, e := range sortedBySeq(c.allENIs(), func(v *ENI) int64 { return v.Seq }) {
		n := c.netENILocked(e)
		if e.Host != "" && n.Host == e.Host {
			t.Hosts = append(t.Hosts, e.Host)
		}
		t.ENIs = append(t.ENIs, n)
	}
	for _, h := range sortedBySeq(c.model().hostClaims.All(), func(h *HostClaim) int64 { return h.Seq }) {
		t.Hosts = append(t.Hosts, h.Host)
	}
	return t
}
