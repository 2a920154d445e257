package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// VpcPeering is a VPC peering connection between two VPCs of the account,
// in one region or two. While it is active the kernel links the two VPCs'
// namespaces (netmodel.PeeringLink), and routes that name it go over that
// link; a route to it in any other state is a blackhole. It is one record,
// seen from both regions.
type VpcPeering struct {
	ID        string      `json:"id"` // pcx-…
	Requester PeeringSide `json:"requester"`
	Accepter  PeeringSide `json:"accepter"`
	// State is pending-acceptance, active, failed, rejected, deleted or
	// expired (initiating-request, provisioning and deleting pass within a
	// call, as the call's answer shows).
	State string `json:"state"`
	// By is the account that rejected or deleted it.
	By         string    `json:"by,omitempty"`
	CreateTime time.Time `json:"created"`
	// ChangeTime is when it last changed state: a connection that ended is
	// visible for a while after.
	ChangeTime time.Time `json:"changed"`
	Tags       []Tag     `json:"tags,omitempty"`
	Seq        int64     `json:"seq"`
}

// PeeringSide is one VPC of a peering connection.
type PeeringSide struct {
	VPCID   string       `json:"vpc"`
	Region  string       `json:"region"`
	OwnerID string       `json:"owner"`
	CIDR    netip.Prefix `json:"cidr,omitzero"` // "" while the VPC is not known (a failed request)
	// Secondary are the VPC's secondary blocks when the request was made.
	Secondary []netip.Prefix `json:"secondary,omitempty"`
	// Options are the side's peering options, which only describe.
	AllowDNSResolution bool `json:"dns,omitempty"`
	AllowClassicToVPC  bool `json:"classicToVpc,omitempty"`
	AllowVPCToClassic  bool `json:"vpcToClassic,omitempty"`
}

// Peering connection states, as EC2 names them.
const (
	pcxInitiating = "initiating-request"
	pcxPending    = "pending-acceptance"
	pcxProvision  = "provisioning"
	pcxActive     = "active"
	pcxFailed     = "failed"
	pcxRejected   = "rejected"
	pcxDeleted    = "deleted"
	pcxExpired    = "expired"
)

// How long a request waits for acceptance, and how long a connection that
// ended stays visible: AWS keeps a failed one 2 hours, and a rejected or
// deleted one 2 hours for the account that ended it (the only one here).
const (
	pcxAcceptWindow = 7 * 24 * time.Hour
	pcxEndedVisible = 2 * time.Hour
	pcxExpiredShown = 2 * 24 * time.Hour
)

// pcxFailedMessage is AWS's status message of a request that failed: the
// peer VPC does not exist, or the ranges overlap.
const pcxFailedMessage = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

func copyPeering(p *VpcPeering) VpcPeering {
	out := *p
	out.Tags = slices.Clone(p.Tags)
	out.Requester.Secondary = slices.Clone(p.Requester.Secondary)
	out.Accepter.Secondary = slices.Clone(p.Accepter.Secondary)
	return out
}

// overlapping reports whether some range of a overlaps some range of b.
func overlapping(a, b []netip.Prefix) bool {
	return slices.ContainsFunc(a, func(p netip.Prefix) bool { return slices.ContainsFunc(b, p.Overlaps) })
}

// stateAt is the connection's state at now: a request not accepted within
// its window has expired.
func (p *VpcPeering) stateAt(now time.Time) string {
	if p.State == pcxPending && now.After(p.CreateTime.Add(pcxAcceptWindow)) {
		return pcxExpired
	}
	return p.State
}

// visibleAt reports whether Describe still shows the connection at now.
func (p *VpcPeering) visibleAt(now time.Time) bool {
	switch p.stateAt(now) {
	case pcxFailed, pcxRejected, pcxDeleted:
		return now.Before(p.ChangeTime.Add(pcxEndedVisible))
	case pcxExpired:
		return now.Before(p.CreateTime.Add(pcxAcceptWindow + pcxExpiredShown))
	}
	return true
}

// inRegion reports whether the connection is seen from a region: from both
// of its sides'.
func (p *VpcPeering) inRegion(region string) bool {
	return p.Requester.Region == region || p.Accepter.Region == region
}

