package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type subnetIpv6AssocXML struct {
	AssociationID        string            `xml:"associationId"`
	Ipv6CidrBlock        string            `xml:"ipv6CidrBlock"`
	Ipv6CidrBlockState   cidrBlockStateXML `xml:"ipv6CidrBlockState"`
	Ipv6AddressAttribute string            `xml:"ipv6AddressAttribute"`
	IPSource             string            `xml:"ipSource"`
}

func toSubnetIPv6XML(b ec2sim.SubnetIPv6Block) subnetIpv6AssocXML {
	state := b.State
	if state == "" {
		state = "associated"
	}
	return subnetIpv6AssocXML{AssociationID: b.ID, Ipv6CidrBlock: b.CIDR.String(), Ipv6CidrBlockState: cidrBlockStateXML{State: state},
		Ipv6AddressAttribute: "public", IPSource: "amazon"}
}

type privateDNSNameOptionsXML struct {
	HostnameType                    string `xml:"hostnameType"`
	EnableResourceNameDNSARecord    bool   `xml:"enableResourceNameDnsARecord"`
	EnableResourceNameDNSAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
}

func ipNameOptions() *privateDNSNameOptionsXML {
	return &privateDNSNameOptionsXML{HostnameType: "ip-name"}
}

// subnetNameOptions are a subnet's options for its instances' names.
func subnetNameOptions(sn ec2sim.Subnet) *privateDNSNameOptionsXML {
	o := &privateDNSNameOptionsXML{HostnameType: sn.HostnameType, EnableResourceNameDNSARecord: sn.DNSARecord, EnableResourceNameDNSAAAARecord: sn.DNSAAAARecord}
	if o.HostnameType == "" {
		o.HostnameType = "ip-name"
	}
	return o
}

// subnetXML is the model's Subnet.
type subnetXML struct {
	SubnetID                    string                    `xml:"subnetId"`
	SubnetArn                   string                    `xml:"subnetArn"`
	State                       string                    `xml:"state"`
	VpcID                       string                    `xml:"vpcId"`
	OwnerID                     string                    `xml:"ownerId"`
	CidrBlock                   string                    `xml:"cidrBlock,omitempty"`
	Ipv6CidrBlockAssociations   set[subnetIpv6AssocXML]   `xml:"ipv6CidrBlockAssociationSet"`
	AvailableIPAddressCount     int                       `xml:"availableIpAddressCount"`
	AvailabilityZone            string                    `xml:"availabilityZone"`
	AvailabilityZoneID          string                    `xml:"availabilityZoneId"`
	DefaultForAz                bool                      `xml:"defaultForAz"`
	MapPublicIPOnLaunch         bool                      `xml:"mapPublicIpOnLaunch"`
	MapCustomerOwnedIPOnLaunch  bool                      `xml:"mapCustomerOwnedIpOnLaunch"`
	AssignIpv6AddressOnCreation bool                      `xml:"assignIpv6AddressOnCreation"`
	EnableDNS64                 bool                      `xml:"enableDns64"`
	Ipv6Native                  bool                      `xml:"ipv6Native"`
	PrivateDNSNameOptions       *privateDNSNameOptionsXML `xml:"privateDnsNameOptionsOnLaunch"`
	BlockPublicAccessStates     *blockPublicAccessXML     `xml:"blockPublicAccessStates"`
	Tags                        set[tagXML]               `xml:"tagSet,omitempty"`
}

func (h *Handler) toSubnetXML(s ec2sim.Scope, sn ec2sim.Subnet) subnetXML {
	x := subnetXML{
		SubnetID: sn.ID, SubnetArn: arn(s, sn.OwnerID, "subnet/"+sn.ID), State: sn.State,
		VpcID: sn.VPCID, OwnerID: sn.OwnerID,
		Ipv6CidrBlockAssociations:   set[subnetIpv6AssocXML]{},
		AssignIpv6AddressOnCreation: sn.AssignIPv6OnCreation, EnableDNS64: sn.EnableDNS64, Ipv6Native: sn.IPv6Native,
		AvailableIPAddressCount: sn.AvailableIPs, AvailabilityZone: sn.AZ, AvailabilityZoneID: sn.AZID,
		DefaultForAz: sn.DefaultForAZ, MapPublicIPOnLaunch: sn.MapPublicIPOnLaunch,
		PrivateDNSNameOptions:   subnetNameOptions(sn),
		BlockPublicAccessStates: bpaOff(),
		Tags:                    tagSet(sn.Tags),
	}
	if sn.CIDR.IsValid() {
		x.CidrBlock = sn.CIDR.String()
	}
	for _, b := range sn.IPv6 {
		x.Ipv6CidrBlockAssociations = append(x.Ipv6CidrBlockAssociations, toSubnetIPv6XML(b))
	}
	return x
}

