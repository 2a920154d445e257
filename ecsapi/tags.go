package ecsapi

import (
	"context"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/storage"
)

// taggedLocked finds the tags of a resource by ARN: a cluster, task
// definition, container instance, service, task set or task of the scope's
// region. With edit,
// they are those of the transaction's copy, to change.
func (s *Service) taggedLocked(m *model, sc Scope, arn string, edit bool) (*[]ecstypes.Tag, bool) {
	if tags, ok := taggedIn(m.clusters, sc, arn, edit, func(r *clusterRec) (string, *[]ecstypes.Tag) { return r.Region, &r.C.Tags }); ok {
		return tags, true
	}
	if tags, ok := taggedIn(m.taskDefs, sc, arn, edit, func(r *taskDefRec) (string, *[]ecstypes.Tag) { return r.Region, &r.Tags }); ok {
		return tags, true
	}
	if tags, ok := taggedIn(m.instances, sc, arn, edit, func(r *instanceRec) (string, *[]ecstypes.Tag) { return r.Region, &r.CI.Tags }); ok {
		return tags, true
	}
	if tags, ok := taggedIn(m.services, sc, arn, edit, func(r *svcRec) (string, *[]ecstypes.Tag) { return r.Region, &r.S.Tags }); ok {
		return tags, true
	}
	if svc, ok := taskSetServiceARN(arn); ok {
		// A task set's tags are kept with it, in its service's record.
		return taggedIn(m.services, sc, svc, edit, func(r *svcRec) (string, *[]ecstypes.Tag) {
			if ts := r.taskSet(arn); ts != nil {
				return r.Region, &ts.Tags
			}
			return "", nil
		})
	}
	return taggedIn(m.tasks, sc, arn, edit, func(r *taskRec) (string, *[]ecstypes.Tag) { return r.Region, &r.T.Tags })
}

// taskSetServiceARN is the ARN of the service of a task set's ARN
// (…:task-set/CLUSTER/SERVICE/ecs-svc/ID).
func taskSetServiceARN(arn string) (string, bool) {
	head, path, ok := strings.Cut(arn, ":task-set/")
	parts := strings.Split(path, "/")
	if !ok || len(parts) != 4 {
		return "", false
	}
	return head + ":service/" + parts[0] + "/" + parts[1], true
}

// taggedIn finds the tags of a resource of one table: of regionTags's record
// (the transaction's copy with edit), when it is of the scope's region.
func taggedIn[T any](v storage.View[T], sc Scope, arn string, edit bool, regionTags func(*T) (string, *[]ecstypes.Tag)) (*[]ecstypes.Tag, bool) {
	r, ok := v.Get(arn)
	if !ok {
		return nil, false
	}
	if region, _ := regionTags(r); region != sc.Region {
		return nil, false
	}
	if edit {
		r, _ = v.Edit(arn)
	}
	_, tags := regionTags(r)
	return tags, true
}

func resourceNotFound() *Error {
	return &Error{Type: "ResourceNotFoundException", Message: "The specified resource could not be found."}
}

// TagResource adds or overwrites tags of a resource.
func (s *Service) TagResource(ctx context.Context, sc Scope, in *ecstypes.TagResourceRequest) (*ecstypes.TagResourceResponse, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	tags, ok := s.taggedLocked(m, sc, deref(in.ResourceArn), true)
	if !ok {
		return nil, resourceNotFound()
	}
	next := slices.Clone(*tags)
	for _, t := range in.Tags {
		if i := slices.IndexFunc(next, func(h ecstypes.Tag) bool { return deref(h.Key) == deref(t.Key) }); i >= 0 {
			next[i] = t
		} else {
			next = append(next, t)
		}
	}
	if err := checkTags(next); err != nil {
		return nil, err
	}
	*tags = next
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.TagResourceResponse{}, nil
}

// UntagResource removes tags of a resource by key.
func (s *Service) UntagResource(ctx context.Context, sc Scope, in *ecstypes.UntagResourceRequest) (*ecstypes.UntagResourceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	tags, ok := s.taggedLocked(m, sc, deref(in.ResourceArn), true)
	if !ok {
		return nil, resourceNotFound()
	}
	*tags = slices.DeleteFunc(slices.Clone(*tags), func(t ecstypes.Tag) bool { return slices.Contains(in.TagKeys, deref(t.Key)) })
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.UntagResourceResponse{}, nil
}

// ListTagsForResource answers a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, sc Scope, in *ecstypes.ListTagsForResourceRequest) (*ecstypes.ListTagsForResourceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, ok := s.taggedLocked(s.begin(), sc, deref(in.ResourceArn), false)
	if !ok {
		return nil, resourceNotFound()
	}
	return &ecstypes.ListTagsForResourceResponse{Tags: nonNil(slices.Clone(*tags))}, nil
}
