// Package quota is vpcsim's one table of resource bounds, used by the EC2 and
// the ECS domain alike. Every resource a caller can make is counted against a
// quota, checked under the same lock as the creation, so concurrent creates
// never overshoot.
//
// Two profiles give the bounds: "local" (the default) protects the machine
// that vpcsim runs on while test suites run many isolated VPCs side by side;
// "aws" is a fresh AWS account's default quotas, for tests that want to hit the
// limits AWS would. Where AWS has no such quota (it is a cap of vpcsim's own),
// the aws profile keeps the local bound. Single quotas may be set on top of
// either profile (serve --quota NAME=N).
package quota

import (
	"fmt"
	"strconv"
	"strings"
)

// Name names a quota, as --quota takes it.
type Name string

// The quotas. Unless Per says otherwise they count per region.
const (
	VPCs                         Name = "vpcs"
	SubnetsPerVPC                Name = "subnets-per-vpc"
	Subnets                      Name = "subnets"
	NetworkInterfaces            Name = "network-interfaces"
	SecurityGroups               Name = "security-groups"
	RulesPerSecurityGroup        Name = "rules-per-security-group"
	SecurityGroupsPerInterface   Name = "security-groups-per-interface"
	Instances                    Name = "instances"
	FlowLogs                     Name = "flow-logs"
	InternetGateways             Name = "internet-gateways"
	ElasticIPs                   Name = "elastic-ips"
	PrefixLists                  Name = "prefix-lists"
	IPv4BlocksPerVPC             Name = "ipv4-blocks-per-vpc"
	Clusters                     Name = "clusters"
	ContainerInstancesPerCluster Name = "container-instances-per-cluster"
	RevisionsPerFamily           Name = "task-definition-revisions-per-family"
	TaskDefinitionBytes          Name = "task-definition-bytes"
	Tasks                        Name = "tasks"
	FargateTasks                 Name = "fargate-tasks"
)

// Quota is one row of the table.
type Quota struct {
	Name Name
	// What is what it counts, and in what (README's words).
	What string
	// Local is the bound of the local profile.
	Local int
	// AWS is a fresh AWS account's default, 0 where AWS has no such quota: the
	// aws profile then keeps Local.
	AWS int
	// Code and Message are what a call that would go beyond the bound answers:
	// the error code (for ECS its exception; "RunTask failure" puts Message in
	// RunTask's failures) and AWS's words, where {total} and {limit} stand
	// for the count asked for and the bound.
	Code, Message string
}

// Table is every quota, in the README's order. Messages marked (unverified)
// in the comments were not found in an AWS source; they follow AWS's style.
var Table = []Quota{
	{VPCs, "VPCs per region (the default VPC counts)", 500, 5,
		"VpcLimitExceeded", "The maximum number of VPCs has been reached."},
	{SubnetsPerVPC, "subnets per VPC", 200, 200,
		"SubnetLimitExceeded", "The maximum number of subnets has been reached."},
	{Subnets, "subnets per region", 2000, 0,
		"SubnetLimitExceeded", "The maximum number of subnets has been reached."},
	// (unverified) the message.
	{NetworkInterfaces, "network interfaces per region (task and instance ENIs count)", 5000, 5000,
		"NetworkInterfaceLimitExceeded", "The maximum number of network interfaces has been reached."},
	// (unverified) the message.
	{SecurityGroups, "security groups per region (default groups count)", 5000, 2500,
		"SecurityGroupLimitExceeded", "The maximum number of security groups has been reached."},
	{RulesPerSecurityGroup, "rules per security group, inbound and outbound each", 200, 60,
		"RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached."},
	// (unverified) the message.
	{SecurityGroupsPerInterface, "security groups per network interface", 5, 5,
		"SecurityGroupsPerInterfaceLimitExceeded", "You have exceeded the maximum number of security groups allowed per network interface."},
	{Instances, "instances per region, not terminated", 500, 20,
		"InstanceLimitExceeded", "You have requested more instances ({total}) than your current instance limit of {limit} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."},
	// (unverified) the message.
	{FlowLogs, "flow logs per region", 1000, 0,
		"FlowLogsLimitExceeded", "The maximum number of flow logs has been reached."},
	// (unverified) the message.
	{InternetGateways, "internet gateways per region (the default VPC's counts)", 500, 5,
		"InternetGatewayLimitExceeded", "The maximum number of internet gateways has been reached."},
	{ElasticIPs, "Elastic IP addresses per region", 500, 5,
		"AddressLimitExceeded", "The maximum number of addresses has been reached."},
	// The message names the VPC: EC2 answers it (see ec2.AssociateVpcCIDR).
	{IPv4BlocksPerVPC, "IPv4 CIDR blocks per VPC, the primary one too", 5, 5,
		"CidrLimitExceeded", "This network has met its maximum number of allowed CIDRs: {limit}"},
	// (unverified) the code and the message.
	{PrefixLists, "customer-managed prefix lists per region", 1000, 100,
		"PrefixListLimitExceeded", "The maximum number of prefix lists has been reached."},
	// (unverified) the exception and the message.
	{Clusters, "ECS clusters per region, ACTIVE", 1000, 10000,
		"ClientException", "The maximum number of clusters has been reached."},
	// (unverified) the exception and the message.
	{ContainerInstancesPerCluster, "container instances per cluster, not INACTIVE", 5000, 5000,
		"ClientException", "The maximum number of container instances in the cluster has been reached."},
	// The message is the exception's, as ECS's API reference words it.
	{RevisionsPerFamily, "task definition revisions per family", 1000000, 1000000,
		"LimitExceededException", "The limit for the resource was exceeded."},
	{TaskDefinitionBytes, "bytes of task definitions per region (as JSON; every revision kept counts)", 128 << 20, 0,
		"LimitExceededException", "The limit for the resource was exceeded."},
	{Tasks, "ECS tasks per region, until an hour after they stop", 2000, 0,
		"RunTask failure", "You've reached the limit on the number of tasks you can run concurrently"},
	{FargateTasks, "Fargate tasks per region, not stopped", 1000, 1000,
		"RunTask failure", "You've reached the limit on the number of tasks you can run concurrently"},
}

