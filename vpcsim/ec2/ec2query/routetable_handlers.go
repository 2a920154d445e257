package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type routeXML struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock    string `xml:"destinationIpv6CidrBlock,omitempty"`
	DestinationPrefixListID     string `xml:"destinationPrefixListId,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	InstanceOwnerID             string `xml:"instanceOwnerId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	Origin                      string `xml:"origin"`
	State                       string `xml:"state"`
}

type associationStateXML struct {
	State string `xml:"state"`
}

type routeTableAssocXML struct {
	Main                    bool                `xml:"main"`
	RouteTableAssociationID string              `xml:"routeTableAssociationId"`
	RouteTableID            string              `xml:"routeTableId"`
	SubnetID                string              `xml:"subnetId,omitempty"`
	AssociationState        associationStateXML `xml:"associationState"`
}

// routeTableXML is the model's RouteTable.
type routeTableXML struct {
	RouteTableID    string                  `xml:"routeTableId"`
	VpcID           string                  `xml:"vpcId"`
	OwnerID         string                  `xml:"ownerId"`
	Associations    set[routeTableAssocXML] `xml:"associationSet"`
	PropagatingVgws set[struct{}]           `xml:"propagatingVgwSet"`
	Routes          set[routeXML]           `xml:"routeSet"`
	Tags            set[tagXML]             `xml:"tagSet"`
}

func toRouteTableXML(rt ec2sim.RouteTableView) routeTableXML {
	x := routeTableXML{
		RouteTableID: rt.ID, VpcID: rt.VPCID, OwnerID: rt.OwnerID, Associations: set[routeTableAssocXML]{},
		PropagatingVgws: set[struct{}]{}, Routes: set[routeXML]{}, Tags: tagSet(rt.Tags),
	}
	associated := associationStateXML{State: "associated"}
	if rt.MainAssocID != "" {
		x.Associations = append(x.Associations, routeTableAssocXML{Main: true, RouteTableAssociationID: rt.MainAssocID, RouteTableID: rt.ID, AssociationState: associated})
	}
	for _, a := range rt.Assocs {
		x.Associations = append(x.Associations, routeTableAssocXML{RouteTableAssociationID: a.ID, RouteTableID: rt.ID, SubnetID: a.SubnetID, AssociationState: associated})
	}
	for _, r := range rt.Routes {
		rx := routeXML{DestinationPrefixListID: r.PrefixList, GatewayID: r.Gateway, InstanceID: r.Instance, NatGatewayID: r.NatGateway,
			NetworkInterfaceID: r.ENI, VpcPeeringConnectionID: r.Peering, EgressOnlyInternetGatewayID: r.EgressOnlyGW, Origin: r.Origin, State: r.State}
		switch {
		case r.Dest.Addr().Is4():
			rx.DestinationCidrBlock = r.Dest.String()
		case r.Dest.IsValid():
			rx.DestinationIpv6CidrBlock = r.Dest.String()
		}
		if r.Instance != "" {
			rx.InstanceOwnerID = rt.OwnerID
		}
		x.Routes = append(x.Routes, rx)
	}
	return x
}

// CreateRouteTable

