package ec2

import (
	"net/netip"
	"time"
)

// The EC2 resources vpcsim keeps. Each is stored as one JSON document (see store.go);
// the fields are the model's own, the protocol layer renders AWS's shapes from them.
// Values handed out of Cloud are copies: callers may keep and change them.

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// VPC is a virtual private cloud.
type VPC struct {
	ID                string       `json:"id"`
	Region            string       `json:"region"`
	OwnerID           string       `json:"owner"`
	CIDR              netip.Prefix `json:"cidr"`
	CIDRAssociationID string       `json:"cidrAssoc"`
	// Secondary are the VPC's secondary IPv4 blocks (vpc_cidr.go).
	Secondary []CIDRAssoc `json:"secondary,omitempty"`
	// IPv6 are the VPC's IPv6 blocks (vpc_ipv6.go): at most one, a /56 of
	// vpcsim's own unique local range.
	IPv6               []IPv6Block `json:"ipv6,omitempty"`
	DHCPOptionsID      string      `json:"dhcp"`
	InstanceTenancy    string      `json:"tenancy"`
	IsDefault          bool        `json:"default"`
	EnableDNSSupport   bool        `json:"dnsSupport"`
	EnableDNSHostnames bool        `json:"dnsHostnames"`
	// EnableNetworkAddressUsageMetrics is stored and answered: vpcsim has no
	// CloudWatch to publish the metrics to.
	EnableNetworkAddressUsageMetrics bool `json:"nauMetrics,omitempty"`
	// Connected says the machine itself is routed into the VPC (vpcsim connect),
	// at ConnectAddr(CIDR).
	Connected bool   `json:"connected,omitempty"`
	State     string `json:"state"`
	Tags      []Tag  `json:"tags,omitempty"`
	Seq       int64  `json:"seq"`
}

// Subnet is a range of a VPC in one availability zone.
type Subnet struct {
	ID                  string       `json:"id"`
	Region              string       `json:"region"`
	OwnerID             string       `json:"owner"`
	VPCID               string       `json:"vpc"`
	CIDR                netip.Prefix `json:"cidr"`
	AZ                  string       `json:"az"`
	AZID                string       `json:"azId"`
	DefaultForAZ        bool         `json:"defaultForAz"`
	MapPublicIPOnLaunch bool         `json:"mapPublicIp"`
	// The private DNS name options of its instances (stored and answered:
	// vpcsim's DNS is to come): HostnameType "" means ip-name.
	HostnameType  string `json:"hostnameType,omitempty"`
	DNSARecord    bool   `json:"dnsA,omitempty"`
	DNSAAAARecord bool   `json:"dnsAAAA,omitempty"`
	// IPv6 is the subnet's IPv6 range, a part of its VPC's block (at most
	// one; subnet_ipv6.go). An IPv6Native subnet has no IPv4 CIDR.
	IPv6                 []SubnetIPv6Block `json:"ipv6,omitempty"`
	IPv6Native           bool              `json:"ipv6Native,omitempty"`
	AssignIPv6OnCreation bool              `json:"assignIpv6,omitempty"`
	EnableDNS64          bool              `json:"dns64,omitempty"`
	State                string            `json:"state"`
	Tags                 []Tag             `json:"tags,omitempty"`
	Seq                  int64             `json:"seq"`

	// AvailableIPs is derived: usable addresses (size − 5) not held by an ENI.
	AvailableIPs int `json:"-"`
}

