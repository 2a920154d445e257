package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type natGatewayAddressXML struct {
	AllocationID       string `xml:"allocationId,omitempty"`
	NetworkInterfaceID string `xml:"networkInterfaceId,omitempty"`
	PrivateIP          string `xml:"privateIp,omitempty"`
	PublicIP           string `xml:"publicIp,omitempty"`
	AssociationID      string `xml:"associationId,omitempty"`
	IsPrimary          bool   `xml:"isPrimary"`
	Status             string `xml:"status"`
}

// natGatewayXML is the model's NatGateway.
type natGatewayXML struct {
	CreateTime          timestamp                 `xml:"createTime"`
	DeleteTime          *timestamp                `xml:"deleteTime,omitempty"`
	FailureCode         string                    `xml:"failureCode,omitempty"`
	FailureMessage      string                    `xml:"failureMessage,omitempty"`
	NatGatewayAddresses set[natGatewayAddressXML] `xml:"natGatewayAddressSet"`
	NatGatewayID        string                    `xml:"natGatewayId"`
	State               string                    `xml:"state"`
	SubnetID            string                    `xml:"subnetId"`
	VpcID               string                    `xml:"vpcId"`
	Tags                set[tagXML]               `xml:"tagSet"`
	ConnectivityType    string                    `xml:"connectivityType"`
	AvailabilityMode    string                    `xml:"availabilityMode"`
}

func toNATXML(g ec2sim.NatGateway) natGatewayXML {
	x := natGatewayXML{
		CreateTime: timestamp(g.CreateTime), FailureCode: g.FailureCode, FailureMessage: g.FailureMessage,
		NatGatewayAddresses: set[natGatewayAddressXML]{}, NatGatewayID: g.ID, State: g.State, SubnetID: g.SubnetID,
		VpcID: g.VPCID, Tags: tagSet(g.Tags), ConnectivityType: g.ConnectivityType, AvailabilityMode: "zonal",
	}
	if !g.DeleteTime.IsZero() {
		t := timestamp(g.DeleteTime)
		x.DeleteTime = &t
	}
	if g.PrivateIP.IsValid() {
		status := "succeeded"
		if g.State == "deleted" {
			status = "disassociating"
		}
		x.NatGatewayAddresses = append(x.NatGatewayAddresses, natGatewayAddressXML{
			AllocationID: g.AllocationID, NetworkInterfaceID: g.ENIID, PrivateIP: g.PrivateIP.String(), PublicIP: addrString(g.PublicIP),
			AssociationID: g.AssociationID, IsPrimary: true, Status: status,
		})
	}
	return x
}

// CreateNatGateway

type createNatGatewayRequest struct {
	dryRunParam
	SubnetID                       string         `query:"SubnetId"`
	AllocationID                   string         `query:"AllocationId"`
	ConnectivityType               string         `query:"ConnectivityType"`
	PrivateIPAddress               string         `query:"PrivateIpAddress"`
	ClientToken                    string         `query:"ClientToken"`
	SecondaryAllocationIDs         []string       `query:"SecondaryAllocationId"`
	SecondaryPrivateIPAddresses    []string       `query:"SecondaryPrivateIpAddress"`
	SecondaryPrivateIPAddressCount int            `query:"SecondaryPrivateIpAddressCount"`
	TagSpecifications              []tagSpecParam `query:"TagSpecification"`
}

type createNatGatewayResponse struct {
	responseMeta
	ClientToken string        `xml:"clientToken,omitempty"`
	NatGateway  natGatewayXML `xml:"natGateway"`
}

func (h *Handler) createNatGateway(ctx context.Context, s ec2sim.Scope, req *createNatGatewayRequest) (*createNatGatewayResponse, error) {
	if len(req.SecondaryAllocationIDs) > 0 || len(req.SecondaryPrivateIPAddresses) > 0 || req.SecondaryPrivateIPAddressCount > 0 {
		return nil, errUnsupportedParameter("SecondaryAllocationId/SecondaryPrivateIpAddress")
	}
	tags, err := tagSpecs(req.TagSpecifications, "natgateway")
	if err != nil {
		return nil, err
	}
	g, err := h.cloud.CreateNatGateway(ctx, s, ec2sim.CreateNatGatewayInput{
		SubnetID: req.SubnetID, AllocationID: req.AllocationID, ConnectivityType: req.ConnectivityType,
		PrivateIP: req.PrivateIPAddress, ClientToken: req.ClientToken, Tags: tags["natgateway"],
	})
	if err != nil {
		return nil, err
	}
	return &createNatGatewayResponse{ClientToken: req.ClientToken, NatGateway: toNATXML(g)}, nil
}

// DeleteNatGateway

type deleteNatGatewayRequest struct {
	dryRunParam
	NatGatewayID string `query:"NatGatewayId"`
}

type deleteNatGatewayResponse struct {
	responseMeta
	NatGatewayID string `xml:"natGatewayId"`
}

func (h *Handler) deleteNatGateway(ctx context.Context, s ec2sim.Scope, req *deleteNatGatewayRequest) (*deleteNatGatewayResponse, error) {
	id, err := h.cloud.DeleteNatGateway(ctx, s, req.NatGatewayID)
	if err != nil {
		return nil, err
	}
	return &deleteNatGatewayResponse{NatGatewayID: id}, nil
}

// DescribeNatGateways

type describeNatGatewaysRequest struct {
	dryRunParam
	pageParams
	NatGatewayIDs []string      `query:"NatGatewayId"`
	Filters       []filterParam `query:"Filter"`
}

type describeNatGatewaysResponse struct {
	responseMeta
	NatGateways set[natGatewayXML] `xml:"natGatewaySet"`
	NextToken   string             `xml:"nextToken,omitempty"`
}

func (h *Handler) describeNatGateways(ctx context.Context, s ec2sim.Scope, req *describeNatGatewaysRequest) (*describeNatGatewaysResponse, error) {
	gs, err := h.cloud.DescribeNatGateways(ctx, s, req.NatGatewayIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	gs, next := page("DescribeNatGateways", gs, &req.pageParams)
	resp := &describeNatGatewaysResponse{NatGateways: set[natGatewayXML]{}, NextToken: next}
	for _, g := range gs {
		resp.NatGateways = append(resp.NatGateways, toNATXML(g))
	}
	return resp, nil
}
