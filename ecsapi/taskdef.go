package ecsapi

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// taskDefRec is a task definition revision as stored.
type taskDefRec struct {
	Region string                  `json:"region"`
	Seq    int64                   `json:"seq"`
	TD     ecstypes.TaskDefinition `json:"td"`
	Tags   []ecstypes.Tag          `json:"tags,omitempty"`
	// CPU and Memory are the task-level figures in CPU units and MiB (0 = not set).
	CPU    int `json:"cpu"`
	Memory int `json:"memory"`
	// Size is the length of the registration, as ECS bounds it.
	Size int `json:"size,omitempty"`
}

func (r *taskDefRec) family() string { return deref(r.TD.Family) }

// size is the length the revision counts for against quota.TaskDefinitionBytes:
// that of its registration, or (kept before vpcsim measured them) of itself.
func (r *taskDefRec) size() int {
	if r.Size == 0 {
		return jsonLength(r.TD)
	}
	return r.Size
}
func (r *taskDefRec) revision() int32 {
	if r.TD.Revision == nil {
		return 0
	}
	return *r.TD.Revision
}

// RegisterTaskDefinition adds the next revision of a family. Every field of the
// request is kept and answered; ECS's defaults are filled in as ECS does.
func (s *Service) RegisterTaskDefinition(ctx context.Context, sc Scope, in *ecstypes.RegisterTaskDefinitionRequest) (*ecstypes.RegisterTaskDefinitionResponse, error) {
	cpu, mem, err := checkTaskDefinition(in)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	size, err := checkTaskDefinitionSize(in)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	key := sc.Region + "/" + *in.Family
	rev := int32(1)
	if last, ok := m.revisions.Get(key); ok {
		rev = last.Last + 1
	}
	if err := s.registerQuotaLocked(sc, rev, size); err != nil {
		return nil, err
	}
	arn := s.arn(sc, "task-definition/"+*in.Family+":"+strconv.Itoa(int(rev)))
	td := ecstypes.TaskDefinition{
		TaskDefinitionArn: &arn, Family: in.Family, Revision: &rev, Status: ecstypes.TaskDefinitionStatusActive,
		TaskRoleArn: in.TaskRoleArn, ExecutionRoleArn: in.ExecutionRoleArn, NetworkMode: in.NetworkMode,
		ContainerDefinitions: withContainerDefaults(in.ContainerDefinitions, in.NetworkMode),
		Volumes:              nonNil(in.Volumes), PlacementConstraints: nonNil(in.PlacementConstraints),
		RequiresCompatibilities: in.RequiresCompatibilities, PidMode: in.PidMode, IpcMode: in.IpcMode,
		ProxyConfiguration: in.ProxyConfiguration, InferenceAccelerators: in.InferenceAccelerators,
		EphemeralStorage: in.EphemeralStorage, RuntimePlatform: in.RuntimePlatform,
		EnableFaultInjection: in.EnableFaultInjection,
		RegisteredAt:         ecstypes.NewTimestamp(s.now()), RegisteredBy: str("arn:aws:iam::" + s.account + ":root"),
	}
	if cpu > 0 {
		td.Cpu = str(strconv.Itoa(cpu))
	}
	if mem > 0 {
		td.Memory = str(strconv.Itoa(mem))
	}
	td.Compatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityEc2}
	if in.NetworkMode == ecstypes.NetworkModeAwsvpc && fargateFits(cpu, mem) && fargateCompatible(in.ContainerDefinitions) &&
		checkFargateNamespaces(in.PidMode, in.IpcMode) == nil {
		td.Compatibilities = append(td.Compatibilities, ecstypes.CompatibilityFargate)
	}
	td.RequiresAttributes = requiredAttributes(&td)
	r := &taskDefRec{Region: sc.Region, Seq: s.nextSeq(), TD: td, Tags: in.Tags, CPU: cpu, Memory: mem, Size: size}
	m.taskDefs.Put(r)
	m.revisions.Put(&revisionRec{Key: key, Last: rev})
	m.after = append(m.after, func() { s.taskDefBytes[sc.Region] += size })
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.RegisterTaskDefinitionResponse{TaskDefinition: &r.TD, Tags: in.Tags}, nil
}

