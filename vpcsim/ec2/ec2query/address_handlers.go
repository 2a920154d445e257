package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// addressXML is the model's Address (an Elastic IP).
type addressXML struct {
	AllocationID            string      `xml:"allocationId"`
	AssociationID           string      `xml:"associationId,omitempty"`
	Domain                  string      `xml:"domain"`
	InstanceID              string      `xml:"instanceId,omitempty"`
	NetworkBorderGroup      string      `xml:"networkBorderGroup"`
	NetworkInterfaceID      string      `xml:"networkInterfaceId,omitempty"`
	NetworkInterfaceOwnerID string      `xml:"networkInterfaceOwnerId,omitempty"`
	PrivateIPAddress        string      `xml:"privateIpAddress,omitempty"`
	PublicIP                string      `xml:"publicIp"`
	PublicIPv4Pool          string      `xml:"publicIpv4Pool"`
	Tags                    set[tagXML] `xml:"tagSet"`
}

func toAddressXML(s ec2sim.Scope, a ec2sim.AddressView) addressXML {
	return addressXML{
		AllocationID: a.ID, AssociationID: a.AssociationID, Domain: "vpc", InstanceID: a.InstanceID,
		NetworkBorderGroup: s.Region, NetworkInterfaceID: a.ENIID, NetworkInterfaceOwnerID: a.ENIOwnerID,
		PrivateIPAddress: addrString(a.PrivateIP), PublicIP: a.Public.String(), PublicIPv4Pool: "amazon", Tags: tagSet(a.Tags),
	}
}

// AllocateAddress

type allocateAddressRequest struct {
	dryRunParam
	Domain                string         `query:"Domain"`
	Address               string         `query:"Address"`
	PublicIpv4Pool        string         `query:"PublicIpv4Pool"`
	NetworkBorderGroup    string         `query:"NetworkBorderGroup"`
	CustomerOwnedIpv4Pool string         `query:"CustomerOwnedIpv4Pool"`
	IpamPoolID            string         `query:"IpamPoolId"`
	TagSpecifications     []tagSpecParam `query:"TagSpecification"`
}

type allocateAddressResponse struct {
	responseMeta
	PublicIP           string `xml:"publicIp"`
	AllocationID       string `xml:"allocationId"`
	PublicIPv4Pool     string `xml:"publicIpv4Pool"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
	Domain             string `xml:"domain"`
}

func (h *Handler) allocateAddress(ctx context.Context, s ec2sim.Scope, req *allocateAddressRequest) (*allocateAddressResponse, error) {
	switch {
	case req.CustomerOwnedIpv4Pool != "":
		return nil, clientError("InvalidParameterValue", "Customer-owned IP pools (Outposts) do not exist in vpcsim.")
	case req.IpamPoolID != "":
		return nil, clientError("InvalidIpamPoolId.NotFound", "The ipam pool ID '%s' does not exist", req.IpamPoolID)
	}
	tags, err := tagSpecs(req.TagSpecifications, "elastic-ip")
	if err != nil {
		return nil, err
	}
	a, err := h.cloud.AllocateAddress(ctx, s, ec2sim.AllocateAddressInput{
		Domain: req.Domain, Address: req.Address, PublicIPv4Pool: req.PublicIpv4Pool,
		NetworkBorderGroup: req.NetworkBorderGroup, Tags: tags["elastic-ip"],
	})
	if err != nil {
		return nil, err
	}
	return &allocateAddressResponse{PublicIP: a.Public.String(), AllocationID: a.ID, PublicIPv4Pool: "amazon", NetworkBorderGroup: s.Region, Domain: "vpc"}, nil
}

// AssociateAddress

type associateAddressRequest struct {
	dryRunParam
	AllocationID       string `query:"AllocationId"`
	PublicIP           string `query:"PublicIp"`
	InstanceID         string `query:"InstanceId"`
	NetworkInterfaceID string `query:"NetworkInterfaceId"`
	PrivateIPAddress   string `query:"PrivateIpAddress"`
	AllowReassociation bool   `query:"AllowReassociation"`
}

type associateAddressResponse struct {
	responseMeta
	AssociationID string `xml:"associationId"`
}

func (h *Handler) associateAddress(ctx context.Context, s ec2sim.Scope, req *associateAddressRequest) (*associateAddressResponse, error) {
	id, err := h.cloud.AssociateAddress(ctx, s, ec2sim.AssociateAddressInput{
		AllocationID: req.AllocationID, PublicIP: req.PublicIP, InstanceID: req.InstanceID, ENIID: req.NetworkInterfaceID,
		PrivateIP: req.PrivateIPAddress, AllowReassociation: req.AllowReassociation,
	})
	if err != nil {
		return nil, err
	}
	return &associateAddressResponse{AssociationID: id}, nil
}

// DisassociateAddress

type disassociateAddressRequest struct {
	dryRunParam
	AssociationID string `query:"AssociationId"`
	PublicIP      string `query:"PublicIp"`
}

func (h *Handler) disassociateAddress(ctx context.Context, s ec2sim.Scope, req *disassociateAddressRequest) (*returnResponse, error) {
	if err := h.cloud.DisassociateAddress(ctx, s, req.AssociationID, req.PublicIP); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ReleaseAddress

type releaseAddressRequest struct {
	dryRunParam
	AllocationID       string `query:"AllocationId"`
	PublicIP           string `query:"PublicIp"`
	NetworkBorderGroup string `query:"NetworkBorderGroup"`
}

func (h *Handler) releaseAddress(ctx context.Context, s ec2sim.Scope, req *releaseAddressRequest) (*returnResponse, error) {
	if req.NetworkBorderGroup != "" && req.NetworkBorderGroup != s.Region {
		return nil, errInvalidValue("The network border group '%s' is invalid.", req.NetworkBorderGroup)
	}
	if err := h.cloud.ReleaseAddress(ctx, s, req.AllocationID, req.PublicIP); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeAddresses

type describeAddressesRequest struct {
	dryRunParam
	AllocationIDs []string      `query:"AllocationId"`
	PublicIPs     []string      `query:"PublicIp"`
	Filters       []filterParam `query:"Filter"`
}

type describeAddressesResponse struct {
	responseMeta
	Addresses set[addressXML] `xml:"addressesSet"`
}

func (h *Handler) describeAddresses(ctx context.Context, s ec2sim.Scope, req *describeAddressesRequest) (*describeAddressesResponse, error) {
	as, err := h.cloud.DescribeAddresses(ctx, s, req.AllocationIDs, req.PublicIPs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	resp := &describeAddressesResponse{Addresses: set[addressXML]{}}
	for _, a := range as {
		resp.Addresses = append(resp.Addresses, toAddressXML(s, a))
	}
	return resp, nil
}