// CreateSubnet

type createSubnetRequest struct {
	dryRunParam
	VpcID              string         `query:"VpcId"`
	CidrBlock          string         `query:"CidrBlock"`
	AvailabilityZone   string         `query:"AvailabilityZone"`
	AvailabilityZoneID string         `query:"AvailabilityZoneId"`
	TagSpecifications  []tagSpecParam `query:"TagSpecification"`
	// IPv6 ranges from IPAM pools are not in vpcsim: refused.
	Ipv6Native     bool   `query:"Ipv6Native"`
	Ipv6CidrBlock  string `query:"Ipv6CidrBlock"`
	Ipv6IpamPoolID string `query:"Ipv6IpamPoolId"`
	Ipv4IpamPoolID string `query:"Ipv4IpamPoolId"`
}

// checkIPv6 answers the IPv6 parameters of CreateSubnet: EC2's refusals of
// a request that could not be right (moto's AWS-verified tests), then
// vpcsim's of IPAM pools.
func (r *createSubnetRequest) checkIPv6() error {
	switch {
	case r.Ipv6Native && r.Ipv6CidrBlock == "" && r.Ipv6IpamPoolID == "":
		return errMissingText("Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.")
	case r.Ipv6Native && (r.CidrBlock != "" || r.Ipv4IpamPoolID != ""):
		return errCombination("When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set ipv6Native to true.")
	case r.Ipv6IpamPoolID != "":
		return errUnsupportedParameter("Ipv6IpamPoolId")
	case r.Ipv4IpamPoolID != "":
		return errUnsupportedParameter("Ipv4IpamPoolId")
	}
	return nil
}

type createSubnetResponse struct {
	responseMeta
	Subnet subnetXML `xml:"subnet"`
}

func (h *Handler) createSubnet(ctx context.Context, s ec2sim.Scope, req *createSubnetRequest) (*createSubnetResponse, error) {
	if err := req.checkIPv6(); err != nil {
		return nil, err
	}
	tags, err := tagSpecs(req.TagSpecifications, "subnet")
	if err != nil {
		return nil, err
	}
	sn, err := h.cloud.CreateSubnet(ctx, s, ec2sim.CreateSubnetInput{
		VPCID: req.VpcID, CIDR: req.CidrBlock, AZ: req.AvailabilityZone, AZID: req.AvailabilityZoneID, Tags: tags["subnet"],
		IPv6CIDR: req.Ipv6CidrBlock, IPv6Native: req.Ipv6Native,
	})
	if err != nil {
		return nil, err
	}
	return &createSubnetResponse{Subnet: h.toSubnetXML(s, sn)}, nil
}

// DescribeSubnets

type describeSubnetsRequest struct {
	dryRunParam
	pageParams
	SubnetIDs []string      `query:"SubnetId"`
	Filters   []filterParam `query:"Filter"`
}

type describeSubnetsResponse struct {
	responseMeta
	Subnets   set[subnetXML] `xml:"subnetSet"`
	NextToken string         `xml:"nextToken,omitempty"`
}

