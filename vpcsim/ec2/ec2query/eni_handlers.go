package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"net/netip"
)

type privateIPXML struct {
	Association      *ipAssociationXML `xml:"association,omitempty"`
	Primary          bool              `xml:"primary"`
	PrivateDNSName   string            `xml:"privateDnsName"`
	PrivateIPAddress string            `xml:"privateIpAddress"`
}

// ipAssociationXML is a private address's public one: the model's
// NetworkInterfaceAssociation (and, without the IDs, which SDKs ignore
// there, InstanceNetworkInterfaceAssociation).
type ipAssociationXML struct {
	AllocationID  string `xml:"allocationId,omitempty"`
	AssociationID string `xml:"associationId,omitempty"`
	IPOwnerID     string `xml:"ipOwnerId"`
	PublicDNSName string `xml:"publicDnsName"`
	PublicIP      string `xml:"publicIp"`
}

// association is the public side of a private address of e, nil for none.
// EC2 owns the addresses it assigns; an Elastic IP is the account's.
func association(region string, e ec2sim.ENI, ip ec2sim.PrivateIP, n names) *ipAssociationXML {
	if !ip.Public.IsValid() {
		return nil
	}
	x := &ipAssociationXML{AllocationID: ip.AllocationID, AssociationID: ip.AssociationID, IPOwnerID: "amazon", PublicIP: ip.Public.String()}
	if ip.AllocationID != "" {
		x.IPOwnerID = e.OwnerID
	}
	if n.publicDNS[e.VPCID] {
		x.PublicDNSName = ec2sim.PublicDNSName(region, ip.Public)
	}
	return x
}

// primaryAssociation is the public side of e's primary address.
func primaryAssociation(region string, e ec2sim.ENI, n names) *ipAssociationXML {
	for _, ip := range e.PrivateIPs {
		if ip.Primary {
			return association(region, e, ip, n)
		}
	}
	return nil
}

type ipv6AddressXML struct {
	Ipv6Address   string `xml:"ipv6Address"`
	IsPrimaryIpv6 bool   `xml:"isPrimaryIpv6"`
}

// ipv6Set is an ENI's IPv6 addresses, none of them primary (EnablePrimaryIpv6
// is not in vpcsim).
func ipv6Set(e ec2sim.ENI) set[ipv6AddressXML] {
	out := set[ipv6AddressXML]{}
	for _, a := range e.IPv6 {
		out = append(out, ipv6AddressXML{Ipv6Address: a.String()})
	}
	return out
}

func privateIPSet(region string, e ec2sim.ENI, n names) set[privateIPXML] {
	out := make(set[privateIPXML], 0, len(e.PrivateIPs))
	for _, ip := range e.PrivateIPs {
		out = append(out, privateIPXML{Association: association(region, e, ip, n), Primary: ip.Primary, PrivateDNSName: ec2sim.PrivateDNSName(region, ip.Addr), PrivateIPAddress: ip.Addr.String()})
	}
	return out
}