type createRouteTableRequest struct {
	dryRunParam
	VpcID             string         `query:"VpcId"`
	ClientToken       string         `query:"ClientToken"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createRouteTableResponse struct {
	responseMeta
	RouteTable  routeTableXML `xml:"routeTable"`
	ClientToken string        `xml:"clientToken,omitempty"`
}

func (h *Handler) createRouteTable(ctx context.Context, s ec2sim.Scope, req *createRouteTableRequest) (*createRouteTableResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "route-table")
	if err != nil {
		return nil, err
	}
	rt, err := h.cloud.CreateRouteTable(ctx, s, req.VpcID, tags["route-table"])
	if err != nil {
		return nil, err
	}
	view := ec2sim.RouteTableView{RouteTable: rt}
	for _, r := range rt.Routes {
		view.Routes = append(view.Routes, ec2sim.RouteView{Route: r, State: "active"}) // only the local route, yet
	}
	return &createRouteTableResponse{RouteTable: toRouteTableXML(view), ClientToken: req.ClientToken}, nil
}

// DeleteRouteTable

type deleteRouteTableRequest struct {
	dryRunParam
	RouteTableID string `query:"RouteTableId"`
}

func (h *Handler) deleteRouteTable(ctx context.Context, s ec2sim.Scope, req *deleteRouteTableRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteRouteTable(ctx, s, req.RouteTableID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// AssociateRouteTable

type associateRouteTableRequest struct {
	dryRunParam
	RouteTableID string `query:"RouteTableId"`
	SubnetID     string `query:"SubnetId"`
	GatewayID    string `query:"GatewayId"`
}

type associateRouteTableResponse struct {
	responseMeta
	AssociationID    string              `xml:"associationId"`
	AssociationState associationStateXML `xml:"associationState"`
}

func (h *Handler) associateRouteTable(ctx context.Context, s ec2sim.Scope, req *associateRouteTableRequest) (*associateRouteTableResponse, error) {
	id, err := h.cloud.AssociateRouteTable(ctx, s, req.RouteTableID, req.SubnetID, req.GatewayID)
	if err != nil {
		return nil, err
	}
	return &associateRouteTableResponse{AssociationID: id, AssociationState: associationStateXML{State: "associated"}}, nil
}

// DisassociateRouteTable

type disassociateRouteTableRequest struct {
	dryRunParam
	AssociationID string `query:"AssociationId"`
}

func (h *Handler) disassociateRouteTable(ctx context.Context, s ec2sim.Scope, req *disassociateRouteTableRequest) (*returnResponse, error) {
	if err := h.cloud.DisassociateRouteTable(ctx, s, req.AssociationID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ReplaceRouteTableAssociation

type replaceRouteTableAssociationRequest struct {
	dryRunParam
	AssociationID string `query:"AssociationId"`
	RouteTableID  string `query:"RouteTableId"`
}

type replaceRouteTableAssociationResponse struct {
	responseMeta
	NewAssociationID string              `xml:"newAssociationId"`
	AssociationState associationStateXML `xml:"associationState"`
}

func (h *Handler) replaceRouteTableAssociation(ctx context.Context, s ec2sim.Scope, req *replaceRouteTableAssociationRequest) (*replaceRouteTableAssociationResponse, error) {
	id, err := h.cloud.ReplaceRouteTableAssociation(ctx, s, req.AssociationID, req.RouteTableID)
	if err != nil {
		return nil, err
	}
	return &replaceRouteTableAssociationResponse{NewAssociationID: id, AssociationState: associationStateXML{State: "associated"}}, nil
}

// CreateRoute, ReplaceRoute

type routeRequest struct {
	dryRunParam
	RouteTableID                string `query:"RouteTableId"`
	DestinationCidrBlock        string `query:"DestinationCidrBlock"`
	DestinationIpv6CidrBlock    string `query:"DestinationIpv6CidrBlock"`
	DestinationPrefixListID     string `query:"DestinationPrefixListId"`
	GatewayID                   string `query:"GatewayId"`
	NatGatewayID                string `query:"NatGatewayId"`
	NetworkInterfaceID          string `query:"NetworkInterfaceId"`
	InstanceID                  string `query:"InstanceId"`
	VpcPeeringConnectionID      string `query:"VpcPeeringConnectionId"`
	TransitGatewayID            string `query:"TransitGatewayId"`
	EgressOnlyInternetGatewayID string `query:"EgressOnlyInternetGatewayId"`
}

func (r *routeRequest) input() ec2sim.RouteInput {
	return ec2sim.RouteInput{
		TableID: r.RouteTableID, DestCIDR: r.DestinationCidrBlock, DestIPv6: r.DestinationIpv6CidrBlock, DestPrefixList: r.DestinationPrefixListID,
		Gateway: r.GatewayID, NatGateway: r.NatGatewayID, ENI: r.NetworkInterfaceID, Instance: r.InstanceID,
		Peering: r.VpcPeeringConnectionID, TransitGateway: r.TransitGatewayID, EgressOnlyGW: r.EgressOnlyInternetGatewayID,
	}
}

func (h *Handler) createRoute(ctx context.Context, s ec2sim.Scope, req *routeRequest) (*returnResponse, error) {
	if err := h.cloud.CreateRoute(ctx, s, req.input()); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// replaceRoute and deleteRoute answer <return>true</return>, as EC2's
// documented responses show, though the model gives them no output.
func (h *Handler) replaceRoute(ctx context.Context, s ec2sim.Scope, req *routeRequest) (*returnResponse, error) {
	if err := h.cloud.ReplaceRoute(ctx, s, req.input()); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DeleteRoute

type deleteRouteRequest struct {
	dryRunParam
	RouteTableID             string `query:"RouteTableId"`
	DestinationCidrBlock     string `query:"DestinationCidrBlock"`
	DestinationIpv6CidrBlock string `query:"DestinationIpv6CidrBlock"`
	DestinationPrefixListID  string `query:"DestinationPrefixListId"`
}

func (r *deleteRouteRequest) validate() error {
	if r.DestinationIpv6CidrBlock != "" && (r.DestinationCidrBlock != "" || r.DestinationPrefixListID != "") {
		// (unverified) the message.
		return errCombination("Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be specified")
	}
	return nil
}

func (h *Handler) deleteRoute(ctx context.Context, s ec2sim.Scope, req *deleteRouteRequest) (*returnResponse, error) {
	dest := req.DestinationCidrBlock
	if req.DestinationIpv6CidrBlock != "" {
		dest = req.DestinationIpv6CidrBlock
	}
	if err := h.cloud.DeleteRoute(ctx, s, req.RouteTableID, dest, req.DestinationPrefixListID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeRouteTables

type describeRouteTablesRequest struct {
	dryRunParam
	pageParams
	RouteTableIDs []string      `query:"RouteTableId"`
	Filters       []filterParam `query:"Filter"`
}

type describeRouteTablesResponse struct {
	responseMeta
	RouteTables set[routeTableXML] `xml:"routeTableSet"`
	NextToken   string             `xml:"nextToken,omitempty"`
}

func (h *Handler) describeRouteTables(ctx context.Context, s ec2sim.Scope, req *describeRouteTablesRequest) (*describeRouteTablesResponse, error) {
	rts, err := h.cloud.DescribeRouteTables(ctx, s, req.RouteTableIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	rts, next := page("DescribeRouteTables", rts, &req.pageParams)
	resp := &describeRouteTablesResponse{RouteTables: set[routeTableXML]{}, NextToken: next}
	for _, rt := range rts {
		resp.RouteTables = append(resp.RouteTables, toRouteTableXML(rt))
	}
	return resp, nil
}
