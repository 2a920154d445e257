package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type cidrBlockStateXML struct {
	State string `xml:"state"`
}

type vpcCIDRAssocXML struct {
	CidrBlock      string            `xml:"cidrBlock"`
	AssociationID  string            `xml:"associationId"`
	CidrBlockState cidrBlockStateXML `xml:"cidrBlockState"`
}

type vpcIpv6AssocXML struct {
	AssociationID      string            `xml:"associationId"`
	Ipv6CidrBlock      string            `xml:"ipv6CidrBlock"`
	Ipv6CidrBlockState cidrBlockStateXML `xml:"ipv6CidrBlockState"`
	NetworkBorderGroup string            `xml:"networkBorderGroup"`
	Ipv6Pool           string            `xml:"ipv6Pool"`
	// IPv6 addresses of an Amazon-provided block are public (EC2's words;
	// vpcsim's are unique local addresses, but it answers as EC2 does).
	Ipv6AddressAttribute string `xml:"ipv6AddressAttribute"`
	IPSource             string `xml:"ipSource"`
}

func toVpcIPv6XML(b ec2sim.IPv6Block) vpcIpv6AssocXML {
	state := b.State
	if state == "" {
		state = "associated"
	}
	return vpcIpv6AssocXML{AssociationID: b.ID, Ipv6CidrBlock: b.CIDR.String(), Ipv6CidrBlockState: cidrBlockStateXML{State: state},
		NetworkBorderGroup: b.NetworkBorderGroup, Ipv6Pool: "Amazon", Ipv6AddressAttribute: "public", IPSource: "amazon"}
}

// vpcXML is the model's Vpc.
type vpcXML struct {
	VpcID                   string                `xml:"vpcId"`
	OwnerID                 string                `xml:"ownerId"`
	State                   string                `xml:"state"`
	CidrBlock               string                `xml:"cidrBlock"`
	CidrBlockAssociationSet set[vpcCIDRAssocXML]  `xml:"cidrBlockAssociationSet"`
	Ipv6CidrAssociations    *set[vpcIpv6AssocXML] `xml:"ipv6CidrBlockAssociationSet,omitempty"`
	DhcpOptionsID           string                `xml:"dhcpOptionsId"`
	InstanceTenancy         string                `xml:"instanceTenancy"`
	IsDefault               bool                  `xml:"isDefault"`
	BlockPublicAccessStates *blockPublicAccessXML `xml:"blockPublicAccessStates"`
	Tags                    set[tagXML]           `xml:"tagSet,omitempty"`
}

func toVpcXML(v ec2sim.VPC) vpcXML {
	x := vpcXML{
		VpcID: v.ID, OwnerID: v.OwnerID, State: v.State, CidrBlock: v.CIDR.String(),
		CidrBlockAssociationSet: cidrAssociations(v),
		DhcpOptionsID:           v.DHCPOptionsID, InstanceTenancy: v.InstanceTenancy, IsDefault: v.IsDefault,
		BlockPublicAccessStates: bpaOff(),
		Tags:                    tagSet(v.Tags),
	}
	if len(v.IPv6) > 0 {
		x.Ipv6CidrAssociations = &set[vpcIpv6AssocXML]{}
		for _, b := range v.IPv6 {
			*x.Ipv6CidrAssociations = append(*x.Ipv6CidrAssociations, toVpcIPv6XML(b))
		}
	}
	return x
}

// CreateVpc

