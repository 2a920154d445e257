package ec2

import (
	"context"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// InternetGateway connects a VPC to "the internet", which in vpcsim is this
// machine: the kernel links the VPC's namespace to the machine's public
// network and translates each public address to its private one there (see
// routing.go). A gateway is attached to one VPC at most, and a VPC has one
// gateway at most.
type InternetGateway struct {
	ID      string `json:"id"` // igw-…
	Region  string `json:"region"`
	OwnerID string `json:"owner"`
	VPCID   string `json:"vpc,omitempty"` // attached to; "" while detached
	Tags    []Tag  `json:"tags,omitempty"`
	Seq     int64  `json:"seq"`
}

func copyIGW(g *InternetGateway) InternetGateway {
	out := *g
	out.Tags = slices.Clone(g.Tags)
	return out
}

// igwLocked finds an internet gateway of the scope's region.
func (c *Cloud) igwLocked(s Scope, id string) (*InternetGateway, error) {
	if err := checkID("InvalidInternetGatewayID.Malformed", "igw", id); err != nil {
		return nil, err
	}
	g := get(c.model().igws, id)
	if g == nil || g.Region != s.Region {
		return nil, notFound("InvalidInternetGatewayID.NotFound", "internetGateway", id)
	}
	return g, nil
}

// igwOfVPCLocked is the gateway attached to a VPC (nil: none).
func (c *Cloud) igwOfVPCLocked(vpcID string) *InternetGateway {
	for g := range c.model().igws.All() {
		if g.VPCID == vpcID {
			return g
		}
	}
	return nil
}

func (c *Cloud) newIGWLocked(region string, tags []Tag) *InternetGateway {
	return &InternetGateway{ID: newID("igw"), Region: region, OwnerID: c.account, Tags: tags, Seq: c.nextSeq()}
}

// CreateInternetGateway makes a detached internet gateway.
func (c *Cloud) CreateInternetGateway(ctx context.Context, s Scope, tags []Tag) (InternetGateway, error) {
	if err := checkTags(tags); err != nil {
		return InternetGateway{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return InternetGateway{}, err
	}
	defer c.unlock()
	if err := c.checkQuota(quota.InternetGateways, 1+countWhere(c.model().igws.All(), func(g *InternetGateway) bool { return g.Region == s.Region })); err != nil {
		return InternetGateway{}, err
	}
	g := c.newIGWLocked(s.Region, tags)
	c.model().igws.Put(g)
	if err := c.commitLocked(); err != nil {
		return InternetGateway{}, err
	}
	return copyIGW(g), nil
}

// AttachInternetGateway attaches a detached gateway to a VPC that has none.
func (c *Cloud) AttachInternetGateway(ctx context.Context, s Scope, igwID, vpcID string) error {
	return c.changeAttachment(ctx, s, igwID, vpcID, func(g *InternetGateway) error {
		v, err := c.vpcLocked(s, vpcID)
		if err != nil {
			return err
		}
		if g.VPCID != "" {
			return Errorf("Resource.AlreadyAssociated", "resource %s is already attached to network %s", g.ID, g.VPCID)
		}
		if c.igwOfVPCLocked(v.ID) != nil {
			return invalidValue("Network %s already has an internet gateway attached", v.ID)
		}
		edit(c.model().igws, g.ID).VPCID = v.ID
		return nil
	})
}

// DetachInternetGateway detaches a gateway from its VPC, once no address of
// the VPC is public: AWS refuses to strand mapped public addresses.
func (c *Cloud) DetachInternetGateway(ctx context.Context, s Scope, igwID, vpcID string) error {
	return c.changeAttachment(ctx, s, igwID, vpcID, func(g *InternetGateway) error {
		if err := checkID("InvalidVpcID.Malformed", "vpc", vpcID); err != nil {
			return err
		}
		if g.VPCID == "" || g.VPCID != vpcID {
			return Errorf("Gateway.NotAttached", "resource %s is not attached to network %s", g.ID, vpcID)
		}
		if c.hasPublicLocked(vpcID) {
			return Errorf("DependencyViolation", "Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", vpcID)
		}
		edit(c.model().igws, g.ID).VPCID = ""
		return nil
	})
}

// changeAttachment checks an attach or detach request, finds the gateway
// under the lock, and commits what change staged.
func (c *Cloud) changeAttachment(ctx context.Context, s Scope, igwID, vpcID string, change func(g *InternetGateway) error) error {
	switch {
	case igwID == "":
		return missingParameter("internetGatewayId")
	case vpcID == "":
		return missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.igwLocked(s, igwID)
	if err != nil {
		return err
	}
	if err := change(g); err != nil {
		return err
	}
	return c.commitLocked()
}

// DeleteInternetGateway deletes a detached gateway.
func (c *Cloud) DeleteInternetGateway(ctx context.Context, s Scope, igwID string) error {
	if igwID == "" {
		return missingParameter("internetGatewayId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	g, err := c.igwLocked(s, igwID)
	if err != nil {
		return err
	}
	if g.VPCID != "" {
		return dependencyViolation(g.ID)
	}
	c.model().igws.Delete(g.ID)
	return c.commitLocked()
}

// DescribeInternetGateways lists the region's gateways: those named (all
// must exist), filtered.
func (c *Cloud) DescribeInternetGateways(ctx context.Context, s Scope, ids []string, f []Filter) ([]InternetGateway, error) {
	return describeFiltered(ctx, c, s, f, func() ([]InternetGateway, error) {
		list, err := pick(ids, func(id string) (*InternetGateway, error) { return c.igwLocked(s, id) },
			func() []*InternetGateway {
				return inRegion(sortedBySeq(c.model().igws.All(), func(g *InternetGateway) int64 { return g.Seq }), s, func(g *InternetGateway) string { return g.Region })
			})
		return copies(list, err, copyIGW)
	}, func(g *InternetGateway) []Tag { return g.Tags }, igwFilter)
}

func igwFilter(g *InternetGateway, name string) ([]string, bool) {
	switch name {
	case "internet-gateway-id":
		return []string{g.ID}, true
	case "owner-id":
		return []string{g.OwnerID}, true
	case "attachment.vpc-id":
		if g.VPCID == "" {
			return nil, true
		}
		return []string{g.VPCID}, true
	case "attachment.state":
		if g.VPCID == "" {
			return nil, true
		}
		return []string{"available"}, true
	}
	return nil, false
}

// hasPublicLocked says whether an ENI of a VPC, stored or being made, has a
// public address.
func (c *Cloud) hasPublicLocked(vpcID string) bool {
	for e := range c.heldENIs() {
		if e.VPCID == vpcID && slices.ContainsFunc(e.PrivateIPs, func(ip PrivateIP) bool { return ip.Public.IsValid() }) {
			return true
		}
	}
	return false
}

// markerDefaultGateways says the database keeps internet gateways: a default
// VPC without one since is one whose owner took it away.
const markerDefaultGateways = "default-gateways-kept"

// ensureDefaultGatewaysLocked gives, once, each default VPC stored before
// vpcsim kept internet gateways the gateway AWS gives it, routed from its
// main table unless that table already routes 0.0.0.0/0.
func (c *Cloud) ensureDefaultGatewaysLocked() {
	m := c.model()
	if get(m.markers, markerDefaultGateways) != nil {
		return
	}
	marker := markerDefaultGateways
	m.markers.Put(&marker)
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		if !v.IsDefault || c.igwOfVPCLocked(v.ID) != nil {
			continue
		}
		g := c.newIGWLocked(v.Region, nil)
		g.VPCID = v.ID
		m.igws.Put(g)
		if main := c.mainRouteTableLocked(v.ID); main != nil && !slices.ContainsFunc(main.Routes, func(r Route) bool { return r.Dest.Bits() == 0 && r.Dest.Addr().Is4() }) {
			main = edit(m.rts, main.ID)
			main.Routes = append(main.Routes, defaultRouteTo(g.ID))
		}
	}
}

// defaultRouteTo is a default VPC's route to its internet gateway.
func defaultRouteTo(igwID string) Route {
	return Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateway: igwID, Origin: originRoute}
}
