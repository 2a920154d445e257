package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type subnetIpv6AssocXML struct {
	AssociationID string `xml:"associationId"`
	Ipv6CidrBlock string `xml:"ipv6CidrBlock"`
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
	CidrBlock                   string                    `xml:"cidrBlock"`
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
	return subnetXML{
		SubnetID: sn.ID, SubnetArn: arn(s, sn.OwnerID, "subnet/"+sn.ID), State: sn.State,
		VpcID: sn.VPCID, OwnerID: sn.OwnerID, CidrBlock: sn.CIDR.String(),
		Ipv6CidrBlockAssociations: set[subnetIpv6AssocXML]{},
		AvailableIPAddressCount:   sn.AvailableIPs, AvailabilityZone: sn.AZ, AvailabilityZoneID: sn.AZID,
		DefaultForAz: sn.DefaultForAZ, MapPublicIPOnLaunch: sn.MapPublicIPOnLaunch,
		PrivateDNSNameOptions:   subnetNameOptions(sn),
		BlockPublicAccessStates: bpaOff(),
		Tags:                    tagSet(sn.Tags),
	}
}

// CreateSubnet

type createSubnetRequest struct {
	dryRunParam
	VpcID              string         `query:"VpcId"`
	CidrBlock          string         `query:"CidrBlock"`
	AvailabilityZone   string         `query:"AvailabilityZone"`
	AvailabilityZoneID string         `query:"AvailabilityZoneId"`
	TagSpecifications  []tagSpecParam `query:"TagSpecification"`
	// IPv6 is not in vpcsim yet: these are checked as EC2 checks them,
	// then refused.
	Ipv6Native     bool   `query:"Ipv6Native"`
	Ipv6CidrBlock  string `query:"Ipv6CidrBlock"`
	Ipv6IpamPoolID string `query:"Ipv6IpamPoolId"`
	Ipv4IpamPoolID string `query:"Ipv4IpamPoolId"`
}

// checkIPv6 answers the IPv6 parameters of CreateSubnet: EC2's refusals of
// a request that could not be right, then vpcsim's of IPv6 as such.
func (r *createSubnetRequest) checkIPv6() error {
	switch {
	case r.Ipv6Native && r.Ipv6CidrBlock == "" && r.Ipv6IpamPoolID == "":
		return errMissingText("Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.")
	case r.Ipv6Native && (r.CidrBlock != "" || r.Ipv4IpamPoolID != ""):
		return errCombination("When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set ipv6Native to true.")
	case r.Ipv6CidrBlock != "":
		return errUnsupportedParameter("Ipv6CidrBlock")
	case r.Ipv6IpamPoolID != "":
		return errUnsupportedParameter("Ipv6IpamPoolId")
	case r.Ipv6Native:
		return errUnsupportedParameter("Ipv6Native")
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
}

func (h *Handler) modifySubnetAttribute(ctx context.Context, s ec2sim.Scope, req *modifySubnetAttributeRequest) (*returnResponse, error) {
	in := ec2sim.ModifySubnetInput{HostnameType: req.HostnameType}
	for _, a := range []struct {
		from *attrBool
		to   **bool
	}{{req.MapPublicIPOnLaunch, &in.MapPublicIPOnLaunch}, {req.DNSARecord, &in.DNSARecord}, {req.DNSAAAARecord, &in.DNSAAAARecord}} {
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
