package ecsapi

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// taskRec is a task as stored: its answer shape, kept current through the
// lifecycle, and what it holds of its instance and its VPC.
type taskRec struct {
	Region      string               `json:"region"`
	Seq         int64                `json:"seq"`
	ID          string               `json:"id"`
	ClusterARN  string               `json:"cluster"`
	InstanceARN string               `json:"instance,omitempty"`
	EC2ID       string               `json:"ec2,omitempty"`
	TaskDefARN  string               `json:"taskDef"`
	CPU         int                  `json:"cpu"`
	Memory      int                  `json:"memory"`
	HostPorts   []string             `json:"hostPorts,omitempty"`
	AWSVPC      bool                 `json:"awsvpc"`
	SubnetID    string               `json:"subnet,omitempty"`
	Groups      []string             `json:"groups,omitempty"`
	PublicIP    bool                 `json:"publicIp,omitempty"` // assignPublicIp ENABLED
	ENIID       string               `json:"eni,omitempty"`
	ENIAttached bool                 `json:"eniAttached,omitempty"`
	SubnetCIDR  string               `json:"subnetCidr,omitempty"`
	Gateway     string               `json:"gateway,omitempty"` // the router with the subnet's length, 10.0.2.1/24
	DNSServer   string               `json:"dns,omitempty"`
	SubnetIPv6  string               `json:"subnetIpv6,omitempty"` // the subnet's IPv6 range, when the ENI has an IPv6 address
	VPCID       string               `json:"vpc,omitempty"`
	Mode        ecstypes.NetworkMode `json:"mode,omitempty"`
	BridgeAddr  string               `json:"bridgeAddr,omitempty"` // bridge mode: the task's address on its instance's bridge
	Service     string               `json:"service,omitempty"`    // the ARN of the ECS service that started it
	// Restarts are its containers' restarts in place, by name (restartPolicy).
	Restarts map[string]containerRestarts `json:"restarts,omitempty"`
	T        ecstypes.Task                `json:"task"`
}

// host is the name of the task's own network namespace (awsvpc).
func (t *taskRec) host() string { return "task-" + t.ID }

// stoppedKept is how long a stopped task stays describable, as in ECS.
const stoppedKept = time.Hour

