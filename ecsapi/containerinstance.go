package ecsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// instanceRec is a container instance as stored: its registration. What remains
// of its resources is derived from the tasks placed on it.
type instanceRec struct {
	Region     string                     `json:"region"`
	Seq        int64                      `json:"seq"`
	ClusterARN string                     `json:"cluster"`
	EC2ID      string                     `json:"ec2"`
	MaxENIs    int                        `json:"maxEnis"`
	SubnetID   string                     `json:"subnet"`
	AZ         string                     `json:"az"`
	CI         ecstypes.ContainerInstance `json:"ci"`
}

// reservedPorts are the ports the ECS agent keeps for itself on every instance.
var reservedPorts = []string{"22", "2375", "2376", "51678", "51679"}

// agentVersion is what the simulated agent reports.
var agentVersion = &ecstypes.VersionInfo{AgentVersion: str("1.89.2"), AgentHash: str("vpcsim"), DockerVersion: str("DockerVersion: 25.0.6")}

var ecsClusterRE = regexp.MustCompile(`ECS_CLUSTER=["']?([A-Za-z0-9_-]+)`)

// clusterFromUserData finds the cluster an instance's user data names, as the
// ECS-optimized AMI's /etc/ecs/ecs.config line (or an echo of it) does.
func clusterFromUserData(b64 string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", false
	}
	m := ecsClusterRE.FindSubmatch(raw)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// instanceChanged follows an EC2 instance's state: a running instance whose user
// data names a cluster registers in it; a stopped one's agent disconnects; a
// terminated one is deregistered. Tasks on an instance that goes down stop.
// A rebooting instance's agent disconnects and its tasks stop, their
// containers ending with its operating system; its agent connects again
// once the instance is back.
func (s *Service) instanceChanged(inst ec2sim.Instance) {
	sc := Scope{Region: inst.Region}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	rec := s.instanceByEC2Locked(m, inst.ID)
	switch inst.State {
	case ec2sim.StateRunning:
		if inst.Rebooting {
			s.hostDownLocked(m, rec, false, "Host EC2 (instance "+inst.ID+") rebooted.")
			return
		}
		name, ok := clusterFromUserData(inst.UserData)
		if !ok {
			return
		}
		if rec != nil {
			if !deref(rec.CI.AgentConnected) {
				rec, _ = m.instances.Edit(*rec.CI.ContainerInstanceArn)
				rec.CI.AgentConnected = ecstypes.Ptr(true)
				s.commitOrLog(m, "a container instance", *rec.CI.ContainerInstanceArn)
			}
			return
		}
		if _, err := s.registerLocked(m, sc, inst, str(name), nil, nil); err != nil {
			s.log.Warn("the ECS agent could not register the instance", "instance", inst.ID, "cluster", name, "err", err)
			return
		}
		s.commitOrLog(m, "a container instance", inst.ID)
	case ec2sim.StateStopping, ec2sim.StateStopped, ec2sim.StateShuttingDown, ec2sim.StateTerminated:
		gone := inst.State == ec2sim.StateShuttingDown || inst.State == ec2sim.StateTerminated
		s.hostDownLocked(m, rec, gone, "Host EC2 (instance "+inst.ID+") stopped/terminated.")
	}
}

// hostDownLocked stores what ECS sees when a container instance's host goes
// down (gone: for good, and it is deregistered): its agent disconnects and
// its tasks stop, with the reason given.
func (s *Service) hostDownLocked(m *model, rec *instanceRec, gone bool, reason string) {
	if rec == nil || deref(rec.CI.Status) == "INACTIVE" {
		return
	}
	rec, _ = m.instances.Edit(*rec.CI.ContainerInstanceArn)
	rec.CI.AgentConnected = ecstypes.Ptr(false)
	if gone {
		rec.CI.Status = str("INACTIVE")
	}
	s.stopTasksOnLocked(m, rec, ecstypes.TaskStopCodeTerminationNotice, reason)
	s.commitOrLog(m, "a container instance", *rec.CI.ContainerInstanceArn)
}

func (s *Service) instanceByEC2Locked(m *model, ec2ID string) *instanceRec {
	for r := range m.instances.All() {
		if r.EC2ID == ec2ID && deref(r.CI.Status) != "INACTIVE" {
			return r
		}
	}
	return nil
}

