package ec2

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Default VPC layout of a fresh account: 172.31.0.0/16 with a /20 per zone.
var defaultVPCCIDR = netip.MustParsePrefix("172.31.0.0/16")

// createDefaultVPCLocked makes a region's default VPC, its subnets and its
// group, with its namespace and bridges, under c.mu: it runs once per region,
// for the region's first call, and every call of the region needs it made
// before it can go on, so releasing c.mu would only let other regions' calls
// through, at the price of a reservation every call of the region waits on.
func (c *Cloud) createDefaultVPCLocked(ctx context.Context, region string) error {
	v := c.newVPCLocked(region, defaultVPCCIDR)
	v.IsDefault = true
	v.EnableDNSHostnames = true
	var subs []*Subnet
	for i, z := range AvailabilityZones(region) {
		sub := c.newSubnetLocked(v, netip.PrefixFrom(addrAt(defaultVPCCIDR, i*4096), 20), z)
		sub.DefaultForAZ, sub.MapPublicIPOnLaunch = true, true
		subs = append(subs, sub)
	}
	g := c.newDefaultGroupLocked(v)

	if err := c.dp.EnsureVPC(ctx, netVPC(v)); err != nil {
		return c.undoKernel(ctx, fmt.Errorf("default VPC of %s: %w", region, err), func(ctx context.Context) error { return c.dp.DeleteVPC(ctx, v.ID) })
	}
	for _, sub := range subs {
		if err := c.dp.EnsureSubnet(ctx, netSubnet(sub)); err != nil {
			return c.undoKernel(ctx, fmt.Errorf("default subnet of %s: %w", region, err), func(ctx context.Context) error { return c.dp.DeleteVPC(ctx, v.ID) })
		}
	}
	m := c.model()
	m.regions.Put(&region)
	m.dhcp.Put(c.newDefaultDHCPOptionsLocked(region))
	m.vpcs.Put(v)
	// As on AWS, the default VPC reaches the internet: its gateway is the
	// main table's default route.
	igw := c.newIGWLocked(region, nil)
	igw.VPCID = v.ID
	m.igws.Put(igw)
	main := c.newMainRouteTableLocked(v)
	main.Routes = append(main.Routes, defaultRouteTo(igw.ID))
	m.rts.Put(main)
	m.acls.Put(c.newACLLocked(v, true))
	for _, sub := range subs {
		m.subnets.Put(sub)
		c.associateDefaultACLLocked(sub)
	}
	m.groups.Put(g)
	if err := c.commitLocked(); err != nil {
		return c.undoKernel(ctx, err, func(ctx context.Context) error { return c.dp.DeleteVPC(ctx, v.ID) })
	}
	return nil
}

// undoKernel runs undo (with a fresh context: the request's may be gone) and
// returns err, joined with undo's failure if any.
func (c *Cloud) undoKernel(ctx context.Context, err error, undo func(context.Context) error) error {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if uerr := undo(uctx); uerr != nil {
		c.log.Error("could not undo a kernel change after a failure", "err", uerr, "cause", err)
	}
	return err
}

func (c *Cloud) newVPCLocked(region string, cidr netip.Prefix) *VPC {
	return &VPC{
		ID: newID("vpc"), Region: region, OwnerID: c.account, CIDR: cidr,
		CIDRAssociationID: newID("vpc-cidr-assoc"), DHCPOptionsID: c.newVPCDHCPOptionsLocked(region),
		InstanceTenancy: "default", EnableDNSSupport: true, State: "available", Seq: c.nextSeq(),
	}
}

// dhcpOptionsID is the ID of a region's default DHCP options set: stable, so
// that a set made before vpcsim stored them keeps its ID.
func dhcpOptionsID(region string) string {
	h := fnv.New64a()
	h.Write([]byte(region))
	return fmt.Sprintf("dopt-%017x", h.Sum64()>>4)
}

func netVPC(v *VPC) netmodel.NetVPC {
	n := netmodel.NetVPC{ID: v.ID, CIDR: v.CIDR}
	if v.Connected {
		n.Connect = ConnectAddr(v.CIDR)
	}
	return n
}

