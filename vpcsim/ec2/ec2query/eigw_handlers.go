package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// egressOnlyIGWXML is the model's EgressOnlyInternetGateway: attached to
// its VPC from the start.
type egressOnlyIGWXML struct {
	Attachments                 set[igwAttachmentXML] `xml:"attachmentSet"`
	EgressOnlyInternetGatewayID string                `xml:"egressOnlyInternetGatewayId"`
	Tags                        set[tagXML]           `xml:"tagSet"`
}

func toEIGWXML(g ec2sim.EgressOnlyIGW) egressOnlyIGWXML {
	return egressOnlyIGWXML{Attachments: set[igwAttachmentXML]{{State: "attached", VpcID: g.VPCID}}, EgressOnlyInternetGatewayID: g.ID, Tags: tagSet(g.Tags)}
}

// CreateEgressOnlyInternetGateway

type createEgressOnlyIGWRequest struct {
	dryRunParam
	VpcID             string         `query:"VpcId"`
	ClientToken       string         `query:"ClientToken"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createEgressOnlyIGWResponse struct {
	responseMeta
	ClientToken               string           `xml:"clientToken,omitempty"`
	EgressOnlyInternetGateway egressOnlyIGWXML `xml:"egressOnlyInternetGateway"`
}

func (h *Handler) createEgressOnlyInternetGateway(ctx context.Context, s ec2sim.Scope, req *createEgressOnlyIGWRequest) (*createEgressOnlyIGWResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "egress-only-internet-gateway")
	if err != nil {
		return nil, err
	}
	g, err := h.cloud.CreateEgressOnlyIGW(ctx, s, req.VpcID, req.ClientToken, tags["egress-only-internet-gateway"])
	if err != nil {
		return nil, err
	}
	return &createEgressOnlyIGWResponse{ClientToken: req.ClientToken, EgressOnlyInternetGateway: toEIGWXML(g)}, nil
}

// DeleteEgressOnlyInternetGateway

type deleteEgressOnlyIGWRequest struct {
	dryRunParam
	EgressOnlyInternetGatewayID string `query:"EgressOnlyInternetGatewayId"`
}

type deleteEgressOnlyIGWResponse struct {
	responseMeta
	ReturnCode bool `xml:"returnCode"`
}

func (h *Handler) deleteEgressOnlyInternetGateway(ctx context.Context, s ec2sim.Scope, req *deleteEgressOnlyIGWRequest) (*deleteEgressOnlyIGWResponse, error) {
	if err := h.cloud.DeleteEgressOnlyIGW(ctx, s, req.EgressOnlyInternetGatewayID); err != nil {
		return nil, err
	}
	return &deleteEgressOnlyIGWResponse{ReturnCode: true}, nil
}

// DescribeEgressOnlyInternetGateways

type describeEgressOnlyIGWsRequest struct {
	dryRunParam
	pageParams
	IDs     []string      `query:"EgressOnlyInternetGatewayId"`
	Filters []filterParam `query:"Filter"`
}

type describeEgressOnlyIGWsResponse struct {
	responseMeta
	EgressOnlyInternetGateways set[egressOnlyIGWXML] `xml:"egressOnlyInternetGatewaySet"`
	NextToken                  string                `xml:"nextToken,omitempty"`
}

func (h *Handler) describeEgressOnlyInternetGateways(ctx context.Context, s ec2sim.Scope, req *describeEgressOnlyIGWsRequest) (*describeEgressOnlyIGWsResponse, error) {
	gs, err := h.cloud.DescribeEgressOnlyIGWs(ctx, s, req.IDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	gs, next := page("DescribeEgressOnlyInternetGateways", gs, &req.pageParams)
	resp := &describeEgressOnlyIGWsResponse{EgressOnlyInternetGateways: make(set[egressOnlyIGWXML], 0, len(gs)), NextToken: next}
	for _, g := range gs {
		resp.EgressOnlyInternetGateways = append(resp.EgressOnlyInternetGateways, toEIGWXML(g))
	}
	return resp, nil
}