// dnsName is the private DNS name of an address, "" for none.
func dnsName(region string, a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return ec2sim.PrivateDNSName(region, a)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

type eniAttachmentXML struct {
	AttachTime          timestamp `xml:"attachTime"`
	AttachmentID        string    `xml:"attachmentId"`
	DeleteOnTermination bool      `xml:"deleteOnTermination"`
	DeviceIndex         int       `xml:"deviceIndex"`
	NetworkCardIndex    int       `xml:"networkCardIndex"`
	InstanceID          string    `xml:"instanceId,omitempty"`
	InstanceOwnerID     string    `xml:"instanceOwnerId,omitempty"`
	Status              string    `xml:"status"`
}

// networkInterfaceXML is the model's NetworkInterface.
type networkInterfaceXML struct {
	NetworkInterfaceID string                  `xml:"networkInterfaceId"`
	SubnetID           string                  `xml:"subnetId"`
	VpcID              string                  `xml:"vpcId"`
	AvailabilityZone   string                  `xml:"availabilityZone"`
	AvailabilityZoneID string                  `xml:"availabilityZoneId,omitempty"`
	Description        string                  `xml:"description"`
	OwnerID            string                  `xml:"ownerId"`
	RequesterID        string                  `xml:"requesterId,omitempty"`
	RequesterManaged   bool                    `xml:"requesterManaged"`
	Status             string                  `xml:"status"`
	MacAddress         string                  `xml:"macAddress"`
	PrivateIPAddress   string                  `xml:"privateIpAddress"`
	PrivateDNSName     string                  `xml:"privateDnsName"`
	SourceDestCheck    bool                    `xml:"sourceDestCheck"`
	Groups             set[groupIdentifierXML] `xml:"groupSet"`
	Attachment         *eniAttachmentXML       `xml:"attachment,omitempty"`
	Association        *ipAssociationXML       `xml:"association,omitempty"`
	Tags               set[tagXML]             `xml:"tagSet"`
	PrivateIPAddresses set[privateIPXML]       `xml:"privateIpAddressesSet"`
	Ipv6Addresses      set[ipv6AddressXML]     `xml:"ipv6AddressesSet"`
	InterfaceType      string                  `xml:"interfaceType"`
	Operator           operatorXML             `xml:"operator"`
}

// names is what rendering ENIs and instances needs besides them: the
// region's security group names by ID (the domain keeps an ENI's groups by
// ID, EC2 shows them with names), and the VPCs whose public addresses have
// DNS names (enableDnsHostnames).
type names struct {
	groups    map[string]string
	publicDNS map[string]bool
}

func (h *Handler) groupNames(ctx context.Context, s ec2sim.Scope) (names, error) {
	gs, err := h.cloud.DescribeSecurityGroups(ctx, s, nil, nil, nil)
	if err != nil {
		return names{}, err
	}
	vpcs, err := h.cloud.DescribeVpcs(ctx, s, nil, nil)
	if err != nil {
		return names{}, err
	}
	n := names{groups: make(map[string]string, len(gs)), publicDNS: make(map[string]bool, len(vpcs))}
	for _, g := range gs {
		n.groups[g.ID] = g.Name
	}
	for _, v := range vpcs {
		n.publicDNS[v.ID] = v.EnableDNSHostnames
	}
	return n, nil
}

func groupSet(ids []string, n names) set[groupIdentifierXML] {
	out := make(set[groupIdentifierXML], 0, len(ids))
	for _, id := range ids {
		out = append(out, groupIdentifierXML{GroupID: id, GroupName: n.groups[id]})
	}
	return out
}

func toENIXML(s ec2sim.Scope, e ec2sim.ENI, names names) networkInterfaceXML {
	primary := e.PrimaryIP()
	x := networkInterfaceXML{
		NetworkInterfaceID: e.ID, SubnetID: e.SubnetID, VpcID: e.VPCID,
		AvailabilityZone: e.AZ, AvailabilityZoneID: zoneID(s.Region, e.AZ),
		Description: e.Description, OwnerID: e.OwnerID, RequesterID: e.RequesterID, RequesterManaged: e.RequesterManaged,
		Status: e.Status, MacAddress: e.MAC,
		PrivateIPAddress: addrString(primary), PrivateDNSName: dnsName(s.Region, primary),
		SourceDestCheck: e.SourceDestCheck, Groups: groupSet(e.Groups, names),
		Tags: tagSet(e.Tags), PrivateIPAddresses: privateIPSet(s.Region, e, names), Association: primaryAssociation(s.Region, e, names),
		Ipv6Addresses: ipv6Set(e), InterfaceType: e.InterfaceType,
	}
	if a := e.Attachment; a != nil {
		x.Attachment = &eniAttachmentXML{
			AttachTime: timestamp(a.AttachTime), AttachmentID: a.ID, DeleteOnTermination: a.DeleteOnTermination,
			DeviceIndex: a.DeviceIndex, InstanceID: a.InstanceID, InstanceOwnerID: a.InstanceOwnerID, Status: a.Status,
		}
	}
	return x
}

// CreateNetworkInterface

type privateIPSpecParam struct {
	Primary          bool   `query:"Primary"`
	PrivateIPAddress string `query:"PrivateIpAddress"`
}

type createNetworkInterfaceRequest struct {
	dryRunParam
	SubnetID                       string               `query:"SubnetId"`
	Description                    string               `query:"Description"`
	PrivateIPAddress               string               `query:"PrivateIpAddress"`
	PrivateIPAddresses             []privateIPSpecParam `query:"PrivateIpAddresses"`
	SecondaryPrivateIPAddressCount int                  `query:"SecondaryPrivateIpAddressCount"`
	Groups                         []string             `query:"SecurityGroupId"`
	InterfaceType                  string               `query:"InterfaceType"`
	TagSpecifications              []tagSpecParam       `query:"TagSpecification"`
	Ipv6AddressCount               int                  `query:"Ipv6AddressCount"`
	Ipv6Addresses                  []ipv6AddrParam      `query:"Ipv6Addresses"`
	// ClientToken is echoed; retries with one are not deduplicated (yet).
	ClientToken string `query:"ClientToken"`
}

type createNetworkInterfaceResponse struct {
	responseMeta
	NetworkInterface networkInterfaceXML `xml:"networkInterface"`
	ClientToken      string              `xml:"clientToken,omitempty"`
}

func (h *Handler) createNetworkInterface(ctx context.Context, s ec2sim.Scope, req *createNetworkInterfaceRequest) (*createNetworkInterfaceResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "network-interface")
	if err != nil {
		return nil, err
	}
	in := ec2sim.CreateNetworkInterfaceInput{
		SubnetID: req.SubnetID, Description: req.Description, PrivateIPAddress: req.PrivateIPAddress,
		SecondaryPrivateIPAddressCount: req.SecondaryPrivateIPAddressCount, Groups: req.Groups,
		InterfaceType: req.InterfaceType, Tags: tags["network-interface"],
		IPv6Count: req.Ipv6AddressCount, IPv6Addresses: ipv6Addrs(req.Ipv6Addresses),
	}
	for _, p := range req.PrivateIPAddresses {
		in.PrivateIPAddresses = append(in.PrivateIPAddresses, ec2sim.PrivateIPSpec{Address: p.PrivateIPAddress, Primary: p.Primary})
	}
	e, err := h.cloud.CreateNetworkInterface(ctx, s, in)
	if err != nil {
		return nil, err
	}
	names, err := h.groupNames(ctx, s)
	if err != nil {
		return nil, err
	}
	return &createNetworkInterfaceResponse{NetworkInterface: toENIXML(s, e, names), ClientToken: req.ClientToken}, nil
}

