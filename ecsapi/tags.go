package ecsapi

import (
	"context"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim"
)

// tagged finds the tags of a resource by ARN: a cluster, task definition,
// container instance or task of the scope's region.
func (s *Service) taggedLocked(sc Scope, arn string) (*[]Tag, func(*vpcsim.Batch), bool) {
	if c := s.clusters[arn]; c != nil && c.Region == sc.Region {
		return &c.C.Tags, func(t *vpcsim.Batch) { t.Put(kindCluster, arn, c) }, true
	}
	if r := s.taskDefs[arn]; r != nil && r.Region == sc.Region {
		return &r.Tags, func(t *vpcsim.Batch) { t.Put(kindTaskDef, arn, r) }, true
	}
	if r := s.instances[arn]; r != nil && r.Region == sc.Region {
		return &r.CI.Tags, func(t *vpcsim.Batch) { t.Put(kindInstance, arn, r) }, true
	}
	if r := s.tasks[arn]; r != nil && r.Region == sc.Region {
		return &r.T.Tags, func(t *vpcsim.Batch) { t.Put(kindTask, arn, r) }, true
	}
	return nil, nil, false
}

func resourceNotFound() *Error {
	return &Error{Type: "ResourceNotFoundException", Message: "The specified resource could not be found."}
}

// TagResource adds or overwrites tags of a resource.
func (s *Service) TagResource(ctx context.Context, sc Scope, in *TagResourceRequest) (*TagResourceResponse, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, save, ok := s.taggedLocked(sc, deref(in.ResourceArn))
	if !ok {
		return nil, resourceNotFound()
	}
	next := slices.Clone(*tags)
	for _, t := range in.Tags {
		if i := slices.IndexFunc(next, func(h Tag) bool { return deref(h.Key) == deref(t.Key) }); i >= 0 {
			next[i] = t
		} else {
			next = append(next, t)
		}
	}
	if err := checkTags(next); err != nil {
		return nil, err
	}
	*tags = next
	var t vpcsim.Batch
	save(&t)
	if err := s.commitLocked(&t); err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, nil
}

// UntagResource removes tags of a resource by key.
func (s *Service) UntagResource(ctx context.Context, sc Scope, in *UntagResourceRequest) (*UntagResourceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, save, ok := s.taggedLocked(sc, deref(in.ResourceArn))
	if !ok {
		return nil, resourceNotFound()
	}
	*tags = slices.DeleteFunc(slices.Clone(*tags), func(t Tag) bool { return slices.Contains(in.TagKeys, deref(t.Key)) })
	var t vpcsim.Batch
	save(&t)
	if err := s.commitLocked(&t); err != nil {
		return nil, err
	}
	return &UntagResourceResponse{}, nil
}

// ListTagsForResource answers a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, sc Scope, in *ListTagsForResourceRequest) (*ListTagsForResourceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, _, ok := s.taggedLocked(sc, deref(in.ResourceArn))
	if !ok {
		return nil, resourceNotFound()
	}
	return &ListTagsForResourceResponse{Tags: nonNil(slices.Clone(*tags))}, nil
}