// withContainerDefaults fills in what ECS answers for fields left out: cpu 0,
// essential true, empty lists, and each port mapping's host port and protocol.
func withContainerDefaults(defs []ecstypes.ContainerDefinition, mode ecstypes.NetworkMode) []ecstypes.ContainerDefinition {
	out := slices.Clone(defs)
	for i := range out {
		c := &out[i]
		if c.Cpu == nil {
			c.Cpu = ecstypes.Ptr(int32(0))
		}
		if c.Essential == nil {
			c.Essential = ecstypes.Ptr(true)
		}
		c.Environment = nonNil(c.Environment)
		c.MountPoints = nonNil(c.MountPoints)
		c.VolumesFrom = nonNil(c.VolumesFrom)
		c.SystemControls = nonNil(c.SystemControls)
		c.PortMappings = slices.Clone(nonNil(c.PortMappings))
		for j := range c.PortMappings {
			p := &c.PortMappings[j]
			if p.HostPort == nil && p.ContainerPort != nil {
				if mode == ecstypes.NetworkModeAwsvpc || mode == ecstypes.NetworkModeHost {
					p.HostPort = ecstypes.Ptr(*p.ContainerPort)
				} else {
					p.HostPort = ecstypes.Ptr(int32(0))
				}
			}
			if p.Protocol == "" {
				p.Protocol = ecstypes.TransportProtocolTcp
			}
		}
	}
	return out
}

// requiredAttributes lists the agent capabilities a task definition needs, as
// ECS computes them for placement.
func requiredAttributes(td *ecstypes.TaskDefinition) []ecstypes.Attribute {
	attrs := []ecstypes.Attribute{{Name: str("com.amazonaws.ecs.capability.docker-remote-api.1.18")}}
	if td.NetworkMode == ecstypes.NetworkModeAwsvpc {
		attrs = append(attrs, ecstypes.Attribute{Name: str("ecs.capability.task-eni")},
			ecstypes.Attribute{Name: str("com.amazonaws.ecs.capability.docker-remote-api.1.21")})
	}
	if td.Cpu != nil || td.Memory != nil {
		attrs = append(attrs, ecstypes.Attribute{Name: str("ecs.capability.task-cpu-mem-limit")})
	}
	return attrs
}

// taskDefLocked resolves "family" (its latest ACTIVE revision), "family:revision"
// or an ARN.
func (s *Service) taskDefLocked(m *model, sc Scope, ref string) *taskDefRec {
	if strings.HasPrefix(ref, "arn:") {
		r, _ := m.taskDefs.Get(ref)
		if r == nil || r.Region != sc.Region {
			return nil
		}
		return r
	}
	if fam, rev, ok := strings.Cut(ref, ":"); ok {
		if _, err := strconv.Atoi(rev); err != nil {
			return nil
		}
		return s.taskDefLocked(m, sc, s.arn(sc, "task-definition/"+fam+":"+rev))
	}
	var best *taskDefRec
	for r := range m.taskDefs.All() {
		if r.Region == sc.Region && r.family() == ref && r.TD.Status == ecstypes.TaskDefinitionStatusActive && (best == nil || r.revision() > best.revision()) {
			best = r
		}
	}
	return best
}

// DescribeTaskDefinition answers one revision, with its tags when asked.
func (s *Service) DescribeTaskDefinition(ctx context.Context, sc Scope, in *ecstypes.DescribeTaskDefinitionRequest) (*ecstypes.DescribeTaskDefinitionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.taskDefLocked(s.begin(), sc, deref(in.TaskDefinition))
	if r == nil {
		return nil, clientErr("Unable to describe task definition.")
	}
	td := r.TD
	out := &ecstypes.DescribeTaskDefinitionResponse{TaskDefinition: &td}
	if slices.Contains(in.Include, ecstypes.TaskDefinitionFieldTags) {
		out.Tags = nonNil(r.Tags)
	}
	return out, nil
}

