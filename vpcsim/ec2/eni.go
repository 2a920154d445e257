package ec2

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// eniRequest is a validated request for a new ENI, from CreateNetworkInterface or
// from RunInstances.
type eniRequest struct {
	subnet      *Subnet
	groups      []string // validated, of the subnet's VPC; never empty
	addrs       []netip.Addr
	ipv6        []netip.Addr
	description string
	tags        []Tag
	managed     bool
}

// maxENIsPerSubnet is how many ENIs a subnet holds here: a subnet is one
// Linux bridge, and a bridge takes at most 1,024 ports (BR_MAX_PORTS), one of
// which the kernel keeps back. AWS has no such bound (only the subnet's
// addresses), so a full subnet answers as one without free addresses.
const maxENIsPerSubnet = 1023

// planENILocked validates and picks the addresses of a new ENI. taken holds the
// addresses already planned in the same request (RunInstances with count > 1),
// and planned the ENIs it plans in the subnet before this one.
func (c *Cloud) planENILocked(s Scope, sub *Subnet, groups []string, primary string, extra []string, secondary int, taken map[netip.Addr]bool, planned int) (eniRequest, error) {
	req := eniRequest{subnet: sub}
	var err error
	inSubnet := countWhere(c.heldENIs(), func(e *ENI) bool { return e.SubnetID == sub.ID })
	if inSubnet+planned >= maxENIsPerSubnet {
		return req, insufficientAddresses(sub.ID)
	}
	if req.groups, err = c.checkGroupsLocked(s, sub.VPCID, groups); err != nil {
		return req, err
	}
	if secondary < 0 {
		return req, invalidValue("Value (%d) for parameter secondaryPrivateIpAddressCount is invalid.", secondary)
	}
	if sub.IPv6Native {
		// No IPv4 address: the caller gives it IPv6 ones (autoIPv6).
		if primary != "" || len(extra) > 0 || secondary > 0 {
			return req, noIPv4(sub)
		}
		return req, nil
	}
	if taken == nil {
		taken = map[netip.Addr]bool{}
	}
	if primary != "" {
		a, err := c.checkRequestedAddrLocked(sub, primary, taken)
		if err != nil {
			return req, err
		}
		req.addrs, taken[a] = append(req.addrs, a), true
	}
	for _, x := range extra {
		a, err := c.checkRequestedAddrLocked(sub, x, taken)
		if err != nil {
			return req, err
		}
		req.addrs, taken[a] = append(req.addrs, a), true
	}
	need := secondary
	if len(req.addrs) == 0 {
		need++
	}
	free, err := c.freeAddrsLocked(sub, need, taken)
	if err != nil {
		return req, err
	}
	for _, a := range free {
		taken[a] = true
	}
	req.addrs = append(req.addrs, free...)
	return req, nil
}

// noIPv4 refuses private IPv4 addresses in an IPv6-only subnet.
func noIPv4(sub *Subnet) error {
	// (unverified) the code and message.
	return invalidValue("The subnet %s is IPv6-only: it has no private IPv4 addresses to assign.", sub.ID)
}

// refuseIPv6Only refuses what needs a private IPv4 address in an
// IPv6-only subnet: an instance's primary ENI, an ECS task's, a NAT
// gateway's. EC2 takes instances there (of Nitro types) and ECS tasks
// too; vpcsim does not yet, as its instances, task metadata and ECS
// agent expect an IPv4 address.
func refuseIPv6Only(sub *Subnet, what string) error {
	if !sub.IPv6Native {
		return nil
	}
	return Errorf("UnsupportedOperation", "vpcsim does not put %s in IPv6-only subnets (%s) yet: only network interfaces.", what, sub.ID)
}

// checkGroupsLocked validates an ENI's groups: at most five, all of the VPC.
// None given means the VPC's default group.
func (c *Cloud) checkGroupsLocked(s Scope, vpcID string, ids []string) ([]string, error) {
	ids = slices.Compact(slices.Clone(ids))
	if err := c.checkQuota(quota.SecurityGroupsPerInterface, len(ids)); err != nil {
		return nil, err
	}
	for _, id := range ids {
		g, err := c.groupLocked(s, GroupRef{ID: id})
		if err != nil {
			return nil, err
		}
		if g.VPCID != vpcID {
			return nil, Errorf("InvalidParameter", "Security group %s and subnet belong to different networks.", id)
		}
	}
	if len(ids) == 0 {
		for g := range c.allGroups() {
			if g.VPCID == vpcID && g.Name == "default" {
				return []string{g.ID}, nil
			}
		}
	}
	return ids, nil
}

