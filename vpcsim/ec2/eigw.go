package ec2

import (
	"context"
	"slices"
)

// EgressOnlyIGW is an egress-only internet gateway: the IPv6 side of a NAT
// gateway without the translation, it lets a VPC's IPv6 traffic out and
// only the answers back in. It is made attached to one VPC and stays so; a
// route table sends IPv6 destinations to it (CreateRoute
// EgressOnlyInternetGatewayId). Deleting it leaves those routes
// blackholes, as EC2 does. The kernel has routes to it as
// netmodel.RouteEgressOnly (routing.go).
type EgressOnlyIGW struct {
	ID          string `json:"id"` // eigw-…
	Region      string `json:"region"`
	OwnerID     string `json:"owner"`
	VPCID       string `json:"vpc"`
	ClientToken string `json:"clientToken,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	Seq         int64  `json:"seq"`
}

func copyEIGW(g *EgressOnlyIGW) EgressOnlyIGW {
	out := *g
	out.Tags = slices.Clone(g.Tags)
	return out
}

// CreateEgressOnlyIGW makes an egress-only internet gateway attached to a
// VPC of the region. A retry with the same client token answers the
// gateway the first call made.
func (c *Cloud) CreateEgressOnlyIGW(ctx context.Context, s Scope, vpcID, clientToken string, tags []Tag) (EgressOnlyIGW, error) {
	if vpcID == "" {
		return EgressOnlyIGW{}, missingParameter("vpcId")
	}
	if err := checkTags(tags); err != nil {
		return EgressOnlyIGW{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return EgressOnlyIGW{}, err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return EgressOnlyIGW{}, err
	}
	if clientToken != "" {
		for g := range c.model().eigws.All() {
			if g.Region == s.Region && g.ClientToken == clientToken && g.VPCID == v.ID {
				return copyEIGW(g), nil
			}
		}
	}
	g := &EgressOnlyIGW{ID: newID("eigw"), Region: s.Region, OwnerID: c.account, VPCID: v.ID, ClientToken: clientToken, Tags: tags, Seq: c.nextSeq()}
	c.model().eigws.Put(g)
	if err := c.commitLocked(); err != nil {
		return EgressOnlyIGW{}, err
	}
	return copyEIGW(g), nil
}

// eigwLocked finds an egress-only internet gateway of the scope's region.
func (c *Cloud) eigwLocked(s Scope, id string) (*EgressOnlyIGW, error) {
	if err := checkID("InvalidEgressOnlyInternetGatewayId.Malformed", "eigw", id); err != nil {
		return nil, err
	}
	g := get(c.model().eigws, id)
	if g == nil || g.Region != s.Region {
		return nil, notFound("InvalidEgressOnlyInternetGatewayId.NotFound", "egressOnlyInternetGateway", id)
	}
	return g, nil
}

// DeleteEgressOnlyIGW deletes an egress-only internet gateway; routes to
// it stay, as blackholes.
func (c *Cloud) DeleteEgressOnlyIGW(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("egressOnlyInternetGatewayId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.eigwLocked(s, id)
	if err != nil {
		return err
	}
	c.model().eigws.Delete(g.ID)
	return c.commitLocked()
}

// DescribeEgressOnlyIGWs lists the region's egress-only internet gateways:
// those named (all must exist), filtered.
func (c *Cloud) DescribeEgressOnlyIGWs(ctx context.Context, s Scope, ids []string, f []Filter) ([]EgressOnlyIGW, error) {
	return describeFiltered(ctx, c, s, f, func() ([]EgressOnlyIGW, error) {
		list, err := pick(ids, func(id string) (*EgressOnlyIGW, error) { return c.eigwLocked(s, id) },
			func() []*EgressOnlyIGW {
				return inRegion(sortedBySeq(c.model().eigws.All(), func(g *EgressOnlyIGW) int64 { return g.Seq }), s, func(g *EgressOnlyIGW) string { return g.Region })
			})
		return copies(list, err, copyEIGW)
	}, func(g *EgressOnlyIGW) []Tag { return g.Tags }, eigwFilter)
}

// eigwFilter answers EC2's documented filters (tag:key and tag-key, which
// describeFiltered answers) and, as other gateways have them, the
// attachment's and the ID.
func eigwFilter(g *EgressOnlyIGW, name string) ([]string, bool) {
	switch name {
	case "egress-only-internet-gateway-id":
		return []string{g.ID}, true
	case "attachment.vpc-id":
		return []string{g.VPCID}, true
	case "attachment.state":
		return []string{"attached"}, true
	}
	return nil, false
}