// registerLocked stages inst as a container instance of a cluster, offering
// its type's CPU (vCPUs × 1024) and memory (MiB) unless total says otherwise.
func (s *Service) registerLocked(m *model, sc Scope, inst ec2sim.Instance, cluster *string, total []ecstypes.Resource, attrs []ecstypes.Attribute) (*instanceRec, error) {
	c, err := s.clusterLocked(m, sc, cluster)
	if err != nil {
		return nil, err
	}
	members := 1
	for r := range m.instances.All() {
		if r.ClusterARN == *c.C.ClusterArn && deref(r.CI.Status) != "INACTIVE" {
			members++
		}
	}
	if e := s.quotas.Check(quota.ContainerInstancesPerCluster, members); e != nil {
		return nil, quotaErr(e)
	}
	typ, _ := ec2sim.LookupInstanceType(inst.Type)
	cpu, mem := int32(typ.VCPUs*1024), int32(typ.MemoryMiB)
	for _, r := range total {
		switch deref(r.Name) {
		case "CPU":
			cpu = valueOf(r)
		case "MEMORY":
			mem = valueOf(r)
		}
	}
	id := newHexID()
	arn := s.arn(sc, "container-instance/"+deref(c.C.ClusterName)+"/"+id)
	rec := &instanceRec{
		Region: sc.Region, Seq: s.nextSeq(), ClusterARN: *c.C.ClusterArn, EC2ID: inst.ID, MaxENIs: typ.MaxENIs,
		SubnetID: inst.SubnetID, AZ: inst.AZ,
		CI: ecstypes.ContainerInstance{
			ContainerInstanceArn: &arn, Ec2InstanceId: &inst.ID, Version: ecstypes.Ptr(int64(1)), VersionInfo: agentVersion,
			RegisteredResources: resources(cpu, mem, reservedPorts), Status: str("ACTIVE"), AgentConnected: ecstypes.Ptr(true),
			AgentUpdateStatus: "", Attributes: append(instanceAttributes(inst), attrs...), RegisteredAt: ecstypes.NewTimestamp(s.now()),
		},
	}
	m.instances.Put(rec)
	return rec, nil
}

func valueOf(r ecstypes.Resource) int32 {
	switch {
	case r.IntegerValue != nil:
		return *r.IntegerValue
	case r.LongValue != nil:
		return int32(*r.LongValue)
	case r.DoubleValue != nil:
		return int32(*r.DoubleValue)
	}
	return 0
}

// resources renders CPU, MEMORY, PORTS and PORTS_UDP as the agent reports them.
func resources(cpu, mem int32, ports []string) []ecstypes.Resource {
	num := func(name string, v int32) ecstypes.Resource {
		return ecstypes.Resource{Name: str(name), Type: str("INTEGER"), DoubleValue: ecstypes.Ptr(0.0), LongValue: ecstypes.Ptr(int64(0)), IntegerValue: ecstypes.Ptr(v)}
	}
	set := func(name string, v []string) ecstypes.Resource {
		return ecstypes.Resource{Name: str(name), Type: str("STRINGSET"), DoubleValue: ecstypes.Ptr(0.0), LongValue: ecstypes.Ptr(int64(0)), IntegerValue: ecstypes.Ptr(int32(0)), StringSetValue: nonNil(v)}
	}
	return []ecstypes.Resource{num("CPU", cpu), num("MEMORY", mem), set("PORTS", ports), set("PORTS_UDP", nil)}
}

// instanceAttributes are the attributes the agent puts on its instance.
func instanceAttributes(inst ec2sim.Instance) []ecstypes.Attribute {
	attr := func(name, value string) ecstypes.Attribute {
		a := ecstypes.Attribute{Name: str(name)}
		if value != "" {
			a.Value = str(value)
		}
		return a
	}
	out := []ecstypes.Attribute{
		attr("ecs.capability.task-eni", ""), attr("ecs.capability.task-cpu-mem-limit", ""),
		attr("ecs.capability.container-health-check", ""), attr("ecs.capability.container-ordering", ""),
		attr("ecs.capability.execution-role-awslogs", ""),
		attr("ecs.availability-zone", inst.AZ), attr("ecs.instance-type", inst.Type), attr("ecs.ami-id", inst.ImageID),
		attr("ecs.os-type", "linux"), attr("ecs.os-family", "LINUX"), attr("ecs.cpu-architecture", "x86_64"),
		attr("ecs.vpc-id", inst.VPCID), attr("ecs.subnet-id", inst.SubnetID),
	}
	for v := 17; v <= 44; v++ {
		out = append(out, attr("com.amazonaws.ecs.capability.docker-remote-api.1."+strconv.Itoa(v), ""))
	}
	return out
}