// newENILocked builds the ENI of a plan, with a MAC no other ENI has.
func (c *Cloud) newENILocked(req eniRequest) *ENI {
	e := &ENI{
		ID: newID("eni"), Region: req.subnet.Region, OwnerID: c.account, SubnetID: req.subnet.ID,
		VPCID: req.subnet.VPCID, AZ: req.subnet.AZ, Description: req.description, MAC: c.uniqueMACLocked(),
		Groups: req.groups, SourceDestCheck: true, InterfaceType: "interface", Status: "available",
		RequesterManaged: req.managed, Tags: req.tags, IPv6: req.ipv6, Seq: c.nextSeq(),
	}
	for i, a := range req.addrs {
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Addr: a, Primary: i == 0})
	}
	return e
}

func (c *Cloud) uniqueMACLocked() string {
	for {
		mac := newMAC()
		if !slices.ContainsFunc(slices.Collect(c.heldENIs()), func(e *ENI) bool { return e.MAC == mac }) {
			return mac
		}
	}
}

// netENILocked says where the kernel should have the ENI: inside its instance
// when that instance is up, else parked in the VPC's namespace; and its
// addresses of each family with their subnet's router.
func (c *Cloud) netENILocked(e *ENI) netmodel.NetENI {
	sub := c.subnet(e.SubnetID)
	mac, _ := net.ParseMAC(e.MAC)
	n := netmodel.NetENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: mac}
	if sub != nil && sub.CIDR.IsValid() {
		n.Gateway = routerAddr(sub.CIDR)
		for _, ip := range e.PrivateIPs {
			n.Addrs = append(n.Addrs, netip.PrefixFrom(ip.Addr, sub.CIDR.Bits()))
		}
	}
	if p := subnetIPv6(sub); p.IsValid() && len(e.IPv6) > 0 {
		n.Gateway6 = routerAddr(p)
		for _, a := range e.IPv6 {
			n.Addrs6 = append(n.Addrs6, netip.PrefixFrom(a, p.Bits()))
		}
	}
	if e.Host != "" && e.Attachment != nil {
		n.Host, n.Device = e.Host, 0
		return n
	}
	if a := e.Attachment; a != nil {
		if inst := c.instance(a.InstanceID); inst != nil && instanceUp(inst.State) {
			n.Host, n.Device = inst.ID, a.DeviceIndex
		}
	}
	return n
}

// instanceUp reports whether an instance in this state has its namespace.
func instanceUp(state string) bool {
	return state == StateRunning || state == StateStopping || state == StateShuttingDown
}