// StatusMessage is the connection's status message as EC2 words it.
func (p VpcPeering) StatusMessage() string {
	switch p.State {
	case pcxInitiating:
		return "Initiating Request to " + p.Accepter.OwnerID
	case pcxPending:
		return "Pending Acceptance by " + p.Accepter.OwnerID
	case pcxProvision:
		return "Provisioning"
	case pcxActive:
		return "Active"
	case pcxFailed:
		return pcxFailedMessage
	case pcxRejected:
		return "Rejected by " + p.By
	case pcxDeleted:
		return "Deleted by " + p.By
	case pcxExpired:
		return "Expired"
	}
	return ""
}

// ExpirationTime is when a pending request expires; zero in other states.
func (p VpcPeering) ExpirationTime() time.Time {
	if p.State != pcxPending && p.State != pcxInitiating {
		return time.Time{}
	}
	return p.CreateTime.Add(pcxAcceptWindow)
}

// peeringLocked finds a connection seen from the scope's region.
func (c *Cloud) peeringLocked(s Scope, id string) (*VpcPeering, error) {
	if err := checkID("InvalidVpcPeeringConnectionId.Malformed", "pcx", id); err != nil {
		return nil, err
	}
	p := get(c.model().peerings, id)
	if p == nil || !p.inRegion(s.Region) || !p.visibleAt(c.now()) {
		return nil, notFound("InvalidVpcPeeringConnectionID.NotFound", "vpcPeeringConnection", id)
	}
	return p, nil
}

// activePeeringsLocked lists the active connections of a VPC, by ID.
func (c *Cloud) activePeeringsLocked(vpcID string) []*VpcPeering {
	return c.peeringsOfLocked(vpcID, func(p *VpcPeering) bool { return p.State == pcxActive })
}

// livePeeringsLocked lists the pending and active connections of a VPC, by
// ID.
func (c *Cloud) livePeeringsLocked(vpcID string) []*VpcPeering {
	now := c.now()
	return c.peeringsOfLocked(vpcID, func(p *VpcPeering) bool { return p.State == pcxActive || p.stateAt(now) == pcxPending })
}

