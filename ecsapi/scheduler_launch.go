package ecsapi

import (
	"context"
	"slices"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// startServiceTasks starts what a service lacks of its desired count, placed
// as ECS places a service's tasks; replaced is how many of them replace
// tasks that failed their health checks. As RunTask does, it asks EC2 about
// the network first, without s.mu, then counts again and places under it.
func (s *Service) startServiceTasks(ctx context.Context, arn string, replaced int) bool {
	s.mu.Lock()
	r, ok := s.services.Get(arn)
	s.mu.Unlock()
	if !ok {
		return false
	}
	sc := Scope{Region: r.Region}
	d := r.primary()
	launch := d.LaunchType
	if launch == "" {
		launch, _ = launchTypeOf("", d.CapacityProviderStrategy)
	}
	req := placementRequest{
		launch: launch, group: str("service:" + r.name()), startedBy: d.Id, net: d.NetworkConfiguration,
		platformVersion: d.PlatformVersion, execCmd: r.S.EnableExecuteCommand, service: arn,
	}
	err := s.askEC2(ctx, sc, &r.ClusterARN, deref(d.TaskDefinition), &req)

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, ok = m.services.Get(arn)
	if !ok || r.status() != serviceActive || s.sched.off || deref(r.primary().Id) != deref(req.startedBy) {
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
		return note(unableEvent(r.name(), reason))
	}
	c, err := s.clusterLocked(m, sc, &r.ClusterARN)
	if err != nil {
		return false
	}
	req.tags = s.propagatedTagsLocked(m, r, req.td)
	short := s.planLocked(m, r).canStart
	candidates := s.clusterInstancesLocked(m, c)
	var placed []*taskRec
	unplaced := ""
	for range short {
		if e := s.taskQuotaLocked(m, sc, launch); e != nil {
			unplaced = unableEvent(r.name(), e.Message)
			break
		}
		var inst *instanceRec
		if launch == ecstypes.LaunchTypeEc2 {
			var fails []ecstypes.Failure
			if inst, fails = s.placeLocked(m, &req, s.spreadOrderLocked(m, arn, candidates)); inst == nil {
				unplaced = unplacedEvent(r.name(), fails)
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
		s.addEvents(r, startedEvent(r.name(), placed, min(replaced, len(placed))))
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

// spreadOrderLocked orders the instances as ECS's default placement for a
// service tries them: fewest of the service's tasks in the instance's
// Availability Zone first, then fewest on the instance, then in the order
// they registered.
func (s *Service) spreadOrderLocked(m *model, service string, candidates []*instanceRec) []*instanceRec {
	perAZ, perInstance := s.spreadCountsLocked(m, service)
	out := slices.Clone(candidates)
	slices.SortStableFunc(out, func(a, b *instanceRec) int {
		if n, o := perAZ[a.AZ], perAZ[b.AZ]; n != o {
			return n - o
		}
		return perInstance[*a.CI.ContainerInstanceArn] - perInstance[*b.CI.ContainerInstanceArn]
	})
	return out
}

// spreadSubnetLocked puts a Fargate task in the subnet, among those given,
// whose Availability Zone has the fewest of the service's tasks.
func (s *Service) spreadSubnetLocked(m *model, service string, req *placementRequest) {
	perAZ, _ := s.spreadCountsLocked(m, service)
	best := req.subnets[0]
	for _, sub := range req.subnets[1:] {
		if perAZ[sub.AZ] < perAZ[best.AZ] {
			best = sub
		}
	}
	req.subnetID, req.az = best.ID, best.AZ
}

// spreadCountsLocked counts a service's tasks that are not stopping, by
// Availability Zone and by container instance.
func (s *Service) spreadCountsLocked(m *model, service string) (perAZ, perInstance map[string]int) {
	perAZ, perInstance = map[string]int{}, map[string]int{}
	for t := range m.tasks.All() {
		if t.Service == service && t.desired() == ecstypes.DesiredStatusRunning {
			perAZ[deref(t.T.AvailabilityZone)]++
			perInstance[t.InstanceARN]++
		}
	}
	return perAZ, perInstance
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
