package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"
)

// RouteTable is a VPC's route table: its routes, and the subnets explicitly
// associated with it. Every VPC has one main table, made with it, that routes
// the subnets no table names.
type RouteTable struct {
	ID      string `json:"id"` // rtb-…
	Region  string `json:"region"`
	OwnerID string `json:"owner"`
	VPCID   string `json:"vpc"`
	// MainAssocID is the main association's ID, on the VPC's main table.
	MainAssocID string       `json:"mainAssoc,omitempty"`
	Assocs      []RouteAssoc `json:"assocs,omitempty"`
	Routes      []Route      `json:"routes"`
	Tags        []Tag        `json:"tags,omitempty"`
	Seq         int64        `json:"seq"`
}

// RouteAssoc associates a subnet with a route table.
type RouteAssoc struct {
	ID       string `json:"id"` // rtbassoc-…
	SubnetID string `json:"subnet"`
}

// Route sends a destination to one target. The local route (Gateway
// "local") is every table's route to its VPC's own range.
type Route struct {
	Dest       netip.Prefix `json:"dest,omitzero"`
	PrefixList string       `json:"prefixList,omitempty"`
	Gateway    string       `json:"gateway,omitempty"`
	NatGateway string       `json:"nat,omitempty"`
	ENI        string       `json:"eni,omitempty"`
	Instance   string       `json:"instance,omitempty"`
	Peering    string       `json:"peering,omitempty"`
	// EgressOnlyGW is an egress-only internet gateway (eigw-…), a target
	// of IPv6 destinations only.
	EgressOnlyGW string `json:"eigw,omitempty"`
	Origin       string `json:"origin"` // CreateRouteTable or CreateRoute
}

// Route origins, as EC2 names them.
const (
	originTable = "CreateRouteTable"
	originRoute = "CreateRoute"
)

// destination is how EC2's messages name a route's destination.
func (r Route) destination() string {
	if r.PrefixList != "" {
		return r.PrefixList
	}
	return r.Dest.String()
}

func (c *Cloud) newRouteTableLocked(v *VPC) *RouteTable {
	rt := &RouteTable{ID: newID("rtb"), Region: v.Region, OwnerID: c.account, VPCID: v.ID, Seq: c.nextSeq()}
	for _, p := range v.CIDRs() {
		rt.Routes = append(rt.Routes, Route{Dest: p, Gateway: "local", Origin: originTable})
	}
	for _, b := range v.IPv6 {
		rt.Routes = append(rt.Routes, Route{Dest: b.CIDR, Gateway: "local", Origin: originTable})
	}
	return rt
}

// newMainRouteTableLocked makes a VPC's main route table.
func (c *Cloud) newMainRouteTableLocked(v *VPC) *RouteTable {
	rt := c.newRouteTableLocked(v)
	rt.MainAssocID = newID("rtbassoc")
	return rt
}

// ensureMainRouteTablesLocked gives a main route table to each VPC stored
// before vpcsim kept route tables.
func (c *Cloud) ensureMainRouteTablesLocked() {
	has := map[string]bool{}
	for rt := range c.allRouteTables() {
		if rt.MainAssocID != "" {
			has[rt.VPCID] = true
		}
	}
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		if !has[v.ID] {
			c.model().rts.Put(c.newMainRouteTableLocked(v))
		}
	}
}

func copyRouteTable(rt *RouteTable) RouteTable {
	out := *rt
	out.Assocs = slices.Clone(rt.Assocs)
	out.Routes = slices.Clone(rt.Routes)
	out.Tags = slices.Clone(rt.Tags)
	return out
}

// routeTableLocked finds a route table of the scope's region.
func (c *Cloud) routeTableLocked(s Scope, id string) (*RouteTable, error) {
	if err := checkID("InvalidRouteTableID.Malformed", "rtb", id); err != nil {
		return nil, err
	}
	rt := c.routeTable(id)
	if rt == nil || rt.Region != s.Region {
		return nil, notFound("InvalidRouteTableID.NotFound", "routeTable", id)
	}
	return rt, nil
}

