package ecsapi

import (
	"context"
	"slices"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// launchSpec is what a service's new tasks run: its PRIMARY deployment's
// settings, or one of its task sets'.
type launchSpec struct {
	id              string // the deployment's or task set's, the tasks' startedBy
	who             string // who the service's events name: the service, or it and its task set
	taskDef         string
	launch          ecstypes.LaunchType
	net             *ecstypes.NetworkConfiguration
	platformVersion *string
}

// launchSpec is what the service's deployment or task set id starts; false
// once that no longer starts tasks.
func (r *svcRec) launchSpec(id string) (launchSpec, bool) {
	spec := func(launch ecstypes.LaunchType, cps []ecstypes.CapacityProviderStrategyItem, taskDef *string, net *ecstypes.NetworkConfiguration, pv *string) launchSpec {
		if launch == "" {
			launch, _ = launchTypeOf("", cps)
		}
		return launchSpec{id: id, who: r.name(), taskDef: deref(taskDef), launch: launch, net: net, platformVersion: pv}
	}
	if d := r.primary(); d != nil && deref(d.Id) == id {
		return spec(d.LaunchType, d.CapacityProviderStrategy, d.TaskDefinition, d.NetworkConfiguration, d.PlatformVersion), true
	}
	if ts := r.taskSet(id); ts != nil && deref(ts.Status) != taskSetDraining {
		out := spec(ts.LaunchType, ts.CapacityProviderStrategy, ts.TaskDefinition, ts.NetworkConfiguration, ts.PlatformVersion)
		out.who = taskSetWho(r.name(), id)
		return out, true
	}
	return launchSpec{}, false
}

// startServiceTasks starts what a service's deployment or task set (from)
// lacks of its count, placed as ECS places a service's tasks; replaced is
// how many of them replace tasks that failed their health checks. As RunTask
// does, it asks EC2 about the network first, without s.mu, then counts again
// and places under it.
func (s *Service) startServiceTasks(ctx context.Context, arn, from string, replaced int) bool {
	s.mu.Lock()
	r, ok := s.services.Get(arn)
	s.mu.Unlock()
	if !ok {
		return false
	}
	spec, ok := r.launchSpec(from)
	if !ok {
		return false
	}
	sc := Scope{Region: r.Region}
	launch := spec.launch
	req := placementRequest{
		launch: launch, group: str("service:" + r.name()), startedBy: &spec.id, net: spec.net,
		platformVersion: spec.platformVersion, execCmd: r.S.EnableExecuteCommand, service: arn,
	}
	err := s.askEC2(ctx, sc, &r.ClusterARN, spec.taskDef, &req)

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, ok = m.services.Get(arn)
	if !ok || r.status() != serviceActive || s.sched.off {
		return false
	}
	if _, ok := r.launchSpec(from); !ok {
		return false
	}
	note := func(msg string) bool {
		r, _ = m.services.Edit(arn)
		if !s.addEvents(r, msg) {
			return false
		}
		return s.commitOrLog(m, "a service's event", arn)
	}
	if err != nil {
		reason := err.Error()
		if e, ok := AsError(err); ok {
			reason = e.Message
		}
		return note(unableEvent(spec.who, reason))
	}
	c, err := s.clusterLocked(m, sc, &r.ClusterARN)
	if err != nil {
		return false
	}
	req.tags = s.propagatedTagsLocked(m, r, req.td)
	short := s.shortLocked(m, r, from)
	candidates := s.clusterInstancesLocked(m, c)
	var targets []*instanceRec // DAEMON: the instances to start one on, in turn
	if r.daemon() {
		eligible, _ := s.daemonLocked(m, r)
		targets = s.daemonTargetsLocked(m, r, eligible)
		short = min(short, len(targets))
	}
	// Constraints bind; the service's strategies order what is left, ECS's
	// default for services when it has none.
	group := deref(req.group)
	rules, _ := checkPlacement(r.S.PlacementConstraints, r.S.PlacementStrategy) // checked when stored
	if len(rules.strategies) == 0 {
		rules.strategies = defaultServiceStrategies
	}
	var placed []*taskRec
	unplaced := ""
	for i := range short {
		if e := s.taskQuotaLocked(m, sc, launch); e != nil {
			unplaced = unableEvent(spec.who, e.Message)
			break
		}
		var inst *instanceRec
		if launch == ecstypes.LaunchTypeEc2 {
			order := candidates
			if targets != nil {
				order = targets[i : i+1]
			}
			order, fails := s.constrainLocked(m, rules, group, order)
			var unfit []ecstypes.Failure
			if inst, unfit = s.placeLocked(m, &req, s.strategyOrderLocked(m, rules, group, order)); inst == nil {
				fails = append(fails, unfit...)
				unplaced = unplacedEvent(spec.who, fails)
				break
			}
		} else {
			s.spreadSubnetLocked(m, arn, &req)
		}
		if err := s.placeTaskLocked(m, sc, c, inst, &req, &placed); err != nil {
			return false
		}
	}
	if len(placed) == 0 && unplaced == "" {
		return false
	}
	r, _ = m.services.Edit(arn)
	if len(placed) > 0 {
		s.addEvents(r, startedEvent(spec.who, placed, min(replaced, len(placed))))
	}
	if said := unplaced != "" && s.addEvents(r, unplaced); len(placed) == 0 && !said {
		return false // the same as the last pass said
	}
	if _, err := s.launchLocked(m, placed); err != nil {
		s.log.Error("store a service's new tasks", "service", arn, "err", err)
		return false
	}
	return true
}

// defaultServiceStrategies are ECS's placement for a service that names
// none: fewest of the service's tasks in the instance's Availability Zone
// first, then fewest on the instance.
var defaultServiceStrategies = []ecstypes.PlacementStrategy{
	{Type: ecstypes.PlacementStrategyTypeSpread, Field: str("attribute:ecs.availability-zone")},
	{Type: ecstypes.PlacementStrategyTypeSpread, Field: str("instanceId")},
}

// spreadSubnetLocked puts a Fargate task in the subnet, among those given,
// whose Availability Zone has the fewest of the service's tasks.
func (s *Service) spreadSubnetLocked(m *model, service string, req *placementRequest) {
	perAZ := map[string]int{}
	for t := range m.tasks.All() {
		if t.Service == service && t.desired() == ecstypes.DesiredStatusRunning {
			perAZ[deref(t.T.AvailabilityZone)]++
		}
	}
	best := req.subnets[0]
	for _, sub := range req.subnets[1:] {
		if perAZ[sub.AZ] < perAZ[best.AZ] {
			best = sub
		}
	}
	req.subnetID, req.az = best.ID, best.AZ
}

// propagatedTagsLocked is what a service's new task is tagged with: the
// service's tags or its task definition's, as propagateTags says.
func (s *Service) propagatedTagsLocked(m *model, r *svcRec, td *taskDefRec) []ecstypes.Tag {
	switch r.S.PropagateTags {
	case ecstypes.PropagateTagsService:
		return slices.Clone(r.S.Tags)
	case ecstypes.PropagateTagsTaskDefinition:
		if td != nil {
			return slices.Clone(td.Tags)
		}
	}
	return nil
}

// daemonLocked answers the instances a DAEMON service wants a task on (the
// cluster's ACTIVE instances whose agent is connected and that meet its
// memberOf constraints; none once it is deleted) and its tasks that should go: those on other instances, and all
// but one on each instance (the PRIMARY deployment's kept first).
func (s *Service) daemonLocked(m *model, r *svcRec) (eligible []*instanceRec, misplaced []*taskRec) {
	c, _ := m.clusters.Get(r.ClusterARN)
	if c != nil && r.status() == serviceActive {
		for _, inst := range s.clusterInstancesLocked(m, c) {
			if deref(inst.CI.Status) == "ACTIVE" && deref(inst.CI.AgentConnected) {
				eligible = append(eligible, inst)
			}
		}
	}
	// Its memberOf constraints say which instances it is for.
	rules, _ := checkPlacement(r.S.PlacementConstraints, nil) // checked when stored
	rules.distinct = false
	eligible, _ = s.constrainLocked(m, rules, "", eligible)
	ok := map[string]bool{}
	for _, inst := range eligible {
		ok[*inst.CI.ContainerInstanceArn] = true
	}
	primID := deref(r.primary().Id)
	kept := map[string]*taskRec{}
	for _, t := range sortedRecs(m.tasks.All(), func(t *taskRec) int64 { return t.Seq }) {
		if t.Service != *r.S.ServiceArn || t.desired() != ecstypes.DesiredStatusRunning {
			continue
		}
		switch have := kept[t.InstanceARN]; {
		case !ok[t.InstanceARN]:
			misplaced = append(misplaced, t)
		case have == nil:
			kept[t.InstanceARN] = t
		case deref(t.T.StartedBy) == primID && deref(have.T.StartedBy) != primID:
			misplaced = append(misplaced, have)
			kept[t.InstanceARN] = t
		default:
			misplaced = append(misplaced, t)
		}
	}
	return eligible, misplaced
}

// daemonTargetsLocked are the eligible instances with no task of the
// service that should run.
func (s *Service) daemonTargetsLocked(m *model, r *svcRec, eligible []*instanceRec) []*instanceRec {
	has := map[string]bool{}
	for t := range m.tasks.All() {
		if t.Service == *r.S.ServiceArn && t.desired() == ecstypes.DesiredStatusRunning {
			has[t.InstanceARN] = true
		}
	}
	var out []*instanceRec
	for _, inst := range eligible {
		if !has[*inst.CI.ContainerInstanceArn] {
			out = append(out, inst)
		}
	}
	return out
}
