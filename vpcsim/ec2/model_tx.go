package ec2

import (
	"iter"
	"net/netip"

	"github.com/vpcsim/vpcsim/storage"
)

// Store kinds of the EC2 tables; their names and JSON never change.
var (
	regionKind   = storage.Kind[string]{Name: kindRegion, ID: func(r *string) string { return *r }}
	vpcKind      = storage.Kind[VPC]{Name: kindVPC, ID: func(v *VPC) string { return v.ID }}
	subnetKind   = storage.Kind[Subnet]{Name: kindSubnet, ID: func(s *Subnet) string { return s.ID }}
	groupKind    = storage.Kind[SecurityGroup]{Name: kindGroup, ID: func(g *SecurityGroup) string { return g.ID }}
	eniKind      = storage.Kind[ENI]{Name: kindENI, ID: func(e *ENI) string { return e.ID }}
	instanceKind = storage.Kind[Instance]{Name: kindInstance, ID: func(i *Instance) string { return i.ID }}
	flowLogKind  = storage.Kind[FlowLog]{Name: kindFlowLog, ID: func(f *FlowLog) string { return f.ID }}
	rtKind       = storage.Kind[RouteTable]{Name: kindRouteTable, ID: func(r *RouteTable) string { return r.ID }}
	keyPairKind  = storage.Kind[KeyPair]{Name: kindKeyPair, ID: func(k *KeyPair) string { return k.ID }}
	dhcpKind     = storage.Kind[DHCPOptions]{Name: kindDHCPOptions, ID: func(d *DHCPOptions) string { return d.ID }}
	igwKind      = storage.Kind[InternetGateway]{Name: kindInternetGateway, ID: func(g *InternetGateway) string { return g.ID }}
	eigwKind     = storage.Kind[EgressOnlyIGW]{Name: kindEgressOnlyIGW, ID: func(g *EgressOnlyIGW) string { return g.ID }}
	addressKind  = storage.Kind[Address]{Name: kindAddress, ID: func(a *Address) string { return a.ID }}
	natKind      = storage.Kind[NatGateway]{Name: kindNatGateway, ID: func(g *NatGateway) string { return g.ID }}
	imageKind    = storage.Kind[Image]{Name: kindImage, ID: func(im *Image) string { return im.ID }}
	aclKind      = storage.Kind[NetworkACL]{Name: kindNetworkACL, ID: func(a *NetworkACL) string { return a.ID }}
	peeringKind  = storage.Kind[VpcPeering]{Name: kindVpcPeering, ID: func(p *VpcPeering) string { return p.ID }}
	ltKind       = storage.Kind[LaunchTemplate]{Name: kindLaunchTemplate, ID: func(t *LaunchTemplate) string { return t.ID }}
	plKind       = storage.Kind[PrefixList]{Name: kindPrefixList, ID: func(p *PrefixList) string { return p.ID }}
)

// tables are the committed EC2 records (see storage.Table): never changed in
// place, replaced by a transaction's copies when it commits.
type tables struct {
	regions   *storage.Table[string] // regions whose default VPC exists
	vpcs      *storage.Table[VPC]
	subnets   *storage.Table[Subnet]
	groups    *storage.Table[SecurityGroup]
	enis      *storage.Table[ENI]
	instances *storage.Table[Instance]
	flowLogs  *storage.Table[FlowLog]
	rts       *storage.Table[RouteTable]
	keyPairs  *storage.Table[KeyPair]
	dhcp      *storage.Table[DHCPOptions]
	igws      *storage.Table[InternetGateway]
	eigws     *storage.Table[EgressOnlyIGW] // eigw.go
	addresses *storage.Table[Address]
	nats      *storage.Table[NatGateway]
	images    *storage.Table[Image]
	acls      *storage.Table[NetworkACL]
	peerings  *storage.Table[VpcPeering]
	// launchTemplates hold their versions (launchtemplate.go).
	launchTemplates *storage.Table[LaunchTemplate]
	// hostClaims are namespaces other services own (hostclaim.go).
	hostClaims *storage.Table[HostClaim]
	markers    *storage.Table[string] // facts about the database (hostclaim.go)

	// prefixLists are the customer-managed prefix lists (prefixlist.go).
	prefixLists *storage.Table[PrefixList]
}

