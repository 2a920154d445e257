package ecsapi

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Placement constraints and strategies (RunTask and services, EC2 launch
// type): constraints bind, strategies order the instances that are left,
// each a tie-breaker of the one before, as ECS applies them.

// placementRules are a request's constraints and strategies, checked.
type placementRules struct {
	distinct   bool
	memberOf   []queryNode
	strategies []ecstypes.PlacementStrategy
}

func (p placementRules) empty() bool {
	return !p.distinct && len(p.memberOf) == 0 && len(p.strategies) == 0
}

// checkPlacement applies ECS's rules to placement constraints and strategies.
func checkPlacement(constraints []ecstypes.PlacementConstraint, strategies []ecstypes.PlacementStrategy) (placementRules, error) {
	var p placementRules
	if len(constraints) > 10 {
		return p, invalidParam("placementConstraints can have at most 10 items.")
	}
	if len(strategies) > 5 {
		return p, invalidParam("placementStrategy can have at most 5 items.")
	}
	for _, c := range constraints {
		switch c.Type {
		case ecstypes.PlacementConstraintTypeDistinctInstance:
			if deref(c.Expression) != "" {
				return p, invalidParam("An expression is not valid for a distinctInstance placement constraint.")
			}
			p.distinct = true
		case ecstypes.PlacementConstraintTypeMemberOf:
			if deref(c.Expression) == "" {
				return p, invalidParam("A memberOf placement constraint requires an expression.")
			}
			if len(*c.Expression) > 2000 {
				return p, invalidParam("Placement constraint expressions can be at most 2000 characters.")
			}
			n, err := parseQuery(*c.Expression)
			if err != nil {
				return p, err
			}
			p.memberOf = append(p.memberOf, n)
		default:
			return p, invalidParam("A placement constraint needs a type: distinctInstance or memberOf.")
		}
	}
	for _, st := range strategies {
		f := deref(st.Field)
		switch st.Type {
		case ecstypes.PlacementStrategyTypeRandom:
		case ecstypes.PlacementStrategyTypeBinpack:
			if f != "cpu" && f != "memory" && f != "CPU" && f != "MEMORY" {
				return p, invalidParam("Invalid field %q for the binpack placement strategy: cpu or memory.", f)
			}
		case ecstypes.PlacementStrategyTypeSpread:
			if f == "" {
				return p, invalidParam("The spread placement strategy requires a field.")
			}
		default:
			return p, invalidParam("A placement strategy needs a type: random, spread or binpack.")
		}
	}
	p.strategies = strategies
	return p, nil
}

// queryTargetLocked is what the cluster query language sees of an instance.
func (s *Service) queryTargetLocked(m *model, inst *instanceRec) queryTarget {
	return queryTarget{values: func(subject string) []string {
		switch {
		case strings.HasPrefix(subject, "attribute:"):
			var out []string
			for _, a := range inst.CI.Attributes {
				if deref(a.Name) == strings.TrimPrefix(subject, "attribute:") {
					out = append(out, deref(a.Value))
				}
			}
			return out
		case subject == "ec2InstanceId":
			return []string{inst.EC2ID}
		case subject == "agentConnected":
			return []string{strconv.FormatBool(deref(inst.CI.AgentConnected))}
		case subject == "runningTasksCount" || subject == "task:group":
			var groups []string
			running := 0
			for t := range m.tasks.All() {
				if t.InstanceARN == *inst.CI.ContainerInstanceArn && t.status() != TaskStatusStopped {
					groups = append(groups, deref(t.T.Group))
					if t.status() == TaskStatusRunning {
						running++
					}
				}
			}
			if subject == "task:group" {
				return groups
			}
			return []string{strconv.Itoa(running)}
		}
		return nil
	}}
}

// constrainLocked keeps the instances that meet the constraints for a task
// of group; each other one fails with ECS's reason.
func (s *Service) constrainLocked(m *model, rules placementRules, group string, candidates []*instanceRec) ([]*instanceRec, []ecstypes.Failure) {
	if !rules.distinct && len(rules.memberOf) == 0 {
		return candidates, nil
	}
	taken := map[string]bool{}
	if rules.distinct {
		for t := range m.tasks.All() {
			if deref(t.T.Group) == group && t.desired() == ecstypes.DesiredStatusRunning {
				taken[t.InstanceARN] = true
			}
		}
	}
	var kept []*instanceRec
	var fails []ecstypes.Failure
	for _, inst := range candidates {
		q := s.queryTargetLocked(m, inst)
		switch {
		case slices.ContainsFunc(rules.memberOf, func(n queryNode) bool { return !n.eval(q) }):
			fails = append(fails, ecstypes.Failure{Arn: inst.CI.ContainerInstanceArn, Reason: str("MemberOf placement constraint unsatisfied.")})
		case taken[*inst.CI.ContainerInstanceArn]:
			fails = append(fails, ecstypes.Failure{Arn: inst.CI.ContainerInstanceArn, Reason: str("DistinctInstance placement constraint unsatisfied.")})
		default:
			kept = append(kept, inst)
		}
	}
	return kept, fails
}

// strategyOrderLocked orders instances by the strategies, in turn: spread
// puts first those whose value of the field holds the fewest of the group's
// tasks, binpack those with the least CPU or memory left, random shuffles.
func (s *Service) strategyOrderLocked(m *model, rules placementRules, group string, candidates []*instanceRec) []*instanceRec {
	if len(rules.strategies) == 0 {
		return candidates
	}
	keys := map[*instanceRec][]int{}
	for _, st := range rules.strategies {
		field := strings.ToLower(deref(st.Field))
		switch st.Type {
		case ecstypes.PlacementStrategyTypeRandom:
			for _, inst := range candidates {
				keys[inst] = append(keys[inst], rand.IntN(1<<30))
			}
		case ecstypes.PlacementStrategyTypeBinpack:
			for _, inst := range candidates {
				use := s.usageLocked(m, inst)
				left := int(valueOf(inst.CI.RegisteredResources[1]) - use.mem)
				if field == "cpu" {
					left = int(valueOf(inst.CI.RegisteredResources[0]) - use.cpu)
				}
				keys[inst] = append(keys[inst], left)
			}
		case ecstypes.PlacementStrategyTypeSpread:
			value := func(inst *instanceRec) string {
				if field == "instanceid" || field == "host" {
					return *inst.CI.ContainerInstanceArn
				}
				vals := s.queryTargetLocked(m, inst).values(deref(st.Field))
				if len(vals) == 0 {
					return ""
				}
				return vals[0]
			}
			byInstance := map[string]*instanceRec{}
			for r := range m.instances.All() {
				byInstance[*r.CI.ContainerInstanceArn] = r
			}
			count := map[string]int{}
			for t := range m.tasks.All() {
				if deref(t.T.Group) == group && t.desired() == ecstypes.DesiredStatusRunning {
					if inst := byInstance[t.InstanceARN]; inst != nil {
						count[value(inst)]++
					}
				}
			}
			for _, inst := range candidates {
				keys[inst] = append(keys[inst], count[value(inst)])
			}
		}
	}
	out := slices.Clone(candidates)
	slices.SortStableFunc(out, func(a, b *instanceRec) int { return slices.Compare(keys[a], keys[b]) })
	return out
}
