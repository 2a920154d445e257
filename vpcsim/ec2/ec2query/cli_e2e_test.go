package ec2query

import (
	"strings"
	"testing"
)

// TestAWSCLI drives the real aws CLI v1 and v2 through a representative flow and
// checks what they parse out of vpcsim's answers: any XML shape mistake (a wrong
// element name, a list not wrapped in items, a missing member) shows up here as a
// missing or mistyped JSON value.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		// make test runs it in full first; its race-detector run is -short.
		t.Skip("drives the aws CLIs (~40s); skipped in -short mode")
	}
	eachCLI(t, cliFlow)
}

func cliFlow(t *testing.T, c cli, ts *testServer) {
	expect := expecter(t)
	prefixed := func(what, got, prefix string) {
		t.Helper()
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("%s = %q, want prefix %q", what, got, prefix)
		}
	}

	// Identity and the region's static facts.
	id := c.ok(t, "sts", "get-caller-identity")
	expect("Account", str(id, "Account"), "123456789012")
	expect("Arn", str(id, "Arn"), "arn:aws:iam::123456789012:root")
	azs := c.ok(t, "ec2", "describe-availability-zones")
	expect("zones", len(list(azs, "AvailabilityZones")), 3)
	expect("ZoneName", str(azs, "AvailabilityZones", 0, "ZoneName"), "us-west-2a")
	expect("ZoneId", str(azs, "AvailabilityZones", 0, "ZoneId"), "usw2-az1")
	expect("State", str(azs, "AvailabilityZones", 0, "State"), "available")
	expect("Messages", len(list(azs, "AvailabilityZones", 0, "Messages")), 0)
	regions := c.ok(t, "ec2", "describe-regions", "--region-names", "us-west-2", "eu-west-1")
	expect("regions", len(list(regions, "Regions")), 2)
	expect("Endpoint", str(regions, "Regions", 0, "Endpoint"), "ec2.eu-west-1.amazonaws.com")
	attrs := c.ok(t, "ec2", "describe-account-attributes", "--attribute-names", "default-vpc", "supported-platforms")
	expect("attributes", len(list(attrs, "AccountAttributes")), 2)
	for _, a := range list(attrs, "AccountAttributes") {
		switch v := str(a, "AttributeValues", 0, "AttributeValue"); str(a, "AttributeName") {
		case "default-vpc":
			prefixed("default-vpc", v, "vpc-")
		case "supported-platforms":
			expect("supported-platforms", v, "VPC")
		default:
			t.Errorf("attribute %v was not asked for", a)
		}
	}
	types := c.ok(t, "ec2", "describe-instance-types", "--instance-types", "t3.micro")
	expect("VCpus", path(types, "InstanceTypes", 0, "VCpuInfo", "DefaultVCpus"), 2.0)
	expect("MiB", path(types, "InstanceTypes", 0, "MemoryInfo", "SizeInMiB"), 1024.0)
	expect("ENIs", path(types, "InstanceTypes", 0, "NetworkInfo", "MaximumNetworkInterfaces"), 2.0)
	expect("arch", str(types, "InstanceTypes", 0, "ProcessorInfo", "SupportedArchitectures", 0), "x86_64")

	// A VPC, tagged at creation, found by its tag.
	if code := c.refused(t, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--dry-run"); code != "DryRunOperation" {
		t.Errorf("dry run: %s", code)
	}
	vpcOut := c.ok(t, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16",
		"--tag-specifications", "ResourceType=vpc,Tags=[{Key=Name,Value=e2e-vpc}]")
	vpc := str(vpcOut, "Vpc", "VpcId")
	prefixed("VpcId", vpc, "vpc-")
	expect("State", str(vpcOut, "Vpc", "State"), "pending")
	expect("CidrBlock", str(vpcOut, "Vpc", "CidrBlock"), "10.0.0.0/16")
	expect("CidrBlockState", str(vpcOut, "Vpc", "CidrBlockAssociationSet", 0, "CidrBlockState", "State"), "associated")
	expect("IsDefault", path(vpcOut, "Vpc", "IsDefault"), false)
	expect("OwnerId", str(vpcOut, "Vpc", "OwnerId"), "123456789012")
	expect("InstanceTenancy", str(vpcOut, "Vpc", "InstanceTenancy"), "default")
	prefixed("DhcpOptionsId", str(vpcOut, "Vpc", "DhcpOptionsId"), "dopt-")
	if l, ok := path(vpcOut, "Vpc", "Ipv6CidrBlockAssociationSet").([]any); !ok || len(l) != 0 {
		t.Errorf("Ipv6CidrBlockAssociationSet = %v, want []", path(vpcOut, "Vpc", "Ipv6CidrBlockAssociationSet"))
	}
	expect("Tag", str(vpcOut, "Vpc", "Tags", 0, "Value"), "e2e-vpc")
	found := c.ok(t, "ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=e2e-*")
	expect("VPCs with the tag", len(list(found, "Vpcs")), 1)
	expect("found VpcId", str(found, "Vpcs", 0, "VpcId"), vpc)
	expect("found State", str(found, "Vpcs", 0, "State"), "available")
	if _, ok := path(found, "Vpcs", 0).(map[string]any)["Ipv6CidrBlockAssociationSet"]; ok {
		t.Error("DescribeVpcs shows Ipv6CidrBlockAssociationSet; AWS leaves it out")
	}
	none := c.ok(t, "ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=nothing")
	if l, ok := path(none, "Vpcs").([]any); !ok || len(l) != 0 {
		t.Errorf("no match: Vpcs = %v, want []", path(none, "Vpcs"))
	}
	dns := c.ok(t, "ec2", "describe-vpc-attribute", "--vpc-id", vpc, "--attribute", "enableDnsSupport")
	expect("EnableDnsSupport", path(dns, "EnableDnsSupport", "Value"), true)
	c.ok(t, "ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", `{"Value":true}`)
	dns = c.ok(t, "ec2", "describe-vpc-attribute", "--vpc-id", vpc, "--attribute", "enableDnsHostnames")
	expect("EnableDnsHostnames", path(dns, "EnableDnsHostnames", "Value"), true)

	// A subnet, and the conflict of an overlapping one.
	subOut := c.ok(t, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24", "--availability-zone", "us-west-2a",
		"--tag-specifications", "ResourceType=subnet,Tags=[{Key=Name,Value=e2e-subnet}]")
	sub := str(subOut, "Subnet", "SubnetId")
	prefixed("SubnetId", sub, "subnet-")
	expect("AvailableIpAddressCount", path(subOut, "Subnet", "AvailableIpAddressCount"), 251.0)
	expect("AvailabilityZoneId", str(subOut, "Subnet", "AvailabilityZoneId"), "usw2-az1")
	expect("SubnetArn", str(subOut, "Subnet", "SubnetArn"), "arn:aws:ec2:us-west-2:123456789012:subnet/"+sub)
	expect("subnet Tag", str(subOut, "Subnet", "Tags", 0, "Value"), "e2e-subnet")
	if code := c.refused(t, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.128/25"); code != "InvalidSubnet.Conflict" {
		t.Errorf("overlapping subnet: %s, want InvalidSubnet.Conflict", code)
	}
	c.ok(t, "ec2", "modify-subnet-attribute", "--subnet-id", sub, "--map-public-ip-on-launch")
	subs := c.ok(t, "ec2", "describe-subnets", "--subnet-ids", sub)
	expect("MapPublicIpOnLaunch", path(subs, "Subnets", 0, "MapPublicIpOnLaunch"), true)

	// A security group with rules; the duplicate is refused.
	sgOut := c.ok(t, "ec2", "create-security-group", "--group-name", "web", "--description", "web servers", "--vpc-id", vpc)
	sg := str(sgOut, "GroupId")
	prefixed("GroupId", sg, "sg-")
	if c.name == "v1" { // CLI v2 2.9's model predates SecurityGroupArn and drops it
		expect("SecurityGroupArn", str(sgOut, "SecurityGroupArn"), "arn:aws:ec2:us-west-2:123456789012:security-group/"+sg)
	}
	auth := c.ok(t, "ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	expect("Return", path(auth, "Return"), true)
	prefixed("SecurityGroupRuleId", str(auth, "SecurityGroupRules", 0, "SecurityGroupRuleId"), "sgr-")
	expect("IsEgress", path(auth, "SecurityGroupRules", 0, "IsEgress"), false)
	expect("FromPort", path(auth, "SecurityGroupRules", 0, "FromPort"), 22.0)
	expect("CidrIpv4", str(auth, "SecurityGroupRules", 0, "CidrIpv4"), "0.0.0.0/0")
	expect("GroupOwnerId", str(auth, "SecurityGroupRules", 0, "GroupOwnerId"), "123456789012")
	c.ok(t, "ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
		"IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/8,Description=internal}],UserIdGroupPairs=[{GroupId="+sg+"}]")
	if code := c.refused(t, "ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"); code != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: %s, want InvalidPermission.Duplicate", code)
	}
	rules := c.ok(t, "ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values="+sg)
	expect("rules", len(list(rules, "SecurityGroupRules")), 4) // all egress + 22 + 80 from a CIDR + 80 from the group
	for _, r := range list(rules, "SecurityGroupRules") {
		if l, ok := path(r, "Tags").([]any); !ok || len(l) != 0 {
			t.Errorf("rule Tags = %v, want []", path(r, "Tags"))
		}
		if str(r, "ReferencedGroupInfo", "GroupId") != "" && str(r, "ReferencedGroupInfo", "GroupId") != sg {
			t.Errorf("ReferencedGroupInfo = %v", path(r, "ReferencedGroupInfo"))
		}
	}
	groups := c.ok(t, "ec2", "describe-security-groups", "--group-ids", sg)
	perms := list(groups, "SecurityGroups", 0, "IpPermissions")
	expect("IpPermissions", len(perms), 2)
	expect("first permission port", path(perms, 0, "FromPort"), 22.0)
	expect("second permission ranges", len(list(perms, 1, "IpRanges")), 1)
	expect("second permission description", str(perms, 1, "IpRanges", 0, "Description"), "internal")
	expect("second permission groups", str(perms, 1, "UserIdGroupPairs", 0, "GroupId"), sg)
	expect("egress", str(groups, "SecurityGroups", 0, "IpPermissionsEgress", 0, "IpProtocol"), "-1")
	if _, ok := path(groups, "SecurityGroups", 0, "IpPermissionsEgress", 0).(map[string]any)["FromPort"]; ok {
		t.Error("an all-traffic permission shows FromPort")
	}
	expect("Description", str(groups, "SecurityGroups", 0, "Description"), "web servers")

	// A network interface.
	eniOut := c.ok(t, "ec2", "create-network-interface", "--subnet-id", sub, "--groups", sg, "--description", "spare",
		"--tag-specifications", "ResourceType=network-interface,Tags=[{Key=role,Value=spare}]")
	eni := str(eniOut, "NetworkInterface", "NetworkInterfaceId")
	prefixed("NetworkInterfaceId", eni, "eni-")
	ip := str(eniOut, "NetworkInterface", "PrivateIpAddress")
	prefixed("PrivateIpAddress", ip, "10.0.1.")
	expect("PrivateDnsName", str(eniOut, "NetworkInterface", "PrivateDnsName"), "ip-"+strings.ReplaceAll(ip, ".", "-")+".us-west-2.compute.internal")
	expect("Primary", path(eniOut, "NetworkInterface", "PrivateIpAddresses", 0, "Primary"), true)
	expect("GroupName", str(eniOut, "NetworkInterface", "Groups", 0, "GroupName"), "web")
	expect("ENI tag", str(eniOut, "NetworkInterface", "TagSet", 0, "Value"), "spare")
	expect("InterfaceType", str(eniOut, "NetworkInterface", "InterfaceType"), "interface")
	prefixed("MacAddress", str(eniOut, "NetworkInterface", "MacAddress"), "0")
	assigned := c.ok(t, "ec2", "assign-private-ip-addresses", "--network-interface-id", eni, "--secondary-private-ip-address-count", "1")
	expect("assigned", len(list(assigned, "AssignedPrivateIpAddresses")), 1)

	// An instance, launched, described, and terminated.
	run := c.ok(t, "ec2", "run-instances", "--image-id", "ami-0abcdef1234567890", "--instance-type", "t3.micro",
		"--subnet-id", sub, "--security-group-ids", sg, "--count", "1",
		"--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=e2e-box}]")
	prefixed("ReservationId", str(run, "ReservationId"), "r-")
	expect("OwnerId", str(run, "OwnerId"), "123456789012")
	if l, ok := path(run, "Groups").([]any); !ok || len(l) != 0 {
		t.Errorf("reservation Groups = %v, want []", path(run, "Groups"))
	}
	inst := str(run, "Instances", 0, "InstanceId")
	prefixed("InstanceId", inst, "i-")
	// The subnet maps public addresses on launch.
	if ip := str(run, "Instances", 0, "PublicIpAddress"); !strings.HasPrefix(ip, "198.18.") {
		t.Errorf("PublicIpAddress = %q, want one of 198.18.0.0/15", ip)
	}
	expect("State", str(run, "Instances", 0, "State", "Name"), "pending")
	expect("State code", path(run, "Instances", 0, "State", "Code"), 0.0)
	expect("SecurityGroups", str(run, "Instances", 0, "SecurityGroups", 0, "GroupName"), "web")
	expect("Placement", str(run, "Instances", 0, "Placement", "AvailabilityZone"), "us-west-2a")
	expect("Architecture", str(run, "Instances", 0, "Architecture"), "x86_64")
	expect("Hypervisor", str(run, "Instances", 0, "Hypervisor"), "xen")
	expect("RootDeviceType", str(run, "Instances", 0, "RootDeviceType"), "ebs")
	expect("Monitoring", str(run, "Instances", 0, "Monitoring", "State"), "disabled")
	expect("instance ENI", str(run, "Instances", 0, "NetworkInterfaces", 0, "SubnetId"), sub)
	prefixed("instance ip", str(run, "Instances", 0, "PrivateIpAddress"), "10.0.1.")
	if l, ok := path(run, "Instances", 0, "BlockDeviceMappings").([]any); !ok || len(l) != 0 {
		t.Errorf("BlockDeviceMappings = %v, want []", path(run, "Instances", 0, "BlockDeviceMappings"))
	}
	prefixed("LaunchTime", str(run, "Instances", 0, "LaunchTime"), "20")
	ts.cloud.Wait() // let the launch finish
	desc := c.ok(t, "ec2", "describe-instances", "--filters", "Name=tag:Name,Values=e2e-box")
	expect("reservations", len(list(desc, "Reservations")), 1)
	expect("described", str(desc, "Reservations", 0, "Instances", 0, "InstanceId"), inst)
	expect("running", str(desc, "Reservations", 0, "Instances", 0, "State", "Name"), "running")
	attr := c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", inst, "--attribute", "instanceType")
	expect("InstanceType attribute", str(attr, "InstanceType", "Value"), "t3.micro")
	att := c.ok(t, "ec2", "attach-network-interface", "--network-interface-id", eni, "--instance-id", inst, "--device-index", "1")
	prefixed("AttachmentId", str(att, "AttachmentId"), "eni-attach-")
	ts.cloud.Wait()
	enis := c.ok(t, "ec2", "describe-network-interfaces", "--network-interface-ids", eni)
	expect("attached to", str(enis, "NetworkInterfaces", 0, "Attachment", "InstanceId"), inst)
	expect("device", path(enis, "NetworkInterfaces", 0, "Attachment", "DeviceIndex"), 1.0)
	tags := c.ok(t, "ec2", "describe-tags", "--filters", "Name=resource-id,Values="+vpc)
	expect("tag resource type", str(tags, "Tags", 0, "ResourceType"), "vpc")
	expect("tag key", str(tags, "Tags", 0, "Key"), "Name")

	// Flow logs: the subnet's, to CloudWatch Logs; one resource of two is missing.
	fl := c.ok(t, "ec2", "create-flow-logs", "--resource-type", "Subnet", "--resource-ids", sub, "subnet-0123456789abcdef0",
		"--traffic-type", "ACCEPT", "--log-group-name", "e2e", "--deliver-logs-permission-arn", "arn:aws:iam::123456789012:role/fl",
		"--log-format", "${version} ${vpc-id} ${srcaddr} ${action}", "--max-aggregation-interval", "60")
	flowLog := str(fl, "FlowLogIds", 0)
	prefixed("FlowLogId", flowLog, "fl-")
	expect("unsuccessful", str(fl, "Unsuccessful", 0, "Error", "Code"), "InvalidSubnetID.NotFound")
	logs := c.ok(t, "ec2", "describe-flow-logs", "--filter", "Name=resource-id,Values="+sub)
	expect("flow logs", len(list(logs, "FlowLogs")), 1)
	expect("FlowLogStatus", str(logs, "FlowLogs", 0, "FlowLogStatus"), "ACTIVE")
	expect("LogGroupName", str(logs, "FlowLogs", 0, "LogGroupName"), "e2e")
	expect("LogFormat", str(logs, "FlowLogs", 0, "LogFormat"), "${version} ${vpc-id} ${srcaddr} ${action}")
	expect("MaxAggregationInterval", path(logs, "FlowLogs", 0, "MaxAggregationInterval"), 60.0)
	del := c.ok(t, "ec2", "delete-flow-logs", "--flow-log-ids", flowLog)
	expect("unsuccessful deletes", len(list(del, "Unsuccessful")), 0)

	// Route tables: the VPC's main one, found as the Terraform provider
	// finds it; a table of the subnet with a route to the spare ENI.
	mains := c.ok(t, "ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+vpc, "Name=association.main,Values=true")
	expect("main tables", len(list(mains, "RouteTables")), 1)
	expect("local route", str(mains, "RouteTables", 0, "Routes", 0, "GatewayId"), "local")
	expect("main association", path(mains, "RouteTables", 0, "Associations", 0, "Main"), true)
	rt := str(c.ok(t, "ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	prefixed("RouteTableId", rt, "rtb-")
	assocOut := c.ok(t, "ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", sub)
	expect("association state", str(assocOut, "AssociationState", "State"), "associated")
	c.ok(t, "ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "192.168.0.0/16", "--network-interface-id", eni)
	expect("route twice", c.refused(t, "ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "192.168.0.0/16", "--network-interface-id", eni), "RouteAlreadyExists")
	routes := c.ok(t, "ec2", "describe-route-tables", "--route-table-ids", rt)
	expect("route target", str(routes, "RouteTables", 0, "Routes", 1, "NetworkInterfaceId"), eni)
	expect("subnet association", str(routes, "RouteTables", 0, "Associations", 0, "SubnetId"), sub)
	c.ok(t, "ec2", "delete-route", "--route-table-id", rt, "--destination-cidr-block", "192.168.0.0/16")
	expect("delete while associated", c.refused(t, "ec2", "delete-route-table", "--route-table-id", rt), "DependencyViolation")
	c.ok(t, "ec2", "disassociate-route-table", "--association-id", str(assocOut, "AssociationId"))
	c.ok(t, "ec2", "delete-route-table", "--route-table-id", rt)

	// An internet gateway routed to, and an Elastic IP on the spare ENI,
	// as the Terraform provider reads them back.
	igw := str(c.ok(t, "ec2", "create-internet-gateway", "--tag-specifications", "ResourceType=internet-gateway,Tags=[{Key=Name,Value=gw}]"), "InternetGateway", "InternetGatewayId")
	prefixed("InternetGatewayId", igw, "igw-")
	c.ok(t, "ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
	expect("attach twice", c.refused(t, "ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc), "Resource.AlreadyAssociated")
	igws := c.ok(t, "ec2", "describe-internet-gateways", "--filters", "Name=attachment.vpc-id,Values="+vpc)
	expect("gateway attachment", str(igws, "InternetGateways", 0, "Attachments", 0, "State"), "available")
	expect("gateway tag", str(igws, "InternetGateways", 0, "Tags", 0, "Value"), "gw")
	mainRT := str(mains, "RouteTables", 0, "RouteTableId")
	c.ok(t, "ec2", "create-route", "--route-table-id", mainRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	eip := c.ok(t, "ec2", "allocate-address", "--domain", "vpc")
	prefixed("AllocationId", str(eip, "AllocationId"), "eipalloc-")
	eipAssoc := str(c.ok(t, "ec2", "associate-address", "--allocation-id", str(eip, "AllocationId"), "--network-interface-id", eni), "AssociationId")
	prefixed("AssociationId", eipAssoc, "eipassoc-")
	addrs := c.ok(t, "ec2", "describe-addresses", "--public-ips", str(eip, "PublicIp"))
	expect("address association", str(addrs, "Addresses", 0, "NetworkInterfaceId"), eni)
	eniDesc := c.ok(t, "ec2", "describe-network-interfaces", "--network-interface-ids", eni)
	expect("ENI public address", str(eniDesc, "NetworkInterfaces", 0, "Association", "PublicIp"), str(eip, "PublicIp"))
	expect("detach with a public address", c.refused(t, "ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc), "DependencyViolation")
	c.ok(t, "ec2", "disassociate-address", "--association-id", eipAssoc)
	c.ok(t, "ec2", "release-address", "--allocation-id", str(eip, "AllocationId"))
	c.ok(t, "ec2", "delete-route", "--route-table-id", mainRT, "--destination-cidr-block", "0.0.0.0/0")
	// The instance launched above still has its public address.
	expect("detach with the instance's public address", c.refused(t, "ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc), "DependencyViolation")
	expect("delete while attached", c.refused(t, "ec2", "delete-internet-gateway", "--internet-gateway-id", igw), "DependencyViolation")

	// What describes an instance is stored and answered; the protection
	// against termination is enforced.
	guarded := c.ok(t, "ec2", "run-instances", "--image-id", "ami-0abcdef1234567890", "--instance-type", "t3.micro",
		"--subnet-id", sub, "--disable-api-termination", "--ebs-optimized", "--instance-initiated-shutdown-behavior", "terminate",
		"--metadata-options", "HttpTokens=required,HttpPutResponseHopLimit=2", "--iam-instance-profile", "Name=ecs-host",
		"--credit-specification", "CpuCredits=standard", "--hibernation-options", "Configured=false",
		"--cpu-options", "CoreCount=1,ThreadsPerCore=1", "--maintenance-options", "AutoRecovery=disabled",
		"--capacity-reservation-specification", "CapacityReservationPreference=none",
		"--block-device-mappings", `[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":30,"VolumeType":"gp3","Encrypted":true}},{"DeviceName":"/dev/sdf","Ebs":{"VolumeSize":10,"VolumeType":"gp2","DeleteOnTermination":false}}]`)
	g := str(guarded, "Instances", 0, "InstanceId")
	ts.cloud.Wait()
	gd := c.ok(t, "ec2", "describe-instances", "--instance-ids", g)
	expect("EbsOptimized", path(gd, "Reservations", 0, "Instances", 0, "EbsOptimized"), true)
	expect("HttpTokens", str(gd, "Reservations", 0, "Instances", 0, "MetadataOptions", "HttpTokens"), "required")
	expect("hop limit", path(gd, "Reservations", 0, "Instances", 0, "MetadataOptions", "HttpPutResponseHopLimit"), 2.0)
	expect("profile", str(gd, "Reservations", 0, "Instances", 0, "IamInstanceProfile", "Arn"), "arn:aws:iam::123456789012:instance-profile/ecs-host")
	expect("threads", path(gd, "Reservations", 0, "Instances", 0, "CpuOptions", "ThreadsPerCore"), 1.0)
	expect("auto recovery", str(gd, "Reservations", 0, "Instances", 0, "MaintenanceOptions", "AutoRecovery"), "disabled")
	expect("reservations", str(gd, "Reservations", 0, "Instances", 0, "CapacityReservationSpecification", "CapacityReservationPreference"), "none")
	expect("root device", str(gd, "Reservations", 0, "Instances", 0, "BlockDeviceMappings", 0, "DeviceName"), "/dev/xvda")
	rootVol := str(gd, "Reservations", 0, "Instances", 0, "BlockDeviceMappings", 0, "Ebs", "VolumeId")
	prefixed("root volume", rootVol, "vol-")
	vols := c.ok(t, "ec2", "describe-volumes", "--filters", "Name=attachment.instance-id,Values="+g)
	expect("volumes", len(list(vols, "Volumes")), 2)
	expect("root size", path(vols, "Volumes", 0, "Size"), 30.0)
	expect("root type", str(vols, "Volumes", 0, "VolumeType"), "gp3")
	expect("root iops", path(vols, "Volumes", 0, "Iops"), 3000.0)
	expect("root encrypted", path(vols, "Volumes", 0, "Encrypted"), true)
	expect("data delete on termination", path(vols, "Volumes", 1, "Attachments", 0, "DeleteOnTermination"), false)
	c.ok(t, "ec2", "create-tags", "--resources", rootVol, "--tags", "Key=disk,Value=root")
	tagged := c.ok(t, "ec2", "describe-volumes", "--filters", "Name=tag:disk,Values=root")
	expect("tagged volume", str(tagged, "Volumes", 0, "VolumeId"), rootVol)
	volTags := c.ok(t, "ec2", "describe-tags", "--filters", "Name=resource-id,Values="+rootVol)
	expect("volume tag type", str(volTags, "Tags", 0, "ResourceType"), "volume")
	for attrName, want := range map[string]any{"disableApiTermination": true, "instanceInitiatedShutdownBehavior": "terminate", "ebsOptimized": true} {
		a := c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", g, "--attribute", attrName)
		for k, v := range a {
			if k != "InstanceId" {
				expect(attrName, path(v.(map[string]any), "Value"), want)
			}
		}
	}
	expect("protected", c.refused(t, "ec2", "terminate-instances", "--instance-ids", g), "OperationNotPermitted")
	expect("type while running", c.refused(t, "ec2", "modify-instance-attribute", "--instance-id", g, "--instance-type", "Value=t3.small"), "IncorrectInstanceState")
	expect("bad volume", c.refused(t, "ec2", "run-instances", "--image-id", "ami-0abcdef1234567890", "--subnet-id", sub,
		"--block-device-mappings", `[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":20000,"VolumeType":"gp3"}}]`), "InvalidParameterValue")
	c.ok(t, "ec2", "modify-instance-attribute", "--instance-id", g, "--no-disable-api-termination")
	c.ok(t, "ec2", "terminate-instances", "--instance-ids", g)

	term := c.ok(t, "ec2", "terminate-instances", "--instance-ids", inst)
	expect("terminating", str(term, "TerminatingInstances", 0, "InstanceId"), inst)
	expect("previous", str(term, "TerminatingInstances", 0, "PreviousState", "Name"), "running")
	expect("current", str(term, "TerminatingInstances", 0, "CurrentState", "Name"), "shutting-down")
	expect("current code", path(term, "TerminatingInstances", 0, "CurrentState", "Code"), 32.0)
}