func (c *Cloud) openTables() error {
	var err error
	open := func(f func() error) {
		if err == nil {
			err = f()
		}
	}
	t := &c.tables
	open(func() (e error) { t.regions, e = storage.NewTable(c.db, regionKind); return })
	open(func() (e error) { t.vpcs, e = storage.NewTable(c.db, vpcKind); return })
	open(func() (e error) { t.subnets, e = storage.NewTable(c.db, subnetKind); return })
	open(func() (e error) { t.groups, e = storage.NewTable(c.db, groupKind); return })
	open(func() (e error) { t.enis, e = storage.NewTable(c.db, eniKind); return })
	open(func() (e error) { t.instances, e = storage.NewTable(c.db, instanceKind); return })
	open(func() (e error) { t.flowLogs, e = storage.NewTable(c.db, flowLogKind); return })
	open(func() (e error) { t.rts, e = storage.NewTable(c.db, rtKind); return })
	open(func() (e error) { t.keyPairs, e = storage.NewTable(c.db, keyPairKind); return })
	open(func() (e error) { t.dhcp, e = storage.NewTable(c.db, dhcpKind); return })
	open(func() (e error) { t.igws, e = storage.NewTable(c.db, igwKind); return })
	open(func() (e error) { t.eigws, e = storage.NewTable(c.db, eigwKind); return })
	open(func() (e error) { t.addresses, e = storage.NewTable(c.db, addressKind); return })
	open(func() (e error) { t.nats, e = storage.NewTable(c.db, natKind); return })
	open(func() (e error) { t.images, e = storage.NewTable(c.db, imageKind); return })
	open(func() (e error) { t.acls, e = storage.NewTable(c.db, aclKind); return })
	open(func() (e error) { t.peerings, e = storage.NewTable(c.db, peeringKind); return })
	open(func() (e error) { t.launchTemplates, e = storage.NewTable(c.db, ltKind); return })
	open(func() (e error) { t.hostClaims, e = storage.NewTable(c.db, hostClaimKind); return })
	open(func() (e error) { t.markers, e = storage.NewTable(c.db, markerKind); return })
	open(func() (e error) { t.prefixLists, e = storage.NewTable(c.db, plKind); return })
	return err
}

// model is the EC2 tables as the call holding c.mu sees them: one
// transaction, whose staged copies every read of the call sees (an ENI staged
// earlier in the call holds its addresses, a staged VPC's firewall is the one
// synced before the store write). commitLocked publishes it, all or nothing;
// unlock drops whatever was not committed.
type model struct {
	tx              *storage.Tx
	regions         storage.View[string]
	vpcs            storage.View[VPC]
	subnets         storage.View[Subnet]
	groups          storage.View[SecurityGroup]
	enis            storage.View[ENI]
	instances       storage.View[Instance]
	flowLogs        storage.View[FlowLog]
	rts             storage.View[RouteTable]
	keyPairs        storage.View[KeyPair]
	dhcp            storage.View[DHCPOptions]
	igws            storage.View[InternetGateway]
	eigws           storage.View[EgressOnlyIGW]
	addresses       storage.View[Address]
	nats            storage.View[NatGateway]
	images          storage.View[Image]
	acls            storage.View[NetworkACL]
	launchTemplates storage.View[LaunchTemplate]
	peerings        storage.View[VpcPeering]
	hostClaims      storage.View[HostClaim]
	markers         storage.View[string]
	prefixLists     storage.View[PrefixList] // prefixlist.go
}

// model returns the transaction of the call holding c.mu, starting it on
// first use.
func (c *Cloud) model() *model {
	if c.cur == nil {
		tx := c.db.Begin()
		t := &c.tables
		c.cur = &model{
			tx: tx, regions: t.regions.In(tx), vpcs: t.vpcs.In(tx), subnets: t.subnets.In(tx),
			groups: t.groups.In(tx), enis: t.enis.In(tx), instances: t.instances.In(tx), flowLogs: t.flowLogs.In(tx), rts: t.rts.In(tx), keyPairs: t.keyPairs.In(tx), dhcp: t.dhcp.In(tx),
			igws: t.igws.In(tx), eigws: t.eigws.In(tx), addresses: t.addresses.In(tx), nats: t.nats.In(tx), images: t.images.In(tx), acls: t.acls.In(tx),
			peerings: t.peerings.In(tx), launchTemplates: t.launchTemplates.In(tx),
			hostClaims: t.hostClaims.In(tx), markers: t.markers.In(tx),
			prefixLists: t.prefixLists.In(tx),
		}
	}
	return c.cur
}

// abortLocked drops what the call staged and not committed: the model is the
// committed one again.
func (c *Cloud) abortLocked() {
	if c.cur != nil {
		c.cur.tx.Abort()
		c.cur = nil
	}
}

// unlock releases c.mu, dropping what the call staged and did not commit.
func (c *Cloud) unlock() {
	c.abortLocked()
	c.mu.Unlock()
}

// get reads a record as the call's transaction sees it (nil: none); the
// caller must not change it (edit gives a copy that it may).
func get[T any](v storage.View[T], id string) *T {
	r, _ := v.Get(id)
	return r
}