// CreateNetworkInterface makes an available ENI in a subnet, with its veth.
func (c *Cloud) CreateNetworkInterface(ctx context.Context, s Scope, in CreateNetworkInterfaceInput) (ENI, error) {
	if in.SubnetID == "" {
		return ENI{}, missingParameter("subnetId")
	}
	switch in.InterfaceType {
	case "", "interface":
	default:
		return ENI{}, invalidValue("Value (%s) for parameter interfaceType is invalid.", in.InterfaceType)
	}
	if err := checkTags(in.Tags); err != nil {
		return ENI{}, err
	}
	primary, extra := in.PrivateIPAddress, []string(nil)
	for _, p := range in.PrivateIPAddresses {
		switch {
		case p.Primary && primary != "" && primary != p.Address:
			return ENI{}, invalidValue("Multiple primary addresses specified")
		case p.Primary:
			primary = p.Address
		default:
			extra = append(extra, p.Address)
		}
	}
	if primary == "" && len(extra) > 0 {
		primary, extra = extra[0], extra[1:]
	}
	if err := c.lock(ctx, s); err != nil {
		return ENI{}, err
	}
	defer c.unlock()
	sub, err := c.subnetLocked(s, in.SubnetID)
	if err != nil {
		return ENI{}, err
	}
	if in.RequesterManaged {
		if err := refuseIPv6Only(sub, "ECS tasks"); err != nil {
			return ENI{}, err
		}
	}
	req, err := c.planENILocked(s, sub, in.Groups, primary, extra, in.SecondaryPrivateIPAddressCount, nil, 0)
	if err != nil {
		return ENI{}, err
	}
	if req.ipv6, err = c.pickIPv6Locked(sub, autoIPv6(sub, in.IPv6Count, in.IPv6Addresses, in.RequesterManaged), in.IPv6Addresses, nil); err != nil {
		return ENI{}, err
	}
	req.description, req.tags, req.managed = in.Description, in.Tags, in.RequesterManaged
	e := c.newENILocked(req)
	if in.RequesterManaged {
		e.RequesterID = requesterAccount
	}
	if in.PublicIP && len(e.PrivateIPs) > 0 {
		if e.PrivateIPs[0].Public, err = c.allocPublicLocked(map[netip.Addr]bool{}); err != nil {
			return ENI{}, err
		}
		e.AutoPublic = true
	}
	if err := c.addENIsLocked(ctx, e); err != nil {
		return ENI{}, err
	}
	return copyENI(e), nil
}

// requesterAccount is the AWS-owned account that shows as RequesterId of ENIs a
// service made for the user.
const requesterAccount = "578734482556"

// addENIsLocked makes new ENIs: in flight while their veths are made without
// c.mu, then stored. On any failure none remain, in the store or the kernel.
func (c *Cloud) addENIsLocked(ctx context.Context, enis ...*ENI) error {
	undo, err := c.makeENIsLocked(ctx, enis...)
	if err != nil {
		return err
	}
	defer c.landLocked(eniIDs(enis)...)
	for _, e := range enis {
		c.model().enis.Put(e)
	}
	if err := c.commitLocked(); err != nil {
		return c.undoKernel(ctx, err, undo)
	}
	return nil
}

// makeENIsLocked checks the quota, puts new ENIs in flight and makes their
// veths (parked) without c.mu, returning what removes them. The caller
// stages the ENIs, commits and lands them. When a veth cannot be made,
// those made are removed and the ENIs land: nothing remains.
func (c *Cloud) makeENIsLocked(ctx context.Context, enis ...*ENI) (func(context.Context) error, error) {
	if len(enis) > 0 {
		region := enis[0].Region
		if err := c.checkQuota(quota.NetworkInterfaces, len(enis)+countWhere(c.heldENIs(), func(e *ENI) bool { return e.Region == region })); err != nil {
			return nil, err
		}
	}
	nets := make([]netmodel.NetENI, len(enis))
	for i, e := range enis {
		nets[i] = c.netENILocked(e)
	}
	c.flyLocked(enis...)
	var made []netmodel.NetENI
	undo := func(ctx context.Context) error {
		var errs []error
		for _, n := range made {
			errs = append(errs, c.dp.DeleteENI(ctx, n))
		}
		return joinErrs(errs)
	}
	var err error
	c.withoutLock(func() {
		for _, n := range nets {
			made = append(made, n)
			if err = c.dp.EnsureENI(ctx, n); err != nil {
				err = c.undoKernel(ctx, fmt.Errorf("create the ENI's veth: %w", err), undo)
				return
			}
		}
	})
	if err != nil {
		c.landLocked(eniIDs(enis)...)
		return nil, err
	}
	return undo, nil
}

func eniIDs(enis []*ENI) []string {
	ids := make([]string, len(enis))
	for i, e := range enis {
		ids[i] = e.ID
	}
	return ids
}

func copyENI(e *ENI) ENI {
	out := *e
	out.PrivateIPs = slices.Clone(e.PrivateIPs)
	out.IPv6 = slices.Clone(e.IPv6)
	out.Groups = slices.Clone(e.Groups)
	out.Tags = slices.Clone(e.Tags)
	if e.Attachment != nil {
		a := *e.Attachment
		out.Attachment = &a
	}
	return out
}