// instanceLocked resolves a container instance by ARN or ID within a cluster.
func (s *Service) instanceLocked(m *model, sc Scope, c *clusterRec, ref string) *instanceRec {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.arn(sc, "container-instance/"+deref(c.C.ClusterName)+"/"+ref)
	}
	r, _ := m.instances.Get(arn)
	if r == nil || r.ClusterARN != *c.C.ClusterArn {
		return nil
	}
	return r
}

// renderInstanceLocked answers a container instance with what remains of its
// resources and its task counts.
func (s *Service) renderInstanceLocked(m *model, r *instanceRec, include []ecstypes.ContainerInstanceField) ecstypes.ContainerInstance {
	out := r.CI
	use := s.usageLocked(m, r)
	cpu, mem := valueOf(r.CI.RegisteredResources[0])-use.cpu, valueOf(r.CI.RegisteredResources[1])-use.mem
	out.RemainingResources = resources(cpu, mem, append(slices.Clone(reservedPorts), use.ports...))
	out.RemainingResources[3].StringSetValue = nonNil(use.udpPorts)
	out.RunningTasksCount, out.PendingTasksCount = ecstypes.Ptr(int32(use.running)), ecstypes.Ptr(int32(use.pending))
	out.Attachments = []ecstypes.Attachment{}
	out.Tags = nil
	if slices.Contains(include, ecstypes.ContainerInstanceFieldTags) {
		out.Tags = nonNil(r.CI.Tags)
	}
	return out
}

// usage is what the tasks placed on an instance hold of it.
type usage struct {
	cpu, mem         int32
	ports, udpPorts  []string
	enis             int
	running, pending int
}

func (s *Service) usageLocked(m *model, r *instanceRec) usage {
	var u usage
	for t := range m.tasks.All() {
		if t.InstanceARN != *r.CI.ContainerInstanceArn || t.status() == TaskStatusStopped {
			continue
		}
		u.cpu += int32(t.CPU)
		u.mem += int32(t.Memory)
		for _, p := range t.HostPorts {
			if !strings.HasSuffix(p, "/udp") {
				u.ports = append(u.ports, p)
			} else {
				u.udpPorts = append(u.udpPorts, strings.TrimSuffix(p, "/udp"))
			}
		}
		if t.AWSVPC {
			u.enis++
		}
		if t.status() == TaskStatusRunning {
			u.running++
		} else {
			u.pending++
		}
	}
	return u
}