// CreateVpc makes a VPC with its default security group, and its namespace.
func (c *Cloud) CreateVpc(ctx context.Context, s Scope, in CreateVpcInput) (VPC, error) {
	if in.CIDRBlock == "" {
		return VPC{}, missingParameter("cidrBlock")
	}
	cidr, err := parseCIDR(in.CIDRBlock)
	if err != nil {
		return VPC{}, err
	}
	if cidr.Bits() < 16 || cidr.Bits() > 28 || within(cidr, refusedVPCRanges) {
		return VPC{}, Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", in.CIDRBlock)
	}
	switch in.InstanceTenancy {
	case "", "default", "dedicated":
	default:
		return VPC{}, invalidValue("Value (%s) for parameter instanceTenancy is invalid.", in.InstanceTenancy)
	}
	if err := checkTags(in.Tags); err != nil {
		return VPC{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return VPC{}, err
	}
	defer c.unlock()
	if err := c.checkQuota(quota.VPCs, 1+countWhere(c.heldVPCs(), func(v *VPC) bool { return v.Region == s.Region })); err != nil {
		return VPC{}, err
	}
	v := c.newVPCLocked(s.Region, cidr)
	if in.InstanceTenancy != "" {
		v.InstanceTenancy = in.InstanceTenancy
	}
	v.Tags = in.Tags
	if in.AmazonProvidedIPv6 {
		v.IPv6 = []IPv6Block{c.newIPv6BlockLocked(v.Region)}
	}
	g := c.newDefaultGroupLocked(v)
	// Being made, the VPC counts against the quota; no other call can name
	// it, so nothing else is held while its namespace is made without c.mu.
	c.makingVPCs[v.ID] = v
	defer c.landLocked(v.ID)
	undo := func(ctx context.Context) error { return c.dp.DeleteVPC(ctx, v.ID) }
	c.withoutLock(func() {
		if err = c.dp.EnsureVPC(ctx, netVPC(v)); err != nil {
			err = c.undoKernel(ctx, fmt.Errorf("create the VPC's namespace: %w", err), undo)
		}
	})
	if err != nil {
		return VPC{}, err
	}
	c.model().vpcs.Put(v)
	c.model().groups.Put(g)
	c.model().rts.Put(c.newMainRouteTableLocked(v))
	c.model().acls.Put(c.newACLLocked(v, true))
	if err := c.commitLocked(); err != nil {
		return VPC{}, c.undoKernel(ctx, err, undo)
	}
	out := copyVPC(v)
	out.State = "pending" // CreateVpc answers pending; Describe then shows available
	for i := range out.IPv6 {
		out.IPv6[i].State = "associating"
	}
	return out, nil
}

func copyVPC(v *VPC) VPC {
	out := *v
	out.Tags = append([]Tag(nil), v.Tags...)
	out.Secondary = slices.Clone(v.Secondary)
	out.IPv6 = slices.Clone(v.IPv6)
	return out
}

// vpcLocked finds a VPC of the scope's region.
func (c *Cloud) vpcLocked(s Scope, id string) (*VPC, error) {
	if err := checkID("InvalidVpcID.Malformed", "vpc", id); err != nil {
		return nil, err
	}
	v := c.vpc(id)
	if v == nil || v.Region != s.Region {
		return nil, notFound("InvalidVpcID.NotFound", "vpc", id)
	}
	return v, nil
}

// DescribeVpcs lists the region's VPCs: those named (all must exist), filtered.
func (c *Cloud) DescribeVpcs(ctx context.Context, s Scope, ids []string, f []Filter) ([]VPC, error) {
	return describeFiltered(ctx, c, s, f, func() ([]VPC, error) {
		list, err := pick(ids, func(id string) (*VPC, error) { return c.vpcLocked(s, id) },
			func() []*VPC {
				return inRegion(sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }), s, func(v *VPC) string { return v.Region })
			})
		return copies(list, err, copyVPC)
	}, func(v *VPC) []Tag { return v.Tags }, vpcFilter)
}

func vpcFilter(v *VPC, name string) ([]string, bool) {
	switch name {
	case "cidr", "cidrBlock":
		return []string{v.CIDR.String()}, true
	case "cidr-block-association.cidr-block":
		var out []string
		for _, p := range v.CIDRs() {
			out = append(out, p.String())
		}
		return out, true
	case "cidr-block-association.association-id":
		out := []string{v.CIDRAssociationID}
		for _, a := range v.Secondary {
			out = append(out, a.ID)
		}
		return out, true
	case "cidr-block-association.state":
		return []string{"associated"}, true
	case "dhcp-options-id":
		return []string{v.DHCPOptionsID}, true
	case "ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.ipv6-pool",
		"ipv6-cidr-block-association.association-id", "ipv6-cidr-block-association.state":
		var out []string
		for _, b := range v.IPv6 {
			out = append(out, b.field(name))
		}
		return out, true
	case "is-default", "isDefault":
		return []string{boolString(v.IsDefault)}, true
	case "owner-id":
		return []string{v.OwnerID}, true
	case "state":
		return []string{v.State}, true
	case "vpc-id":
		return []string{v.ID}, true
	case "instance-tenancy":
		return []string{v.InstanceTenancy}, true
	}
	return nil, false
}

// pick resolves named IDs (each must exist: the first missing one is the error),
// or lists everything when none are named. Duplicates are answered once.
func pick[T any](ids []string, get func(string) (*T, error), all func() []*T) ([]*T, error) {
	if len(ids) == 0 {
		return all(), nil
	}
	var out []*T
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		v, err := get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// copies copies what a list found, for a Describe call's answer.
func copies[R, T any](list []*R, err error, cp func(*R) T) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, len(list))
	for i, r := range list {
		out[i] = cp(r)
	}
	return out, nil
}

