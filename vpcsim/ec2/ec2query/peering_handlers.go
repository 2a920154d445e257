package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type peeringOptionsXML struct {
	AllowDNSResolutionFromRemoteVpc            bool `xml:"allowDnsResolutionFromRemoteVpc"`
	AllowEgressFromLocalClassicLinkToRemoteVpc bool `xml:"allowEgressFromLocalClassicLinkToRemoteVpc"`
	AllowEgressFromLocalVpcToRemoteClassicLink bool `xml:"allowEgressFromLocalVpcToRemoteClassicLink"`
}

type cidrBlockXML struct {
	CidrBlock string `xml:"cidrBlock"`
}

// peeringVpcInfoXML is one side of a connection. Its range and options are
// answered for the requester, and for the accepter once the connection is
// active: as EC2 does, a request shows only who it waits for.
type peeringVpcInfoXML struct {
	CidrBlock      string             `xml:"cidrBlock,omitempty"`
	CidrBlockSet   *set[cidrBlockXML] `xml:"cidrBlockSet,omitempty"`
	OwnerID        string             `xml:"ownerId"`
	PeeringOptions *peeringOptionsXML `xml:"peeringOptions,omitempty"`
	VpcID          string             `xml:"vpcId"`
	Region         string             `xml:"region"`
}

type peeringStatusXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// vpcPeeringConnectionXML is the model's VpcPeering.
type vpcPeeringConnectionXML struct {
	AccepterVpcInfo        peeringVpcInfoXML `xml:"accepterVpcInfo"`
	ExpirationTime         *timestamp        `xml:"expirationTime,omitempty"`
	RequesterVpcInfo       peeringVpcInfoXML `xml:"requesterVpcInfo"`
	Status                 peeringStatusXML  `xml:"status"`
	Tags                   set[tagXML]       `xml:"tagSet"`
	VpcPeeringConnectionID string            `xml:"vpcPeeringConnectionId"`
}

func toPeeringOptionsXML(side ec2sim.PeeringSide) *peeringOptionsXML {
	return &peeringOptionsXML{
		AllowDNSResolutionFromRemoteVpc:            side.AllowDNSResolution,
		AllowEgressFromLocalClassicLinkToRemoteVpc: side.AllowClassicToVPC,
		AllowEgressFromLocalVpcToRemoteClassicLink: side.AllowVPCToClassic,
	}
}

func toPeeringVpcInfoXML(side ec2sim.PeeringSide, full bool) peeringVpcInfoXML {
	x := peeringVpcInfoXML{OwnerID: side.OwnerID, VpcID: side.VPCID, Region: side.Region}
	if full && side.CIDR.IsValid() {
		x.CidrBlock = side.CIDR.String()
		x.CidrBlockSet = &set[cidrBlockXML]{{CidrBlock: x.CidrBlock}}
		for _, p := range side.Secondary {
			*x.CidrBlockSet = append(*x.CidrBlockSet, cidrBlockXML{CidrBlock: p.String()})
		}
		x.PeeringOptions = toPeeringOptionsXML(side)
	}
	return x
}

func toPeeringXML(p ec2sim.VpcPeering) vpcPeeringConnectionXML {
	x := vpcPeeringConnectionXML{
		AccepterVpcInfo:  toPeeringVpcInfoXML(p.Accepter, p.State == "active" || p.State == "provisioning"),
		RequesterVpcInfo: toPeeringVpcInfoXML(p.Requester, true),
		Status:           peeringStatusXML{Code: p.State, Message: p.StatusMessage()},
		Tags:             tagSet(p.Tags), VpcPeeringConnectionID: p.ID,
	}
	if t := p.ExpirationTime(); !t.IsZero() {
		ts := timestamp(t)
		x.ExpirationTime = &ts
	}
	return x
}

// CreateVpcPeeringConnection