// RegisterContainerInstance registers an EC2 instance (named by its instance
// identity document) in a cluster, as the ECS agent does.
func (s *Service) RegisterContainerInstance(ctx context.Context, sc Scope, in *ecstypes.RegisterContainerInstanceRequest) (*ecstypes.RegisterContainerInstanceResponse, error) {
	var doc struct {
		InstanceID string `json:"instanceId"`
	}
	if in.InstanceIdentityDocument == nil || json.Unmarshal([]byte(*in.InstanceIdentityDocument), &doc) != nil || doc.InstanceID == "" {
		return nil, clientErr("An instance identity document with the instanceId is required.")
	}
	inst, ok := s.ec2.LookupInstance(doc.InstanceID)
	if !ok || inst.Region != sc.Region || inst.State != ec2sim.StateRunning {
		return nil, clientErr("The instance %s is not a running EC2 instance of this region.", doc.InstanceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	if rec := s.instanceByEC2Locked(m, inst.ID); rec != nil {
		out := s.renderInstanceLocked(m, rec, nil)
		return &ecstypes.RegisterContainerInstanceResponse{ContainerInstance: &out}, nil
	}
	rec, err := s.registerLocked(m, sc, inst, in.Cluster, in.TotalResources, in.Attributes)
	if err != nil {
		return nil, err
	}
	rec.CI.Tags = in.Tags
	if in.VersionInfo != nil {
		rec.CI.VersionInfo = in.VersionInfo
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	out := s.renderInstanceLocked(m, rec, nil)
	return &ecstypes.RegisterContainerInstanceResponse{ContainerInstance: &out}, nil
}

// DeregisterContainerInstance takes an instance out of its cluster; with tasks
// still on it, only when forced (its tasks then stop).
func (s *Service) DeregisterContainerInstance(ctx context.Context, sc Scope, in *ecstypes.DeregisterContainerInstanceRequest) (*ecstypes.DeregisterContainerInstanceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	r := s.instanceLocked(m, sc, c, deref(in.ContainerInstance))
	if r == nil {
		return nil, invalidParam("Container instance not found.")
	}
	use := s.usageLocked(m, r)
	if use.running+use.pending > 0 && !deref(in.Force) {
		return nil, invalidParam("Found running tasks on the instance.")
	}
	r, _ = m.instances.Edit(*r.CI.ContainerInstanceArn)
	r.CI.Status = str("INACTIVE")
	s.stopTasksOnLocked(m, r, ecstypes.TaskStopCodeUserInitiated, "Container instance deregistration forced by user")
	if err := s.commit(m); err != nil {
		return nil, err
	}
	out := s.renderInstanceLocked(m, r, nil)
	return &ecstypes.DeregisterContainerInstanceResponse{ContainerInstance: &out}, nil
}

// DescribeContainerInstances answers instances by ARN or ID; unknown ones are MISSING.
func (s *Service) DescribeContainerInstances(ctx context.Context, sc Scope, in *ecstypes.DescribeContainerInstancesRequest) (*ecstypes.DescribeContainerInstancesResponse, error) {
	if len(in.ContainerInstances) == 0 {
		return nil, invalidParam("containerInstances can not be empty.")
	}
	if len(in.ContainerInstances) > 100 {
		return nil, invalidParam("containerInstances can have at most 100 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecstypes.DescribeContainerInstancesResponse{ContainerInstances: []ecstypes.ContainerInstance{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.ContainerInstances {
		r := s.instanceLocked(m, sc, c, ref)
		if r == nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn(sc, "container-instance/"+deref(c.C.ClusterName)+"/"+ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: &arn, Reason: str("MISSING")})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, s.renderInstanceLocked(m, r, in.Include))
	}
	return out, nil
}

// ListContainerInstances lists a cluster's instances, ACTIVE and DRAINING unless a
// status is asked for, those a cluster query language filter selects.
func (s *Service) ListContainerInstances(ctx context.Context, sc Scope, in *ecstypes.ListContainerInstancesRequest) (*ecstypes.ListContainerInstancesResponse, error) {
	var filter queryNode
	if in.Filter != nil {
		var err error
		if filter, err = parseQuery(*in.Filter); err != nil {
			return nil, invalidParam("Invalid filter expression: %s", *in.Filter)
		}
	}
	s.mu.Lock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var arns []string
	for _, r := range sortedRecs(s.instances.All(), func(r *instanceRec) int64 { return r.Seq }) {
		st := deref(r.CI.Status)
		if r.ClusterARN != *c.C.ClusterArn || (in.Status == "" && st == "INACTIVE") || (in.Status != "" && st != string(in.Status)) {
			continue
		}
		if filter != nil && !filter.eval(s.queryTargetLocked(m, r)) {
			continue
		}
		arns = append(arns, *r.CI.ContainerInstanceArn)
	}
	s.mu.Unlock()
	p, next, err := page(arns, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListContainerInstancesResponse{ContainerInstanceArns: nonNil(p), NextToken: next}, nil
}

// UpdateContainerInstancesState sets instances ACTIVE or DRAINING; a DRAINING
// instance takes no new tasks.
func (s *Service) UpdateContainerInstancesState(ctx context.Context, sc Scope, in *ecstypes.UpdateContainerInstancesStateRequest) (*ecstypes.UpdateContainerInstancesStateResponse, error) {
	if in.Status != ecstypes.ContainerInstanceStatusActive && in.Status != ecstypes.ContainerInstanceStatusDraining {
		return nil, invalidParam("Container instances status can only be updated to ACTIVE or DRAINING.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecstypes.UpdateContainerInstancesStateResponse{ContainerInstances: []ecstypes.ContainerInstance{}, Failures: []ecstypes.Failure{}}
	var found []*instanceRec
	for _, ref := range in.ContainerInstances {
		r := s.instanceLocked(m, sc, c, ref)
		if r == nil || deref(r.CI.Status) == "INACTIVE" {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(ref), Reason: str("MISSING")})
			continue
		}
		if deref(r.CI.Status) != string(in.Status) {
			r, _ = m.instances.Edit(*r.CI.ContainerInstanceArn)
			r.CI.Status = str(string(in.Status))
			r.CI.Version = ecstypes.Ptr(*r.CI.Version + 1)
		}
		found = append(found, r)
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	for _, r := range found {
		out.ContainerInstances = append(out.ContainerInstances, s.renderInstanceLocked(m, r, nil))
	}
	return out, nil
}