func inRegion[T any](list []*T, s Scope, region func(*T) string) []*T {
	out := list[:0:0]
	for _, v := range list {
		if region(v) == s.Region {
			out = append(out, v)
		}
	}
	return out
}

// DeleteVpc removes a VPC that no longer holds subnets, ENIs, instances,
// security groups or route tables other than its default and main ones, its
// flow logs and its namespace.
// The deletion is committed first, then the namespace is removed without
// c.mu: once the VPC is gone no call can name it, so nothing is held.
func (c *Cloud) DeleteVpc(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	c.waitIdleLocked(id) // a deleted subnet's bridge goes before its namespace
	v, err := c.vpcLocked(s, id)
	if err != nil {
		return err
	}
	if c.vpcInUseLocked(v.ID) || c.vpcPeeredLocked(v.ID) {
		return dependencyViolation(v.ID)
	}
	m := c.model()
	for _, g := range slices.Collect(c.allGroups()) {
		if g.VPCID == v.ID {
			m.groups.Delete(g.ID)
		}
	}
	if main := c.mainRouteTableLocked(v.ID); main != nil {
		m.rts.Delete(main.ID)
	}
	if acl := c.defaultACLLocked(v.ID); acl != nil {
		m.acls.Delete(acl.ID)
	}
	m.vpcs.Delete(v.ID)
	c.dropFlowLogsLocked(v.ID)
	if err := c.commitLocked(); err != nil {
		return err
	}
	c.withoutLock(func() {
		if err := c.dp.DeleteVPC(ctx, v.ID); err != nil {
			c.log.Error("remove a deleted VPC's namespace (the reconciler will retry)", "vpc", v.ID, "err", err)
		}
	})
	return nil
}

// vpcInUseLocked says whether a VPC holds what DeleteVpc refuses to delete.
// Subnets and ENIs being made count: the calls making them reserved them
// first, so DeleteVpc answers as it would once they are made
// (DependencyViolation) rather than waiting for their kernel work.
func (c *Cloud) vpcInUseLocked(id string) bool {
	for sub := range c.heldSubnets() {
		if sub.VPCID == id {
			return true
		}
	}
	for e := range c.heldENIs() {
		if e.VPCID == id {
			return true
		}
	}
	for rt := range c.allRouteTables() {
		if rt.VPCID == id && rt.MainAssocID == "" {
			return true
		}
	}
	if c.igwOfVPCLocked(id) != nil {
		return true
	}
	for g := range c.model().eigws.All() {
		if g.VPCID == id {
			return true
		}
	}
	for a := range c.model().acls.All() {
		if a.VPCID == id && !a.IsDefault {
			return true
		}
	}
	for g := range c.allGroups() {
		if g.VPCID == id && g.Name != "default" {
			return true
		}
	}
	return false
}

// VPC attributes that ModifyVpcAttribute and DescribeVpcAttribute know: all
// of EC2's.
const (
	AttrEnableDNSSupport                 = "enableDnsSupport"
	AttrEnableDNSHostnames               = "enableDnsHostnames"
	AttrEnableNetworkAddressUsageMetrics = "enableNetworkAddressUsageMetrics"
)

// vpcAttr is where a VPC keeps one of its attributes.
func vpcAttr(v *VPC, attr string) *bool {
	switch attr {
	case AttrEnableDNSSupport:
		return &v.EnableDNSSupport
	case AttrEnableDNSHostnames:
		return &v.EnableDNSHostnames
	case AttrEnableNetworkAddressUsageMetrics:
		return &v.EnableNetworkAddressUsageMetrics
	}
	return nil
}

// ModifyVpcAttribute sets one attribute of a VPC.
func (c *Cloud) ModifyVpcAttribute(ctx context.Context, s Scope, id, attr string, value bool) error {
	if id == "" {
		return missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, id)
	if err != nil {
		return err
	}
	v = edit(c.model().vpcs, v.ID)
	p := vpcAttr(v, attr)
	if p == nil {
		return Errorf("InvalidParameterCombination", "Exactly one attribute must be specified")
	}
	*p = value
	return c.commitLocked()
}

// DescribeVpcAttribute reads one attribute of a VPC.
func (c *Cloud) DescribeVpcAttribute(ctx context.Context, s Scope, id, attr string) (bool, error) {
	if id == "" {
		return false, missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return false, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, id)
	if err != nil {
		return false, err
	}
	if p := vpcAttr(v, attr); p != nil {
		return *p, nil
	}
	if attr == "" {
		return false, missingParameter("attribute")
	}
	return false, invalidValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
}

func itoa(n int) string { return strconv.Itoa(n) }
