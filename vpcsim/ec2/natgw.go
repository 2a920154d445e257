package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// NatGateway lets private subnets out: a route to it sends their traffic to
// its ENI, in a subnet of its own, where the kernel masquerades it behind the
// ENI's address (see netmodel.Dataplane.EnsureNAT); a public gateway's Elastic
// IP is mapped to that address, so the internet gateway shows the far end the
// Elastic IP. The ENI lives in a namespace named after the gateway, as a
// task's does.
type NatGateway struct {
	ID               string     `json:"id"` // nat-…
	Region           string     `json:"region"`
	VPCID            string     `json:"vpc"`
	SubnetID         string     `json:"subnet"`
	ConnectivityType string     `json:"type"`            // public or private
	AllocationID     string     `json:"alloc,omitempty"` // public: its Elastic IP
	ENIID            string     `json:"eni,omitempty"`
	State            string     `json:"state"` // available, failed or deleted (pending and deleting pass within a call)
	PrivateIP        netip.Addr `json:"privateIp,omitzero"`
	PublicIP         netip.Addr `json:"publicIp,omitzero"`
	AssociationID    string     `json:"assoc,omitempty"`
	ClientToken      string     `json:"token,omitempty"`
	FailureCode      string     `json:"failureCode,omitempty"`
	FailureMessage   string     `json:"failureMessage,omitempty"`
	CreateTime       time.Time  `json:"created"`
	DeleteTime       time.Time  `json:"deleted,omitzero"`
	Tags             []Tag      `json:"tags,omitempty"`
	Seq              int64      `json:"seq"`
}

// NAT gateway states, as EC2 names them.
const (
	natPending   = "pending"
	natAvailable = "available"
	natFailed    = "failed"
	natDeleting  = "deleting"
	natDeleted   = "deleted"
)

func copyNAT(g *NatGateway) NatGateway {
	out := *g
	out.Tags = slices.Clone(g.Tags)
	return out
}

// natLocked finds a NAT gateway of the region.
func (c *Cloud) natLocked(s Scope, id string) (*NatGateway, error) {
	if err := checkID("InvalidNatGatewayID.Malformed", "nat", id); err != nil {
		return nil, err
	}
	g := get(c.model().nats, id)
	if g == nil || g.Region != s.Region {
		return nil, Errorf("NatGatewayNotFound", "The Nat Gateway %s was not found", id)
	}
	return g, nil
}

// CreateNatGatewayInput is CreateNatGateway's request.
type CreateNatGatewayInput struct {
	SubnetID         string
	AllocationID     string
	ConnectivityType string
	PrivateIP        string
	ClientToken      string
	Tags             []Tag
}