// RunTask places count tasks of a task definition on the cluster (EC2: on its
// container instances; FARGATE: on no instance of the user's) and starts them.
// What cannot be placed comes back in failures, never as an error.
func (s *Service) RunTask(ctx context.Context, sc Scope, in *ecstypes.RunTaskRequest) (*ecstypes.RunTaskResponse, error) {
	count := int(deref(in.Count))
	if in.Count == nil {
		count = 1
	}
	if count < 1 || count > 10 {
		return nil, invalidParam("count must be between 1 and 10.")
	}
	launch, err := launchTypeOf(in.LaunchType, in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	req := placementRequest{
		launch: launch, group: in.Group, startedBy: in.StartedBy, overrides: in.Overrides, tags: in.Tags,
		platformVersion: in.PlatformVersion, net: in.NetworkConfiguration, execCmd: in.EnableExecuteCommand,
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkOverrides(in.Overrides); err != nil {
		return nil, err
	}
	rules, err := checkPlacement(in.PlacementConstraints, in.PlacementStrategy)
	if err != nil {
		return nil, err
	}
	if err := s.askEC2(ctx, sc, in.Cluster, deref(in.TaskDefinition), &req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	s.purgeLocked(m) // tasks forgotten do not count against the quotas
	if req.td, err = s.runnableTaskDefLocked(m, sc, deref(in.TaskDefinition), launch); err != nil {
		return nil, err
	}
	candidates := s.clusterInstancesLocked(m, c)
	if launch == ecstypes.LaunchTypeEc2 && len(candidates) == 0 {
		return nil, invalidParam("No Container Instances were found in your cluster.")
	}
	out := &ecstypes.RunTaskResponse{Tasks: []ecstypes.Task{}, Failures: []ecstypes.Failure{}}
	var placed []*taskRec
	for range count {
		if e := s.taskQuotaLocked(m, sc, launch); e != nil {
			out.Failures = appendFailures(out.Failures, []ecstypes.Failure{{Reason: str(e.Message)}})
			break
		}
		var inst *instanceRec
		if launch == ecstypes.LaunchTypeEc2 {
			group := orStr(deref(req.group), "family:"+req.td.family())
			kept, fails := s.constrainLocked(m, rules, group, candidates)
			var unfit []ecstypes.Failure
			inst, unfit = s.placeLocked(m, &req, s.strategyOrderLocked(m, rules, group, kept))
			if inst == nil {
				out.Failures = appendFailures(out.Failures, append(fails, unfit...))
				continue
			}
		}
		if err := s.placeTaskLocked(m, sc, c, inst, &req, &placed); err != nil {
			return nil, err
		}
	}
	out.Tasks, err = s.launchLocked(m, placed)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StartTask starts one task on each of the named container instances.
func (s *Service) StartTask(ctx context.Context, sc Scope, in *ecstypes.StartTaskRequest) (*ecstypes.StartTaskResponse, error) {
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, invalidParam("containerInstances must have between 1 and 10 items.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkOverrides(in.Overrides); err != nil {
		return nil, err
	}
	req := placementRequest{
		launch: ecstypes.LaunchTypeEc2, group: in.Group, startedBy: in.StartedBy, overrides: in.Overrides, tags: in.Tags,
		net: in.NetworkConfiguration, execCmd: in.EnableExecuteCommand,
	}
	if err := s.askEC2(ctx, sc, in.Cluster, deref(in.TaskDefinition), &req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	if req.td, err = s.runnableTaskDefLocked(m, sc, deref(in.TaskDefinition), ecstypes.LaunchTypeEc2); err != nil {
		return nil, err
	}
	s.purgeLocked(m) // tasks forgotten do not count against the quotas
	out := &ecstypes.StartTaskResponse{Tasks: []ecstypes.Task{}, Failures: []ecstypes.Failure{}}
	var placed []*taskRec
	for _, ref := range in.ContainerInstances {
		if e := s.taskQuotaLocked(m, sc, ecstypes.LaunchTypeEc2); e != nil {
			out.Failures = appendFailures(out.Failures, []ecstypes.Failure{{Reason: str(e.Message)}})
			break
		}
		inst := s.instanceLocked(m, sc, c, ref)
		switch {
		case inst == nil:
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(ref), Reason: str("MISSING")})
			continue
		case deref(inst.CI.Status) == "INACTIVE":
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: inst.CI.ContainerInstanceArn, Reason: str("INACTIVE")})
			continue
		}
		got, fails := s.placeLocked(m, &req, []*instanceRec{inst})
		if got == nil {
			out.Failures = appendFailures(out.Failures, fails)
			continue
		}
		if err := s.placeTaskLocked(m, sc, c, got, &req, &placed); err != nil {
			return nil, err
		}
	}
	out.Tasks, err = s.launchLocked(m, placed)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func appendFailures(have, add []ecstypes.Failure) []ecstypes.Failure {
	for _, f := range add {
		if !slices.ContainsFunc(have, func(h ecstypes.Failure) bool {
			return deref(h.Arn) == deref(f.Arn) && deref(h.Reason) == deref(f.Reason)
		}) {
			have = append(have, f)
		}
	}
	return have
}

// placeTaskLocked makes a placed task's record and stages it at once among
// placed, so the next task's placement sees what it holds.
func (s *Service) placeTaskLocked(m *model, sc Scope, c *clusterRec, inst *instanceRec, req *placementRequest, placed *[]*taskRec) error {
	r, err := s.newTaskLocked(m, sc, c, inst, req)
	if err != nil {
		return err
	}
	m.tasks.Put(r)
	*placed = append(*placed, r)
	return nil
}

// launchLocked stores placed tasks, starts their lifecycles and answers them.
// When the store refuses, none of them is kept and none starts.
func (s *Service) launchLocked(m *model, tasks []*taskRec) ([]ecstypes.Task, error) {
	for _, r := range tasks {
		m.after = append(m.after, func() { s.startLifecycle(*r.T.TaskArn) })
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	out := []ecstypes.Task{}
	for _, r := range tasks {
		out = append(out, s.renderTaskLocked(r, []ecstypes.TaskField{ecstypes.TaskFieldTags}))
	}
	return out, nil
}

// launchTypeOf resolves the launch type from launchType or a capacity provider
// strategy (FARGATE and FARGATE_SPOT providers mean Fargate).
func launchTypeOf(lt ecstypes.LaunchType, strategy []ecstypes.CapacityProviderStrategyItem) (ecstypes.LaunchType, error) {
	if lt != "" && len(strategy) > 0 {
		return "", invalidParam("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	switch {
	case lt == ecstypes.LaunchTypeEc2 || lt == ecstypes.LaunchTypeFargate:
		return lt, nil
	case lt != "":
		return "", invalidParam("Launch type %s is not supported by vpcsim yet.", lt)
	}
	for _, item := range strategy {
		if p := deref(item.CapacityProvider); p == "FARGATE" || p == "FARGATE_SPOT" {
			return ecstypes.LaunchTypeFargate, nil
		}
	}
	return ecstypes.LaunchTypeEc2, nil
}

// runnableTaskDefLocked resolves the task definition a new task uses: it must be
// ACTIVE, and compatible with the launch type.
func (s *Service) runnableTaskDefLocked(m *model, sc Scope, ref string, launch ecstypes.LaunchType) (*taskDefRec, error) {
	if ref == "" {
		return nil, invalidParam("taskDefinition can not be blank.")
	}
	td := s.taskDefLocked(m, sc, ref)
	if td == nil {
		return nil, clientErr("Unable to find task definition '%s'.", ref)
	}
	if td.TD.Status != ecstypes.TaskDefinitionStatusActive {
		return nil, clientErr("TaskDefinition is inactive")
	}
	if launch == ecstypes.LaunchTypeFargate && !slices.Contains(td.TD.Compatibilities, ecstypes.CompatibilityFargate) {
		return nil, invalidParam("Task definition does not support launch_type FARGATE.")
	}
	return td, nil
}

// newTaskLocked makes the record of a placed task, PROVISIONING.
func (s *Service) newTaskLocked(m *model, sc Scope, c *clusterRec, inst *instanceRec, req *placementRequest) (*taskRec, error) {
	id := newHexID()
	cluster := deref(c.C.ClusterName)
	arn := s.arn(sc, "task/"+cluster+"/"+id)
	td := req.td
	r := &taskRec{
		Region: sc.Region, Seq: s.nextSeq(), ID: id, ClusterARN: *c.C.ClusterArn, TaskDefARN: *td.TD.TaskDefinitionArn,
		CPU: req.cpu, Memory: req.mem, AWSVPC: td.TD.NetworkMode == ecstypes.NetworkModeAwsvpc, SubnetID: req.subnetID,
		Groups: req.groups, PublicIP: req.publicIP, Mode: td.TD.NetworkMode, Service: req.service,
	}
	now := s.now()
	group := deref(req.group)
	if group == "" {
		group = "family:" + td.family()
	}
	t := ecstypes.Task{
		TaskArn: &arn, ClusterArn: c.C.ClusterArn, TaskDefinitionArn: td.TD.TaskDefinitionArn, LaunchType: req.launch,
		CreatedAt: ecstypes.NewTimestamp(now), Group: &group, StartedBy: req.startedBy, Version: ecstypes.Ptr(int64(1)),
		Cpu: str(strconv.Itoa(req.cpu)), Memory: str(strconv.Itoa(req.mem)), HealthStatus: ecstypes.HealthStatusUnknown,
		EnableExecuteCommand: ecstypes.Ptr(deref(req.execCmd)), Tags: req.tags,
		Attributes: []ecstypes.Attribute{{Name: str("ecs.cpu-architecture"), Value: str("x86_64")}},
		Overrides:  renderOverrides(td, req.overrides),
	}
	if inst != nil {
		r.InstanceARN, r.EC2ID = *inst.CI.ContainerInstanceArn, inst.EC2ID
		t.ContainerInstanceArn = inst.CI.ContainerInstanceArn
		t.AvailabilityZone = str(inst.AZ)
		r.HostPorts = req.hostPorts
		if r.Mode == ecstypes.NetworkModeBridge || r.Mode == "" {
			r.BridgeAddr = s.bridgeAddrLocked(m, r.InstanceARN)
		}
	} else {
		t.AvailabilityZone = str(req.az)
		t.PlatformVersion, t.PlatformFamily = str("1.4.0"), str("Linux")
		t.EphemeralStorage = &ecstypes.EphemeralStorage{SizeInGiB: ecstypes.Ptr(int32(20))}
	}
	if r.AWSVPC {
		t.Attachments = []ecstypes.Attachment{{
			Id: str(newUUID()), Type: str("ElasticNetworkInterface"), Status: str("PRECREATED"),
			Details: []ecstypes.KeyValuePair{{Name: str("subnetId"), Value: str(req.subnetID)}},
		}}
	} else {
		t.Attachments = []ecstypes.Attachment{}
	}
	for _, def := range td.TD.ContainerDefinitions {
		ct := ecstypes.Container{
			ContainerArn: str(s.arn(sc, "container/"+cluster+"/"+id+"/"+newUUID())), TaskArn: &arn,
			Name: def.Name, Image: def.Image, LastStatus: str("PENDING"), NetworkInterfaces: []ecstypes.NetworkInterface{},
			NetworkBindings: req.bindings[deref(def.Name)], HealthStatus: ecstypes.HealthStatusUnknown,
			Cpu: str(strconv.Itoa(int(deref(def.Cpu)))),
		}
		if ct.NetworkBindings == nil {
			ct.NetworkBindings = []ecstypes.NetworkBinding{}
		}
		if def.Memory != nil {
			ct.Memory = str(strconv.Itoa(int(*def.Memory)))
		}
		if def.MemoryReservation != nil {
			ct.MemoryReservation = str(strconv.Itoa(int(*def.MemoryReservation)))
		}
		t.Containers = append(t.Containers, ct)
	}
	r.T = t
	// The ENI is made first: awsvpc tasks start PROVISIONING, others PENDING.
	first := TaskStatusPending
	if r.AWSVPC {
		first = TaskStatusProvisioning
	}
	if err := errors.Join(r.setStatus(first), r.setDesired(ecstypes.DesiredStatusRunning)); err != nil {
		s.log.Error("a new task refused: a bug in vpcsim", "err", err)
		return nil, err
	}
	return r, nil
}

// renderOverrides answers a task's overrides as ECS does: one entry per
// container, named, with what was overridden.
func renderOverrides(td *taskDefRec, o *ecstypes.TaskOverride) *ecstypes.TaskOverride {
	out := &ecstypes.TaskOverride{InferenceAcceleratorOverrides: []ecstypes.InferenceAcceleratorOverride{}}
	if o != nil {
		out.Cpu, out.Memory, out.TaskRoleArn, out.ExecutionRoleArn = o.Cpu, o.Memory, o.TaskRoleArn, o.ExecutionRoleArn
	}
	for _, def := range td.TD.ContainerDefinitions {
		co := ecstypes.ContainerOverride{Name: def.Name}
		if o != nil {
			for _, x := range o.ContainerOverrides {
				if deref(x.Name) == deref(def.Name) {
					co = x
				}
			}
		}
		out.ContainerOverrides = append(out.ContainerOverrides, co)
	}
	return out
}

// taskLocked resolves a task by ARN or ID within a cluster.
func (s *Service) taskLocked(m *model, sc Scope, c *clusterRec, ref string) *taskRec {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.arn(sc, "task/"+deref(c.C.ClusterName)+"/"+ref)
	}
	t, _ := m.tasks.Get(arn)
	if t == nil || t.ClusterARN != *c.C.ClusterArn {
		return nil
	}
	return t
}

// renderTaskLocked answers a task; tags only when asked for.
func (s *Service) renderTaskLocked(t *taskRec, include []ecstypes.TaskField) ecstypes.Task {
	out := t.T
	out.Tags = nil
	if slices.Contains(include, ecstypes.TaskFieldTags) {
		out.Tags = nonNil(t.T.Tags)
	}
	out.Attachments = slices.Clone(t.T.Attachments)
	out.Containers = slices.Clone(t.T.Containers)
	return out
}

// purgeLocked stages forgetting the tasks stopped more than an hour ago, as
// ECS forgets them.
// Every DescribeTasks, ListTasks and RunTask purges, so it reads the tasks
// only once one may be due (s.purgeAfter): with 200 tasks alive the scan
// was a tenth of the server's work.
func (s *Service) purgeLocked(m *model) {
	now := s.now()
	if !s.purgeAfter.IsZero() && now.Before(s.purgeAfter) {
		return
	}
	next, purged := now.Add(stoppedKept), false // a task that stops later is due later
	for r := range m.tasks.All() {
		if r.status() != TaskStatusStopped || r.T.StoppedAt == nil {
			continue
		}
		due := r.T.StoppedAt.Time().Add(stoppedKept)
		if now.After(due) {
			m.tasks.Delete(*r.T.TaskArn)
			purged = true
		} else if due.Before(next) {
			next = due
		}
	}
	s.purgeAfter = next
	if purged {
		s.purgeAfter = time.Time{} // until the caller commits: look again
	}
}

// DescribeTasks answers tasks by ARN or ID; unknown ones are MISSING.
func (s *Service) DescribeTasks(ctx context.Context, sc Scope, in *ecstypes.DescribeTasksRequest) (*ecstypes.DescribeTasksResponse, error) {
	if len(in.Tasks) == 0 {
		return nil, invalidParam("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, invalidParam("tasks can have at most 100 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	s.purgeLocked(m)
	s.commitOrLog(m, "the forgetting of long-stopped tasks", sc.Region)
	m = s.begin() // what is stored, whether or not the forgetting was
	out := &ecstypes.DescribeTasksResponse{Tasks: []ecstypes.Task{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.Tasks {
		t := s.taskLocked(m, sc, c, ref)
		if t == nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn(sc, "task/"+deref(c.C.ClusterName)+"/"+ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: &arn, Reason: str("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, s.renderTaskLocked(t, in.Include))
	}
	return out, nil
}

// ListTasks lists task ARNs of a cluster, RUNNING desired unless asked otherwise.
func (s *Service) ListTasks(ctx context.Context, sc Scope, in *ecstypes.ListTasksRequest) (*ecstypes.ListTasksResponse, error) {
	if in.ServiceName != nil && in.StartedBy != nil {
		return nil, invalidParam("Only one of startedBy and serviceName may be given.")
	}
	desired := in.DesiredStatus
	if desired == "" {
		desired = ecstypes.DesiredStatusRunning
	}
	s.mu.Lock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.purgeLocked(m)
	s.commitOrLog(m, "the forgetting of long-stopped tasks", sc.Region)
	m = s.begin() // what is stored, whether or not the forgetting was
	var inst *instanceRec
	if in.ContainerInstance != nil {
		if inst = s.instanceLocked(m, sc, c, *in.ContainerInstance); inst == nil {
			s.mu.Unlock()
			return nil, invalidParam("Container instance can not be found.")
		}
	}
	var arns []string
	for _, t := range sortedRecs(m.tasks.All(), func(t *taskRec) int64 { return t.Seq }) {
		switch {
		case t.ClusterARN != *c.C.ClusterArn, t.desired() != desired,
			inst != nil && t.InstanceARN != *inst.CI.ContainerInstanceArn,
			in.Family != nil && s.familyOfLocked(m, t) != *in.Family,
			in.StartedBy != nil && deref(t.T.StartedBy) != *in.StartedBy,
			in.ServiceName != nil && t.Service != s.serviceARN(sc, c, *in.ServiceName) && t.Service != *in.ServiceName,
			in.LaunchType != "" && t.T.LaunchType != in.LaunchType:
			continue
		}
		arns = append(arns, *t.T.TaskArn)
	}
	s.mu.Unlock()
	p, next, err := page(arns, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListTasksResponse{TaskArns: nonNil(p), NextToken: next}, nil
}

func (s *Service) familyOfLocked(m *model, t *taskRec) string {
	if td, _ := m.taskDefs.Get(t.TaskDefARN); td != nil {
		return td.family()
	}
	return ""
}

// StopTask asks a task to stop; it answers at once (desiredStatus STOPPED) and
// the task goes through STOPPING to STOPPED in the background.
func (s *Service) StopTask(ctx context.Context, sc Scope, in *ecstypes.StopTaskRequest) (*ecstypes.StopTaskResponse, error) {
	if deref(in.Task) == "" {
		return nil, invalidParam("task can not be blank.")
	}
	reason := deref(in.Reason)
	if len(reason) > 255 {
		return nil, invalidParam("Reason must be at most 255 characters.")
	}
	if reason == "" {
		reason = "Task stopped by user"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	t := s.taskLocked(m, sc, c, *in.Task)
	if t == nil {
		return nil, invalidParam("The referenced task was not found.")
	}
	s.requestStopLocked(m, *t.T.TaskArn, ecstypes.TaskStopCodeUserInitiated, reason)
	if err := s.commit(m); err != nil {
		return nil, err
	}
	t, _ = m.tasks.Get(*t.T.TaskArn)
	out := s.renderTaskLocked(t, []ecstypes.TaskField{ecstypes.TaskFieldTags})
	return &ecstypes.StopTaskResponse{Task: &out}, nil
}