func (c *Cloud) peeringsOfLocked(vpcID string, keep func(*VpcPeering) bool) []*VpcPeering {
	var out []*VpcPeering
	for p := range c.model().peerings.All() {
		if (p.Requester.VPCID == vpcID || p.Accepter.VPCID == vpcID) && keep(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *VpcPeering) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// peerOf is the other side of a connection from a VPC's.
func (p *VpcPeering) peerOf(vpcID string) PeeringSide {
	if p.Requester.VPCID == vpcID {
		return p.Accepter
	}
	return p.Requester
}

// CreatePeeringInput is CreateVpcPeeringConnection's request.
type CreatePeeringInput struct {
	VPCID, PeerVPCID, PeerOwnerID, PeerRegion string
	Tags                                      []Tag
}

// CreateVpcPeering requests a connection from a VPC of the scope to another
// of the account, in the scope's region or PeerRegion. The request waits
// for AcceptVpcPeering, as on AWS even within one account. One the peer
// cannot take (no such VPC in another region or account, ranges that
// overlap, the VPC itself) is taken and fails. Asking again for a pending
// or active connection between the same two VPCs, in the same direction,
// answers that connection.
func (c *Cloud) CreateVpcPeering(ctx context.Context, s Scope, in CreatePeeringInput) (VpcPeering, error) {
	if in.VPCID == "" {
		return VpcPeering{}, missingParameter("vpcId")
	}
	if in.PeerVPCID == "" {
		return VpcPeering{}, missingParameter("peerVpcId")
	}
	if in.PeerRegion == "" {
		in.PeerRegion = s.Region
	}
	if !KnownRegion(in.PeerRegion) {
		return VpcPeering{}, invalidValue("Invalid region: %s", in.PeerRegion)
	}
	if err := checkTags(in.Tags); err != nil {
		return VpcPeering{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return VpcPeering{}, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, in.VPCID)
	if err != nil {
		return VpcPeering{}, err
	}
	if err := checkID("InvalidVpcID.Malformed", "vpc", in.PeerVPCID); err != nil {
		return VpcPeering{}, err
	}
	if in.PeerOwnerID == "" {
		in.PeerOwnerID = c.account
	}
	now := c.now().UTC().Truncate(time.Second)
	p := &VpcPeering{
		ID: newID("pcx"), State: pcxPending, CreateTime: now, ChangeTime: now, Tags: in.Tags, Seq: c.nextSeq(),
		Requester: PeeringSide{VPCID: v.ID, Region: s.Region, OwnerID: c.account, CIDR: v.CIDR, Secondary: v.SecondaryCIDRs()},
		Accepter:  PeeringSide{VPCID: in.PeerVPCID, Region: in.PeerRegion, OwnerID: in.PeerOwnerID},
	}
	var peer *VPC
	if in.PeerOwnerID == c.account {
		if err := c.scopeLocked(ctx, Scope{Region: in.PeerRegion}); err != nil {
			return VpcPeering{}, err
		}
		peer = c.vpc(in.PeerVPCID)
		if peer != nil && peer.Region != in.PeerRegion {
			peer = nil
		}
	}
	switch {
	case peer == nil && in.PeerOwnerID == c.account && in.PeerRegion == s.Region:
		// The account's own VPC is looked up at once.
		return VpcPeering{}, notFound("InvalidVpcID.NotFound", "vpc", in.PeerVPCID)
	case peer == nil, peer.ID == v.ID, overlapping(peer.CIDRs(), v.CIDRs()):
		// The request is taken, and fails.
		p.State = pcxFailed
	default:
		p.Accepter.CIDR, p.Accepter.Secondary = peer.CIDR, peer.SecondaryCIDRs()
		// Two VPCs have one connection at most: the same request again is
		// that one; one the other way round fails.
		if q := c.liveBetweenLocked(v.ID, peer.ID, now); q != nil {
			if q.Requester.VPCID == v.ID {
				return copyPeering(q), nil
			}
			p.State = pcxFailed
		}
	}
	c.model().peerings.Put(p)
	if err := c.commitLocked(); err != nil {
		return VpcPeering{}, err
	}
	// The answer is the request as it starts; a failure shows from then on.
	out := copyPeering(p)
	out.State = pcxInitiating
	return out, nil
}

// liveBetweenLocked is the pending or active connection between two VPCs,
// either way (nil: none).
func (c *Cloud) liveBetweenLocked(a, b string, now time.Time) *VpcPeering {
	for q := range c.model().peerings.All() {
		if (q.Requester.VPCID == a && q.Accepter.VPCID == b || q.Requester.VPCID == b && q.Accepter.VPCID == a) &&
			(q.stateAt(now) == pcxPending || q.State == pcxActive) {
			return q
		}
	}
	return nil
}

// AcceptVpcPeering accepts a pending request, in the accepter's region: the
// kernel links the two VPCs at the commit, and routes that name the
// connection carry. The answer shows it provisioning.
func (c *Cloud) AcceptVpcPeering(ctx context.Context, s Scope, id string) (VpcPeering, error) {
	var out VpcPeering
	err := c.changePeering(ctx, s, id, "accept", func(p *VpcPeering) error {
		req, acc := c.vpc(p.Requester.VPCID), c.vpc(p.Accepter.VPCID)
		if req == nil || acc == nil {
			return invalidTransition(p, pcxActive)
		}
		// The two VPCs as they are now: a block added since the request
		// may overlap the peer's, and the connection fails then.
		p.Requester.CIDR, p.Requester.Secondary = req.CIDR, req.SecondaryCIDRs()
		p.Accepter.CIDR, p.Accepter.Secondary = acc.CIDR, acc.SecondaryCIDRs()
		if overlapping(req.CIDRs(), acc.CIDRs()) {
			p.State = pcxFailed
			out = copyPeering(p)
			return nil
		}
		p.State = pcxActive
		out = copyPeering(p)
		out.State = pcxProvision
		return nil
	})
	return out, err
}

// RejectVpcPeering rejects a pending request, in the accepter's region.
func (c *Cloud) RejectVpcPeering(ctx context.Context, s Scope, id string) error {
	return c.changePeering(ctx, s, id, "reject", func(p *VpcPeering) error {
		p.State, p.By = pcxRejected, c.account
		return nil
	})
}

// DeleteVpcPeering deletes an active connection, or a pending request (the
// requester's to delete): the link goes, routes that name it become
// blackholes.
func (c *Cloud) DeleteVpcPeering(ctx context.Context, s Scope, id string) error {
	return c.changePeering(ctx, s, id, "delete", func(p *VpcPeering) error {
		p.State, p.By = pcxDeleted, c.account
		return nil
	})
}

// changePeering checks that the connection can take the action in the
// scope's region and state, lets change make it, and commits.
func (c *Cloud) changePeering(ctx context.Context, s Scope, id, action string, change func(p *VpcPeering) error) error {
	if id == "" {
		return missingParameter("vpcPeeringConnectionId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	p, err := c.peeringLocked(s, id)
	if err != nil {
		return err
	}
	now := c.now().UTC().Truncate(time.Second)
	state := p.stateAt(now)
	switch {
	case action == "delete" && state == pcxActive:
	case action == "delete" && state == pcxPending:
		if p.Requester.Region != s.Region {
			return Errorf("OperationNotPermitted", "Incorrect region (%s) specified for this request. VPC peering connection %s must be deleted in region %s", s.Region, p.ID, p.Requester.Region)
		}
	case action == "delete":
		return invalidTransition(&VpcPeering{ID: p.ID, State: state}, "deleting")
	case state != pcxPending:
		target := map[string]string{"accept": pcxActive, "reject": pcxRejected}[action]
		return invalidTransition(&VpcPeering{ID: p.ID, State: state}, target)
	case p.Accepter.Region != s.Region:
		return Errorf("OperationNotPermitted", "Incorrect region (%s) specified for this request. VPC peering connection %s must be accepted or rejected in region %s", s.Region, p.ID, p.Accepter.Region)
	}
	p = edit(c.model().peerings, p.ID)
	if err := change(p); err != nil {
		return err
	}
	p.ChangeTime = now
	return c.commitLocked()
}

func invalidTransition(p *VpcPeering, to string) *APIError {
	return Errorf("InvalidStateTransition", "Invalid state transition for %s, attempted to transition from %s to %s", p.ID, p.State, to)
}

// PeeringOptionsInput is ModifyVpcPeeringConnectionOptions' request: the
// options of each side to set (nil: unchanged).
type PeeringOptionsInput struct {
	ID                  string
	Requester, Accepter *PeeringOptions
}

// PeeringOptions are one side's peering options; nil fields are unchanged.
type PeeringOptions struct {
	AllowDNSResolution, AllowClassicToVPC, AllowVPCToClassic *bool
}

// ModifyVpcPeeringOptions sets the options of an active connection's
// sides, each from its own region, and answers both sides' options.
func (c *Cloud) ModifyVpcPeeringOptions(ctx context.Context, s Scope, in PeeringOptionsInput) (requester, accepter PeeringSide, err error) {
	if in.ID == "" {
		return requester, accepter, missingParameter("vpcPeeringConnectionId")
	}
	if in.Requester == nil && in.Accepter == nil {
		return requester, accepter, missingParameter("requesterPeeringConnectionOptions or accepterPeeringConnectionOptions")
	}
	if err := c.lock(ctx, s); err != nil {
		return requester, accepter, err
	}
	defer c.unlock()
	p, err := c.peeringLocked(s, in.ID)
	if err != nil {
		return requester, accepter, err
	}
	if p.State != pcxActive {
		return requester, accepter, Errorf("OperationNotPermitted", "Peering %s is not active. Peering options can be added only to active peerings.", p.ID)
	}
	for _, side := range []struct {
		opts   *PeeringOptions
		region string
	}{{in.Requester, p.Requester.Region}, {in.Accepter, p.Accepter.Region}} {
		if side.opts != nil && side.region != s.Region {
			return requester, accepter, Errorf("OperationNotPermitted", "Incorrect region (%s) specified for this request. The options of this side of VPC peering connection %s must be modified in region %s", s.Region, p.ID, side.region)
		}
	}
	p = edit(c.model().peerings, p.ID)
	in.Requester.apply(&p.Requester)
	in.Accepter.apply(&p.Accepter)
	if err := c.commitLocked(); err != nil {
		return requester, accepter, err
	}
	return p.Requester, p.Accepter, nil
}

func (o *PeeringOptions) apply(side *PeeringSide) {
	if o == nil {
		return
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&side.AllowDNSResolution, o.AllowDNSResolution)
	set(&side.AllowClassicToVPC, o.AllowClassicToVPC)
	set(&side.AllowVPCToClassic, o.AllowVPCToClassic)
}

// DescribeVpcPeerings lists the connections seen from the scope's region:
// those named (all must exist), filtered. Each is answered in its state at
// the call.
func (c *Cloud) DescribeVpcPeerings(ctx context.Context, s Scope, ids []string, f []Filter) ([]VpcPeering, error) {
	return describeFiltered(ctx, c, s, f, func() ([]VpcPeering, error) {
		now := c.now()
		list, err := pick(ids, func(id string) (*VpcPeering, error) { return c.peeringLocked(s, id) },
			func() []*VpcPeering {
				var out []*VpcPeering
				for _, p := range sortedBySeq(c.model().peerings.All(), func(p *VpcPeering) int64 { return p.Seq }) {
					if p.inRegion(s.Region) && p.visibleAt(now) {
						out = append(out, p)
					}
				}
				return out
			})
		return copies(list, err, func(p *VpcPeering) VpcPeering {
			out := copyPeering(p)
			out.State = p.stateAt(now)
			return out
		})
	}, func(p *VpcPeering) []Tag { return p.Tags }, peeringFilter)
}

func peeringFilter(p *VpcPeering, name string) ([]string, bool) {
	cidr := func(side PeeringSide) []string {
		if !side.CIDR.IsValid() {
			return nil
		}
		return []string{side.CIDR.String()}
	}
	switch name {
	case "accepter-vpc-info.cidr-block":
		return cidr(p.Accepter), true
	case "accepter-vpc-info.owner-id":
		return []string{p.Accepter.OwnerID}, true
	case "accepter-vpc-info.vpc-id":
		return []string{p.Accepter.VPCID}, true
	case "requester-vpc-info.cidr-block":
		return cidr(p.Requester), true
	case "requester-vpc-info.owner-id":
		return []string{p.Requester.OwnerID}, true
	case "requester-vpc-info.vpc-id":
		return []string{p.Requester.VPCID}, true
	case "expiration-time":
		if t := p.ExpirationTime(); !t.IsZero() {
			return []string{t.Format(time.RFC3339)}, true
		}
		return nil, true
	case "status-code":
		return []string{p.State}, true
	case "status-message":
		return []string{p.StatusMessage()}, true
	case "vpc-peering-connection-id":
		return []string{p.ID}, true
	}
	return nil, false
}

// vpcPeeredLocked reports whether a VPC has a connection DeleteVpc must
// refuse to strand: active, or a request waiting.
func (c *Cloud) vpcPeeredLocked(vpcID string) bool {
	return len(c.livePeeringsLocked(vpcID)) > 0
}

// peeringRouteLocked checks a route's peering connection: it must exist and
// join the table's VPC; any state will do (the route is a blackhole until
// the connection is active).
func (c *Cloud) peeringRouteLocked(s Scope, rt *RouteTable, id string) (string, error) {
	p, err := c.peeringLocked(s, id)
	if err != nil {
		return "", err
	}
	if p.Requester.VPCID != rt.VPCID && p.Accepter.VPCID != rt.VPCID {
		return "", invalidValue("route table %s and network gateway %s belong to different networks", rt.ID, p.ID)
	}
	return p.ID, nil
}

// peeringBetweenLocked is the active connection between two VPCs of one
// region, through which their security groups may reference each other's
// (nil: none; AWS allows no references across regions).
func (c *Cloud) peeringBetweenLocked(a, b string) *VpcPeering {
	for p := range c.model().peerings.All() {
		if p.State == pcxActive && p.Requester.Region == p.Accepter.Region &&
			(p.Requester.VPCID == a && p.Accepter.VPCID == b || p.Requester.VPCID == b && p.Accepter.VPCID == a) {
			return p
		}
	}
	return nil
}