// CreateNatGateway makes a NAT gateway in a subnet: its ENI, its namespace
// and its masquerade, with the Elastic IP mapped (public). A public gateway
// in a VPC without an internet gateway fails, as on AWS, and holds nothing.
// The answer is the gateway as it starts: pending.
func (c *Cloud) CreateNatGateway(ctx context.Context, s Scope, in CreateNatGatewayInput) (NatGateway, error) {
	switch {
	case in.SubnetID == "":
		return NatGateway{}, missingParameter("subnetId")
	case in.ConnectivityType == "":
		in.ConnectivityType = "public"
	case in.ConnectivityType != "public" && in.ConnectivityType != "private":
		return NatGateway{}, invalidValue("Value (%s) for parameter connectivityType is invalid. Valid values are: public, private", in.ConnectivityType)
	}
	switch {
	case in.ConnectivityType == "public" && in.AllocationID == "":
		return NatGateway{}, missingParameter("allocationId")
	case in.ConnectivityType == "private" && in.AllocationID != "":
		return NatGateway{}, Errorf("InvalidParameterCombination", "An Elastic IP address cannot be associated with a private NAT gateway.")
	}
	if err := checkTags(in.Tags); err != nil {
		return NatGateway{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return NatGateway{}, err
	}
	defer c.unlock()
	if in.ClientToken != "" {
		// A retry (SDKs send a token of their own) gets the gateway the
		// first try made.
		for g := range c.model().nats.All() {
			if g.Region == s.Region && g.ClientToken == in.ClientToken {
				if g.SubnetID != in.SubnetID || g.AllocationID != in.AllocationID {
					return NatGateway{}, Errorf("IdempotentParameterMismatch", "The client token %s was used with other parameters.", in.ClientToken)
				}
				return copyNAT(g), nil
			}
		}
	}
	sub, err := c.subnetLocked(s, in.SubnetID)
	if err != nil {
		return NatGateway{}, err
	}
	if err := refuseIPv6Only(sub, "NAT gateways"); err != nil {
		return NatGateway{}, err
	}
	var eip *Address
	if in.AllocationID != "" {
		if eip, err = c.addressLocked(s, in.AllocationID, ""); err != nil {
			return NatGateway{}, err
		}
	}
	g := &NatGateway{
		ID: newID("nat"), Region: s.Region, VPCID: sub.VPCID, SubnetID: sub.ID, ConnectivityType: in.ConnectivityType,
		AllocationID: in.AllocationID, ClientToken: in.ClientToken, State: natAvailable, CreateTime: c.now().UTC().Truncate(time.Second), Tags: in.Tags, Seq: c.nextSeq(),
	}
	// AWS takes the request, and the gateway fails.
	if failed := c.natFailureLocked(g, eip); failed {
		c.model().nats.Put(g)
		if err := c.commitLocked(); err != nil {
			return NatGateway{}, err
		}
		return asState(g, natPending), nil
	}
	if err := c.checkQuota(quota.NetworkInterfaces, 1+countWhere(c.heldENIs(), func(e *ENI) bool { return e.Region == s.Region })); err != nil {
		return NatGateway{}, err
	}
	req, err := c.planENILocked(s, sub, nil, in.PrivateIP, nil, 0, nil, 0)
	if err != nil {
		return NatGateway{}, err
	}
	req.description, req.managed = "Interface for NAT Gateway "+g.ID, true
	e := c.newENILocked(req)
	// Not a security group's: a NAT gateway forwards whatever is routed
	// to it, and anything may send from behind it.
	e.Groups, e.SourceDestCheck, e.InterfaceType, e.RequesterID = nil, false, natInterfaceType, requesterAccount
	e.Status, e.Host = "in-use", g.ID
	e.Attachment = &ENIAttachment{ID: newID("ela-attach"), InstanceOwnerID: natOwner, DeviceIndex: 1, Status: "attached", AttachTime: g.CreateTime}
	if eip != nil {
		e.PrivateIPs[0].Public, e.PrivateIPs[0].AllocationID, e.PrivateIPs[0].AssociationID = eip.Public, eip.ID, newID("eipassoc")
	}
	g.ENIID, g.PrivateIP, g.PublicIP, g.AssociationID = e.ID, e.PrivateIPs[0].Addr, e.PrivateIPs[0].Public, e.PrivateIPs[0].AssociationID

	// In flight while the kernel makes it: its address, MAC and Elastic IP
	// are held.
	c.flyLocked(e)
	defer c.landLocked(e.ID)
	n := c.netENILocked(e)
	undo := func(ctx context.Context) error {
		return joinErrs([]error{c.dp.DeleteENI(ctx, n), c.dp.DeleteHost(ctx, g.ID)})
	}
	c.withoutLock(func() {
		if err = c.dp.EnsureHost(ctx, g.ID); err == nil {
			if err = c.dp.EnsureENI(ctx, n); err == nil {
				err = c.dp.EnsureNAT(ctx, g.ID)
			}
		}
	})
	if err != nil {
		return NatGateway{}, c.undoKernel(ctx, fmt.Errorf("the NAT gateway's namespace: %w", err), undo)
	}
	// What it needs may have gone while the kernel worked.
	if c.subnet(sub.ID) == nil {
		return NatGateway{}, c.undoKernel(ctx, notFound("InvalidSubnetID.NotFound", "subnet", sub.ID), undo)
	}
	if eip != nil {
		if eip, err = c.addressLocked(s, in.AllocationID, ""); err != nil {
			return NatGateway{}, c.undoKernel(ctx, err, undo)
		}
		if c.natFailureLocked(g, eip) {
			return NatGateway{}, c.undoKernel(ctx, Errorf(g.FailureCode, "%s", g.FailureMessage), undo)
		}
	}
	c.model().enis.Put(e)
	c.model().nats.Put(g)
	if err := c.commitLocked(); err != nil {
		return NatGateway{}, c.undoKernel(ctx, err, undo)
	}
	return asState(g, natPending), nil
}

// natFailureLocked fails a public gateway whose Elastic IP is taken (by
// another ENI than the gateway's own) or whose
// VPC has no internet gateway, as AWS does: the request is taken, the
// gateway is failed.
func (c *Cloud) natFailureLocked(g *NatGateway, eip *Address) bool {
	if eip == nil {
		return false
	}
	holder := c.publicHolderLocked(eip.ID)
	switch {
	case holder != nil && holder.ID != g.ENIID:
		g.FailureCode, g.FailureMessage = "Resource.AlreadyAssociated", fmt.Sprintf("Elastic IP address %s is already associated", eip.ID)
	case c.igwOfVPCLocked(g.VPCID) == nil:
		g.FailureCode, g.FailureMessage = "Gateway.NotAttached", fmt.Sprintf("Network %s has no Internet gateway attached", g.VPCID)
	default:
		return false
	}
	g.State = natFailed
	return true
}

// natInterfaceType is the InterfaceType of a NAT gateway's ENI.
const natInterfaceType = "nat_gateway"

// natOwner shows as the instance owner of a NAT gateway's ENI attachment.
const natOwner = "amazon-aws"

// asState is a copy of a gateway as it is described in state.
func asState(g *NatGateway, state string) NatGateway {
	out := copyNAT(g)
	out.State = state
	return out
}

// DeleteNatGateway deletes a NAT gateway: its ENI and namespace go, its
// Elastic IP stays allocated, routes to it become blackholes. It is
// described as deleted from then on.
func (c *Cloud) DeleteNatGateway(ctx context.Context, s Scope, id string) (string, error) {
	if id == "" {
		return "", missingParameter("natGatewayId")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	g, err := c.natLocked(s, id)
	if err != nil {
		return "", err
	}
	if g.State == natDeleted {
		return "", Errorf("NatGatewayNotFound", "The Nat Gateway %s was not found", id)
	}
	var eni *ENI
	if g.ENIID != "" {
		c.waitIdleLocked(g.ENIID)
		eni = c.eni(g.ENIID)
		if g = get(c.model().nats, g.ID); g.State == natDeleted {
			return "", Errorf("NatGatewayNotFound", "The Nat Gateway %s was not found", id)
		}
	}
	g = edit(c.model().nats, g.ID)
	g.State, g.DeleteTime = natDeleted, c.now().UTC().Truncate(time.Second)
	if eni == nil {
		if err := c.commitLocked(); err != nil {
			return "", err
		}
		return g.ID, nil
	}
	if err := c.deleteENILocked(ctx, eni, g.ID); err != nil {
		return "", err
	}
	return g.ID, nil
}

// ensureNATs has the kernel masquerade for every available NAT
// gateway: at start-up, after the reconciliation made their namespaces.
func (c *Cloud) ensureNATs(ctx context.Context) {
	c.mu.Lock()
	var hosts []string
	for g := range c.model().nats.All() {
		if g.State == natAvailable {
			hosts = append(hosts, g.ID)
		}
	}
	c.unlock()
	for _, h := range hosts {
		if err := c.dp.EnsureNAT(ctx, h); err != nil {
			c.log.Warn("NAT gateway at start-up", "nat", h, "err", err)
		}
	}
}

// DescribeNatGateways lists the region's NAT gateways: those named (all must
// exist), filtered.
func (c *Cloud) DescribeNatGateways(ctx context.Context, s Scope, ids []string, f []Filter) ([]NatGateway, error) {
	return describeFiltered(ctx, c, s, f, func() ([]NatGateway, error) {
		list, err := pick(ids, func(id string) (*NatGateway, error) { return c.natLocked(s, id) },
			func() []*NatGateway {
				return inRegion(sortedBySeq(c.model().nats.All(), func(g *NatGateway) int64 { return g.Seq }), s, func(g *NatGateway) string { return g.Region })
			})
		return copies(list, err, copyNAT)
	}, func(g *NatGateway) []Tag { return g.Tags }, natFilter)
}

func natFilter(g *NatGateway, name string) ([]string, bool) {
	switch name {
	case "nat-gateway-id":
		return []string{g.ID}, true
	case "state":
		return []string{g.State}, true
	case "subnet-id":
		return []string{g.SubnetID}, true
	case "vpc-id":
		return []string{g.VPCID}, true
	}
	return nil, false
}
