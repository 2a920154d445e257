package ec2query

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestEveryOperation calls every implemented operation once, successfully, over
// HTTP, and checks the answer's root element and requestId. TestEveryOperation
// also fails when an operation is added to the dispatch table but not here.
func TestEveryOperation(t *testing.T) {
	ts := newTestServer(t)
	called := map[string]bool{}
	type envelope struct {
		XMLName   xml.Name
		RequestID string `xml:"requestId"`
	}
	call := func(action string, out any, kv ...string) {
		t.Helper()
		body := ts.call(t, action, kv...)
		var env envelope
		if err := xml.Unmarshal(body, &env); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if env.XMLName.Local != action+"Response" || env.XMLName.Space != ec2Namespace || env.RequestID == "" {
			t.Errorf("%s: root %v, requestId %q", action, env.XMLName, env.RequestID)
		}
		if out != nil {
			if err := xml.Unmarshal(body, out); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
		}
		called[action] = true
	}

	call("DescribeRegions", nil)
	call("DescribeAvailabilityZones", nil, "ZoneId.1", "usw2-az2")
	call("DescribeAccountAttributes", nil)
	call("DescribeInstanceTypes", nil, "Filter.1.Name", "instance-type", "Filter.1.Value.1", "m5.*")

	var vpc struct {
		ID string `xml:"vpc>vpcId"`
	}
	call("CreateVpc", &vpc, "CidrBlock", "10.0.0.0/16", "AmazonProvidedIpv6CidrBlock", "false")
	call("DescribeVpcs", nil, "VpcId.1", vpc.ID)
	call("ModifyVpcAttribute", nil, "VpcId", vpc.ID, "EnableDnsSupport.Value", "false")
	var dns struct {
		Value string `xml:"enableDnsSupport>value"`
	}
	call("DescribeVpcAttribute", &dns, "VpcId", vpc.ID, "Attribute", "enableDnsSupport")
	if dns.Value != "false" {
		t.Errorf("enableDnsSupport = %q after setting it false", dns.Value)
	}
	var nau struct {
		Value string `xml:"enableNetworkAddressUsageMetrics>value"`
	}
	call("DescribeVpcAttribute", &nau, "VpcId", vpc.ID, "Attribute", "enableNetworkAddressUsageMetrics")
	if nau.Value != "false" {
		t.Errorf("enableNetworkAddressUsageMetrics = %q, want false by default", nau.Value)
	}
	call("ModifyVpcAttribute", nil, "VpcId", vpc.ID, "EnableNetworkAddressUsageMetrics.Value", "true")
	call("DescribeVpcAttribute", &nau, "VpcId", vpc.ID, "Attribute", "enableNetworkAddressUsageMetrics")
	if nau.Value != "true" {
		t.Errorf("enableNetworkAddressUsageMetrics = %q after setting it true", nau.Value)
	}

	var sub struct {
		ID string `xml:"subnet>subnetId"`
	}
	call("CreateSubnet", &sub, "VpcId", vpc.ID, "CidrBlock", "10.0.1.0/24", "AvailabilityZoneId", "usw2-az3")
	call("DescribeSubnets", nil, "Filter.1.Name", "vpc-id", "Filter.1.Value.1", vpc.ID)
	call("ModifySubnetAttribute", nil, "SubnetId", sub.ID, "MapPublicIpOnLaunch.Value", "true")
	call("ModifySubnetAttribute", nil, "SubnetId", sub.ID, "EnableResourceNameDnsARecordOnLaunch.Value", "true")
	call("ModifySubnetAttribute", nil, "SubnetId", sub.ID, "PrivateDnsHostnameTypeOnLaunch", "resource-name")
	var names struct {
		Type string `xml:"subnetSet>item>privateDnsNameOptionsOnLaunch>hostnameType"`
		A    string `xml:"subnetSet>item>privateDnsNameOptionsOnLaunch>enableResourceNameDnsARecord"`
	}
	call("DescribeSubnets", &names, "SubnetId.1", sub.ID)
	if names.Type != "resource-name" || names.A != "true" {
		t.Errorf("the subnet's private DNS name options: %+v", names)
	}

	var sg struct {
		ID string `xml:"groupId"`
	}
	call("CreateSecurityGroup", &sg, "GroupName", "g", "GroupDescription", "d", "VpcId", vpc.ID,
		"TagSpecification.1.ResourceType", "security-group", "TagSpecification.1.Tag.1.Key", "k", "TagSpecification.1.Tag.1.Value", "v")
	call("AuthorizeSecurityGroupIngress", nil, "GroupId", sg.ID, "IpProtocol", "tcp", "FromPort", "443", "ToPort", "443", "CidrIp", "10.0.0.0/8")
	var egress struct {
		RuleIDs []string `xml:"securityGroupRuleSet>item>securityGroupRuleId"`
	}
	call("AuthorizeSecurityGroupEgress", &egress, "GroupId", sg.ID,
		"IpPermissions.1.IpProtocol", "udp", "IpPermissions.1.FromPort", "53", "IpPermissions.1.ToPort", "53",
		"IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.2/32", "IpPermissions.1.IpRanges.1.Description", "dns",
		"TagSpecification.1.ResourceType", "security-group-rule", "TagSpecification.1.Tag.1.Key", "purpose")
	call("DescribeSecurityGroups", nil, "GroupId.1", sg.ID)
	call("DescribeSecurityGroupRules", nil, "Filter.1.Name", "group-id", "Filter.1.Value.1", sg.ID, "MaxResults", "5")
	call("UpdateSecurityGroupRuleDescriptionsIngress", nil, "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "tcp",
		"IpPermissions.1.FromPort", "443", "IpPermissions.1.ToPort", "443", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8",
		"IpPermissions.1.IpRanges.1.Description", "https")
	call("RevokeSecurityGroupIngress", nil, "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "tcp",
		"IpPermissions.1.FromPort", "443", "IpPermissions.1.ToPort", "443", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8")
	if len(egress.RuleIDs) != 1 {
		t.Fatalf("AuthorizeSecurityGroupEgress made rules %v", egress.RuleIDs)
	}
	// The egress rule, changed in place: its description by permission and
	// by ID, then its port and peer.
	call("UpdateSecurityGroupRuleDescriptionsEgress", nil, "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "udp",
		"IpPermissions.1.FromPort", "53", "IpPermissions.1.ToPort", "53", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.2/32",
		"IpPermissions.1.IpRanges.1.Description", "resolver")
	call("ModifySecurityGroupRules", nil, "GroupId", sg.ID, "SecurityGroupRule.1.SecurityGroupRuleId", egress.RuleIDs[0],
		"SecurityGroupRule.1.SecurityGroupRule.IpProtocol", "tcp", "SecurityGroupRule.1.SecurityGroupRule.FromPort", "853",
		"SecurityGroupRule.1.SecurityGroupRule.ToPort", "853", "SecurityGroupRule.1.SecurityGroupRule.CidrIpv4", "10.0.0.3/32",
		"SecurityGroupRule.1.SecurityGroupRule.Description", "dot")
	var modified struct {
		Ports []string `xml:"securityGroupRuleSet>item>fromPort"`
		Descs []string `xml:"securityGroupRuleSet>item>description"`
	}
	call("DescribeSecurityGroupRules", &modified, "SecurityGroupRuleId.1", egress.RuleIDs[0])
	if len(modified.Ports) != 1 || modified.Ports[0] != "853" || modified.Descs[0] != "dot" {
		t.Errorf("the modified rule: %+v", modified)
	}
	var forVpc struct {
		IDs []string `xml:"securityGroupForVpcSet>item>groupId"`
	}
	call("GetSecurityGroupsForVpc", &forVpc, "VpcId", vpc.ID)
	if len(forVpc.IDs) != 2 { // its default group and sg
		t.Errorf("GetSecurityGroupsForVpc: %v", forVpc.IDs)
	}
	call("DescribeSecurityGroupReferences", nil, "GroupId.1", sg.ID)
	call("DescribeStaleSecurityGroups", nil, "VpcId", vpc.ID)
	call("RevokeSecurityGroupEgress", nil, "GroupId", sg.ID, "SecurityGroupRuleId.1", egress.RuleIDs[0])

	var eni struct {
		ID string `xml:"networkInterface>networkInterfaceId"`
	}
	call("CreateNetworkInterface", &eni, "SubnetId", sub.ID, "SecurityGroupId.1", sg.ID,
		"PrivateIpAddresses.1.PrivateIpAddress", "10.0.1.50", "PrivateIpAddresses.1.Primary", "true")
	call("DescribeNetworkInterfaces", nil, "NetworkInterfaceId.1", eni.ID)
	call("ModifyNetworkInterfaceAttribute", nil, "NetworkInterfaceId", eni.ID, "Description.Value", "renamed")
	var assigned struct {
		IPs []string `xml:"assignedPrivateIpAddressesSet>item>privateIpAddress"`
	}
	call("AssignPrivateIpAddresses", &assigned, "NetworkInterfaceId", eni.ID, "PrivateIpAddress.1", "10.0.1.51")
	if !slices.Equal(assigned.IPs, []string{"10.0.1.51"}) {
		t.Errorf("assigned %v", assigned.IPs)
	}
	call("UnassignPrivateIpAddresses", nil, "NetworkInterfaceId", eni.ID, "PrivateIpAddress.1", "10.0.1.51")

	var run struct {
		IDs []string `xml:"instancesSet>item>instanceId"`
	}
	call("RunInstances", &run, "ImageId", "ami-12345678", "InstanceType", "t3.medium", "MinCount", "1", "MaxCount", "1",
		"NetworkInterface.1.DeviceIndex", "0", "NetworkInterface.1.AssociatePublicIpAddress", "false", "NetworkInterface.1.SubnetId", sub.ID, "NetworkInterface.1.SecurityGroupId.1", sg.ID,
		"UserData", "RUNTX0NMVVNURVI9ZGVmYXVsdAo=", "Placement.AvailabilityZone", "us-west-2c",
		"TagSpecification.1.ResourceType", "instance", "TagSpecification.1.Tag.1.Key", "Name", "TagSpecification.1.Tag.1.Value", "i")
	if len(run.IDs) != 1 {
		t.Fatalf("RunInstances launched %v", run.IDs)
	}
	inst := run.IDs[0]
	ts.cloud.Wait()
	call("DescribeInstances", nil, "InstanceId.1", inst)
	var ud struct {
		Value string `xml:"userData>value"`
	}
	call("DescribeInstanceAttribute", &ud, "InstanceId", inst, "Attribute", "userData")
	if ud.Value != "RUNTX0NMVVNURVI9ZGVmYXVsdAo=" {
		t.Errorf("userData = %q", ud.Value)
	}
	var att struct {
		ID string `xml:"attachmentId"`
	}
	call("AttachNetworkInterface", &att, "NetworkInterfaceId", eni.ID, "InstanceId", inst, "DeviceIndex", "1")
	ts.cloud.Wait()
	call("DetachNetworkInterface", nil, "AttachmentId", att.ID)
	ts.cloud.Wait()
	var status struct {
		Status string `xml:"instanceStatusSet>item>instanceStatus>status"`
	}
	call("DescribeInstanceStatus", &status, "InstanceId.1", inst)
	var meta struct {
		Tokens string `xml:"instanceMetadataOptions>httpTokens"`
		Hops   int    `xml:"instanceMetadataOptions>httpPutResponseHopLimit"`
	}
	call("ModifyInstanceMetadataOptions", &meta, "InstanceId", inst, "HttpTokens", "required")
	if meta.Tokens != "required" || meta.Hops != 1 {
		t.Errorf("ModifyInstanceMetadataOptions answered %+v", meta)
	}
	call("ModifyInstanceCreditSpecification", nil, "InstanceCreditSpecification.1.InstanceId", inst, "InstanceCreditSpecification.1.CpuCredits", "standard")
	var credits struct {
		Credits string `xml:"instanceCreditSpecificationSet>item>cpuCredits"`
	}
	call("DescribeInstanceCreditSpecifications", &credits, "InstanceId.1", inst)
	if status.Status != "ok" || credits.Credits != "standard" {
		t.Errorf("a running t3.medium: status %q, credits %q", status.Status, credits.Credits)
	}
	// A reboot leaves it running, its checks passing.
	call("RebootInstances", nil, "InstanceId.1", inst)
	ts.cloud.Wait()
	status.Status = ""
	call("DescribeInstanceStatus", &status, "InstanceId.1", inst)
	if status.Status != "ok" {
		t.Errorf("status after a reboot %q", status.Status)
	}
	call("StopInstances", nil, "InstanceId.1", inst)
	ts.cloud.Wait()
	// Stopped, its type changes; the older Attribute/Value form too.
	call("ModifyInstanceAttribute", nil, "InstanceId", inst, "InstanceType.Value", "t3.large")
	call("ModifyInstanceAttribute", nil, "InstanceId", inst, "Attribute", "instanceInitiatedShutdownBehavior", "Value", "terminate")
	var typ struct {
		Value string `xml:"instanceType>value"`
	}
	call("DescribeInstanceAttribute", &typ, "InstanceId", inst, "Attribute", "instanceType")
	var shutdown struct {
		Value string `xml:"instanceInitiatedShutdownBehavior>value"`
	}
	call("DescribeInstanceAttribute", &shutdown, "InstanceId", inst, "Attribute", "instanceInitiatedShutdownBehavior")
	if typ.Value != "t3.large" || shutdown.Value != "terminate" {
		t.Errorf("after ModifyInstanceAttribute: type %q, shutdown behavior %q", typ.Value, shutdown.Value)
	}
	var vols struct {
		Sizes []int `xml:"volumeSet>item>size"`
	}
	call("DescribeVolumes", &vols, "Filter.1.Name", "attachment.instance-id", "Filter.1.Value.1", inst)
	if len(vols.Sizes) != 1 || vols.Sizes[0] != 8 {
		t.Errorf("the instance's volumes: sizes %v, want its 8 GiB root", vols.Sizes)
	}
	call("StartInstances", nil, "InstanceId.1", inst)
	ts.cloud.Wait()

	// Route tables: the VPC's main one, a second one for the subnet, a
	// route to an ENI (detached: blackhole), moved and replaced.
	var mainRT struct {
		ID    string `xml:"routeTableSet>item>routeTableId"`
		Assoc string `xml:"routeTableSet>item>associationSet>item>routeTableAssociationId"`
	}
	call("DescribeRouteTables", &mainRT, "Filter.1.Name", "vpc-id", "Filter.1.Value.1", vpc.ID, "Filter.2.Name", "association.main", "Filter.2.Value.1", "true")
	var rt struct {
		ID string `xml:"routeTable>routeTableId"`
	}
	call("CreateRouteTable", &rt, "VpcId", vpc.ID, "TagSpecification.1.ResourceType", "route-table", "TagSpecification.1.Tag.1.Key", "Name")
	var assoc struct {
		ID string `xml:"associationId"`
	}
	call("AssociateRouteTable", &assoc, "RouteTableId", rt.ID, "SubnetId", sub.ID)
	call("CreateRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "192.168.0.0/16", "NetworkInterfaceId", eni.ID)
	call("ReplaceRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "192.168.0.0/16", "NetworkInterfaceId", eni.ID)
	var routes struct {
		States []string `xml:"routeTableSet>item>routeSet>item>state"`
	}
	call("DescribeRouteTables", &routes, "RouteTableId.1", rt.ID)
	if mainRT.ID == "" || mainRT.Assoc == "" || len(routes.States) != 2 || routes.States[0] != "active" || routes.States[1] != "blackhole" {
		t.Errorf("route tables: main %+v, the new one's route states %v", mainRT, routes.States)
	}
	call("DeleteRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "192.168.0.0/16")

	// An internet gateway, routed to, and an Elastic IP on the ENI.
	var igw struct {
		ID string `xml:"internetGateway>internetGatewayId"`
	}
	call("CreateInternetGateway", &igw, "TagSpecification.1.ResourceType", "internet-gateway", "TagSpecification.1.Tag.1.Key", "Name")
	call("AttachInternetGateway", nil, "InternetGatewayId", igw.ID, "VpcId", vpc.ID)
	call("CreateRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "0.0.0.0/0", "GatewayId", igw.ID)
	var igws struct {
		VPCs []string `xml:"internetGatewaySet>item>attachmentSet>item>vpcId"`
	}
	call("DescribeInternetGateways", &igws, "Filter.1.Name", "attachment.vpc-id", "Filter.1.Value.1", vpc.ID)
	var eip struct {
		ID string `xml:"allocationId"`
		IP string `xml:"publicIp"`
	}
	call("AllocateAddress", &eip, "Domain", "vpc")
	var eipAssoc struct {
		ID string `xml:"associationId"`
	}
	call("AssociateAddress", &eipAssoc, "AllocationId", eip.ID, "NetworkInterfaceId", eni.ID)
	var addrs struct {
		Assoc []string `xml:"addressesSet>item>associationId"`
	}
	call("DescribeAddresses", &addrs, "Filter.1.Name", "network-interface-id", "Filter.1.Value.1", eni.ID)
	if len(igws.VPCs) != 1 || igws.VPCs[0] != vpc.ID || len(addrs.Assoc) != 1 || addrs.Assoc[0] != eipAssoc.ID {
		t.Errorf("internet gateway %+v, addresses %+v (association %s)", igws, addrs, eipAssoc.ID)
	}
	call("DisassociateAddress", nil, "AssociationId", eipAssoc.ID)
	var nat struct {
		ID    string `xml:"natGateway>natGatewayId"`
		State string `xml:"natGateway>state"`
	}
	call("CreateNatGateway", &nat, "SubnetId", sub.ID, "AllocationId", eip.ID, "TagSpecification.1.ResourceType", "natgateway", "TagSpecification.1.Tag.1.Key", "Name")
	var nats struct {
		States []string `xml:"natGatewaySet>item>state"`
		IPs    []string `xml:"natGatewaySet>item>natGatewayAddressSet>item>publicIp"`
	}
	call("DescribeNatGateways", &nats, "NatGatewayId.1", nat.ID)
	if nat.State != "pending" || len(nats.States) != 1 || nats.States[0] != "available" || nats.IPs[0] != eip.IP {
		t.Errorf("NAT gateway: made %+v, described %+v", nat, nats)
	}
	call("DeleteNatGateway", nil, "NatGatewayId", nat.ID)
	call("ReleaseAddress", nil, "AllocationId", eip.ID)
	// A secondary block: associated, described, disassociated.
	var block struct {
		ID    string `xml:"cidrBlockAssociation>associationId"`
		State string `xml:"cidrBlockAssociation>cidrBlockState>state"`
	}
	call("AssociateVpcCidrBlock", &block, "VpcId", vpc.ID, "CidrBlock", "10.20.0.0/24")
	var blocks struct {
		CIDRs []string `xml:"vpcSet>item>cidrBlockAssociationSet>item>cidrBlock"`
	}
	call("DescribeVpcs", &blocks, "VpcId.1", vpc.ID)
	var gone struct {
		State string `xml:"cidrBlockAssociation>cidrBlockState>state"`
		VPC   string `xml:"vpcId"`
	}
	call("DisassociateVpcCidrBlock", &gone, "AssociationId", block.ID)
	if block.State != "associating" || !slices.Contains(blocks.CIDRs, "10.20.0.0/24") || gone.State != "disassociating" || gone.VPC != vpc.ID {
		t.Errorf("secondary block: associated %+v, described %+v, disassociated %+v", block, blocks, gone)
	}

	// IPv6: a dual-stack VPC, its block, a subnet range associated and
	// disassociated, an ENI's addresses, an egress-only gateway and a
	// route to it.
	var v6 struct {
		ID    string `xml:"vpc>vpcId"`
		Block string `xml:"vpc>ipv6CidrBlockAssociationSet>item>ipv6CidrBlock"`
		State string `xml:"vpc>ipv6CidrBlockAssociationSet>item>ipv6CidrBlockState>state"`
	}
	call("CreateVpc", &v6, "CidrBlock", "10.6.0.0/16", "AmazonProvidedIpv6CidrBlock", "true")
	v6Block := netip.MustParsePrefix(v6.Block)
	v6Range := netip.PrefixFrom(v6Block.Addr(), 64).String()
	var v6Sub struct {
		ID string `xml:"subnet>subnetId"`
	}
	call("CreateSubnet", &v6Sub, "VpcId", v6.ID, "CidrBlock", "10.6.1.0/24", "AvailabilityZone", "us-west-2a")
	var subRange struct {
		ID    string `xml:"ipv6CidrBlockAssociation>associationId"`
		CIDR  string `xml:"ipv6CidrBlockAssociation>ipv6CidrBlock"`
		State string `xml:"ipv6CidrBlockAssociation>ipv6CidrBlockState>state"`
	}
	call("AssociateSubnetCidrBlock", &subRange, "SubnetId", v6Sub.ID, "Ipv6CidrBlock", v6Range)
	var v6ENI struct {
		ID   string   `xml:"networkInterface>networkInterfaceId"`
		IPv6 []string `xml:"networkInterface>ipv6AddressesSet>item>ipv6Address"`
	}
	call("CreateNetworkInterface", &v6ENI, "SubnetId", v6Sub.ID, "Ipv6AddressCount", "1")
	var assigned6 struct {
		IPv6 []string `xml:"assignedIpv6Addresses>item"`
	}
	call("AssignIpv6Addresses", &assigned6, "NetworkInterfaceId", v6ENI.ID, "Ipv6AddressCount", "2")
	var unassigned6 struct {
		IPv6 []string `xml:"unassignedIpv6Addresses>item"`
	}
	call("UnassignIpv6Addresses", &unassigned6, "NetworkInterfaceId", v6ENI.ID, "Ipv6Addresses.1", v6ENI.IPv6[0])
	call("DeleteNetworkInterface", nil, "NetworkInterfaceId", v6ENI.ID)
	var subGone struct {
		State  string `xml:"ipv6CidrBlockAssociation>ipv6CidrBlockState>state"`
		Subnet string `xml:"subnetId"`
	}
	call("DisassociateSubnetCidrBlock", &subGone, "AssociationId", subRange.ID)
	var eigw struct {
		ID  string `xml:"egressOnlyInternetGateway>egressOnlyInternetGatewayId"`
		VPC string `xml:"egressOnlyInternetGateway>attachmentSet>item>vpcId"`
	}
	call("CreateEgressOnlyInternetGateway", &eigw, "VpcId", v6.ID, "ClientToken", "t1")
	var v6Main struct {
		ID string `xml:"routeTableSet>item>routeTableId"`
	}
	call("DescribeRouteTables", &v6Main, "Filter.1.Name", "vpc-id", "Filter.1.Value.1", v6.ID)
	call("CreateRoute", nil, "RouteTableId", v6Main.ID, "DestinationIpv6CidrBlock", "::/0", "EgressOnlyInternetGatewayId", eigw.ID)
	var v6Routes struct {
		Dests []string `xml:"routeTableSet>item>routeSet>item>destinationIpv6CidrBlock"`
		EIGWs []string `xml:"routeTableSet>item>routeSet>item>egressOnlyInternetGatewayId"`
	}
	call("DescribeRouteTables", &v6Routes, "RouteTableId.1", v6Main.ID)
	call("DeleteRoute", nil, "RouteTableId", v6Main.ID, "DestinationIpv6CidrBlock", "::/0")
	var eigws struct {
		IDs []string `xml:"egressOnlyInternetGatewaySet>item>egressOnlyInternetGatewayId"`
	}
	call("DescribeEgressOnlyInternetGateways", &eigws, "EgressOnlyInternetGatewayId.1", eigw.ID)
	var eigwGone struct {
		Return bool `xml:"returnCode"`
	}
	call("DeleteEgressOnlyInternetGateway", &eigwGone, "EgressOnlyInternetGatewayId", eigw.ID)
	call("DeleteSubnet", nil, "SubnetId", v6Sub.ID)
	call("DeleteVpc", nil, "VpcId", v6.ID)
	switch {
	case v6.State != "associating" || v6Block.Bits() != 56:
		t.Errorf("dual-stack VPC %+v", v6)
	case subRange.CIDR != v6Range || subRange.State != "associating" || subGone.State != "disassociating" || subGone.Subnet != v6Sub.ID:
		t.Errorf("subnet range: associated %+v, disassociated %+v", subRange, subGone)
	case len(v6ENI.IPv6) != 1 || len(assigned6.IPv6) != 2 || !slices.Equal(unassigned6.IPv6, v6ENI.IPv6):
		t.Errorf("ENI addresses: made %+v, assigned %v, unassigned %v", v6ENI, assigned6.IPv6, unassigned6.IPv6)
	case eigw.VPC != v6.ID || !slices.Equal(eigws.IDs, []string{eigw.ID}) || !eigwGone.Return:
		t.Errorf("egress-only gateway %+v, described %v", eigw, eigws.IDs)
	case !slices.Contains(v6Routes.Dests, v6.Block) || !slices.Contains(v6Routes.Dests, "::/0") || !slices.Equal(v6Routes.EIGWs, []string{eigw.ID}):
		t.Errorf("IPv6 routes %+v", v6Routes)
	}

	// Peering: a request to a second VPC, a route over it (a blackhole
	// until accepted), options, deletion; a second request, rejected.
	var vpc2 struct {
		ID string `xml:"vpc>vpcId"`
	}
	call("CreateVpc", &vpc2, "CidrBlock", "10.9.0.0/16")
	var pcx struct {
		ID   string `xml:"vpcPeeringConnection>vpcPeeringConnectionId"`
		Code string `xml:"vpcPeeringConnection>status>code"`
	}
	call("CreateVpcPeeringConnection", &pcx, "VpcId", vpc.ID, "PeerVpcId", vpc2.ID, "TagSpecification.1.ResourceType", "vpc-peering-connection", "TagSpecification.1.Tag.1.Key", "Name")
	call("CreateRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "10.9.0.0/16", "VpcPeeringConnectionId", pcx.ID)
	var accepted struct {
		Code string `xml:"vpcPeeringConnection>status>code"`
		CIDR string `xml:"vpcPeeringConnection>accepterVpcInfo>cidrBlock"`
	}
	call("AcceptVpcPeeringConnection", &accepted, "VpcPeeringConnectionId", pcx.ID)
	var opts struct {
		DNS string `xml:"requesterPeeringConnectionOptions>allowDnsResolutionFromRemoteVpc"`
	}
	call("ModifyVpcPeeringConnectionOptions", &opts, "VpcPeeringConnectionId", pcx.ID, "RequesterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc", "true")
	var pcxs struct {
		Codes []string `xml:"vpcPeeringConnectionSet>item>status>code"`
	}
	call("DescribeVpcPeeringConnections", &pcxs, "Filter.1.Name", "requester-vpc-info.vpc-id", "Filter.1.Value.1", vpc.ID, "Filter.2.Name", "tag-key", "Filter.2.Value.1", "Name")
	var peered struct {
		States []string `xml:"routeTableSet>item>routeSet>item>state"`
		Dests  []string `xml:"routeTableSet>item>routeSet>item>destinationCidrBlock"`
	}
	call("DescribeRouteTables", &peered, "Filter.1.Name", "route.vpc-peering-connection-id", "Filter.1.Value.1", pcx.ID)
	if pcx.Code != "initiating-request" || accepted.Code != "provisioning" || accepted.CIDR != "10.9.0.0/16" || opts.DNS != "true" ||
		len(pcxs.Codes) != 1 || pcxs.Codes[0] != "active" || !slices.Contains(peered.Dests, "10.9.0.0/16") || slices.Contains(peered.States, "blackhole") {
		t.Errorf("peering: made %+v, accepted %+v, options %+v, described %+v, routes %+v", pcx, accepted, opts, pcxs, peered)
	}
	call("DeleteVpcPeeringConnection", nil, "VpcPeeringConnectionId", pcx.ID)
	call("CreateVpcPeeringConnection", &pcx, "VpcId", vpc.ID, "PeerVpcId", vpc2.ID)
	call("RejectVpcPeeringConnection", nil, "VpcPeeringConnectionId", pcx.ID)
	call("DeleteRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "10.9.0.0/16")
	call("DeleteVpc", nil, "VpcId", vpc2.ID)
	call("DeleteRoute", nil, "RouteTableId", rt.ID, "DestinationCidrBlock", "0.0.0.0/0")
	call("DetachInternetGateway", nil, "InternetGatewayId", igw.ID, "VpcId", vpc.ID)
	call("DeleteInternetGateway", nil, "InternetGatewayId", igw.ID)
	var moved struct {
		ID string `xml:"newAssociationId"`
	}
	call("ReplaceRouteTableAssociation", &moved, "AssociationId", mainRT.Assoc, "RouteTableId", rt.ID)
	call("ReplaceRouteTableAssociation", nil, "AssociationId", moved.ID, "RouteTableId", mainRT.ID)
	call("DisassociateRouteTable", nil, "AssociationId", assoc.ID)
	call("DeleteRouteTable", nil, "RouteTableId", rt.ID)

	// DHCP options: a set of the VPC's, then none, then the region's default
	// set again; the set goes once no VPC has it.
	var dopt struct {
		ID   string   `xml:"dhcpOptions>dhcpOptionsId"`
		Keys []string `xml:"dhcpOptions>dhcpConfigurationSet>item>key"`
	}
	call("CreateDhcpOptions", &dopt, "DhcpConfiguration.1.Key", "domain-name", "DhcpConfiguration.1.Value.1", "corp.example",
		"DhcpConfiguration.2.Key", "domain-name-servers", "DhcpConfiguration.2.Value.1", "10.0.0.2", "DhcpConfiguration.2.Value.2", "AmazonProvidedDNS")
	var vpcDopt struct {
		ID string `xml:"vpcSet>item>dhcpOptionsId"`
	}
	call("DescribeVpcs", &vpcDopt, "VpcId.1", vpc.ID)
	call("AssociateDhcpOptions", nil, "DhcpOptionsId", dopt.ID, "VpcId", vpc.ID)
	call("AssociateDhcpOptions", nil, "DhcpOptionsId", "default", "VpcId", vpc.ID)
	call("AssociateDhcpOptions", nil, "DhcpOptionsId", vpcDopt.ID, "VpcId", vpc.ID)
	var sets struct {
		IDs    []string `xml:"dhcpOptionsSet>item>dhcpOptionsId"`
		Values []string `xml:"dhcpOptionsSet>item>dhcpConfigurationSet>item>valueSet>item>value"`
	}
	call("DescribeDhcpOptions", &sets, "DhcpOptionsId.1", vpcDopt.ID, "DhcpOptionsId.2", dopt.ID)
	if len(dopt.Keys) != 2 || len(sets.IDs) != 2 || !slices.Contains(sets.Values, "AmazonProvidedDNS") || !slices.Contains(sets.Values, "corp.example") {
		t.Errorf("DHCP options: made %+v, described %+v", dopt, sets)
	}
	call("DeleteDhcpOptions", nil, "DhcpOptionsId", dopt.ID)

	// Network ACLs: a custom one, a rule, the subnet moved to it and back.
	var acl struct {
		ID string `xml:"networkAcl>networkAclId"`
	}
	call("CreateNetworkAcl", &acl, "VpcId", vpc.ID, "TagSpecification.1.ResourceType", "network-acl", "TagSpecification.1.Tag.1.Key", "Name")
	call("CreateNetworkAclEntry", nil, "NetworkAclId", acl.ID, "RuleNumber", "100", "Protocol", "6", "RuleAction", "allow",
		"CidrBlock", "10.0.0.0/16", "PortRange.From", "80", "PortRange.To", "80")
	call("ReplaceNetworkAclEntry", nil, "NetworkAclId", acl.ID, "RuleNumber", "100", "Protocol", "1", "RuleAction", "allow",
		"CidrBlock", "10.0.0.0/16", "Icmp.Type", "-1", "Icmp.Code", "-1")
	var acls struct {
		Assocs []string `xml:"networkAclSet>item>associationSet>item>networkAclAssociationId"`
		Types  []string `xml:"networkAclSet>item>entrySet>item>icmpTypeCode>type"`
	}
	call("DescribeNetworkAcls", &acls, "Filter.1.Name", "association.subnet-id", "Filter.1.Value.1", sub.ID)
	var aclAssoc struct {
		ID string `xml:"newAssociationId"`
	}
	call("ReplaceNetworkAclAssociation", &aclAssoc, "AssociationId", acls.Assocs[0], "NetworkAclId", acl.ID)
	var moved2 struct {
		Types []string `xml:"networkAclSet>item>entrySet>item>icmpTypeCode>type"`
	}
	call("DescribeNetworkAcls", &moved2, "NetworkAclId.1", acl.ID)
	if len(moved2.Types) != 1 || moved2.Types[0] != "-1" {
		t.Errorf("the custom ACL's ICMP rule: %+v", moved2)
	}
	var back struct {
		ID string `xml:"newAssociationId"`
	}
	var def struct {
		ID string `xml:"networkAclSet>item>networkAclId"`
	}
	call("DescribeNetworkAcls", &def, "Filter.1.Name", "default", "Filter.1.Value.1", "true", "Filter.2.Name", "vpc-id", "Filter.2.Value.1", vpc.ID)
	call("ReplaceNetworkAclAssociation", &back, "AssociationId", aclAssoc.ID, "NetworkAclId", def.ID)
	call("DeleteNetworkAclEntry", nil, "NetworkAclId", acl.ID, "RuleNumber", "100", "Egress", "false")
	call("DeleteNetworkAcl", nil, "NetworkAclId", acl.ID)

	// Images: the catalogue's and one registered.
	var ami struct {
		ID string `xml:"imageId"`
	}
	call("RegisterImage", &ami, "Name", "my-image", "Architecture", "x86_64", "RootDeviceName", "/dev/xvda",
		"BlockDeviceMapping.1.DeviceName", "/dev/xvda", "BlockDeviceMapping.1.Ebs.VolumeSize", "20")
	var images struct {
		IDs   []string `xml:"imagesSet>item>imageId"`
		Sizes []string `xml:"imagesSet>item>blockDeviceMapping>item>ebs>volumeSize"`
	}
	call("DescribeImages", &images, "Owner.1", "self")
	var desc struct {
		Value string `xml:"description>value"`
	}
	call("DescribeImageAttribute", &desc, "ImageId", ami.ID, "Attribute", "description")
	if len(images.IDs) != 1 || images.IDs[0] != ami.ID || images.Sizes[0] != "20" {
		t.Errorf("own images: %+v (registered %s)", images, ami.ID)
	}
	call("DeregisterImage", nil, "ImageId", ami.ID)

	// Key pairs: one made, one imported, described and deleted.
	var made struct {
		ID       string `xml:"keyPairId"`
		Material string `xml:"keyMaterial"`
	}
	call("CreateKeyPair", &made, "KeyName", "made", "KeyType", "ed25519")
	pub := ed25519Line(t)
	call("ImportKeyPair", nil, "KeyName", "imported", "PublicKeyMaterial", base64.StdEncoding.EncodeToString([]byte(pub)))
	var keys struct {
		Names []string `xml:"keySet>item>keyName"`
		Pub   []string `xml:"keySet>item>publicKey"`
	}
	call("DescribeKeyPairs", &keys, "KeyName.1", "imported", "IncludePublicKey", "true")
	if len(keys.Names) != 1 || !strings.HasPrefix(keys.Pub[0], pub) || !strings.Contains(made.Material, "OPENSSH PRIVATE KEY") {
		t.Errorf("key pairs: %+v, made %+v", keys, made)
	}
	call("DeleteKeyPair", nil, "KeyPairId", made.ID)
	call("DeleteKeyPair", nil, "KeyName", "imported")

	// Launch templates: made, versioned, described, their default moved, a
	// version and the template deleted.
	var lt struct {
		ID string `xml:"launchTemplate>launchTemplateId"`
	}
	call("CreateLaunchTemplate", &lt, "LaunchTemplateName", "web", "LaunchTemplateData.ImageId", "ami-12345678",
		"LaunchTemplateData.InstanceType", "t3.micro", "TagSpecification.1.ResourceType", "launch-template",
		"TagSpecification.1.Tag.1.Key", "team", "TagSpecification.1.Tag.1.Value", "a")
	var ltv struct {
		Number string `xml:"launchTemplateVersion>versionNumber"`
		Type   string `xml:"launchTemplateVersion>launchTemplateData>instanceType"`
	}
	call("CreateLaunchTemplateVersion", &ltv, "LaunchTemplateId", lt.ID, "SourceVersion", "1", "LaunchTemplateData.ImageId", "ami-87654321")
	if ltv.Number != "2" || ltv.Type != "t3.micro" {
		t.Errorf("the new version: %+v", ltv)
	}
	var lts struct {
		IDs []string `xml:"launchTemplates>item>launchTemplateId"`
	}
	call("DescribeLaunchTemplates", &lts, "Filter.1.Name", "tag:team", "Filter.1.Value.1", "a")
	var ltvs struct {
		Images []string `xml:"launchTemplateVersionSet>item>launchTemplateData>imageId"`
	}
	call("DescribeLaunchTemplateVersions", &ltvs, "LaunchTemplateName", "web")
	if len(lts.IDs) != 1 || lts.IDs[0] != lt.ID || !slices.Equal(ltvs.Images, []string{"ami-87654321", "ami-12345678"}) {
		t.Errorf("launch templates %+v, versions %+v", lts, ltvs)
	}
	call("ModifyLaunchTemplate", nil, "LaunchTemplateId", lt.ID, "SetDefaultVersion", "2")
	var deleted struct {
		Numbers []string `xml:"successfullyDeletedLaunchTemplateVersionSet>item>versionNumber"`
	}
	call("DeleteLaunchTemplateVersions", &deleted, "LaunchTemplateId", lt.ID, "LaunchTemplateVersion.1", "1")
	if !slices.Equal(deleted.Numbers, []string{"1"}) {
		t.Errorf("deleted versions %v", deleted.Numbers)
	}
	call("DeleteLaunchTemplate", nil, "LaunchTemplateName", "web")

	call("CreateTags", nil, "ResourceId.1", vpc.ID, "ResourceId.2", sub.ID, "Tag.1.Key", "env", "Tag.1.Value", "test")
	var tags struct {
		IDs []string `xml:"tagSet>item>resourceId"`
	}
	call("DescribeTags", &tags, "Filter.1.Name", "key", "Filter.1.Value.1", "env")
	if len(tags.IDs) != 2 {
		t.Errorf("DescribeTags found %v", tags.IDs)
	}
	call("DeleteTags", nil, "ResourceId.1", vpc.ID, "Tag.1.Key", "env")

	var pl struct {
		ID      string `xml:"prefixList>prefixListId"`
		State   string `xml:"prefixList>state"`
		Version int64  `xml:"prefixList>version"`
	}
	call("CreateManagedPrefixList", &pl, "PrefixListName", "offices", "AddressFamily", "IPv4", "MaxEntries", "3",
		"Entry.1.Cidr", "10.1.0.0/16", "Entry.1.Description", "hq", "TagSpecification.1.ResourceType", "prefix-list", "TagSpecification.1.Tag.1.Key", "k")
	if pl.State != "create-complete" || pl.Version != 1 {
		t.Errorf("CreateManagedPrefixList answered %+v", pl)
	}
	call("DescribeManagedPrefixLists", nil, "PrefixListId.1", pl.ID, "Filter.1.Name", "prefix-list-name", "Filter.1.Value.1", "offices")
	call("ModifyManagedPrefixList", &pl, "PrefixListId", pl.ID, "CurrentVersion", "1", "AddEntry.1.Cidr", "10.2.0.0/16", "RemoveEntry.1.Cidr", "10.1.0.0/16")
	if pl.State != "modify-complete" || pl.Version != 2 {
		t.Errorf("ModifyManagedPrefixList answered %+v", pl)
	}
	var entries struct {
		CIDRs []string `xml:"entrySet>item>cidr"`
	}
	call("GetManagedPrefixListEntries", &entries, "PrefixListId", pl.ID, "TargetVersion", "1")
	if len(entries.CIDRs) != 1 || entries.CIDRs[0] != "10.1.0.0/16" {
		t.Errorf("GetManagedPrefixListEntries of version 1: %v", entries.CIDRs)
	}
	call("RestoreManagedPrefixListVersion", &pl, "PrefixListId", pl.ID, "PreviousVersion", "1", "CurrentVersion", "2")
	call("AuthorizeSecurityGroupIngress", nil, "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "tcp", "IpPermissions.1.FromPort", "443",
		"IpPermissions.1.ToPort", "443", "IpPermissions.1.PrefixListIds.1.PrefixListId", pl.ID)
	var assocs struct {
		IDs []string `xml:"prefixListAssociationSet>item>resourceId"`
	}
	call("GetManagedPrefixListAssociations", &assocs, "PrefixListId", pl.ID)
	if len(assocs.IDs) != 1 || assocs.IDs[0] != sg.ID {
		t.Errorf("GetManagedPrefixListAssociations: %v", assocs.IDs)
	}
	call("RevokeSecurityGroupIngress", nil, "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "tcp", "IpPermissions.1.FromPort", "443",
		"IpPermissions.1.ToPort", "443", "IpPermissions.1.PrefixListIds.1.PrefixListId", pl.ID)
	call("DeleteManagedPrefixList", &pl, "PrefixListId", pl.ID)
	if pl.State != "delete-complete" {
		t.Errorf("DeleteManagedPrefixList answered %+v", pl)
	}
	call("DescribePrefixLists", nil)

	var flowLogs struct {
		IDs []string `xml:"flowLogIdSet>item"`
	}
	call("CreateFlowLogs", &flowLogs, "ResourceType", "VPC", "ResourceId.1", vpc.ID, "TrafficType", "ALL",
		"LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::flow-logs/vpcsim",
		"TagSpecification.1.ResourceType", "vpc-flow-log", "TagSpecification.1.Tag.1.Key", "k")
	if len(flowLogs.IDs) != 1 {
		t.Fatalf("CreateFlowLogs made %v", flowLogs.IDs)
	}
	call("DescribeFlowLogs", nil, "FlowLogId.1", flowLogs.IDs[0])
	call("DeleteFlowLogs", nil, "FlowLogId.1", flowLogs.IDs[0])

	call("TerminateInstances", nil, "InstanceId.1", inst)
	ts.cloud.Wait()
	call("DeleteNetworkInterface", nil, "NetworkInterfaceId", eni.ID)
	var del struct {
		Return  bool   `xml:"return"`
		GroupID string `xml:"groupId"`
	}
	call("DeleteSecurityGroup", &del, "GroupId", sg.ID)
	if !del.Return || del.GroupID != sg.ID {
		t.Errorf("DeleteSecurityGroup answered %+v", del)
	}
	call("DeleteSubnet", nil, "SubnetId", sub.ID)
	call("DeleteVpc", nil, "VpcId", vpc.ID)

	for _, name := range Implemented() {
		if !called[name] {
			t.Errorf("%s is implemented but TestEveryOperation does not call it", name)
		}
	}
}

// ed25519Line is a new ED25519 public key in OpenSSH's one-line form.
func ed25519Line(t *testing.T) string {
	t.Helper()
	pk, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	field := func(b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(append(field([]byte("ssh-ed25519")), field(pk)...))
}
