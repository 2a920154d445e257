package ecsapi

import (
	"net/netip"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// The task metadata endpoint: what the ECS agent serves at 169.254.170.2 to every
// task (v3 and v4), with the task's real network facts. Package taskmeta owns
// the endpoints, a TaskFollower (follow.go) that opens one inside each awsvpc
// task's namespace and serves it from the snapshots below; the domain puts
// the endpoint's address in every container's environment.

// metadataAddr is where tasks find the endpoint.
const metadataAddr = "169.254.170.2"

// TaskMeta is what the endpoint reports of a task: the task as DescribeTasks
// shows it, and its network as the agent sees it.
type TaskMeta struct {
	Task         ecstypes.Task
	Family       string
	Revision     string
	TaskCPU      int
	TaskMemory   int
	Network      *MetaNetwork // nil outside awsvpc
	ServiceName  string
	Region       string
	VPCID        string
	ContainerIDs map[string]string // container name → the ID in its metadata URI
	// RestartCounts are, for the containers with a restart policy, how many
	// times it restarted them (v4 reports them).
	RestartCounts map[string]int
}

// MetaNetwork is the task's awsvpc network as the endpoint shows it, and the
// host whose namespace is the task's own (where the endpoint listens).
type MetaNetwork struct {
	Host                                           string
	IPv4Address, MAC, SubnetCIDR, DNSName, Gateway string
	// IPv6Address and IPv6SubnetCIDR are empty unless the task's ENI has an
	// IPv6 address.
	IPv6Address, IPv6SubnetCIDR string
	DNSServers                  []string
	SearchList                  []string
}

// Metadata returns a task's metadata, or false when the task is gone.
func (s *Service) Metadata(taskARN string) (TaskMeta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks.Get(taskARN)
	if !ok {
		return TaskMeta{}, false
	}
	m := TaskMeta{Task: s.renderTaskLocked(t, []ecstypes.TaskField{ecstypes.TaskFieldTags}), TaskCPU: t.CPU, TaskMemory: t.Memory, Region: t.Region, VPCID: t.VPCID, ContainerIDs: map[string]string{}}
	if t.Service != "" {
		m.ServiceName = t.Service[strings.LastIndexByte(t.Service, '/')+1:]
	}
	if td, _ := s.taskDefs.Get(t.TaskDefARN); td != nil {
		m.Family, m.Revision = td.family(), itoa(int(td.revision()))
		m.RestartCounts = map[string]int{}
		for _, d := range td.TD.ContainerDefinitions {
			if p := d.RestartPolicy; p != nil && deref(p.Enabled) {
				m.RestartCounts[deref(d.Name)] = t.Restarts[deref(d.Name)].Count
			}
		}
	}
	for _, c := range t.T.Containers {
		m.ContainerIDs[deref(c.Name)] = metadataID(c)
	}
	if t.AWSVPC && t.ENIAttached {
		m.Network = &MetaNetwork{
			Host:        t.host(),
			IPv4Address: detailOf(t.T, "privateIPv4Address"), MAC: detailOf(t.T, "macAddress"),
			DNSName: detailOf(t.T, "privateDnsName"), SubnetCIDR: t.SubnetCIDR,
			IPv6Address: detailOf(t.T, "ipv6Address"), IPv6SubnetCIDR: t.SubnetIPv6,
			Gateway: t.Gateway, DNSServers: []string{t.DNSServer},
			SearchList: []string{searchDomain(t.Region)},
		}
	}
	return m, true
}

// metadataID is the ID in a container's metadata URI: its ARN's last part.
func metadataID(c ecstypes.Container) string {
	arn := deref(c.ContainerArn)
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func detailOf(t ecstypes.Task, name string) string {
	if len(t.Attachments) == 0 {
		return ""
	}
	for _, d := range t.Attachments[0].Details {
		if deref(d.Name) == name {
			return deref(d.Value)
		}
	}
	return ""
}

// searchDomain is the DNS search domain EC2's DHCP options give a region.
func searchDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// metadataEnv is what every container of the task finds in its environment.
func metadataEnv(id string, fargate bool) []ecstypes.KeyValuePair {
	env := "AWS_ECS_EC2"
	if fargate {
		env = "AWS_ECS_FARGATE"
	}
	return []ecstypes.KeyValuePair{
		{Name: str("ECS_CONTAINER_METADATA_URI_V4"), Value: str("http://" + metadataAddr + "/v4/" + id)},
		{Name: str("ECS_CONTAINER_METADATA_URI"), Value: str("http://" + metadataAddr + "/v3/" + id)},
		{Name: str("AWS_EXECUTION_ENV"), Value: str(env)},
	}
}

// subnetFacts are what the endpoint reports of a task's subnet.
func subnetFacts(cidr netip.Prefix) (prefix, gateway, dns string) {
	first := cidr.Masked().Addr()
	gw, dnsAddr := first.Next(), first.Next().Next()
	bits := itoa(cidr.Bits())
	return cidr.String(), gw.String() + "/" + bits, dnsAddr.String()
}
