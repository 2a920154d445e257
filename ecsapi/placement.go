package ecsapi

import (
	"context"
	"slices"
	"strconv"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// placementRequest is a validated request for new tasks of one task definition,
// with what each task will hold: CPU and memory, and for awsvpc its subnets and
// security groups. placeLocked fills in the per-instance parts.
type placementRequest struct {
	launch          ecstypes.LaunchType
	td              *taskDefRec
	group           *string
	startedBy       *string
	overrides       *ecstypes.TaskOverride
	tags            []ecstypes.Tag
	platformVersion *string
	net             *ecstypes.NetworkConfiguration
	execCmd         *bool
	service         string // the ARN of the ECS service asking, if one is

	cpu, mem int
	subnets  []ec2sim.Subnet // awsvpc: the candidates, in the order given
	groups   []string
	publicIP bool // awsvpc: assignPublicIp ENABLED (Fargate)
	// attached are the ENIs EC2 had attached to each candidate instance
	// (by EC2 ID) when asked, before placement took s.mu (awsvpc only).
	attached map[string][]string

	// Set by placement for the instance chosen.
	subnetID  string
	az        string
	hostPorts []string
	bindings  map[string][]ecstypes.NetworkBinding
}

// askEC2 reads, under s.mu, the cluster and task definition of a RunTask or
// StartTask, then, without s.mu (ECS never calls EC2 holding it), validates
// the network configuration with EC2 and asks it which ENIs the cluster's
// instances hold. The caller then takes s.mu and places; placement counts
// the ENIs of tasks placed meanwhile itself (eniCountLocked).
func (s *Service) askEC2(ctx context.Context, sc Scope, cluster *string, taskDef string, req *placementRequest) error {
	s.mu.Lock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, cluster)
	switch {
	case err == nil && req.service != "":
		// A service's tasks keep its revision even once it is deregistered.
		if req.td = s.taskDefLocked(m, sc, taskDef); req.td == nil {
			err = clientErr("TaskDefinition not found.")
		}
	case err == nil:
		req.td, err = s.runnableTaskDefLocked(m, sc, taskDef, req.launch)
	}
	var ec2IDs []string
	if err == nil {
		for _, inst := range s.clusterInstancesLocked(m, c) {
			ec2IDs = append(ec2IDs, inst.EC2ID)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.prepare(ctx, sc, req); err != nil {
		return err
	}
	if req.td.TD.NetworkMode == ecstypes.NetworkModeAwsvpc {
		req.attached = map[string][]string{}
		for _, id := range ec2IDs {
			req.attached[id] = s.ec2.InstanceENIs(id)
		}
	}
	return nil
}

// prepare validates the request's overrides and network configuration and
// works out what each task will hold; it asks EC2, so s.mu must not be held.
func (s *Service) prepare(ctx context.Context, sc Scope, req *placementRequest) error {
	td := req.td
	names := map[string]bool{}
	for _, d := range td.TD.ContainerDefinitions {
		names[deref(d.Name)] = true
	}
	if o := req.overrides; o != nil {
		for _, co := range o.ContainerOverrides {
			if !names[deref(co.Name)] {
				return invalidParam("Override for container named %s is not a container in the TaskDefinition.", deref(co.Name))
			}
		}
	}
	req.cpu, req.mem = taskSize(td, req.overrides)
	if err := s.checkNetwork(ctx, sc, req); err != nil {
		return err
	}
	if req.launch == ecstypes.LaunchTypeFargate {
		req.subnetID, req.az = req.subnets[0].ID, req.subnets[0].AZ
	}
	return nil
}

// taskSize is the CPU and memory a task holds: the task-level figures (or their
// overrides), else the sum of its containers'.
func taskSize(td *taskDefRec, o *ecstypes.TaskOverride) (cpu, mem int) {
	cpu, mem = taskLimits(td, o)
	sumCPU, sumMem := cpu == 0, mem == 0
	for _, d := range td.TD.ContainerDefinitions {
		c, m, r := deref(d.Cpu), deref(d.Memory), deref(d.MemoryReservation)
		if o != nil {
			for _, co := range o.ContainerOverrides {
				if deref(co.Name) == deref(d.Name) {
					c, m, r = orDefault(co.Cpu, c), orDefault(co.Memory, m), orDefault(co.MemoryReservation, r)
				}
			}
		}
		if sumCPU {
			cpu += int(c)
		}
		if sumMem {
			if m > 0 {
				mem += int(m)
			} else {
				mem += int(r)
			}
		}
	}
	return cpu, mem
}

// taskLimits is the task-level CPU (units) and memory (MiB) with the
// overrides' figures: 0 for each the task definition and overrides leave out.
// They are the task's hard limits (its cgroup's), as the ECS agent applies them.
func taskLimits(td *taskDefRec, o *ecstypes.TaskOverride) (cpu, mem int) {
	cpu, mem = td.CPU, td.Memory
	if o != nil && o.Cpu != nil {
		if v, err := parseCPU(*o.Cpu); err == nil {
			cpu = v
		}
	}
	if o != nil && o.Memory != nil {
		if v, err := parseMemory(*o.Memory); err == nil {
			mem = v
		}
	}
	return cpu, mem
}

func orDefault(p *int32, v int32) int32 {
	if p != nil {
		return *p
	}
	return v
}

// checkNetwork applies ECS's rules to networkConfiguration, with ECS's texts.
func (s *Service) checkNetwork(ctx context.Context, sc Scope, req *placementRequest) error {
	awsvpc := req.td.TD.NetworkMode == ecstypes.NetworkModeAwsvpc
	var cfg *ecstypes.AwsVpcConfiguration
	if req.net != nil {
		cfg = req.net.AwsvpcConfiguration
	}
	switch {
	case awsvpc && cfg == nil:
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	case !awsvpc && cfg != nil:
		return invalidParam("Network Configuration is not valid for the given networkMode of this task definition.")
	case !awsvpc:
		return nil
	case len(cfg.Subnets) == 0:
		return invalidParam("subnets can not be empty.")
	case len(cfg.Subnets) > 16:
		return invalidParam("subnets can have at most 16 items.")
	case len(cfg.SecurityGroups) > 5:
		return invalidParam("securityGroups can have at most 5 items.")
	case cfg.AssignPublicIp == ecstypes.AssignPublicIpEnabled && req.launch != ecstypes.LaunchTypeFargate:
		return invalidParam("Assign public IP is not supported for this launch type.")
	}
	ec := ec2sim.Scope{Region: sc.Region}
	for _, id := range cfg.Subnets {
		subs, err := s.ec2.DescribeSubnets(ctx, ec, []string{id}, nil)
		if err != nil {
			return ec2Refusal("subnet", id, err)
		}
		if len(req.subnets) > 0 && subs[0].VPCID != req.subnets[0].VPCID {
			return invalidParam("Subnets must all belong to the same VPC.")
		}
		req.subnets = append(req.subnets, subs[0])
	}
	vpcID := req.subnets[0].VPCID
	req.publicIP = cfg.AssignPublicIp == ecstypes.AssignPublicIpEnabled
	if len(cfg.SecurityGroups) == 0 {
		groups, err := s.ec2.DescribeSecurityGroups(ctx, ec, nil, nil, []ec2sim.Filter{{Name: "vpc-id", Values: []string{vpcID}}, {Name: "group-name", Values: []string{"default"}}})
		if err != nil || len(groups) == 0 {
			return &Error{Type: "ServerException", Message: "The VPC's default security group could not be found."}
		}
		req.groups = []string{groups[0].ID}
		return nil
	}
	for _, id := range slices.Compact(slices.Clone(cfg.SecurityGroups)) {
		groups, err := s.ec2.DescribeSecurityGroups(ctx, ec, []string{id}, nil, nil)
		if err != nil {
			return ec2Refusal("security group", id, err)
		}
		if groups[0].VPCID != vpcID {
			return invalidParam("Security group %s does not appear to belong to the same VPC as the input subnets.", id)
		}
		req.groups = append(req.groups, id)
	}
	return nil
}

// ec2Refusal words an EC2 refusal as ECS passes it on.
func ec2Refusal(what, id string, err error) error {
	e, ok := ec2sim.AsAPIError(err)
	if !ok {
		return err
	}
	return invalidParam("Error retrieving %s information for [%s]: %s (ErrorCode: %s)", what, id, e.Message, e.Code)
}

// clusterInstancesLocked lists a cluster's registered (not INACTIVE) instances in
// registration order.
func (s *Service) clusterInstancesLocked(m *model, c *clusterRec) []*instanceRec {
	var out []*instanceRec
	for _, r := range sortedRecs(m.instances.All(), func(r *instanceRec) int64 { return r.Seq }) {
		if r.ClusterARN == *c.C.ClusterArn && deref(r.CI.Status) != "INACTIVE" {
			out = append(out, r)
		}
	}
	return out
}

// Ports of ECS's dynamic host port range.
const (
	dynamicPortLow  = 49153
	dynamicPortHigh = 65535
)

// placeLocked picks the first instance that can take the task, and sets the
// request's per-instance parts for it. Each instance that cannot says why, in
// ECS's words: AGENT, LOCATION, RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS,
// RESOURCE:PORTS_UDP, RESOURCE:ENI.
func (s *Service) placeLocked(m *model, req *placementRequest, candidates []*instanceRec) (*instanceRec, []ecstypes.Failure) {
	var fails []ecstypes.Failure
	for _, inst := range candidates {
		if deref(inst.CI.Status) != "ACTIVE" {
			continue
		}
		reason := s.fitLocked(m, req, inst)
		if reason == "" {
			return inst, nil
		}
		fails = append(fails, ecstypes.Failure{Arn: inst.CI.ContainerInstanceArn, Reason: str(reason)})
	}
	return nil, fails
}

func (s *Service) fitLocked(m *model, req *placementRequest, inst *instanceRec) string {
	if !deref(inst.CI.AgentConnected) {
		return "AGENT"
	}
	subnetID := ""
	if req.td.TD.NetworkMode == ecstypes.NetworkModeAwsvpc {
		for _, sub := range req.subnets {
			if sub.AZ == inst.AZ && subnetID == "" {
				subnetID = sub.ID
			}
		}
		if subnetID == "" {
			return "LOCATION"
		}
	}
	use := s.usageLocked(m, inst)
	if int(valueOf(inst.CI.RegisteredResources[0])-use.cpu) < req.cpu {
		return "RESOURCE:CPU"
	}
	if int(valueOf(inst.CI.RegisteredResources[1])-use.mem) < req.mem {
		return "RESOURCE:MEMORY"
	}
	taken := map[string]bool{}
	for _, p := range append(slices.Clone(reservedPorts), use.ports...) {
		taken[p] = true
	}
	for _, p := range use.udpPorts {
		taken[p+"/udp"] = true
	}
	ports, bindings, reason := bindPorts(req.td, taken)
	if reason != "" {
		return reason
	}
	if req.td.TD.NetworkMode == ecstypes.NetworkModeAwsvpc && s.eniCountLocked(m, inst, req.attached[inst.EC2ID])+1 > inst.MaxENIs {
		return "RESOURCE:ENI"
	}
	req.subnetID, req.az, req.hostPorts, req.bindings = subnetID, inst.AZ, ports, bindings
	return ""
}

// eniCountLocked is how many ENIs an instance holds or is about to: those
// EC2 had attached when asked (attached), and the ENIs of its awsvpc tasks
// not among them.
func (s *Service) eniCountLocked(m *model, inst *instanceRec, attached []string) int {
	n := len(attached)
	// Every awsvpc task not STOPPED holds an ENI on the instance, or will:
	// EC2 counts those it has attached, the rest count here. (The task's own
	// ENIAttached lags EC2 while the task is being recorded, and counted such
	// an ENI twice: RESOURCE:ENI with room left.)
	for t := range m.tasks.All() {
		if t.InstanceARN == *inst.CI.ContainerInstanceArn && t.AWSVPC && t.status() != TaskStatusStopped && !slices.Contains(attached, t.ENIID) {
			n++
		}
	}
	return n
}

// bindPorts gives each port mapping of a bridge or host task its host port:
// static ones must be free (RESOURCE:PORTS, or PORTS_UDP), dynamic ones (bridge,
// hostPort 0) take the lowest free port of ECS's range. Keys of taken are
// "80" for TCP and "80/udp" for UDP.
func bindPorts(td *taskDefRec, taken map[string]bool) ([]string, map[string][]ecstypes.NetworkBinding, string) {
	mode := td.TD.NetworkMode
	if mode == ecstypes.NetworkModeAwsvpc || mode == ecstypes.NetworkModeNone {
		return nil, nil, ""
	}
	var held []string
	bindings := map[string][]ecstypes.NetworkBinding{}
	key := func(port int32, proto ecstypes.TransportProtocol) string {
		if proto == ecstypes.TransportProtocolUdp {
			return strconv.Itoa(int(port)) + "/udp"
		}
		return strconv.Itoa(int(port))
	}
	for _, d := range td.TD.ContainerDefinitions {
		for _, p := range d.PortMappings {
			if p.ContainerPort == nil {
				continue
			}
			proto := p.Protocol
			host := deref(p.HostPort)
			if mode == ecstypes.NetworkModeHost {
				host = *p.ContainerPort
			}
			if host == 0 {
				for port := int32(dynamicPortLow); port <= dynamicPortHigh; port++ {
					if !taken[key(port, proto)] {
						host = port
						break
					}
				}
			} else if taken[key(host, proto)] {
				if proto == ecstypes.TransportProtocolUdp {
					return nil, nil, "RESOURCE:PORTS_UDP"
				}
				return nil, nil, "RESOURCE:PORTS"
			}
			taken[key(host, proto)] = true
			held = append(held, key(host, proto))
			bindings[deref(d.Name)] = append(bindings[deref(d.Name)], ecstypes.NetworkBinding{
				BindIP: str("0.0.0.0"), ContainerPort: p.ContainerPort, HostPort: ecstypes.Ptr(host), Protocol: proto,
			})
		}
	}
	return held, bindings, ""
}