// ListTaskDefinitions lists revision ARNs: of one family, by status, sorted by
// family then revision.
func (s *Service) ListTaskDefinitions(ctx context.Context, sc Scope, in *ecstypes.ListTaskDefinitionsRequest) (*ecstypes.ListTaskDefinitionsResponse, error) {
	status := in.Status
	if status == "" {
		status = ecstypes.TaskDefinitionStatusActive
	}
	s.mu.Lock()
	var list []*taskDefRec
	for r := range s.taskDefs.All() {
		if r.Region == sc.Region && r.TD.Status == status && (in.FamilyPrefix == nil || r.family() == *in.FamilyPrefix) {
			list = append(list, r)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b *taskDefRec) int {
		if c := strings.Compare(a.family(), b.family()); c != 0 {
			return c
		}
		return int(a.revision() - b.revision())
	})
	if in.Sort == ecstypes.SortOrderDesc {
		slices.Reverse(list)
	}
	arns := make([]string, 0, len(list))
	for _, r := range list {
		arns = append(arns, *r.TD.TaskDefinitionArn)
	}
	p, next, err := page(arns, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListTaskDefinitionsResponse{TaskDefinitionArns: nonNil(p), NextToken: next}, nil
}

// ListTaskDefinitionFamilies lists families: ACTIVE ones have an active revision,
// INACTIVE ones have none, ALL is both.
func (s *Service) ListTaskDefinitionFamilies(ctx context.Context, sc Scope, in *ecstypes.ListTaskDefinitionFamiliesRequest) (*ecstypes.ListTaskDefinitionFamiliesResponse, error) {
	status := in.Status
	if status == "" {
		status = ecstypes.TaskDefinitionFamilyStatusActive
	}
	s.mu.Lock()
	active := map[string]bool{}
	for r := range s.taskDefs.All() {
		if r.Region == sc.Region && strings.HasPrefix(r.family(), deref(in.FamilyPrefix)) {
			active[r.family()] = active[r.family()] || r.TD.Status == ecstypes.TaskDefinitionStatusActive
		}
	}
	s.mu.Unlock()
	var fams []string
	for f, a := range active {
		if status == ecstypes.TaskDefinitionFamilyStatusAll || (status == ecstypes.TaskDefinitionFamilyStatusActive) == a {
			fams = append(fams, f)
		}
	}
	slices.Sort(fams)
	p, next, err := page(fams, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListTaskDefinitionFamiliesResponse{Families: nonNil(p), NextToken: next}, nil
}

// DeregisterTaskDefinition makes a revision INACTIVE: running tasks go on, no new
// task may use it.
func (s *Service) DeregisterTaskDefinition(ctx context.Context, sc Scope, in *ecstypes.DeregisterTaskDefinitionRequest) (*ecstypes.DeregisterTaskDefinitionResponse, error) {
	ref := deref(in.TaskDefinition)
	if !strings.HasPrefix(ref, "arn:") && !strings.Contains(ref, ":") {
		return nil, clientErr("Invalid revision number. Number: %s", ref)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r := s.taskDefLocked(m, sc, ref)
	if r == nil {
		return nil, clientErr("The specified task definition does not exist.")
	}
	if r.TD.Status == ecstypes.TaskDefinitionStatusActive {
		r, _ = m.taskDefs.Edit(*r.TD.TaskDefinitionArn)
		r.TD.Status = ecstypes.TaskDefinitionStatusInactive
		r.TD.DeregisteredAt = ecstypes.NewTimestamp(s.now())
		if err := s.commit(m); err != nil {
			return nil, err
		}
	}
	td := r.TD
	return &ecstypes.DeregisterTaskDefinitionResponse{TaskDefinition: &td}, nil
}

// DeleteTaskDefinitions deletes INACTIVE revisions (DELETE_IN_PROGRESS); others
// come back as failures.
func (s *Service) DeleteTaskDefinitions(ctx context.Context, sc Scope, in *ecstypes.DeleteTaskDefinitionsRequest) (*ecstypes.DeleteTaskDefinitionsResponse, error) {
	if len(in.TaskDefinitions) == 0 {
		return nil, invalidParam("taskDefinitions can not be empty.")
	}
	if len(in.TaskDefinitions) > 10 {
		return nil, invalidParam("taskDefinitions can have at most 10 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	out := &ecstypes.DeleteTaskDefinitionsResponse{TaskDefinitions: []ecstypes.TaskDefinition{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.TaskDefinitions {
		r := s.taskDefLocked(m, sc, ref)
		switch {
		case r == nil || !strings.Contains(ref, ":"):
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(ref), Reason: str("The specified task definition does not exist.")})
			continue
		case r.TD.Status == ecstypes.TaskDefinitionStatusActive:
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: r.TD.TaskDefinitionArn, Reason: str("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
			continue
		}
		r, _ = m.taskDefs.Edit(*r.TD.TaskDefinitionArn)
		r.TD.Status = ecstypes.TaskDefinitionStatusDeleteInProgress
		r.TD.DeleteRequestedAt = ecstypes.NewTimestamp(s.now())
		out.TaskDefinitions = append(out.TaskDefinitions, r.TD)
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return out, nil
}