// mainRouteTableLocked is a VPC's main route table.
func (c *Cloud) mainRouteTableLocked(vpcID string) *RouteTable {
	for rt := range c.allRouteTables() {
		if rt.VPCID == vpcID && rt.MainAssocID != "" {
			return rt
		}
	}
	return nil
}

// CreateRouteTable makes a route table of a VPC, with its local route.
func (c *Cloud) CreateRouteTable(ctx context.Context, s Scope, vpcID string, tags []Tag) (RouteTable, error) {
	if vpcID == "" {
		return RouteTable{}, missingParameter("vpcId")
	}
	if err := checkTags(tags); err != nil {
		return RouteTable{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return RouteTable{}, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return RouteTable{}, err
	}
	n := 0
	for rt := range c.allRouteTables() {
		if rt.VPCID == v.ID {
			n++
		}
	}
	if n >= routeTablesPerVPC {
		return RouteTable{}, Errorf("RouteTableLimitExceeded", "The maximum number of route tables has been reached.")
	}
	rt := c.newRouteTableLocked(v)
	rt.Tags = tags
	c.model().rts.Put(rt)
	if err := c.commitLocked(); err != nil {
		return RouteTable{}, err
	}
	return copyRouteTable(rt), nil
}

// routeTablesPerVPC is EC2's default quota of route tables a VPC.
const routeTablesPerVPC = 200

// DeleteRouteTable removes a route table that is neither main nor
// associated with a subnet.
func (c *Cloud) DeleteRouteTable(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("routeTableId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	rt, err := c.routeTableLocked(s, id)
	if err != nil {
		return err
	}
	if rt.MainAssocID != "" || len(rt.Assocs) > 0 {
		return Errorf("DependencyViolation", "The routeTable '%s' has dependencies and cannot be deleted.", rt.ID)
	}
	c.model().rts.Delete(rt.ID)
	return c.commitLocked()
}

// assocLocked finds the route table that holds an association (main or of a
// subnet).
func (c *Cloud) assocLocked(s Scope, id string) (*RouteTable, error) {
	if err := checkID("InvalidAssociationID.Malformed", "rtbassoc", id); err != nil {
		return nil, err
	}
	for rt := range c.allRouteTables() {
		if rt.Region == s.Region && (rt.MainAssocID == id || slices.ContainsFunc(rt.Assocs, func(a RouteAssoc) bool { return a.ID == id })) {
			return rt, nil
		}
	}
	return nil, notFound("InvalidAssociationID.NotFound", "association", id)
}

// tableOfSubnetLocked is the table a subnet is explicitly associated with
// (nil: the main one routes it).
func (c *Cloud) tableOfSubnetLocked(subnetID string) *RouteTable {
	for rt := range c.allRouteTables() {
		if slices.ContainsFunc(rt.Assocs, func(a RouteAssoc) bool { return a.SubnetID == subnetID }) {
			return rt
		}
	}
	return nil
}

// AssociateRouteTable routes a subnet by a table of its VPC; it answers the
// association's ID.
func (c *Cloud) AssociateRouteTable(ctx context.Context, s Scope, tableID, subnetID, gatewayID string) (string, error) {
	switch {
	case tableID == "":
		return "", missingParameter("routeTableId")
	case subnetID == "" && gatewayID == "":
		return "", missingParameter("subnetId")
	case subnetID != "" && gatewayID != "":
		return "", Errorf("InvalidParameterCombination", "Only one of subnetId or gatewayId may be specified")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	rt, err := c.routeTableLocked(s, tableID)
	if err != nil {
		return "", err
	}
	if gatewayID != "" {
		return "", c.gatewayNotFound(gatewayID)
	}
	sub, err := c.subnetLocked(s, subnetID)
	if err != nil {
		return "", err
	}
	if sub.VPCID != rt.VPCID {
		return "", invalidValue("Route table %s and subnet %s belong to different networks", rt.ID, sub.ID)
	}
	if c.tableOfSubnetLocked(sub.ID) != nil {
		return "", Errorf("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", rt.ID)
	}
	rt = edit(c.model().rts, rt.ID)
	id := newID("rtbassoc")
	rt.Assocs = append(rt.Assocs, RouteAssoc{ID: id, SubnetID: sub.ID})
	if err := c.commitLocked(); err != nil {
		return "", err
	}
	return id, nil
}

// DisassociateRouteTable returns a subnet to its VPC's main table.
func (c *Cloud) DisassociateRouteTable(ctx context.Context, s Scope, assocID string) error {
	if assocID == "" {
		return missingParameter("associationId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	rt, err := c.assocLocked(s, assocID)
	if err != nil {
		return err
	}
	if rt.MainAssocID == assocID {
		return invalidValue("cannot disassociate the main route table association %s", assocID)
	}
	rt = edit(c.model().rts, rt.ID)
	rt.Assocs = slices.DeleteFunc(rt.Assocs, func(a RouteAssoc) bool { return a.ID == assocID })
	return c.commitLocked()
}

// ReplaceRouteTableAssociation moves an association to another table of the
// VPC: a subnet's, or the main one (the table it moves to becomes main). It
// answers the new association's ID.
func (c *Cloud) ReplaceRouteTableAssociation(ctx context.Context, s Scope, assocID, tableID string) (string, error) {
	switch {
	case assocID == "":
		return "", missingParameter("associationId")
	case tableID == "":
		return "", missingParameter("routeTableId")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	from, err := c.assocLocked(s, assocID)
	if err != nil {
		return "", err
	}
	to, err := c.routeTableLocked(s, tableID)
	if err != nil {
		return "", err
	}
	if to.VPCID != from.VPCID {
		return "", invalidValue("Route table %s and association %s belong to different networks", to.ID, assocID)
	}
	id := newID("rtbassoc")
	m := c.model()
	from = edit(m.rts, from.ID)
	if from.MainAssocID == assocID {
		from.MainAssocID = ""
		to = edit(m.rts, to.ID)
		to.MainAssocID = id
	} else {
		i := slices.IndexFunc(from.Assocs, func(a RouteAssoc) bool { return a.ID == assocID })
		subnet := from.Assocs[i].SubnetID
		from.Assocs = slices.Delete(from.Assocs, i, i+1)
		to = edit(m.rts, to.ID)
		to.Assocs = append(to.Assocs, RouteAssoc{ID: id, SubnetID: subnet})
	}
	if err := c.commitLocked(); err != nil {
		return "", err
	}
	return id, nil
}

// RouteInput is CreateRoute's or ReplaceRoute's request.
type RouteInput struct {
	TableID                               string
	DestCIDR, DestIPv6, DestPrefixList    string
	Gateway, NatGateway, ENI, Instance    string
	Peering, TransitGateway, EgressOnlyGW string
}

// routeOf checks a route request against the table's VPC and resolves its
// target: an instance's route is to its ENI too.
func (c *Cloud) routeOf(s Scope, rt *RouteTable, in RouteInput) (Route, error) {
	r := Route{Origin: originRoute}
	switch {
	case in.DestIPv6 != "" && (in.DestCIDR != "" || in.DestPrefixList != ""):
		// (unverified) the message.
		return r, Errorf("InvalidParameterCombination", "Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be specified")
	case in.DestIPv6 != "":
		dest, err := netip.ParsePrefix(in.DestIPv6)
		if err != nil || !dest.Addr().Is6() || dest.Addr().Is4In6() || dest.Addr().Zone() != "" {
			return r, invalidValue("Value (%s) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", in.DestIPv6)
		}
		r.Dest = dest.Masked()
	case in.DestCIDR != "" && in.DestPrefixList != "":
		return r, Errorf("InvalidParameterCombination", "Only one of destinationCidrBlock or destinationPrefixListId may be specified")
	case in.DestPrefixList != "":
		p, err := c.prefixListLocked(s, in.DestPrefixList)
		if err != nil {
			return r, err
		}
		r.PrefixList = p.ID
	case in.DestCIDR == "":
		return r, missingParameter("destinationCidrBlock")
	default:
		dest, err := netip.ParsePrefix(in.DestCIDR)
		if err != nil || !dest.Addr().Is4() {
			return r, invalidValue("Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", in.DestCIDR)
		}
		r.Dest = dest.Masked()
	}
	targets := 0
	for _, t := range []string{in.Gateway, in.NatGateway, in.ENI, in.Instance, in.Peering, in.TransitGateway, in.EgressOnlyGW} {
		if t != "" {
			targets++
		}
	}
	if targets != 1 {
		return r, Errorf("InvalidParameterCombination", "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, vpcPeeringConnectionId or instanceId")
	}
	switch {
	case in.Gateway == "local":
		return r, invalidValue("cannot create a route with a local target")
	case strings.HasPrefix(in.Gateway, "igw-"):
		g := get(c.model().igws, in.Gateway)
		if g == nil || g.Region != s.Region {
			return r, c.gatewayNotFound(in.Gateway)
		}
		if g.VPCID != rt.VPCID {
			return r, invalidValue("route table %s and network gateway %s belong to different networks", rt.ID, g.ID)
		}
		r.Gateway = g.ID
	case in.Gateway != "":
		return r, c.gatewayNotFound(in.Gateway)
	case in.NatGateway != "":
		g := get(c.model().nats, in.NatGateway)
		if g == nil || g.Region != s.Region || g.State == natDeleted || g.State == natFailed {
			return r, notFound("InvalidNatGatewayID.NotFound", "natGateway", in.NatGateway)
		}
		if g.VPCID != rt.VPCID {
			return r, invalidValue("route table %s and network gateway %s belong to different networks", rt.ID, g.ID)
		}
		r.NatGateway = g.ID
	case in.Peering != "":
		id, err := c.peeringRouteLocked(s, rt, in.Peering)
		if err != nil {
			return r, err
		}
		r.Peering = id
	case in.TransitGateway != "":
		return r, notFound("InvalidTransitGatewayID.NotFound", "transitGateway", in.TransitGateway)
	case in.EgressOnlyGW != "":
		g := get(c.model().eigws, in.EgressOnlyGW)
		if g == nil || g.Region != s.Region {
			return r, notFound("InvalidGatewayID.NotFound", "gateway", in.EgressOnlyGW)
		}
		if g.VPCID != rt.VPCID {
			return r, invalidValue("route table %s and network gateway %s belong to different networks", rt.ID, g.ID)
		}
		v6 := r.Dest.Addr().Is6()
		if p := c.prefixList(r.PrefixList); p != nil {
			v6 = p.AddressFamily == FamilyIPv6
		}
		if !v6 {
			// (unverified) the message: an egress-only gateway carries IPv6 only.
			return r, invalidValue("Route table %s: an egress-only internet gateway (%s) is a target of IPv6 destinations only.", rt.ID, g.ID)
		}
		r.EgressOnlyGW = g.ID
	case in.ENI != "":
		e, err := c.eniLocked(s, in.ENI)
		if err != nil {
			return r, err
		}
		if e.VPCID != rt.VPCID {
			return r, invalidValue("route table %s and network interface %s belong to different networks", rt.ID, e.ID)
		}
		r.ENI = e.ID
		if e.Attachment != nil {
			r.Instance = e.Attachment.InstanceID
		}
	case in.Instance != "":
		inst, err := c.instanceLocked(s, in.Instance)
		if err != nil {
			return r, err
		}
		if inst.VPCID != rt.VPCID {
			return r, invalidValue("route table %s and instance %s belong to different networks", rt.ID, inst.ID)
		}
		enis := c.attachedLocked(inst.ID)
		if len(enis) != 1 {
			return r, Errorf("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", inst.ID)
		}
		r.Instance, r.ENI = inst.ID, enis[0].ID
	}
	return r, nil
}

// gatewayNotFound answers a gateway ID that is not an internet gateway's: no
// virtual private or egress-only gateway exists in vpcsim yet.
func (c *Cloud) gatewayNotFound(id string) error {
	if !strings.HasPrefix(id, "igw-") && !strings.HasPrefix(id, "vgw-") && !strings.HasPrefix(id, "eigw-") {
		return Errorf("InvalidGatewayID.Malformed", "Invalid id: \"%s\"", id)
	}
	return notFound("InvalidGatewayID.NotFound", "gateway", id)
}

// CreateRoute adds a route to a table; its destination must be new there.
func (c *Cloud) CreateRoute(ctx context.Context, s Scope, in RouteInput) error {
	return c.changeRoutes(ctx, s, in, func(rt *RouteTable, r Route, i int) error {
		if i >= 0 {
			return Errorf("RouteAlreadyExists", "The route identified by %s already exists.", r.destination())
		}
		rt.Routes = append(rt.Routes, r)
		return nil
	})
}

// ReplaceRoute changes the target of a table's route (not the local one).
func (c *Cloud) ReplaceRoute(ctx context.Context, s Scope, in RouteInput) error {
	return c.changeRoutes(ctx, s, in, func(rt *RouteTable, r Route, i int) error {
		switch {
		case i < 0:
			return invalidValue("There is no route defined for '%s' in the route table. Use CreateRoute instead.", r.destination())
		case rt.Routes[i].Gateway == "local":
			return invalidValue("cannot replace local route %s in route table %s", r.destination(), rt.ID)
		}
		rt.Routes[i] = r
		return nil
	})
}

// changeRoutes resolves a route request and applies change to the table's
// copy, with the index of the route of the same destination (-1: none).
func (c *Cloud) changeRoutes(ctx context.Context, s Scope, in RouteInput, change func(rt *RouteTable, r Route, i int) error) error {
	if in.TableID == "" {
		return missingParameter("routeTableId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	rt, err := c.routeTableLocked(s, in.TableID)
	if err != nil {
		return err
	}
	r, err := c.routeOf(s, rt, in)
	if err != nil {
		return err
	}
	rt = edit(c.model().rts, rt.ID)
	i := slices.IndexFunc(rt.Routes, func(have Route) bool { return have.Dest == r.Dest && have.PrefixList == r.PrefixList })
	if err := change(rt, r, i); err != nil {
		return err
	}
	return c.commitLocked()
}

// DeleteRoute removes a table's route to a destination (not the local one),
// named by its IPv4 or IPv6 CIDR or its prefix list.
func (c *Cloud) DeleteRoute(ctx context.Context, s Scope, tableID, destCIDR, destPrefixList string) error {
	switch {
	case tableID == "":
		return missingParameter("routeTableId")
	case destCIDR == "" && destPrefixList == "":
		return missingParameter("destinationCidrBlock")
	}
	name := "destination-cidr-block"
	if strings.Contains(destCIDR, ":") {
		name = "destination-ipv6-cidr-block"
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	rt, err := c.routeTableLocked(s, tableID)
	if err != nil {
		return err
	}
	var dest netip.Prefix
	if destCIDR != "" {
		if dest, err = netip.ParsePrefix(destCIDR); err != nil {
			return invalidValue("Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", destCIDR)
		}
		dest = dest.Masked()
	}
	i := slices.IndexFunc(rt.Routes, func(r Route) bool { return r.Dest == dest && r.PrefixList == destPrefixList })
	switch {
	case i < 0 && destPrefixList != "":
		return Errorf("InvalidRoute.NotFound", "no route with destination-prefix-list-id %s in route table %s", destPrefixList, rt.ID)
	case i < 0:
		return Errorf("InvalidRoute.NotFound", "no route with %s %s in route table %s", name, destCIDR, rt.ID)
	case rt.Routes[i].Gateway == "local":
		return invalidValue("cannot remove local route %s in route table %s", destCIDR, rt.ID)
	}
	rt = edit(c.model().rts, rt.ID)
	rt.Routes = slices.Delete(rt.Routes, i, i+1)
	return c.commitLocked()
}

// RouteView is a route as DescribeRouteTables answers it, with its state:
// blackhole once its target is gone.
type RouteView struct {
	Route
	State string // active or blackhole
}

// RouteTableView is a route table as DescribeRouteTables answers it.
type RouteTableView struct {
	RouteTable
	Routes []RouteView
}

// routeState is active while a route of a VPC's table can carry its
// traffic: its internet gateway is attached to the VPC, its ENI exists and is
// attached (to a running or stopped instance).
func (c *Cloud) routeState(vpcID string, r Route) string {
	if r.Gateway == "local" {
		return "active"
	}
	if r.Gateway != "" {
		if g := get(c.model().igws, r.Gateway); g != nil && g.VPCID == vpcID {
			return "active"
		}
		return "blackhole"
	}
	if r.EgressOnlyGW != "" {
		if g := get(c.model().eigws, r.EgressOnlyGW); g != nil && g.VPCID == vpcID {
			return "active"
		}
		return "blackhole"
	}
	if r.Peering != "" {
		if p := get(c.model().peerings, r.Peering); p != nil && p.State == pcxActive {
			return "active"
		}
		return "blackhole"
	}
	if r.NatGateway != "" {
		if g := get(c.model().nats, r.NatGateway); g != nil && g.State == natAvailable {
			return "active"
		}
		return "blackhole"
	}
	if e := c.eni(r.ENI); e != nil && e.Attachment != nil {
		if inst := c.instance(e.Attachment.InstanceID); inst == nil || inst.State != StateTerminated {
			return "active"
		}
	}
	return "blackhole"
}

// DescribeRouteTables lists the region's route tables: those named (all
// must exist), filtered.
func (c *Cloud) DescribeRouteTables(ctx context.Context, s Scope, ids []string, f []Filter) ([]RouteTableView, error) {
	return describeFiltered(ctx, c, s, f, func() ([]RouteTableView, error) {
		list, err := pick(ids, func(id string) (*RouteTable, error) { return c.routeTableLocked(s, id) },
			func() []*RouteTable {
				return inRegion(sortedBySeq(c.allRouteTables(), func(r *RouteTable) int64 { return r.Seq }), s, func(r *RouteTable) string { return r.Region })
			})
		return copies(list, err, func(rt *RouteTable) RouteTableView {
			v := RouteTableView{RouteTable: copyRouteTable(rt)}
			for _, r := range rt.Routes {
				v.Routes = append(v.Routes, RouteView{Route: r, State: c.routeState(rt.VPCID, r)})
			}
			return v
		})
	}, func(v *RouteTableView) []Tag { return v.Tags }, routeTableFilter)
}

func routeTableFilter(v *RouteTableView, name string) ([]string, bool) {
	var out []string
	each := func(f func(RouteView) string) []string {
		for _, r := range v.Routes {
			if s := f(r); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	switch name {
	case "route-table-id":
		return []string{v.ID}, true
	case "vpc-id":
		return []string{v.VPCID}, true
	case "owner-id":
		return []string{v.OwnerID}, true
	case "association.main":
		if v.MainAssocID != "" {
			out = append(out, "true")
		}
		if len(v.Assocs) > 0 {
			out = append(out, "false")
		}
		return out, true
	case "association.route-table-association-id":
		if v.MainAssocID != "" {
			out = append(out, v.MainAssocID)
		}
		for _, a := range v.Assocs {
			out = append(out, a.ID)
		}
		return out, true
	case "association.route-table-id":
		if v.MainAssocID != "" || len(v.Assocs) > 0 {
			out = append(out, v.ID)
		}
		return out, true
	case "association.subnet-id":
		for _, a := range v.Assocs {
			out = append(out, a.SubnetID)
		}
		return out, true
	case "association.gateway-id", "route.transit-gateway-id", "route.carrier-gateway-id", "route.local-gateway-id":
		return nil, true // none yet
	case "route.destination-cidr-block", "route.destination-ipv6-cidr-block":
		v6 := name == "route.destination-ipv6-cidr-block"
		return each(func(r RouteView) string {
			if r.Dest.IsValid() && r.Dest.Addr().Is6() == v6 {
				return r.Dest.String()
			}
			return ""
		}), true
	case "route.egress-only-internet-gateway-id":
		return each(func(r RouteView) string { return r.EgressOnlyGW }), true
	case "route.destination-prefix-list-id":
		return each(func(r RouteView) string { return r.PrefixList }), true
	case "route.gateway-id":
		return each(func(r RouteView) string { return r.Gateway }), true
	case "route.nat-gateway-id":
		return each(func(r RouteView) string { return r.NatGateway }), true
	case "route.instance-id":
		return each(func(r RouteView) string { return r.Instance }), true
	case "route.network-interface-id":
		return each(func(r RouteView) string { return r.ENI }), true
	case "route.vpc-peering-connection-id":
		return each(func(r RouteView) string { return r.Peering }), true
	case "route.origin":
		return each(func(r RouteView) string { return r.Origin }), true
	case "route.state":
		return each(func(r RouteView) string { return r.State }), true
	}
	return nil, false
}