// SecurityGroup is a stateful firewall attached to ENIs.
type SecurityGroup struct {
	ID          string `json:"id"`
	Region      string `json:"region"`
	OwnerID     string `json:"owner"`
	VPCID       string `json:"vpc"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Rules       []Rule `json:"rules,omitempty"` // ingress and egress, in the order they were added
	Tags        []Tag  `json:"tags,omitempty"`
	Seq         int64  `json:"seq"`
}

// Rule is one security group rule: one protocol and port range, one peer.
// AWS's IpPermissions group several of these; DescribeSecurityGroupRules lists them one by one.
type Rule struct {
	ID          string `json:"id"` // sgr-…
	GroupID     string `json:"group"`
	Egress      bool   `json:"egress"`
	Protocol    string `json:"proto"` // "tcp", "udp", "icmp", "icmpv6", "-1" or a protocol number
	FromPort    int32  `json:"from"`  // -1 when the protocol has no ports; ICMP type
	ToPort      int32  `json:"to"`    // ICMP code
	CIDRv4      string `json:"cidr4,omitempty"`
	CIDRv6      string `json:"cidr6,omitempty"`
	PeerGroupID string `json:"peer,omitempty"` // a referenced security group
	PeerOwnerID string `json:"peerOwner,omitempty"`
	// PeerVPCID is the referenced group's VPC when it is another VPC's,
	// one peered with the rule's, through Peering (pcx-…) when the rule was
	// made: the rule is stale while that peering is not active.
	PeerVPCID string `json:"peerVpc,omitempty"`
	Peering   string `json:"pcx,omitempty"`
	// PeeringStatus is, in DescribeStaleSecurityGroups' answer, the state
	// of Peering; never stored.
	PeeringStatus string `json:"-"`
	PrefixList    string `json:"pl,omitempty"`
	Description   string `json:"description,omitempty"`
	Tags          []Tag  `json:"tags,omitempty"`
}

// PrivateIP is one private IPv4 address of an ENI.
type PrivateIP struct {
	Addr    netip.Addr `json:"addr"`
	Primary bool       `json:"primary"`
	// Public is the public address the VPC's internet gateway translates to
	// Addr, if any: an Elastic IP (AllocationID names it, AssociationID
	// its association) or one EC2 assigned at launch, released with the ENI.
	Public        netip.Addr `json:"public,omitzero"`
	AllocationID  string     `json:"alloc,omitempty"`
	AssociationID string     `json:"assoc,omitempty"`
}

// ENIAttachment says where an ENI is attached.
type ENIAttachment struct {
	ID                  string    `json:"id"` // eni-attach-…
	InstanceID          string    `json:"instance"`
	InstanceOwnerID     string    `json:"instanceOwner"`
	DeviceIndex         int       `json:"device"`
	Status              string    `json:"status"` // attaching, attached, detaching, detached
	AttachTime          time.Time `json:"time"`
	DeleteOnTermination bool      `json:"deleteOnTermination"`
}

// ENI is an elastic network interface.
type ENI struct {
	ID          string      `json:"id"`
	Region      string      `json:"region"`
	OwnerID     string      `json:"owner"`
	SubnetID    string      `json:"subnet"`
	VPCID       string      `json:"vpc"`
	AZ          string      `json:"az"`
	Description string      `json:"description"`
	MAC         string      `json:"mac"`
	PrivateIPs  []PrivateIP `json:"ips"` // the primary first
	// IPv6 are its IPv6 addresses, of its subnet's IPv6 range (eni_ipv6.go).
	IPv6             []netip.Addr   `json:"ipv6,omitempty"`
	Groups           []string       `json:"groups"`
	SourceDestCheck  bool           `json:"srcDstCheck"`
	InterfaceType    string         `json:"type"`
	RequesterManaged bool           `json:"requesterManaged"`
	RequesterID      string         `json:"requesterId,omitempty"`
	Status           string         `json:"status"` // available, attaching, in-use, detaching
	Attachment       *ENIAttachment `json:"attachment,omitempty"`
	Tags             []Tag          `json:"tags,omitempty"`
	Seq              int64          `json:"seq"`
	// AutoPublic says EC2 gave the ENI a public address at launch: it gets a
	// new one when an Elastic IP leaves its primary address.
	AutoPublic bool `json:"autoPublic,omitempty"`

	// Host is set on a task's ENI: the namespace of the task, where the kernel has
	// the ENI as eth0, whatever instance the attachment names.
	Host string `json:"host,omitempty"`
}

// PrimaryIP is the ENI's primary private IPv4 address (invalid for an ENI of
// an IPv6-only subnet, which has none).
func (e *ENI) PrimaryIP() netip.Addr {
	for _, ip := range e.PrivateIPs {
		if ip.Primary {
			return ip.Addr
		}
	}
	return netip.Addr{}
}

// Instance states, as EC2 names them, with their codes.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

// StateCode is the numeric code EC2 gives each instance state.
func StateCode(state string) int {
	switch state {
	case StatePending:
		return 0
	case StateRunning:
		return 16
	case StateShuttingDown:
		return 32
	case StateTerminated:
		return 48
	case StateStopping:
		return 64
	case StateStopped:
		return 80
	}
	return 0
}

// Instance is an EC2 instance: a network namespace whose eth0 is its primary ENI.
type Instance struct {
	ID                    string    `json:"id"`
	Region                string    `json:"region"`
	OwnerID               string    `json:"owner"`
	ReservationID         string    `json:"reservation"`
	ImageID               string    `json:"image"`
	Type                  string    `json:"type"`
	KeyName               string    `json:"key,omitempty"`
	SubnetID              string    `json:"subnet"`
	VPCID                 string    `json:"vpc"`
	AZ                    string    `json:"az"`
	State                 string    `json:"state"`
	StateReasonCode       string    `json:"stateReasonCode,omitempty"`
	StateReasonMessage    string    `json:"stateReasonMessage,omitempty"`
	StateTransitionReason string    `json:"transitionReason,omitempty"`
	LaunchTime            time.Time `json:"launchTime"`
	TerminatedAt          time.Time `json:"terminatedAt,omitzero"`
	LaunchIndex           int       `json:"launchIndex"`
	UserData              string    `json:"userData,omitempty"` // base64, as given
	ClientToken           string    `json:"clientToken,omitempty"`
	Tags                  []Tag     `json:"tags,omitempty"`
	Seq                   int64     `json:"seq"`
	// Rebooting is set by RebootInstances until the instance's operating
	// system is back (instance_state.go): EC2 shows no state for it, the
	// instance stays running, but what runs on it (an ECS agent, its
	// tasks) ends and starts again.
	Rebooting bool `json:"rebooting,omitempty"`
	// Settings and Volumes describe it (instance_settings.go,
	// instance_volumes.go); Volumes[0] is the root volume.
	Settings InstanceSettings `json:"settings"`
	Volumes  []Volume         `json:"volumes,omitempty"`

	// ENIs is derived: the ENIs attached to it, by device index.
	ENIs []ENI `json:"-"`
}

// FlowLog captures the IP traffic of a VPC, a subnet or an ENI (every ENI in
// it) into records written to its destination (see flowlog_write.go).
type FlowLog struct {
	ID                       string    `json:"id"` // fl-…
	Region                   string    `json:"region"`
	OwnerID                  string    `json:"owner"`
	ResourceID               string    `json:"resource"` // vpc-…, subnet-… or eni-…
	TrafficType              string    `json:"traffic"`  // ALL, ACCEPT or REJECT
	LogDestinationType       string    `json:"destType"` // cloud-watch-logs, s3, kinesis-data-firehose or file
	LogDestination           string    `json:"dest,omitempty"`
	LogGroupName             string    `json:"group,omitempty"`
	DeliverLogsPermissionArn string    `json:"role,omitempty"`
	LogFormat                string    `json:"format"`
	MaxAggregationInterval   int       `json:"interval"` // seconds: 60 or 600
	CreationTime             time.Time `json:"created"`
	// ClientToken is the CreateFlowLogs token that made it, and Request that
	// request's fingerprint: a retry with the token answers the same flow logs.
	ClientToken string `json:"clientToken,omitempty"`
	Request     string `json:"request,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	Seq         int64  `json:"seq"`

	// DeliverLogsError is derived: why the last write failed ("" = it did not),
	// in DeliverLogsErrorMessage's words.
	DeliverLogsError string `json:"-"`
}

// Filter is one Filter.N of a Describe call: a resource matches when the named
// attribute has any of the values (with * and ? wildcards).
type Filter struct {
	Name   string
	Values []string
}
