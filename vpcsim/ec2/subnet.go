package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

func (c *Cloud) newSubnetLocked(v *VPC, cidr netip.Prefix, z AvailabilityZone) *Subnet {
	return &Subnet{
		ID: newID("subnet"), Region: v.Region, OwnerID: c.account, VPCID: v.ID, CIDR: cidr,
		AZ: z.Name, AZID: z.ZoneID, State: "available", Seq: c.nextSeq(),
	}
}

// netSubnet is the subnet's bridge as the kernel has it: the router address
// of each family the subnet has a range of.
func netSubnet(s *Subnet) netmodel.NetSubnet {
	n := netmodel.NetSubnet{ID: s.ID, VPCID: s.VPCID}
	if s.CIDR.IsValid() {
		n.CIDR, n.Gateway = s.CIDR, netip.PrefixFrom(routerAddr(s.CIDR), s.CIDR.Bits())
	}
	if p := s.IPv6CIDR(); p.IsValid() {
		n.Gateway6 = netip.PrefixFrom(routerAddr(p), p.Bits())
	}
	return n
}

// CreateSubnet makes a subnet of a VPC, and its bridge.
func (c *Cloud) CreateSubnet(ctx context.Context, s Scope, in CreateSubnetInput) (Subnet, error) {
	if in.VPCID == "" {
		return Subnet{}, missingParameter("vpcId")
	}
	var cidr, cidr6 netip.Prefix
	var err error
	switch {
	case in.IPv6Native && in.IPv6CIDR == "":
		return Subnet{}, missingParameter("ipv6CidrBlock")
	case in.IPv6Native && in.CIDR != "":
		return Subnet{}, Errorf("InvalidParameterCombination", "When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set ipv6Native to true.")
	case in.IPv6Native:
	case in.CIDR == "":
		return Subnet{}, missingParameter("cidrBlock")
	default:
		if cidr, err = parseCIDR(in.CIDR); err != nil {
			return Subnet{}, err
		}
	}
	if in.IPv6CIDR != "" {
		if cidr6, err = parseIPv6CIDR(in.IPv6CIDR); err != nil {
			return Subnet{}, err
		}
	}
	if err := checkTags(in.Tags); err != nil {
		return Subnet{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return Subnet{}, err
	}
	defer c.unlock()
	// A deleted subnet's bridge may still hold the router address this one
	// would have (the VPC is busy while it goes): let it go first.
	c.waitIdleLocked(in.VPCID)
	v, err := c.vpcLocked(s, in.VPCID)
	if err != nil {
		return Subnet{}, err
	}
	if cidr.IsValid() && (cidr.Bits() < 16 || cidr.Bits() > 28 || !v.inVPC(cidr)) {
		return Subnet{}, Errorf("InvalidSubnet.Range", "The CIDR '%s' is invalid.", in.CIDR)
	}
	// Subnets being made count: they conflict and take their place in the quotas.
	for other := range c.heldSubnets() {
		if other.VPCID == v.ID && cidr.IsValid() && other.CIDR.IsValid() && other.CIDR.Overlaps(cidr) {
			return Subnet{}, Errorf("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", in.CIDR)
		}
	}
	if cidr6.IsValid() {
		if err := c.checkSubnetIPv6Locked(v, "", cidr6, in.IPv6CIDR); err != nil {
			return Subnet{}, err
		}
	}
	if err := c.checkQuota(quota.SubnetsPerVPC, 1+countWhere(c.heldSubnets(), func(o *Subnet) bool { return o.VPCID == v.ID })); err != nil {
		return Subnet{}, err
	}
	if err := c.checkQuota(quota.Subnets, 1+countWhere(c.heldSubnets(), func(o *Subnet) bool { return o.Region == s.Region })); err != nil {
		return Subnet{}, err
	}
	z, err := c.pickZone(s.Region, in.AZ, in.AZID)
	if err != nil {
		return Subnet{}, err
	}
	sub := c.newSubnetLocked(v, cidr, z)
	sub.Tags = in.Tags
	if cidr6.IsValid() {
		sub.IPv6 = []SubnetIPv6Block{{ID: newID("subnet-cidr-assoc"), CIDR: cidr6}}
	}
	// EC2 gives every ENI of an IPv6-only subnet an IPv6 address.
	sub.IPv6Native, sub.AssignIPv6OnCreation = in.IPv6Native, in.IPv6Native
	// Being made, the subnet keeps its VPC from being deleted
	// (vpcInUseLocked), so the namespace stays while the bridge is made.
	c.makingSubnets[sub.ID] = sub
	defer c.landLocked(sub.ID)
	undo := func(ctx context.Context) error { return c.dp.DeleteSubnet(ctx, netSubnet(sub)) }
	c.withoutLock(func() {
		if err = c.dp.EnsureSubnet(ctx, netSubnet(sub)); err != nil {
			err = c.undoKernel(ctx, fmt.Errorf("create the subnet's bridge: %w", err), undo)
		}
	})
	if err != nil {
		return Subnet{}, err
	}
	fault.Point(fault.SubnetBridgeMade)
	c.model().subnets.Put(sub)
	c.associateDefaultACLLocked(sub)
	if err := c.commitLocked(); err != nil {
		return Subnet{}, c.undoKernel(ctx, err, undo)
	}
	return c.copySubnetLocked(sub), nil
}

// pickZone resolves the zone a subnet asks for; none given picks one as AWS does.
func (c *Cloud) pickZone(region, name, id string) (AvailabilityZone, error) {
	if name == "" && id == "" {
		zones := AvailabilityZones(region)
		return zones[int(c.seq)%len(zones)], nil
	}
	z, ok := zoneOf(region, name, id)
	if !ok {
		if name == "" {
			name = id
		}
		return AvailabilityZone{}, invalidValue("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", name, zoneList(region))
	}
	return z, nil
}

func zoneList(region string) string {
	out := ""
	for i, z := range AvailabilityZones(region) {
		if i > 0 {
			out += ", "
		}
		out += z.Name
	}
	return out
}

func (c *Cloud) copySubnetLocked(sub *Subnet) Subnet {
	out := *sub
	out.Tags = append([]Tag(nil), sub.Tags...)
	out.IPv6 = slices.Clone(sub.IPv6)
	out.AvailableIPs = c.availableLocked(sub)
	return out
}

func (c *Cloud) subnetLocked(s Scope, id string) (*Subnet, error) {
	if err := checkID("InvalidSubnetID.Malformed", "subnet", id); err != nil {
		return nil, err
	}
	sub := c.subnet(id)
	if sub == nil || sub.Region != s.Region {
		return nil, notFound("InvalidSubnetID.NotFound", "subnet", id)
	}
	return sub, nil
}

// DescribeSubnets lists the region's subnets: those named (all must exist), filtered.
func (c *Cloud) DescribeSubnets(ctx context.Context, s Scope, ids []string, f []Filter) ([]Subnet, error) {
	return describeFiltered(ctx, c, s, f, func() ([]Subnet, error) {
		list, err := pick(ids, func(id string) (*Subnet, error) { return c.subnetLocked(s, id) },
			func() []*Subnet {
				return inRegion(sortedBySeq(c.allSubnets(), func(v *Subnet) int64 { return v.Seq }), s, func(v *Subnet) string { return v.Region })
			})
		return copies(list, err, c.copySubnetLocked)
	}, func(sub *Subnet) []Tag { return sub.Tags }, subnetFilter)
}

// subnetFilter answers a filter name from a copy of a subnet (its
// AvailableIPs counted).
func subnetFilter(sub *Subnet, name string) ([]string, bool) {
	switch name {
	case "availability-zone", "availabilityZone":
		return []string{sub.AZ}, true
	case "availability-zone-id", "availabilityZoneId":
		return []string{sub.AZID}, true
	case "available-ip-address-count":
		return []string{strconv.Itoa(sub.AvailableIPs)}, true
	case "cidr", "cidr-block", "cidrBlock":
		if !sub.CIDR.IsValid() {
			return nil, true
		}
		return []string{sub.CIDR.String()}, true
	case "assign-ipv6-address-on-creation":
		return []string{boolString(sub.AssignIPv6OnCreation)}, true
	case "enable-dns64":
		return []string{boolString(sub.EnableDNS64)}, true
	case "ipv6-native":
		return []string{boolString(sub.IPv6Native)}, true
	case "ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.association-id", "ipv6-cidr-block-association.state":
		var out []string
		for _, b := range sub.IPv6 {
			out = append(out, b.field(name))
		}
		return out, true
	case "default-for-az", "defaultForAz":
		return []string{boolString(sub.DefaultForAZ)}, true
	case "map-public-ip-on-launch":
		return []string{boolString(sub.MapPublicIPOnLaunch)}, true
	case "owner-id":
		return []string{sub.OwnerID}, true
	case "state":
		return []string{sub.State}, true
	case "subnet-arn":
		return []string{SubnetARN(sub)}, true
	case "subnet-id":
		return []string{sub.ID}, true
	case "vpc-id":
		return []string{sub.VPCID}, true
	}
	return nil, false
}

// SubnetARN is the subnet's ARN.
func SubnetARN(sub *Subnet) string {
	return "arn:aws:ec2:" + sub.Region + ":" + sub.OwnerID + ":subnet/" + sub.ID
}

// DeleteSubnet removes a subnet that holds no ENI, its flow logs and its
// bridge. The deletion is committed first, then the bridge is removed
// without c.mu, its VPC busy meanwhile: a new subnet of the same range would
// put the router address the old bridge still holds on its own bridge, in
// the same namespace, so CreateSubnet in that VPC waits for it.
func (c *Cloud) DeleteSubnet(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("subnetId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	sub, err := c.subnetLocked(s, id)
	if err != nil {
		return err
	}
	// One bridge of a VPC goes at a time: wait for another, then read again.
	c.waitIdleLocked(sub.VPCID)
	if sub, err = c.subnetLocked(s, id); err != nil {
		return err
	}
	for e := range c.heldENIs() {
		if e.SubnetID == sub.ID {
			return dependencyViolation(sub.ID)
		}
	}
	for i := range c.allInstances() {
		if i.SubnetID == sub.ID && i.State != StateTerminated {
			return dependencyViolation(sub.ID)
		}
	}
	c.model().subnets.Delete(sub.ID)
	c.dropFlowLogsLocked(sub.ID)
	c.dropACLAssocLocked(sub.ID)
	if rt := c.tableOfSubnetLocked(sub.ID); rt != nil { // its association goes with it
		rt = edit(c.model().rts, rt.ID)
		rt.Assocs = slices.DeleteFunc(rt.Assocs, func(a RouteAssoc) bool { return a.SubnetID == sub.ID })
	}
	if err := c.commitLocked(); err != nil {
		return err
	}
	c.busy[sub.VPCID] = true
	defer c.landLocked(sub.VPCID)
	c.withoutLock(func() {
		if err := c.dp.DeleteSubnet(ctx, netSubnet(sub)); err != nil {
			c.log.Error("remove a deleted subnet's bridge (the reconciler will retry)", "subnet", sub.ID, "err", err)
		}
	})
	return nil
}

// ModifySubnetAttribute changes a subnet's MapPublicIpOnLaunch, its IPv6
// options (AssignIpv6AddressOnCreation, EnableDns64: stored, DNS64 is not
// served) and the private DNS name options of its instances.
func (c *Cloud) ModifySubnetAttribute(ctx context.Context, s Scope, id string, in ModifySubnetInput) error {
	if id == "" {
		return missingParameter("subnetId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	sub, err := c.subnetLocked(s, id)
	if err != nil {
		return err
	}
	if in.MapPublicIPOnLaunch == nil && in.HostnameType == nil && in.DNSARecord == nil && in.DNSAAAARecord == nil && in.AssignIPv6 == nil && in.EnableDNS64 == nil {
		return Errorf("InvalidParameterCombination", "No attributes specified.")
	}
	if in.AssignIPv6 != nil && !*in.AssignIPv6 && sub.IPv6Native {
		// (unverified) the code and message: every ENI of an IPv6-only
		// subnet needs an IPv6 address.
		return invalidValue("AssignIpv6AddressOnCreation cannot be disabled for an IPv6-only subnet (%s).", sub.ID)
	}
	if t := in.HostnameType; t != nil && *t != "ip-name" && *t != "resource-name" {
		return invalidValue("Value (%s) for parameter privateDnsHostnameTypeOnLaunch is invalid. Valid values are: ip-name, resource-name", *t)
	}
	next := edit(c.model().subnets, sub.ID)
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&next.MapPublicIPOnLaunch, in.MapPublicIPOnLaunch)
	set(&next.DNSARecord, in.DNSARecord)
	set(&next.DNSAAAARecord, in.DNSAAAARecord)
	set(&next.AssignIPv6OnCreation, in.AssignIPv6)
	set(&next.EnableDNS64, in.EnableDNS64)
	if in.HostnameType != nil {
		next.HostnameType = *in.HostnameType
	}
	return c.commitLocked()
}