func (h *Handler) describeSubnets(ctx context.Context, s ec2sim.Scope, req *describeSubnetsRequest) (*describeSubnetsResponse, error) {
	subnets, err := h.cloud.DescribeSubnets(ctx, s, req.SubnetIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	subnets, next := page("DescribeSubnets", subnets, &req.pageParams)
	resp := &describeSubnetsResponse{Subnets: make(set[subnetXML], 0, len(subnets)), NextToken: next}
	for _, sn := range subnets {
		resp.Subnets = append(resp.Subnets, h.toSubnetXML(s, sn))
	}
	return resp, nil
}

// DeleteSubnet

type deleteSubnetRequest struct {
	dryRunParam
	SubnetID string `query:"SubnetId"`
}

func (h *Handler) deleteSubnet(ctx context.Context, s ec2sim.Scope, req *deleteSubnetRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteSubnet(ctx, s, req.SubnetID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ModifySubnetAttribute

type modifySubnetAttributeRequest struct {
	// The model gives this operation no DryRun.
	SubnetID            string    `query:"SubnetId"`
	MapPublicIPOnLaunch *attrBool `query:"MapPublicIpOnLaunch"`
	HostnameType        *string   `query:"PrivateDnsHostnameTypeOnLaunch"`
	DNSARecord          *attrBool `query:"EnableResourceNameDnsARecordOnLaunch"`
	DNSAAAARecord       *attrBool `query:"EnableResourceNameDnsAAAARecordOnLaunch"`
	AssignIPv6          *attrBool `query:"AssignIpv6AddressOnCreation"`
	EnableDNS64         *attrBool `query:"EnableDns64"`
}

func (h *Handler) modifySubnetAttribute(ctx context.Context, s ec2sim.Scope, req *modifySubnetAttributeRequest) (*returnResponse, error) {
	in := ec2sim.ModifySubnetInput{HostnameType: req.HostnameType}
	for _, a := range []struct {
		from *attrBool
		to   **bool
	}{{req.MapPublicIPOnLaunch, &in.MapPublicIPOnLaunch}, {req.DNSARecord, &in.DNSARecord}, {req.DNSAAAARecord, &in.DNSAAAARecord},
		{req.AssignIPv6, &in.AssignIPv6}, {req.EnableDNS64, &in.EnableDNS64}} {
		if a.from != nil {
			v := boolOf(a.from.Value)
			*a.to = &v
		}
	}
	if err := h.cloud.ModifySubnetAttribute(ctx, s, req.SubnetID, in); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// AssociateSubnetCidrBlock, DisassociateSubnetCidrBlock: a subnet's IPv6
// range. Ranges from IPAM pools are not in vpcsim.

type associateSubnetCidrBlockRequest struct {
	// The model gives these operations no DryRun.
	SubnetID          string `query:"SubnetId"`
	Ipv6CidrBlock     string `query:"Ipv6CidrBlock"`
	Ipv6IpamPoolID    string `query:"Ipv6IpamPoolId"`
	Ipv6NetmaskLength int    `query:"Ipv6NetmaskLength"`
}

func (r *associateSubnetCidrBlockRequest) validate() error {
	if r.Ipv6IpamPoolID != "" || r.Ipv6NetmaskLength != 0 {
		return errUnsupportedParameter("Ipv6IpamPoolId/Ipv6NetmaskLength (IPAM)")
	}
	return nil
}

type subnetCidrBlockResponse struct {
	responseMeta
	Ipv6CidrBlockAssociation subnetIpv6AssocXML `xml:"ipv6CidrBlockAssociation"`
	SubnetID                 string             `xml:"subnetId"`
}

func (h *Handler) associateSubnetCidrBlock(ctx context.Context, s ec2sim.Scope, req *associateSubnetCidrBlockRequest) (*subnetCidrBlockResponse, error) {
	b, err := h.cloud.AssociateSubnetIPv6(ctx, s, req.SubnetID, req.Ipv6CidrBlock)
	if err != nil {
		return nil, err
	}
	return &subnetCidrBlockResponse{Ipv6CidrBlockAssociation: toSubnetIPv6XML(b), SubnetID: req.SubnetID}, nil
}

type disassociateSubnetCidrBlockRequest struct {
	AssociationID string `query:"AssociationId"`
}

func (h *Handler) disassociateSubnetCidrBlock(ctx context.Context, s ec2sim.Scope, req *disassociateSubnetCidrBlockRequest) (*subnetCidrBlockResponse, error) {
	b, subnetID, err := h.cloud.DisassociateSubnetIPv6(ctx, s, req.AssociationID)
	if err != nil {
		return nil, err
	}
	return &subnetCidrBlockResponse{Ipv6CidrBlockAssociation: toSubnetIPv6XML(b), SubnetID: subnetID}, nil
}