type createVpcRequest struct {
	dryRunParam
	CidrBlock         string         `query:"CidrBlock"`
	InstanceTenancy   string         `query:"InstanceTenancy"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
	// AmazonProvidedIpv6CidrBlock is false unless asked for (the Terraform
	// provider always sends it). BYOIP pools and IPAM are not in vpcsim.
	AmazonProvidedIpv6CidrBlock     bool   `query:"AmazonProvidedIpv6CidrBlock"`
	Ipv6CidrBlock                   string `query:"Ipv6CidrBlock"`
	Ipv6Pool                        string `query:"Ipv6Pool"`
	Ipv6CidrBlockNetworkBorderGroup string `query:"Ipv6CidrBlockNetworkBorderGroup"`
	Ipv6IpamPoolID                  string `query:"Ipv6IpamPoolId"`
	Ipv6NetmaskLength               int    `query:"Ipv6NetmaskLength"`
}

func (r *createVpcRequest) validate() error {
	if r.Ipv6CidrBlock != "" || r.Ipv6Pool != "" || r.Ipv6IpamPoolID != "" || r.Ipv6NetmaskLength != 0 {
		return errUnsupportedParameter("Ipv6CidrBlock/Ipv6Pool/Ipv6IpamPoolId (BYOIP and IPAM IPv6 blocks)")
	}
	return nil
}

type createVpcResponse struct {
	responseMeta
	Vpc vpcXML `xml:"vpc"`
}

func (h *Handler) createVpc(ctx context.Context, s ec2sim.Scope, req *createVpcRequest) (*createVpcResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "vpc")
	if err != nil {
		return nil, err
	}
	if req.Ipv6CidrBlockNetworkBorderGroup != "" && req.Ipv6CidrBlockNetworkBorderGroup != s.Region {
		// (unverified) the code and message: vpcsim has no Local Zones.
		return nil, ec2sim.Errorf("InvalidParameterValue", "Value (%s) for parameter ipv6CidrBlockNetworkBorderGroup is invalid.", req.Ipv6CidrBlockNetworkBorderGroup)
	}
	v, err := h.cloud.CreateVpc(ctx, s, ec2sim.CreateVpcInput{CIDRBlock: req.CidrBlock, InstanceTenancy: req.InstanceTenancy, Tags: tags["vpc"], AmazonProvidedIPv6: req.AmazonProvidedIpv6CidrBlock})
	if err != nil {
		return nil, err
	}
	x := toVpcXML(v)
	if x.Ipv6CidrAssociations == nil {
		x.Ipv6CidrAssociations = &set[vpcIpv6AssocXML]{} // CreateVpc answers with an empty list, Describe leaves it out
	}
	return &createVpcResponse{Vpc: x}, nil
}

// DescribeVpcs

type describeVpcsRequest struct {
	dryRunParam
	pageParams
	VpcIDs  []string      `query:"VpcId"`
	Filters []filterParam `query:"Filter"`
}

type describeVpcsResponse struct {
	responseMeta
	Vpcs      set[vpcXML] `xml:"vpcSet"`
	NextToken string      `xml:"nextToken,omitempty"`
}

func (h *Handler) describeVpcs(ctx context.Context, s ec2sim.Scope, req *describeVpcsRequest) (*describeVpcsResponse, error) {
	vpcs, err := h.cloud.DescribeVpcs(ctx, s, req.VpcIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	vpcs, next := page("DescribeVpcs", vpcs, &req.pageParams)
	resp := &describeVpcsResponse{Vpcs: make(set[vpcXML], 0, len(vpcs)), NextToken: next}
	for _, v := range vpcs {
		resp.Vpcs = append(resp.Vpcs, toVpcXML(v))
	}
	return resp, nil
}

// DeleteVpc

type deleteVpcRequest struct {
	dryRunParam
	VpcID string `query:"VpcId"`
}

func (h *Handler) deleteVpc(ctx context.Context, s ec2sim.Scope, req *deleteVpcRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteVpc(ctx, s, req.VpcID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ModifyVpcAttribute

type modifyVpcAttributeRequest struct {
	// The model gives this operation no DryRun.
	VpcID                            string    `query:"VpcId"`
	EnableDNSSupport                 *attrBool `query:"EnableDnsSupport"`
	EnableDNSHostnames               *attrBool `query:"EnableDnsHostnames"`
	EnableNetworkAddressUsageMetrics *attrBool `query:"EnableNetworkAddressUsageMetrics"`
}

func (h *Handler) modifyVpcAttribute(ctx context.Context, s ec2sim.Scope, req *modifyVpcAttributeRequest) (*returnResponse, error) {
	// Exactly one attribute per request; the domain refuses none or more (attr "").
	var attr string
	var value bool
	given := 0
	for name, b := range map[string]*attrBool{
		ec2sim.AttrEnableDNSSupport: req.EnableDNSSupport, ec2sim.AttrEnableDNSHostnames: req.EnableDNSHostnames,
		ec2sim.AttrEnableNetworkAddressUsageMetrics: req.EnableNetworkAddressUsageMetrics,
	} {
		if b != nil {
			attr, value, given = name, boolOf(b.Value), given+1
		}
	}
	if given != 1 {
		attr = ""
	}
	if err := h.cloud.ModifyVpcAttribute(ctx, s, req.VpcID, attr, value); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeVpcAttribute

type describeVpcAttributeRequest struct {
	dryRunParam
	VpcID     string `query:"VpcId"`
	Attribute string `query:"Attribute"`
}

type describeVpcAttributeResponse struct {
	responseMeta
	VpcID                            string       `xml:"vpcId"`
	EnableDNSSupport                 *attrBoolXML `xml:"enableDnsSupport,omitempty"`
	EnableDNSHostnames               *attrBoolXML `xml:"enableDnsHostnames,omitempty"`
	EnableNetworkAddressUsageMetrics *attrBoolXML `xml:"enableNetworkAddressUsageMetrics,omitempty"`
}

func (h *Handler) describeVpcAttribute(ctx context.Context, s ec2sim.Scope, req *describeVpcAttributeRequest) (*describeVpcAttributeResponse, error) {
	v, err := h.cloud.DescribeVpcAttribute(ctx, s, req.VpcID, req.Attribute)
	if err != nil {
		return nil, err
	}
	resp := &describeVpcAttributeResponse{VpcID: req.VpcID}
	switch req.Attribute {
	case ec2sim.AttrEnableDNSSupport:
		resp.EnableDNSSupport = &attrBoolXML{Value: v}
	case ec2sim.AttrEnableDNSHostnames:
		resp.EnableDNSHostnames = &attrBoolXML{Value: v}
	case ec2sim.AttrEnableNetworkAddressUsageMetrics:
		resp.EnableNetworkAddressUsageMetrics = &attrBoolXML{Value: v}
	}
	return resp, nil
}

// boolOf reads an optional boolean input; an AttributeBooleanValue without Value
// is false, as EC2 reads it.
func boolOf(b *bool) bool { return b != nil && *b }

// cidrAssociations are a VPC's IPv4 blocks as DescribeVpcs answers them, the
// primary first.
func cidrAssociations(v ec2sim.VPC) set[vpcCIDRAssocXML] {
	out := set[vpcCIDRAssocXML]{{CidrBlock: v.CIDR.String(), AssociationID: v.CIDRAssociationID, CidrBlockState: cidrBlockStateXML{State: "associated"}}}
	for _, a := range v.Secondary {
		out = append(out, vpcCIDRAssocXML{CidrBlock: a.CIDR.String(), AssociationID: a.ID, CidrBlockState: cidrBlockStateXML{State: "associated"}})
	}
	return out
}

// AssociateVpcCidrBlock, DisassociateVpcCidrBlock: secondary IPv4 blocks
// and Amazon-provided IPv6 blocks. BYOIP and IPAM pools are not in vpcsim.

type associateVpcCidrBlockRequest struct {
	VpcID                           string `query:"VpcId"`
	CidrBlock                       string `query:"CidrBlock"`
	AmazonProvidedIpv6CidrBlock     bool   `query:"AmazonProvidedIpv6CidrBlock"`
	Ipv6CidrBlock                   string `query:"Ipv6CidrBlock"`
	Ipv6Pool                        string `query:"Ipv6Pool"`
	Ipv6CidrBlockNetworkBorderGroup string `query:"Ipv6CidrBlockNetworkBorderGroup"`
	Ipv6IpamPoolID                  string `query:"Ipv6IpamPoolId"`
	Ipv6NetmaskLength               int    `query:"Ipv6NetmaskLength"`
	Ipv4IpamPoolID                  string `query:"Ipv4IpamPoolId"`
	Ipv4NetmaskLength               int    `query:"Ipv4NetmaskLength"`
}

type vpcCidrBlockResponse struct {
	responseMeta
	Ipv6CidrBlockAssociation *vpcIpv6AssocXML `xml:"ipv6CidrBlockAssociation,omitempty"`
	CidrBlockAssociation     *vpcCIDRAssocXML `xml:"cidrBlockAssociation,omitempty"`
	VpcID                    string           `xml:"vpcId"`
}

func (h *Handler) associateVpcCidrBlock(ctx context.Context, s ec2sim.Scope, req *associateVpcCidrBlockRequest) (*vpcCidrBlockResponse, error) {
	switch {
	case req.Ipv6CidrBlock != "" || req.Ipv6Pool != "" || req.Ipv6IpamPoolID != "" || req.Ipv6NetmaskLength != 0:
		return nil, errUnsupportedParameter("Ipv6CidrBlock/Ipv6Pool/Ipv6IpamPoolId (BYOIP and IPAM IPv6 blocks)")
	case req.Ipv4IpamPoolID != "" || req.Ipv4NetmaskLength != 0:
		return nil, errUnsupportedParameter("Ipv4IpamPoolId/Ipv4NetmaskLength (IPAM)")
	case req.AmazonProvidedIpv6CidrBlock && req.CidrBlock != "":
		// (unverified) the message.
		return nil, errCombination("Only one of cidrBlock or amazonProvidedIpv6CidrBlock may be specified")
	case req.AmazonProvidedIpv6CidrBlock:
		b, err := h.cloud.AssociateVpcIPv6(ctx, s, ec2sim.AssociateVpcIPv6Input{VPCID: req.VpcID, NetworkBorderGroup: req.Ipv6CidrBlockNetworkBorderGroup})
		if err != nil {
			return nil, err
		}
		x := toVpcIPv6XML(b)
		return &vpcCidrBlockResponse{VpcID: req.VpcID, Ipv6CidrBlockAssociation: &x}, nil
	}
	a, err := h.cloud.AssociateVpcCIDR(ctx, s, req.VpcID, req.CidrBlock)
	if err != nil {
		return nil, err
	}
	return &vpcCidrBlockResponse{VpcID: req.VpcID, CidrBlockAssociation: &vpcCIDRAssocXML{
		CidrBlock: a.CIDR.String(), AssociationID: a.ID, CidrBlockState: cidrBlockStateXML{State: "associating"},
	}}, nil
}

type disassociateVpcCidrBlockRequest struct {
	AssociationID string `query:"AssociationId"`
}

func (h *Handler) disassociateVpcCidrBlock(ctx context.Context, s ec2sim.Scope, req *disassociateVpcCidrBlockRequest) (*vpcCidrBlockResponse, error) {
	a, vpcID, err := h.cloud.DisassociateVpcCIDR(ctx, s, req.AssociationID)
	if err != nil {
		return nil, err
	}
	if a.CIDR.Addr().Is6() {
		x := toVpcIPv6XML(ec2sim.IPv6Block{ID: a.ID, CIDR: a.CIDR, NetworkBorderGroup: s.Region, State: "disassociating"})
		return &vpcCidrBlockResponse{VpcID: vpcID, Ipv6CidrBlockAssociation: &x}, nil
	}
	return &vpcCidrBlockResponse{VpcID: vpcID, CidrBlockAssociation: &vpcCIDRAssocXML{
		CidrBlock: a.CIDR.String(), AssociationID: a.ID, CidrBlockState: cidrBlockStateXML{State: "disassociating"},
	}}, nil
}
