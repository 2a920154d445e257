package ec2

import (
	"context"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// Address is an Elastic IP: a public address allocated to the account until
// released. Its association lives on the ENI private address it is mapped to
// (PrivateIP.AllocationID), so an ENI that goes takes its associations with
// it and the address stays allocated, as on AWS.
type Address struct {
	ID      string     `json:"id"` // eipalloc-…
	Region  string     `json:"region"`
	OwnerID string     `json:"owner"`
	Public  netip.Addr `json:"public"`
	Tags    []Tag      `json:"tags,omitempty"`
	Seq     int64      `json:"seq"`
}

// AddressView is an Elastic IP as DescribeAddresses answers it, with its
// association if any.
type AddressView struct {
	Address
	AssociationID string
	ENIID         string
	ENIOwnerID    string
	InstanceID    string
	PrivateIP     netip.Addr
}

// The pool and border group every address comes from.
const publicPool = "amazon"

// AllocateAddressInput is AllocateAddress's request.
type AllocateAddressInput struct {
	Domain             string
	Address            string // a specific address of the range
	PublicIPv4Pool     string
	NetworkBorderGroup string
	Tags               []Tag
}

// AllocateAddress allocates an Elastic IP from the public range.
func (c *Cloud) AllocateAddress(ctx context.Context, s Scope, in AllocateAddressInput) (AddressView, error) {
	switch {
	case in.Domain != "" && in.Domain != "vpc" && in.Domain != "standard":
		return AddressView{}, invalidValue("Invalid value '%s' for domain.", in.Domain)
	case in.Domain == "standard":
		return AddressView{}, Errorf("InvalidParameterValue", "EC2-Classic is not supported: the only domain is vpc.")
	case in.PublicIPv4Pool != "" && in.PublicIPv4Pool != publicPool:
		return AddressView{}, Errorf("InvalidPublicIpv4PoolID.NotFound", "The public IPv4 pool ID '%s' does not exist", in.PublicIPv4Pool)
	case in.NetworkBorderGroup != "" && in.NetworkBorderGroup != s.Region:
		return AddressView{}, invalidValue("The network border group '%s' is invalid.", in.NetworkBorderGroup)
	}
	if err := checkTags(in.Tags); err != nil {
		return AddressView{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return AddressView{}, err
	}
	defer c.unlock()
	if err := c.checkQuota(quota.ElasticIPs, 1+countWhere(c.model().addresses.All(), func(a *Address) bool { return a.Region == s.Region })); err != nil {
		return AddressView{}, err
	}
	var ip netip.Addr
	if in.Address != "" {
		want, err := netip.ParseAddr(in.Address)
		if err != nil || !want.Is4() {
			return AddressView{}, invalidValue("Invalid value '%s' for Address.", in.Address)
		}
		// Only addresses of the range can be taken: a user's own range
		// (BYOIP) does not exist here.
		if !c.handsOut(want) || c.publicInUseLocked()[want] {
			return AddressView{}, Errorf("InvalidAddress.NotFound", "Address '%s' not found.", in.Address)
		}
		ip = want
	} else {
		var err error
		if ip, err = c.allocPublicLocked(map[netip.Addr]bool{}); err != nil {
			return AddressView{}, err
		}
	}
	a := &Address{ID: newID("eipalloc"), Region: s.Region, OwnerID: c.account, Public: ip, Tags: in.Tags, Seq: c.nextSeq()}
	c.model().addresses.Put(a)
	if err := c.commitLocked(); err != nil {
		return AddressView{}, err
	}
	return AddressView{Address: copyAddress(a)}, nil
}

func copyAddress(a *Address) Address {
	out := *a
	out.Tags = slices.Clone(a.Tags)
	return out
}

// addressLocked finds an Elastic IP of the region by allocation ID, or by
// public address when id is empty.
func (c *Cloud) addressLocked(s Scope, id, public string) (*Address, error) {
	if id != "" {
		if err := checkID("InvalidAllocationID.Malformed", "eipalloc", id); err != nil {
			return nil, err
		}
		a := get(c.model().addresses, id)
		if a == nil || a.Region != s.Region {
			return nil, Errorf("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
		}
		return a, nil
	}
	ip, err := netip.ParseAddr(public)
	if err != nil {
		return nil, invalidValue("Invalid value '%s' for PublicIp.", public)
	}
	for a := range c.model().addresses.All() {
		if a.Public == ip && a.Region == s.Region {
			return a, nil
		}
	}
	return nil, Errorf("InvalidAddress.NotFound", "Address '%s' not found.", public)
}

// publicHolderLocked is the ENI an Elastic IP is mapped to, among those
// stored and those in flight (nil: none).
func (c *Cloud) publicHolderLocked(allocID string) *ENI {
	for e := range c.heldENIs() {
		for _, ip := range e.PrivateIPs {
			if ip.AllocationID == allocID {
				return e
			}
		}
	}
	return nil
}

// associationOfLocked finds the ENI private address an Elastic IP is mapped
// to: the ENI and the index in its PrivateIPs (nil, -1: none).
func (c *Cloud) associationOfLocked(allocID string) (*ENI, int) {
	for e := range c.allENIs() {
		for i, ip := range e.PrivateIPs {
			if ip.AllocationID == allocID {
				return e, i
			}
		}
	}
	return nil, -1
}

// AssociateAddressInput is AssociateAddress's request.
type AssociateAddressInput struct {
	AllocationID, PublicIP string
	InstanceID, ENIID      string
	PrivateIP              string
	AllowReassociation     bool
}

// AssociateAddress maps an Elastic IP to a private address of an ENI (an
// instance's primary one by default). A public address the private address
// had goes: an Elastic IP stays allocated, one EC2 assigned is released.
func (c *Cloud) AssociateAddress(ctx context.Context, s Scope, in AssociateAddressInput) (string, error) {
	switch {
	case in.AllocationID == "" && in.PublicIP == "":
		return "", missingParameter("allocationId")
	case in.InstanceID == "" && in.ENIID == "":
		return "", missingParameter("instanceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	target, err := c.associationTargetLocked(s, in)
	if err != nil {
		return "", err
	}
	c.waitIdleLocked(target.ID)
	// Read again after the wait: the ENI, the address and its holder may
	// have changed meanwhile.
	a, err := c.addressLocked(s, in.AllocationID, in.PublicIP)
	if err != nil {
		return "", err
	}
	e, err := c.eniLocked(s, target.ID)
	if err != nil {
		return "", err
	}
	if e.InterfaceType == natInterfaceType {
		return "", Errorf("InvalidNetworkInterface.InUse", "The network interface '%s' belongs to NAT gateway %s: its address is the gateway's.", e.ID, e.Host)
	}
	i := 0
	if in.PrivateIP != "" {
		want, err := netip.ParseAddr(in.PrivateIP)
		if err != nil {
			return "", invalidValue("Invalid value '%s' for PrivateIpAddress.", in.PrivateIP)
		}
		if i = slices.IndexFunc(e.PrivateIPs, func(ip PrivateIP) bool { return ip.Addr == want }); i < 0 {
			return "", Errorf("InvalidParameterValue", "The private IP address %s is not associated with the network interface %s.", in.PrivateIP, e.ID)
		}
	} else if i = slices.IndexFunc(e.PrivateIPs, func(ip PrivateIP) bool { return ip.Primary }); i < 0 {
		// An IPv6-only subnet's ENI. (unverified) the code and message.
		return "", Errorf("InvalidParameterValue", "The network interface %s has no private IPv4 address to associate the Elastic IP address with.", e.ID)
	}
	if c.igwOfVPCLocked(e.VPCID) == nil {
		return "", Errorf("Gateway.NotAttached", "Network %s is not attached to any internet gateway", e.VPCID)
	}
	if holder := c.publicHolderLocked(a.ID); holder != nil && (c.eni(holder.ID) == nil || holder.InterfaceType == natInterfaceType) {
		// Being made, or a NAT gateway's: not to be moved.
		return "", Errorf("Resource.AlreadyAssociated", "resource %s is already associated", a.ID)
	}
	old, oi := c.associationOfLocked(a.ID)
	if old != nil {
		if old.ID == e.ID && oi == i {
			return old.PrivateIPs[oi].AssociationID, nil // already there
		}
		if !in.AllowReassociation {
			return "", Errorf("Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s", a.ID, old.PrivateIPs[oi].AssociationID)
		}
		moved := edit(c.model().enis, old.ID)
		moved.PrivateIPs[oi] = PrivateIP{Addr: moved.PrivateIPs[oi].Addr, Primary: moved.PrivateIPs[oi].Primary}
	}
	e = edit(c.model().enis, e.ID)
	assoc := newID("eipassoc")
	e.PrivateIPs[i].Public, e.PrivateIPs[i].AllocationID, e.PrivateIPs[i].AssociationID = a.Public, a.ID, assoc
	if err := c.commitLocked(); err != nil {
		return "", err
	}
	return assoc, nil
}

// associationTargetLocked finds the ENI an association names: the given
// one, or the instance's only (or primary) ENI.
func (c *Cloud) associationTargetLocked(s Scope, in AssociateAddressInput) (*ENI, error) {
	if in.ENIID != "" {
		e, err := c.eniLocked(s, in.ENIID)
		if err != nil {
			return nil, err
		}
		if in.InstanceID != "" && (e.Attachment == nil || e.Attachment.InstanceID != in.InstanceID) {
			return nil, invalidValue("The network interface %s is not attached to instance %s.", e.ID, in.InstanceID)
		}
		return e, nil
	}
	inst, err := c.instanceLocked(s, in.InstanceID)
	if err != nil {
		return nil, err
	}
	if inst.State == StateTerminated || inst.State == StateShuttingDown {
		return nil, Errorf("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	enis := c.attachedLocked(inst.ID)
	if len(enis) != 1 {
		return nil, Errorf("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", inst.ID)
	}
	return enis[0], nil
}

// DisassociateAddress unmaps an Elastic IP. An ENI that EC2 gave a public
// address at launch gets a new one on its primary address, as on AWS.
func (c *Cloud) DisassociateAddress(ctx context.Context, s Scope, assocID, public string) error {
	if assocID == "" && public == "" {
		return missingParameter("associationId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	if assocID != "" {
		if err := checkID("InvalidAssociationID.Malformed", "eipassoc", assocID); err != nil {
			return err
		}
	}
	// find looks the association up, again after every wait.
	find := func() (*ENI, int, error) {
		if assocID == "" {
			a, err := c.addressLocked(s, "", public)
			if err != nil {
				return nil, -1, err
			}
			e, i := c.associationOfLocked(a.ID)
			return e, i, nil
		}
		for have := range c.allENIs() {
			if k := slices.IndexFunc(have.PrivateIPs, func(ip PrivateIP) bool { return ip.AssociationID == assocID }); k >= 0 && have.Region == s.Region {
				return have, k, nil
			}
		}
		return nil, -1, Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assocID)
	}
	e, i, err := find()
	for err == nil && e != nil && c.busyLocked(e.ID) {
		c.waitIdleLocked(e.ID)
		e, i, err = find()
	}
	switch {
	case err != nil:
		return err
	case e == nil:
		return nil // not associated: AWS answers true
	case e.InterfaceType == natInterfaceType:
		return Errorf("InvalidIPAddress.InUse", "Address %s is the address of NAT gateway %s.", e.PrivateIPs[i].Public, e.Host)
	}
	e = edit(c.model().enis, e.ID)
	ip := &e.PrivateIPs[i]
	*ip = PrivateIP{Addr: ip.Addr, Primary: ip.Primary}
	if ip.Primary && e.AutoPublic && c.hasRunningHostLocked(e) {
		p, err := c.allocPublicLocked(map[netip.Addr]bool{})
		if err != nil {
			return err
		}
		ip.Public = p
	}
	return c.commitLocked()
}

// hasRunningHostLocked says whether an ENI is attached to a task or to an
// instance that is not stopped: what holds an EC2-assigned public address.
func (c *Cloud) hasRunningHostLocked(e *ENI) bool {
	if e.Attachment == nil {
		return false
	}
	if e.Host != "" {
		return true
	}
	inst := c.instance(e.Attachment.InstanceID)
	return inst != nil && (inst.State == StateRunning || inst.State == StatePending)
}

// ReleaseAddress gives an Elastic IP back, once it is not associated.
func (c *Cloud) ReleaseAddress(ctx context.Context, s Scope, allocID, public string) error {
	if allocID == "" && public == "" {
		return missingParameter("allocationId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	a, err := c.addressLocked(s, allocID, public)
	if err != nil {
		return err
	}
	if c.publicHolderLocked(a.ID) != nil {
		return Errorf("InvalidIPAddress.InUse", "Address %s is in use.", a.Public)
	}
	c.model().addresses.Delete(a.ID)
	return c.commitLocked()
}

// DescribeAddresses lists the region's Elastic IPs: those named by
// allocation ID or public address (all must exist), filtered.
func (c *Cloud) DescribeAddresses(ctx context.Context, s Scope, allocIDs, publics []string, f []Filter) ([]AddressView, error) {
	return describeFiltered(ctx, c, s, f, func() ([]AddressView, error) {
		var list []*Address
		for _, id := range allocIDs {
			a, err := c.addressLocked(s, id, "")
			if err != nil {
				return nil, err
			}
			list = append(list, a)
		}
		for _, p := range publics {
			a, err := c.addressLocked(s, "", p)
			if err != nil {
				return nil, err
			}
			list = append(list, a)
		}
		if len(allocIDs)+len(publics) == 0 {
			list = inRegion(sortedBySeq(c.model().addresses.All(), func(a *Address) int64 { return a.Seq }), s, func(a *Address) string { return a.Region })
		}
		out := make([]AddressView, 0, len(list))
		for _, a := range list {
			v := AddressView{Address: copyAddress(a)}
			if e, i := c.associationOfLocked(a.ID); e != nil {
				v.AssociationID, v.ENIID, v.ENIOwnerID, v.PrivateIP = e.PrivateIPs[i].AssociationID, e.ID, e.OwnerID, e.PrivateIPs[i].Addr
				if e.Attachment != nil && e.Host == "" {
					v.InstanceID = e.Attachment.InstanceID
				}
			}
			out = append(out, v)
		}
		return out, nil
	}, func(a *AddressView) []Tag { return a.Tags }, addressFilter)
}

func addressFilter(a *AddressView, name string) ([]string, bool) {
	opt := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch name {
	case "allocation-id":
		return []string{a.ID}, true
	case "association-id":
		return opt(a.AssociationID), true
	case "domain":
		return []string{"vpc"}, true
	case "instance-id":
		return opt(a.InstanceID), true
	case "network-interface-id":
		return opt(a.ENIID), true
	case "network-interface-owner-id":
		return opt(a.ENIOwnerID), true
	case "private-ip-address":
		if !a.PrivateIP.IsValid() {
			return nil, true
		}
		return []string{a.PrivateIP.String()}, true
	case "public-ip":
		return []string{a.Public.String()}, true
	case "network-border-group":
		return []string{a.Region}, true
	}
	return nil, false
}
