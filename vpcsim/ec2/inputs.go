package ec2

import "time"

// The inputs of Cloud's operations: what the protocol layer parsed from a request,
// in the model's words. Optional values are pointers; nil means "not given".

// Scope is who asks and where: every operation runs in one region of one account.
type Scope struct {
	Region string
}

// CreateVpcInput is CreateVpc's request.
type CreateVpcInput struct {
	CIDRBlock       string
	InstanceTenancy string
	Tags            []Tag
	// AmazonProvidedIPv6 gives the VPC an IPv6 block (vpc_ipv6.go).
	AmazonProvidedIPv6 bool
}

// CreateSubnetInput is CreateSubnet's request.
type CreateSubnetInput struct {
	VPCID string
	CIDR  string
	AZ    string
	AZID  string
	Tags  []Tag
	// IPv6CIDR is the subnet's IPv6 range; IPv6Native makes it IPv6 only
	// (no CIDR then). See subnet_ipv6.go.
	IPv6CIDR   string
	IPv6Native bool
}

// ModifySubnetInput is ModifySubnetAttribute's request; nil = unchanged.
type ModifySubnetInput struct {
	MapPublicIPOnLaunch *bool
	HostnameType        *string // PrivateDnsHostnameTypeOnLaunch: ip-name or resource-name
	DNSARecord          *bool   // EnableResourceNameDnsARecordOnLaunch
	DNSAAAARecord       *bool   // EnableResourceNameDnsAAAARecordOnLaunch
	AssignIPv6          *bool   // AssignIpv6AddressOnCreation
	EnableDNS64         *bool
}

// CreateSecurityGroupInput is CreateSecurityGroup's request.
type CreateSecurityGroupInput struct {
	VPCID       string // "" = the region's default VPC
	Name        string
	Description string
	Tags        []Tag
}

// GroupRef names a security group by ID or, in the default VPC, by name.
type GroupRef struct {
	ID   string
	Name string
}

// Permission is one IpPermissions entry: a protocol and port range with its peers.
type Permission struct {
	Protocol  string
	FromPort  *int32
	ToPort    *int32
	CIDRs     []Peer // IpRanges
	CIDRsV6   []Peer // Ipv6Ranges
	Groups    []Peer // UserIdGroupPairs (Value = GroupId; Name = GroupName)
	PrefixIDs []Peer // PrefixListIds
}

// Peer is one source or destination of a Permission.
type Peer struct {
	Value       string // CIDR, group ID or prefix list ID
	Name        string // group name, for UserIdGroupPairs given by name
	OwnerID     string
	Description string
}

// AuthorizeInput is Authorize/RevokeSecurityGroupIngress/Egress's request.
type AuthorizeInput struct {
	Group       GroupRef
	Egress      bool
	Permissions []Permission
	RuleIDs     []string // Revoke only: SecurityGroupRuleIds
	Tags        []Tag    // Authorize only: TagSpecifications for the new rules
	// The older flat form (CidrIp, IpProtocol, FromPort, ToPort, SourceSecurityGroupName).
	Flat *Permission
}

// CreateNetworkInterfaceInput is CreateNetworkInterface's request.
type CreateNetworkInterfaceInput struct {
	SubnetID                       string
	Description                    string
	PrivateIPAddress               string
	PrivateIPAddresses             []PrivateIPSpec
	SecondaryPrivateIPAddressCount int
	Groups                         []string
	InterfaceType                  string
	Tags                           []Tag
	// RequesterManaged ENIs are made by a service (ECS tasks): users may not modify,
	// detach or delete them.
	RequesterManaged bool
	// PublicIP gives the ENI a public address, as EC2 does for a Fargate
	// task with assignPublicIp (a service's ENIs only).
	PublicIP bool
	// IPv6Count or IPv6Addresses ask for IPv6 addresses (eni_ipv6.go).
	IPv6Count     int
	IPv6Addresses []string
}

// PrivateIPSpec is one requested private address.
type PrivateIPSpec struct {
	Address string
	Primary bool
}

// ModifyNetworkInterfaceInput is ModifyNetworkInterfaceAttribute's request; nil = unchanged.
type ModifyNetworkInterfaceInput struct {
	Description         *string
	SourceDestCheck     *bool
	Groups              []string // nil = unchanged
	AttachmentID        string
	DeleteOnTermination *bool
}

// AssignPrivateIPsInput is AssignPrivateIpAddresses's request.
type AssignPrivateIPsInput struct {
	ENIID             string
	Addresses         []string
	SecondaryCount    int
	AllowReassignment bool
}

// InstanceENISpec is one RunInstances NetworkInterfaces entry (launch
// template versions store it: its JSON names never change).
type InstanceENISpec struct {
	DeviceIndex                    int      `json:"device"`
	ENIID                          string   `json:"eni,omitempty"`
	SubnetID                       string   `json:"subnet,omitempty"`
	Description                    string   `json:"description,omitempty"`
	PrivateIPAddress               string   `json:"ip,omitempty"`
	Groups                         []string `json:"groups,omitempty"`
	SecondaryPrivateIPAddressCount int      `json:"secondaryCount,omitempty"`
	DeleteOnTermination            *bool    `json:"deleteOnTermination,omitempty"`
	AssociatePublicIP              *bool    `json:"publicIp,omitempty"`
	IPv6Count                      int      `json:"ipv6Count,omitempty"`
	IPv6Addresses                  []string `json:"ipv6,omitempty"`
}

// RunInstancesInput is RunInstances's request.
type RunInstancesInput struct {
	ImageID            string
	InstanceType       string
	MinCount, MaxCount int
	SubnetID           string
	SecurityGroupIDs   []string
	SecurityGroupNames []string
	PrivateIPAddress   string
	IPv6Count          int      // Ipv6AddressCount
	IPv6Addresses      []string // Ipv6Addresses
	UserData           string   // base64
	KeyName            string
	ClientToken        string
	AZ                 string // Placement.AvailabilityZone
	NetworkInterfaces  []InstanceENISpec
	Tags               []Tag // for the instances
	VolumeTags         []Tag
	ENITags            []Tag
	Settings           SettingsInput
	BlockDevices       []BlockDeviceInput
	// LaunchTemplate names the template whose version supplies what the
	// request does not give (launchtemplate.go); nil: none.
	LaunchTemplate *LaunchTemplateRef

	// systemTags are the instances' tags EC2 adds itself (aws:…), which
	// no caller may give.
	systemTags []Tag
}

// InstanceStateChange is one entry of Terminate/Stop/StartInstances's answer.
type InstanceStateChange struct {
	InstanceID    string
	PreviousState string
	CurrentState  string
}

// TagDescription is one DescribeTags row.
type TagDescription struct {
	ResourceID   string
	ResourceType string
	Key, Value   string
}

// clock lets tests move time; the zero Cloud uses the wall clock.
type clock func() time.Time