// Exceeded is the refusal of a call that would go beyond a quota: the code
// and message the API answers, which each domain renders as its own error.
type Exceeded struct {
	Name          Name
	Code, Message string
}

func (e *Exceeded) Error() string { return e.Code + ": " + e.Message }

// The profiles.
const (
	ProfileLocal = "local"
	ProfileAWS   = "aws"
)

// Limits is the bound of every quota on one server. The zero value is the
// local profile. Limits is a value: Set returns a changed copy.
type Limits struct {
	profile string
	set     map[Name]int
}

// Profile returns the bounds of a profile, "local" or "aws".
func Profile(name string) (Limits, error) {
	switch name {
	case ProfileLocal, "":
		return Limits{}, nil
	case ProfileAWS:
		return Limits{profile: ProfileAWS}, nil
	}
	return Limits{}, fmt.Errorf("quota profile must be %s or %s, not %q", ProfileLocal, ProfileAWS, name)
}

// Parse reads a profile and overrides "NAME=N[,NAME=N...]", as serve's
// --quotas and --quota give them.
func Parse(profile, overrides string) (Limits, error) {
	l, err := Profile(profile)
	if err != nil {
		return l, err
	}
	for _, kv := range strings.Split(overrides, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if !ok || err != nil || n < 0 {
			return l, fmt.Errorf("quota %q: want NAME=N, N a whole number", kv)
		}
		if l, err = l.Set(Name(strings.TrimSpace(name)), n); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Set returns l with one quota set to n.
func (l Limits) Set(name Name, n int) (Limits, error) {
	if _, ok := row(name); !ok {
		return l, fmt.Errorf("unknown quota %q (the quotas: %s)", name, strings.Join(names(), ", "))
	}
	set := make(map[Name]int, len(l.set)+1)
	for k, v := range l.set {
		set[k] = v
	}
	set[name] = n
	l.set = set
	return l, nil
}

// Of is the bound of a quota. It panics on a name not in Table: that is a bug.
func (l Limits) Of(name Name) int {
	if n, ok := l.set[name]; ok {
		return n
	}
	q, ok := row(name)
	if !ok {
		panic("quota: unknown quota " + string(name))
	}
	if l.profile == ProfileAWS && q.AWS > 0 {
		return q.AWS
	}
	return q.Local
}

// Over reports whether total resources would go beyond the quota.
func (l Limits) Over(name Name, total int) bool { return total > l.Of(name) }

// Check refuses total resources (those there, and those a call adds) beyond
// the quota, with AWS's code and words. Where the bound is not AWS's default,
// the message says so and how to set it.
func (l Limits) Check(name Name, total int) *Exceeded {
	if !l.Over(name, total) {
		return nil
	}
	q, _ := row(name)
	limit := l.Of(name)
	msg := strings.NewReplacer("{total}", strconv.Itoa(total), "{limit}", strconv.Itoa(limit)).Replace(q.Message)
	if limit != q.AWS {
		msg += fmt.Sprintf(" (vpcsim's quota %s is %d: serve --quota %s=N sets it)", name, limit, name)
	}
	return &Exceeded{Name: name, Code: q.Code, Message: msg}
}

// ProfileName is the profile the bounds start from.
func (l Limits) ProfileName() string {
	if l.profile == "" {
		return ProfileLocal
	}
	return l.profile
}

func row(name Name) (Quota, bool) {
	for _, q := range Table {
		if q.Name == name {
			return q, true
		}
	}
	return Quota{}, false
}

func names() []string {
	out := make([]string, len(Table))
	for i, q := range Table {
		out[i] = string(q.Name)
	}
	return out
}
