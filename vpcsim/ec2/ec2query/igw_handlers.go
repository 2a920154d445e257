package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type igwAttachmentXML struct {
	State string `xml:"state"`
	VpcID string `xml:"vpcId"`
}

// internetGatewayXML is the model's InternetGateway.
type internetGatewayXML struct {
	Attachments       set[igwAttachmentXML] `xml:"attachmentSet"`
	InternetGatewayID string                `xml:"internetGatewayId"`
	OwnerID           string                `xml:"ownerId"`
	Tags              set[tagXML]           `xml:"tagSet"`
}

func toIGWXML(g ec2sim.InternetGateway) internetGatewayXML {
	x := internetGatewayXML{Attachments: set[igwAttachmentXML]{}, InternetGatewayID: g.ID, OwnerID: g.OwnerID, Tags: tagSet(g.Tags)}
	if g.VPCID != "" {
		// An attachment is "available" at once: nothing in the kernel waits.
		x.Attachments = append(x.Attachments, igwAttachmentXML{State: "available", VpcID: g.VPCID})
	}
	return x
}

// CreateInternetGateway

type createInternetGatewayRequest struct {
	dryRunParam
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createInternetGatewayResponse struct {
	responseMeta
	InternetGateway internetGatewayXML `xml:"internetGateway"`
}

func (h *Handler) createInternetGateway(ctx context.Context, s ec2sim.Scope, req *createInternetGatewayRequest) (*createInternetGatewayResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "internet-gateway")
	if err != nil {
		return nil, err
	}
	g, err := h.cloud.CreateInternetGateway(ctx, s, tags["internet-gateway"])
	if err != nil {
		return nil, err
	}
	return &createInternetGatewayResponse{InternetGateway: toIGWXML(g)}, nil
}

// AttachInternetGateway, DetachInternetGateway

type igwAttachRequest struct {
	dryRunParam
	InternetGatewayID string `query:"InternetGatewayId"`
	VpcID             string `query:"VpcId"`
}

func (h *Handler) attachInternetGateway(ctx context.Context, s ec2sim.Scope, req *igwAttachRequest) (*returnResponse, error) {
	if err := h.cloud.AttachInternetGateway(ctx, s, req.InternetGatewayID, req.VpcID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *Handler) detachInternetGateway(ctx context.Context, s ec2sim.Scope, req *igwAttachRequest) (*returnResponse, error) {
	if err := h.cloud.DetachInternetGateway(ctx, s, req.InternetGatewayID, req.VpcID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DeleteInternetGateway

type deleteInternetGatewayRequest struct {
	dryRunParam
	InternetGatewayID string `query:"InternetGatewayId"`
}

func (h *Handler) deleteInternetGateway(ctx context.Context, s ec2sim.Scope, req *deleteInternetGatewayRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteInternetGateway(ctx, s, req.InternetGatewayID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeInternetGateways

type describeInternetGatewaysRequest struct {
	dryRunParam
	pageParams
	InternetGatewayIDs []string      `query:"InternetGatewayId"`
	Filters            []filterParam `query:"Filter"`
}

type describeInternetGatewaysResponse struct {
	responseMeta
	InternetGateways set[internetGatewayXML] `xml:"internetGatewaySet"`
	NextToken        string                  `xml:"nextToken,omitempty"`
}

func (h *Handler) describeInternetGateways(ctx context.Context, s ec2sim.Scope, req *describeInternetGatewaysRequest) (*describeInternetGatewaysResponse, error) {
	gs, err := h.cloud.DescribeInternetGateways(ctx, s, req.InternetGatewayIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	gs, next := page("DescribeInternetGateways", gs, &req.pageParams)
	resp := &describeInternetGatewaysResponse{InternetGateways: set[internetGatewayXML]{}, NextToken: next}
	for _, g := range gs {
		resp.InternetGateways = append(resp.InternetGateways, toIGWXML(g))
	}
	return resp, nil
}