// edit returns the call's copy of a record, to change (nil: none).
func edit[T any](v storage.View[T], id string) *T {
	r, _ := v.Edit(id)
	return r
}

// Readers of the call's model, by ID (nil: none).
func (c *Cloud) vpc(id string) *VPC                    { return get(c.model().vpcs, id) }
func (c *Cloud) subnet(id string) *Subnet              { return get(c.model().subnets, id) }
func (c *Cloud) group(id string) *SecurityGroup        { return get(c.model().groups, id) }
func (c *Cloud) eni(id string) *ENI                    { return get(c.model().enis, id) }
func (c *Cloud) instance(id string) *Instance          { return get(c.model().instances, id) }
func (c *Cloud) flowLog(id string) *FlowLog            { return get(c.model().flowLogs, id) }
func (c *Cloud) regionReady(region string) bool        { _, ok := c.model().regions.Get(region); return ok }
func (c *Cloud) allVPCs() iter.Seq[*VPC]               { return c.model().vpcs.All() }
func (c *Cloud) allSubnets() iter.Seq[*Subnet]         { return c.model().subnets.All() }
func (c *Cloud) allGroups() iter.Seq[*SecurityGroup]   { return c.model().groups.All() }
func (c *Cloud) allENIs() iter.Seq[*ENI]               { return c.model().enis.All() }
func (c *Cloud) allInstances() iter.Seq[*Instance]     { return c.model().instances.All() }
func (c *Cloud) allFlowLogs() iter.Seq[*FlowLog]       { return c.model().flowLogs.All() }
func (c *Cloud) routeTable(id string) *RouteTable      { return get(c.model().rts, id) }
func (c *Cloud) allRouteTables() iter.Seq[*RouteTable] { return c.model().rts.All() }

// stagedENIs maps the ENIs the call's transaction changes to their new
// version (nil: deleted).
func (m *model) stagedENIs() map[string]*ENI {
	out := map[string]*ENI{}
	for id, e := range m.enis.Staged() {
		out[id] = e
	}
	return out
}

// publishAddrsLocked moves the addresses of the ENIs a transaction changed
// from their committed versions (old) to their new ones, once it committed:
// c.used holds only what the store has.
func (c *Cloud) publishAddrsLocked(old, staged map[string]*ENI) {
	for id, e := range staged {
		if o := old[id]; o != nil {
			c.releaseAddrsLocked(o)
		}
		if e != nil {
			c.holdAddrsLocked(e)
		}
	}
}

// committedOf lists the committed versions of the staged ENIs.
func (c *Cloud) committedOf(staged map[string]*ENI) map[string]*ENI {
	out := map[string]*ENI{}
	for id := range staged {
		if o, ok := c.tables.enis.Get(id); ok {
			out[id] = o
		}
	}
	return out
}

// takenLocked returns whether an address of a subnet is held, as the call's
// transaction sees it: staged ENIs and ENIs in flight (reserve.go) hold
// theirs, an ENI the call changed or deleted no longer holds what only its
// committed version had. The staged ENIs are read once, for a caller that
// tries many addresses.
func (c *Cloud) takenLocked(subnetID string) func(netip.Addr) bool {
	committed := c.used[subnetID]
	staged := c.model().stagedENIs()
	held := map[netip.Addr]bool{}
	hold := func(e *ENI) {
		if e != nil && e.SubnetID == subnetID {
			for _, ip := range e.PrivateIPs {
				held[ip.Addr] = true
			}
		}
	}
	for _, e := range staged {
		hold(e)
	}
	for _, e := range c.inflight {
		hold(e)
	}
	if len(held) == 0 && len(staged) == 0 {
		return func(a netip.Addr) bool { _, ok := committed[a]; return ok }
	}
	return func(a netip.Addr) bool {
		if held[a] {
			return true
		}
		id, ok := committed[a]
		if !ok {
			return false
		}
		_, changed := staged[id]
		return !changed
	}
}

// usedCountLocked is how many addresses of a subnet ENIs hold, as the call's
// transaction sees it.
func (c *Cloud) usedCountLocked(subnetID string) int {
	n := len(c.used[subnetID])
	for id, e := range c.model().stagedENIs() {
		if o, ok := c.tables.enis.Get(id); ok && o.SubnetID == subnetID {
			for _, ip := range o.PrivateIPs {
				if c.used[subnetID][ip.Addr] == id {
					n--
				}
			}
		}
		if e != nil && e.SubnetID == subnetID {
			n += len(e.PrivateIPs)
		}
	}
	for id, e := range c.inflight {
		if _, known := c.model().enis.Get(id); !known && e.SubnetID == subnetID {
			n += len(e.PrivateIPs)
		}
	}
	return n
}