// DescribeNetworkInterfaces

type describeNetworkInterfacesRequest struct {
	dryRunParam
	pageParams
	NetworkInterfaceIDs []string      `query:"NetworkInterfaceId"`
	Filters             []filterParam `query:"Filter"`
}

func (r *describeNetworkInterfacesRequest) validate() error {
	if len(r.NetworkInterfaceIDs) > 0 && r.MaxResults != nil {
		// (unverified wording, modelled on DescribeInstances' verified one)
		return errCombination("The parameter networkInterfaceIdSet cannot be used with the parameter maxResults")
	}
	return nil
}

type describeNetworkInterfacesResponse struct {
	responseMeta
	NetworkInterfaces set[networkInterfaceXML] `xml:"networkInterfaceSet"`
	NextToken         string                   `xml:"nextToken,omitempty"`
}

func (h *Handler) describeNetworkInterfaces(ctx context.Context, s ec2sim.Scope, req *describeNetworkInterfacesRequest) (*describeNetworkInterfacesResponse, error) {
	enis, err := h.cloud.DescribeNetworkInterfaces(ctx, s, req.NetworkInterfaceIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	enis, next := page("DescribeNetworkInterfaces", enis, &req.pageParams)
	names, err := h.groupNames(ctx, s)
	if err != nil {
		return nil, err
	}
	resp := &describeNetworkInterfacesResponse{NetworkInterfaces: make(set[networkInterfaceXML], 0, len(enis)), NextToken: next}
	for _, e := range enis {
		resp.NetworkInterfaces = append(resp.NetworkInterfaces, toENIXML(s, e, names))
	}
	return resp, nil
}

// DeleteNetworkInterface

type deleteNetworkInterfaceRequest struct {
	dryRunParam
	NetworkInterfaceID string `query:"NetworkInterfaceId"`
}

func (h *Handler) deleteNetworkInterface(ctx context.Context, s ec2sim.Scope, req *deleteNetworkInterfaceRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteNetworkInterface(ctx, s, req.NetworkInterfaceID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ModifyNetworkInterfaceAttribute

type eniAttachmentChangesParam struct {
	AttachmentID        string `query:"AttachmentId"`
	DeleteOnTermination *bool  `query:"DeleteOnTermination"`
}

type modifyNetworkInterfaceAttributeRequest struct {
	dryRunParam
	NetworkInterfaceID string                     `query:"NetworkInterfaceId"`
	Description        *attrString                `query:"Description"`
	SourceDestCheck    *attrBool                  `query:"SourceDestCheck"`
	Groups             []string                   `query:"SecurityGroupId"`
	Attachment         *eniAttachmentChangesParam `query:"Attachment"`
}

func (h *Handler) modifyNetworkInterfaceAttribute(ctx context.Context, s ec2sim.Scope, req *modifyNetworkInterfaceAttributeRequest) (*returnResponse, error) {
	in := ec2sim.ModifyNetworkInterfaceInput{Groups: req.Groups}
	if req.Description != nil {
		d := deref(req.Description.Value)
		in.Description = &d
	}
	if req.SourceDestCheck != nil {
		v := boolOf(req.SourceDestCheck.Value)
		in.SourceDestCheck = &v
	}
	if req.Attachment != nil {
		in.AttachmentID = req.Attachment.AttachmentID
		in.DeleteOnTermination = req.Attachment.DeleteOnTermination
	}
	if err := h.cloud.ModifyNetworkInterfaceAttribute(ctx, s, req.NetworkInterfaceID, in); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// AssignPrivateIpAddresses

type assignPrivateIPAddressesRequest struct {
	NetworkInterfaceID             string   `query:"NetworkInterfaceId"`
	PrivateIPAddresses             []string `query:"PrivateIpAddress"`
	SecondaryPrivateIPAddressCount int      `query:"SecondaryPrivateIpAddressCount"`
	AllowReassignment              bool     `query:"AllowReassignment"`
}

type assignedPrivateIPXML struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
}

type assignPrivateIPAddressesResponse struct {
	responseMeta
	Return              bool                      `xml:"return"`
	NetworkInterfaceID  string                    `xml:"networkInterfaceId"`
	AssignedPrivateIPs  set[assignedPrivateIPXML] `xml:"assignedPrivateIpAddressesSet"`
	AssignedIpv4Prefixs set[struct{}]             `xml:"assignedIpv4PrefixSet"`
}

func (h *Handler) assignPrivateIPAddresses(ctx context.Context, s ec2sim.Scope, req *assignPrivateIPAddressesRequest) (*assignPrivateIPAddressesResponse, error) {
	addrs, err := h.cloud.AssignPrivateIPAddresses(ctx, s, ec2sim.AssignPrivateIPsInput{
		ENIID: req.NetworkInterfaceID, Addresses: req.PrivateIPAddresses,
		SecondaryCount: req.SecondaryPrivateIPAddressCount, AllowReassignment: req.AllowReassignment,
	})
	if err != nil {
		return nil, err
	}
	resp := &assignPrivateIPAddressesResponse{Return: true, NetworkInterfaceID: req.NetworkInterfaceID,
		AssignedPrivateIPs: make(set[assignedPrivateIPXML], 0, len(addrs)), AssignedIpv4Prefixs: set[struct{}]{}}
	for _, a := range addrs {
		resp.AssignedPrivateIPs = append(resp.AssignedPrivateIPs, assignedPrivateIPXML{PrivateIPAddress: a.String()})
	}
	return resp, nil
}

// UnassignPrivateIpAddresses

type unassignPrivateIPAddressesRequest struct {
	NetworkInterfaceID string   `query:"NetworkInterfaceId"`
	PrivateIPAddresses []string `query:"PrivateIpAddress"`
}

func (h *Handler) unassignPrivateIPAddresses(ctx context.Context, s ec2sim.Scope, req *unassignPrivateIPAddressesRequest) (*returnResponse, error) {
	if err := h.cloud.UnassignPrivateIPAddresses(ctx, s, req.NetworkInterfaceID, req.PrivateIPAddresses); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// AttachNetworkInterface

type attachNetworkInterfaceRequest struct {
	dryRunParam
	NetworkInterfaceID string `query:"NetworkInterfaceId"`
	InstanceID         string `query:"InstanceId"`
	DeviceIndex        *int   `query:"DeviceIndex"`
	NetworkCardIndex   *int   `query:"NetworkCardIndex"`
}

func (r *attachNetworkInterfaceRequest) validate() error {
	switch {
	case r.NetworkInterfaceID == "":
		return errMissingParameter("networkInterfaceId")
	case r.InstanceID == "":
		return errMissingParameter("instanceId")
	case r.DeviceIndex == nil:
		return errMissingParameter("deviceIndex")
	case r.NetworkCardIndex != nil && *r.NetworkCardIndex != 0:
		// Every instance type here has one network card.
		return errInvalidValue("Network Card Index %d is not supported for instance type.", *r.NetworkCardIndex)
	}
	return nil
}

type attachNetworkInterfaceResponse struct {
	responseMeta
	AttachmentID     string `xml:"attachmentId"`
	NetworkCardIndex int    `xml:"networkCardIndex"`
}

func (h *Handler) attachNetworkInterface(ctx context.Context, s ec2sim.Scope, req *attachNetworkInterfaceRequest) (*attachNetworkInterfaceResponse, error) {
	id, err := h.cloud.AttachNetworkInterface(ctx, s, req.NetworkInterfaceID, req.InstanceID, *req.DeviceIndex)
	if err != nil {
		return nil, err
	}
	return &attachNetworkInterfaceResponse{AttachmentID: id}, nil
}

// DetachNetworkInterface

type detachNetworkInterfaceRequest struct {
	dryRunParam
	AttachmentID string `query:"AttachmentId"`
	Force        bool   `query:"Force"`
}

func (h *Handler) detachNetworkInterface(ctx context.Context, s ec2sim.Scope, req *detachNetworkInterfaceRequest) (*returnResponse, error) {
	if err := h.cloud.DetachNetworkInterface(ctx, s, req.AttachmentID, req.Force); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// AssignIpv6Addresses, UnassignIpv6Addresses. IPv6 prefixes are not in
// vpcsim.

type assignIpv6AddressesRequest struct {
	// The model gives these operations no DryRun.
	NetworkInterfaceID string   `query:"NetworkInterfaceId"`
	Ipv6AddressCount   int      `query:"Ipv6AddressCount"`
	Ipv6Addresses      []string `query:"Ipv6Addresses"`
	Ipv6Prefixes       []string `query:"Ipv6Prefix"`
	Ipv6PrefixCount    int      `query:"Ipv6PrefixCount"`
}

func (r *assignIpv6AddressesRequest) validate() error {
	if len(r.Ipv6Prefixes) > 0 || r.Ipv6PrefixCount != 0 {
		return errUnsupportedParameter("Ipv6Prefix/Ipv6PrefixCount (prefix delegation)")
	}
	return nil
}

type assignIpv6AddressesResponse struct {
	responseMeta
	AssignedIpv6Addresses set[string] `xml:"assignedIpv6Addresses"`
	AssignedIpv6Prefixes  set[string] `xml:"assignedIpv6PrefixSet"`
	NetworkInterfaceID    string      `xml:"networkInterfaceId"`
}

func addrStrings(addrs []netip.Addr) set[string] {
	out := set[string]{}
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

func (h *Handler) assignIpv6Addresses(ctx context.Context, s ec2sim.Scope, req *assignIpv6AddressesRequest) (*assignIpv6AddressesResponse, error) {
	added, err := h.cloud.AssignIPv6Addresses(ctx, s, ec2sim.AssignIPv6Input{ENIID: req.NetworkInterfaceID, Count: req.Ipv6AddressCount, Addresses: req.Ipv6Addresses})
	if err != nil {
		return nil, err
	}
	return &assignIpv6AddressesResponse{AssignedIpv6Addresses: addrStrings(added), AssignedIpv6Prefixes: set[string]{}, NetworkInterfaceID: req.NetworkInterfaceID}, nil
}

type unassignIpv6AddressesRequest struct {
	NetworkInterfaceID string   `query:"NetworkInterfaceId"`
	Ipv6Addresses      []string `query:"Ipv6Addresses"`
	Ipv6Prefixes       []string `query:"Ipv6Prefix"`
}

func (r *unassignIpv6AddressesRequest) validate() error {
	if len(r.Ipv6Prefixes) > 0 {
		return errUnsupportedParameter("Ipv6Prefix (prefix delegation)")
	}
	return nil
}

type unassignIpv6AddressesResponse struct {
	responseMeta
	NetworkInterfaceID      string      `xml:"networkInterfaceId"`
	UnassignedIpv6Addresses set[string] `xml:"unassignedIpv6Addresses"`
	UnassignedIpv6Prefixes  set[string] `xml:"unassignedIpv6PrefixSet"`
}

func (h *Handler) unassignIpv6Addresses(ctx context.Context, s ec2sim.Scope, req *unassignIpv6AddressesRequest) (*unassignIpv6AddressesResponse, error) {
	gone, err := h.cloud.UnassignIPv6Addresses(ctx, s, req.NetworkInterfaceID, req.Ipv6Addresses)
	if err != nil {
		return nil, err
	}
	return &unassignIpv6AddressesResponse{NetworkInterfaceID: req.NetworkInterfaceID, UnassignedIpv6Addresses: addrStrings(gone), UnassignedIpv6Prefixes: set[string]{}}, nil
}