type createVpcPeeringConnectionRequest struct {
	dryRunParam
	VpcID             string         `query:"VpcId"`
	PeerVpcID         string         `query:"PeerVpcId"`
	PeerOwnerID       string         `query:"PeerOwnerId"`
	PeerRegion        string         `query:"PeerRegion"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type vpcPeeringConnectionResponse struct {
	responseMeta
	VpcPeeringConnection vpcPeeringConnectionXML `xml:"vpcPeeringConnection"`
}

func (h *Handler) createVpcPeeringConnection(ctx context.Context, s ec2sim.Scope, req *createVpcPeeringConnectionRequest) (*vpcPeeringConnectionResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "vpc-peering-connection")
	if err != nil {
		return nil, err
	}
	p, err := h.cloud.CreateVpcPeering(ctx, s, ec2sim.CreatePeeringInput{
		VPCID: req.VpcID, PeerVPCID: req.PeerVpcID, PeerOwnerID: req.PeerOwnerID, PeerRegion: req.PeerRegion, Tags: tags["vpc-peering-connection"],
	})
	if err != nil {
		return nil, err
	}
	return &vpcPeeringConnectionResponse{VpcPeeringConnection: toPeeringXML(p)}, nil
}

// AcceptVpcPeeringConnection, RejectVpcPeeringConnection, DeleteVpcPeeringConnection

type vpcPeeringConnectionIDRequest struct {
	dryRunParam
	VpcPeeringConnectionID string `query:"VpcPeeringConnectionId"`
}

func (h *Handler) acceptVpcPeeringConnection(ctx context.Context, s ec2sim.Scope, req *vpcPeeringConnectionIDRequest) (*vpcPeeringConnectionResponse, error) {
	p, err := h.cloud.AcceptVpcPeering(ctx, s, req.VpcPeeringConnectionID)
	if err != nil {
		return nil, err
	}
	return &vpcPeeringConnectionResponse{VpcPeeringConnection: toPeeringXML(p)}, nil
}

func (h *Handler) rejectVpcPeeringConnection(ctx context.Context, s ec2sim.Scope, req *vpcPeeringConnectionIDRequest) (*returnResponse, error) {
	if err := h.cloud.RejectVpcPeering(ctx, s, req.VpcPeeringConnectionID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *Handler) deleteVpcPeeringConnection(ctx context.Context, s ec2sim.Scope, req *vpcPeeringConnectionIDRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteVpcPeering(ctx, s, req.VpcPeeringConnectionID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeVpcPeeringConnections

type describeVpcPeeringConnectionsRequest struct {
	dryRunParam
	pageParams
	VpcPeeringConnectionIDs []string      `query:"VpcPeeringConnectionId"`
	Filters                 []filterParam `query:"Filter"`
}

type describeVpcPeeringConnectionsResponse struct {
	responseMeta
	VpcPeeringConnections set[vpcPeeringConnectionXML] `xml:"vpcPeeringConnectionSet"`
	NextToken             string                       `xml:"nextToken,omitempty"`
}

func (h *Handler) describeVpcPeeringConnections(ctx context.Context, s ec2sim.Scope, req *describeVpcPeeringConnectionsRequest) (*describeVpcPeeringConnectionsResponse, error) {
	ps, err := h.cloud.DescribeVpcPeerings(ctx, s, req.VpcPeeringConnectionIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	ps, next := page("DescribeVpcPeeringConnections", ps, &req.pageParams)
	resp := &describeVpcPeeringConnectionsResponse{VpcPeeringConnections: set[vpcPeeringConnectionXML]{}, NextToken: next}
	for _, p := range ps {
		resp.VpcPeeringConnections = append(resp.VpcPeeringConnections, toPeeringXML(p))
	}
	return resp, nil
}

// ModifyVpcPeeringConnectionOptions

type peeringOptionsParam struct {
	AllowDNSResolutionFromRemoteVpc            *bool `query:"AllowDnsResolutionFromRemoteVpc"`
	AllowEgressFromLocalClassicLinkToRemoteVpc *bool `query:"AllowEgressFromLocalClassicLinkToRemoteVpc"`
	AllowEgressFromLocalVpcToRemoteClassicLink *bool `query:"AllowEgressFromLocalVpcToRemoteClassicLink"`
}

func (p *peeringOptionsParam) options() *ec2sim.PeeringOptions {
	if p == nil {
		return nil
	}
	return &ec2sim.PeeringOptions{
		AllowDNSResolution: p.AllowDNSResolutionFromRemoteVpc,
		AllowClassicToVPC:  p.AllowEgressFromLocalClassicLinkToRemoteVpc,
		AllowVPCToClassic:  p.AllowEgressFromLocalVpcToRemoteClassicLink,
	}
}

type modifyVpcPeeringConnectionOptionsRequest struct {
	dryRunParam
	VpcPeeringConnectionID            string               `query:"VpcPeeringConnectionId"`
	AccepterPeeringConnectionOptions  *peeringOptionsParam `query:"AccepterPeeringConnectionOptions"`
	RequesterPeeringConnectionOptions *peeringOptionsParam `query:"RequesterPeeringConnectionOptions"`
}

type modifyVpcPeeringConnectionOptionsResponse struct {
	responseMeta
	AccepterPeeringConnectionOptions  *peeringOptionsXML `xml:"accepterPeeringConnectionOptions,omitempty"`
	RequesterPeeringConnectionOptions *peeringOptionsXML `xml:"requesterPeeringConnectionOptions,omitempty"`
}

func (h *Handler) modifyVpcPeeringConnectionOptions(ctx context.Context, s ec2sim.Scope, req *modifyVpcPeeringConnectionOptionsRequest) (*modifyVpcPeeringConnectionOptionsResponse, error) {
	requester, accepter, err := h.cloud.ModifyVpcPeeringOptions(ctx, s, ec2sim.PeeringOptionsInput{
		ID: req.VpcPeeringConnectionID, Requester: req.RequesterPeeringConnectionOptions.options(), Accepter: req.AccepterPeeringConnectionOptions.options(),
	})
	if err != nil {
		return nil, err
	}
	resp := &modifyVpcPeeringConnectionOptionsResponse{}
	// Each side's options are answered when the request set them.
	if req.AccepterPeeringConnectionOptions != nil {
		resp.AccepterPeeringConnectionOptions = toPeeringOptionsXML(accepter)
	}
	if req.RequesterPeeringConnectionOptions != nil {
		resp.RequesterPeeringConnectionOptions = toPeeringOptionsXML(requester)
	}
	return resp, nil
}