func (c *Cloud) eniLocked(s Scope, id string) (*ENI, error) {
	if err := checkID("InvalidNetworkInterfaceID.Malformed", "eni", id); err != nil {
		return nil, err
	}
	e := c.eni(id)
	if e == nil || e.Region != s.Region {
		return nil, Errorf("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}
	return e, nil
}

// DescribeNetworkInterfaces lists the region's ENIs: those named (all must
// exist), filtered. An unknown filter name is refused even when no ENI is left
// to match.
func (c *Cloud) DescribeNetworkInterfaces(ctx context.Context, s Scope, ids []string, f []Filter) ([]ENI, error) {
	return describeFiltered(ctx, c, s, f, func() ([]ENI, error) {
		list, err := pick(ids, func(id string) (*ENI, error) { return c.eniLocked(s, id) },
			func() []*ENI {
				return inRegion(sortedBySeq(c.allENIs(), func(e *ENI) int64 { return e.Seq }), s, func(e *ENI) string { return e.Region })
			})
		return copies(list, err, copyENI)
	}, func(e *ENI) []Tag { return e.Tags }, c.eniFilterLocked)
}

func (c *Cloud) eniFilterLocked(e *ENI, name string) ([]string, bool) {
	var ips, dns []string
	for _, ip := range e.PrivateIPs {
		ips = append(ips, ip.Addr.String())
		dns = append(dns, PrivateDNSName(e.Region, ip.Addr))
	}
	att := e.Attachment
	if att == nil {
		att = &ENIAttachment{}
	}
	switch name {
	case "addresses.private-ip-address", "private-ip-address":
		return ips, true
	case "addresses.primary":
		return []string{"true"}, true
	case "ipv6-addresses.ipv6-address":
		var out []string
		for _, a := range e.IPv6 {
			out = append(out, a.String())
		}
		return out, true
	case "attachment.attachment-id":
		return []string{att.ID}, true
	case "attachment.instance-id":
		return []string{att.InstanceID}, true
	case "attachment.instance-owner-id":
		return []string{att.InstanceOwnerID}, true
	case "attachment.device-index":
		return []string{strconv.Itoa(att.DeviceIndex)}, true
	case "attachment.status":
		return []string{att.Status}, true
	case "attachment.delete-on-termination":
		return []string{boolString(att.DeleteOnTermination)}, true
	case "availability-zone":
		return []string{e.AZ}, true
	case "description":
		return []string{e.Description}, true
	case "group-id":
		return e.Groups, true
	case "group-name":
		var names []string
		for _, id := range e.Groups {
			if g := c.group(id); g != nil {
				names = append(names, g.Name)
			}
		}
		return names, true
	case "interface-type":
		return []string{e.InterfaceType}, true
	case "mac-address":
		return []string{e.MAC}, true
	case "network-interface-id":
		return []string{e.ID}, true
	case "owner-id":
		return []string{e.OwnerID}, true
	case "private-dns-name":
		return dns, true
	case "requester-id":
		return []string{e.RequesterID}, true
	case "requester-managed":
		return []string{boolString(e.RequesterManaged)}, true
	case "source-dest-check":
		return []string{boolString(e.SourceDestCheck)}, true
	case "status":
		return []string{e.Status}, true
	case "subnet-id":
		return []string{e.SubnetID}, true
	case "vpc-id":
		return []string{e.VPCID}, true
	case "association.public-ip", "association.allocation-id", "association.association-id", "association.ip-owner-id", "association.public-dns-name":
		for _, ip := range e.PrivateIPs {
			if ip.Primary {
				return c.publicField(e, ip, strings.TrimPrefix(name, "association.")), true
			}
		}
		return nil, true
	case "addresses.association.public-ip", "addresses.association.owner-id":
		var out []string
		for _, ip := range e.PrivateIPs {
			field := strings.TrimPrefix(name, "addresses.association.")
			if field == "owner-id" {
				field = "ip-owner-id"
			}
			out = append(out, c.publicField(e, ip, field)...)
		}
		return out, true
	}
	return nil, false
}

// publicField is one field of a private address's public side, as the
// association filters name it (none without a public address).
func (c *Cloud) publicField(e *ENI, ip PrivateIP, field string) []string {
	if !ip.Public.IsValid() {
		return nil
	}
	switch field {
	case "public-ip":
		return []string{ip.Public.String()}
	case "allocation-id", "association-id":
		id := ip.AllocationID
		if field == "association-id" {
			id = ip.AssociationID
		}
		if id == "" {
			return nil
		}
		return []string{id}
	case "ip-owner-id":
		if ip.AllocationID == "" {
			return []string{"amazon"}
		}
		return []string{e.OwnerID}
	case "public-dns-name":
		if v := c.vpc(e.VPCID); v != nil && v.EnableDNSHostnames {
			return []string{PublicDNSName(e.Region, ip.Public)}
		}
	}
	return nil
}

// DeleteNetworkInterface removes a detached ENI, its flow logs and its veth,
// and returns its addresses.
func (c *Cloud) DeleteNetworkInterface(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("networkInterfaceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	c.waitIdleLocked(id)
	e, err := c.eniLocked(s, id)
	if err != nil {
		return err
	}
	if e.Attachment != nil || e.Status != "available" {
		return Errorf("InvalidNetworkInterface.InUse", "The network interface '%s' is currently in use.", e.ID)
	}
	return c.deleteENILocked(ctx, e, "")
}

// deleteENILocked deletes an ENI and its flow logs from the store, then its
// veth (and host, a task's namespace, when set) without c.mu: the ENI stays
// in flight meanwhile, so its addresses are not handed out while the kernel
// still has them. A kernel failure is logged: the reconciler removes it.
func (c *Cloud) deleteENILocked(ctx context.Context, e *ENI, host string) error {
	n := c.netENILocked(e)
	c.model().enis.Delete(e.ID)
	c.dropFlowLogsLocked(e.ID)
	if err := c.commitLocked(); err != nil {
		return err
	}
	c.flyLocked(e)
	defer c.landLocked(e.ID)
	c.withoutLock(func() {
		if err := c.dp.DeleteENI(ctx, n); err != nil {
			c.log.Error("remove a deleted ENI's veth (the reconciler will retry)", "eni", e.ID, "err", err)
		}
		if host == "" {
			return
		}
		if err := c.dp.DeleteHost(ctx, host); err != nil {
			c.log.Error("remove a stopped task's namespace (the reconciler will retry)", "host", host, "err", err)
		}
	})
	return nil
}

// ModifyNetworkInterfaceAttribute changes groups, source/dest check, description,
// or the attachment's DeleteOnTermination.
func (c *Cloud) ModifyNetworkInterfaceAttribute(ctx context.Context, s Scope, id string, in ModifyNetworkInterfaceInput) error {
	if id == "" {
		return missingParameter("networkInterfaceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	c.waitIdleLocked(id)
	e, err := c.eniLocked(s, id)
	if err != nil {
		return err
	}
	if err := c.modifyENILocked(s, e, in); err != nil {
		return err
	}
	return c.commitLocked()
}

// modifyENILocked applies one attribute change to an ENI, in the call's
// transaction.
func (c *Cloud) modifyENILocked(s Scope, e *ENI, in ModifyNetworkInterfaceInput) error {
	var err error
	next := edit(c.model().enis, e.ID)
	switch {
	case in.Groups != nil:
		if len(in.Groups) == 0 {
			return missingParameter("groupId")
		}
		if next.Groups, err = c.checkGroupsLocked(s, e.VPCID, in.Groups); err != nil {
			return err
		}
	case in.SourceDestCheck != nil:
		next.SourceDestCheck = *in.SourceDestCheck
	case in.Description != nil:
		next.Description = *in.Description
	case in.DeleteOnTermination != nil:
		if e.Attachment == nil || in.AttachmentID != e.Attachment.ID {
			return Errorf("InvalidAttachmentID.NotFound", "The attachment ID '%s' does not exist", in.AttachmentID)
		}
		next.Attachment.DeleteOnTermination = *in.DeleteOnTermination
	default:
		return Errorf("InvalidParameterCombination", "No attributes specified.")
	}
	return nil
}

// AssignPrivateIPAddresses adds secondary addresses to an ENI (and to its link
// when attached); it answers the addresses it added.
func (c *Cloud) AssignPrivateIPAddresses(ctx context.Context, s Scope, in AssignPrivateIPsInput) ([]netip.Addr, error) {
	if in.ENIID == "" {
		return nil, missingParameter("networkInterfaceId")
	}
	if len(in.Addresses) == 0 && in.SecondaryCount <= 0 {
		return nil, missingParameter("privateIpAddress or secondaryPrivateIpAddressCount")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	c.waitIdleLocked(in.ENIID)
	e, err := c.eniLocked(s, in.ENIID)
	if err != nil {
		return nil, err
	}
	sub := c.subnet(e.SubnetID)
	if sub.IPv6Native {
		return nil, noIPv4(sub)
	}
	taken := map[netip.Addr]bool{}
	var add []netip.Addr
	for _, x := range in.Addresses {
		a, err := c.checkRequestedAddrLocked(sub, x, taken)
		if err != nil {
			return nil, err
		}
		add, taken[a] = append(add, a), true
	}
	free, err := c.freeAddrsLocked(sub, max(in.SecondaryCount, 0), taken)
	if err != nil {
		return nil, err
	}
	add = append(add, free...)
	if limit := c.ipLimitLocked(e); limit > 0 && len(e.PrivateIPs)+len(add) > limit {
		return nil, Errorf("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.")
	}
	next := copyENI(e)
	for _, a := range add {
		next.PrivateIPs = append(next.PrivateIPs, PrivateIP{Addr: a})
	}
	if err := c.changeAddrsLocked(ctx, &next, "add addresses to the ENI"); err != nil {
		return nil, err
	}
	return add, nil
}

// changeAddrsLocked gives an ENI next's addresses, IPv4 and IPv6, in the
// kernel without c.mu (reserve.go), then in the model. The ENI's instance,
// if any, is busy meanwhile: its namespace holds the addresses.
func (c *Cloud) changeAddrsLocked(ctx context.Context, next *ENI, what string) error {
	step := kernelStep{what: what}
	if next.Attachment != nil {
		step.busy = []string{next.Attachment.InstanceID}
	}
	return c.changeENILocked(ctx, next, step, func(e *ENI) { e.PrivateIPs, e.IPv6 = next.PrivateIPs, next.IPv6 })
}

// ipLimitLocked is how many addresses the ENI may hold: its instance type's
// IPv4-per-ENI figure when attached, else no limit beyond the subnet.
func (c *Cloud) ipLimitLocked(e *ENI) int {
	return c.attachedTypeLocked(e).IPv4PerENI
}

// attachedTypeLocked is the type of the instance the ENI is attached to
// (zero: none, or a type vpcsim does not know).
func (c *Cloud) attachedTypeLocked(e *ENI) InstanceType {
	if e.Attachment == nil {
		return InstanceType{}
	}
	if inst := c.instance(e.Attachment.InstanceID); inst != nil {
		if t, ok := LookupInstanceType(inst.Type); ok {
			return t
		}
	}
	return InstanceType{}
}

// UnassignPrivateIPAddresses removes secondary addresses from an ENI.
func (c *Cloud) UnassignPrivateIPAddresses(ctx context.Context, s Scope, eniID string, addrs []string) error {
	if eniID == "" {
		return missingParameter("networkInterfaceId")
	}
	if len(addrs) == 0 {
		return missingParameter("privateIpAddress")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	c.waitIdleLocked(eniID)
	e, err := c.eniLocked(s, eniID)
	if err != nil {
		return err
	}
	next := copyENI(e)
	for _, x := range addrs {
		a, _ := netip.ParseAddr(x)
		i := slices.IndexFunc(next.PrivateIPs, func(p PrivateIP) bool { return p.Addr == a })
		if i < 0 {
			return invalidValue("Some of the specified addresses are not assigned to interface %s", e.ID)
		}
		if next.PrivateIPs[i].Primary {
			return invalidValue("The primary IP address of an interface cannot be unassigned.")
		}
		next.PrivateIPs = slices.Delete(next.PrivateIPs, i, i+1)
	}
	return c.changeAddrsLocked(ctx, &next, "remove addresses from the ENI")
}
