package ecsapi

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Custom attributes of container instances (PutAttributes, DeleteAttributes,
// ListAttributes), which memberOf placement constraints read as
// attribute:NAME beside the agent's ecs.* ones.

var (
	attributeNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_./\\-]{1,128}$`)
	attributeValueRE = regexp.MustCompile(`^[a-zA-Z0-9_.@/\\: -]{1,128}$`)
)

// customAttributesKept is how many custom attributes an instance may have.
const customAttributesKept = 10

// custom reports whether an attribute is the user's, not the agent's
// (ecs.*, com.amazonaws.ecs.*).
func custom(a ecstypes.Attribute) bool {
	n := deref(a.Name)
	return !strings.HasPrefix(n, "ecs.") && !strings.HasPrefix(n, "com.amazonaws.ecs.")
}

// attributeTargetLocked resolves an attribute's target: a container
// instance of the cluster, by ARN or (with targetType) by ID.
func (s *Service) attributeTargetLocked(m *model, sc Scope, c *clusterRec, a ecstypes.Attribute) (*instanceRec, error) {
	id := deref(a.TargetId)
	if id == "" || (!strings.HasPrefix(id, "arn:") && a.TargetType != ecstypes.TargetTypeContainerInstance) {
		return nil, invalidParam("An attribute needs a targetId, and a targetType of container-instance when the targetId is not an ARN.")
	}
	inst := s.instanceLocked(m, sc, c, id)
	if inst == nil || deref(inst.CI.Status) == "INACTIVE" {
		return nil, &Error{Type: "TargetNotFoundException", Message: "Could not find the target " + id + " in the cluster."}
	}
	return inst, nil
}

func checkAttributes(attrs []ecstypes.Attribute, values bool) error {
	if len(attrs) == 0 || len(attrs) > 10 {
		return invalidParam("attributes must have between 1 and 10 items.")
	}
	for _, a := range attrs {
		switch {
		case !attributeNameRE.MatchString(deref(a.Name)):
			return invalidParam("Attribute name %q is invalid: 1 to 128 letters, numbers, hyphens, underscores, slashes, back slashes or periods.", deref(a.Name))
		case !custom(a):
			return invalidParam("Attribute names that start with ecs. or com.amazonaws.ecs. are reserved for Amazon ECS.")
		case values && a.Value != nil && (!attributeValueRE.MatchString(*a.Value) || strings.TrimSpace(*a.Value) != *a.Value):
			return invalidParam("Attribute value %q is invalid: 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, back slashes, colons or spaces, not at either end.", *a.Value)
		}
	}
	return nil
}

// PutAttributes creates or replaces custom attributes of container instances.
func (s *Service) PutAttributes(ctx context.Context, sc Scope, in *ecstypes.PutAttributesRequest) (*ecstypes.PutAttributesResponse, error) {
	if err := checkAttributes(in.Attributes, true); err != nil {
		return nil, err
	}
	return s.changeAttributes(sc, in.Cluster, in.Attributes, func(have []ecstypes.Attribute, a ecstypes.Attribute) ([]ecstypes.Attribute, error) {
		a.TargetId, a.TargetType = nil, ""
		if i := slices.IndexFunc(have, func(h ecstypes.Attribute) bool { return deref(h.Name) == deref(a.Name) }); i >= 0 {
			have[i] = a
			return have, nil
		}
		have = append(have, a)
		n := 0
		for _, h := range have {
			if custom(h) {
				n++
			}
		}
		if n > customAttributesKept {
			return nil, &Error{Type: "AttributeLimitExceededException", Message: "You can apply up to 10 custom attributes to a resource."}
		}
		return have, nil
	})
}

// DeleteAttributes removes custom attributes of container instances.
func (s *Service) DeleteAttributes(ctx context.Context, sc Scope, in *ecstypes.DeleteAttributesRequest) (*ecstypes.DeleteAttributesResponse, error) {
	if err := checkAttributes(in.Attributes, false); err != nil {
		return nil, err
	}
	out, err := s.changeAttributes(sc, in.Cluster, in.Attributes, func(have []ecstypes.Attribute, a ecstypes.Attribute) ([]ecstypes.Attribute, error) {
		return slices.DeleteFunc(have, func(h ecstypes.Attribute) bool { return deref(h.Name) == deref(a.Name) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &ecstypes.DeleteAttributesResponse{Attributes: out.Attributes}, nil
}

// changeAttributes applies change to each attribute's target, all or none,
// and answers the attributes with their targets' ARNs.
func (s *Service) changeAttributes(sc Scope, cluster *string, attrs []ecstypes.Attribute,
	change func(have []ecstypes.Attribute, a ecstypes.Attribute) ([]ecstypes.Attribute, error)) (*ecstypes.PutAttributesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, cluster)
	if err != nil {
		return nil, err
	}
	out := []ecstypes.Attribute{}
	for _, a := range attrs {
		inst, err := s.attributeTargetLocked(m, sc, c, a)
		if err != nil {
			return nil, err
		}
		inst, _ = m.instances.Edit(*inst.CI.ContainerInstanceArn)
		if inst.CI.Attributes, err = change(inst.CI.Attributes, a); err != nil {
			return nil, err
		}
		a.TargetId, a.TargetType = inst.CI.ContainerInstanceArn, ecstypes.TargetTypeContainerInstance
		out = append(out, a)
	}
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.PutAttributesResponse{Attributes: out}, nil
}

// ListAttributes lists the attributes of a cluster's container instances,
// the agent's and the custom ones, by name and value when asked.
func (s *Service) ListAttributes(ctx context.Context, sc Scope, in *ecstypes.ListAttributesRequest) (*ecstypes.ListAttributesResponse, error) {
	if in.AttributeValue != nil && in.AttributeName == nil {
		return nil, invalidParam("attributeValue can only be given with attributeName.")
	}
	s.mu.Lock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var out []ecstypes.Attribute
	for _, inst := range s.clusterInstancesLocked(m, c) {
		for _, a := range inst.CI.Attributes {
			if (in.AttributeName != nil && deref(a.Name) != *in.AttributeName) || (in.AttributeValue != nil && deref(a.Value) != *in.AttributeValue) {
				continue
			}
			a.TargetId, a.TargetType = inst.CI.ContainerInstanceArn, ecstypes.TargetTypeContainerInstance
			out = append(out, a)
		}
	}
	s.mu.Unlock()
	p, next, err := page(out, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListAttributesResponse{Attributes: nonNil(p), NextToken: next}, nil
}
