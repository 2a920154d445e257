package ssm

import (
	"context"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// tagged finds the parameter a tagging call names. Parameters are the only
// resources here: an ID of another type names nothing (InvalidResourceId),
// as no document, managed instance or maintenance window exists.
func (s *Service) tagged(sc Scope, typ ssmtypes.ResourceTypeForTagging, id string) (string, error) {
	if typ != ssmtypes.ResourceTypeForTaggingParameter {
		return "", bare("InvalidResourceId")
	}
	if n, ok := fromARN(id, sc.Region, s.account); ok {
		id = n
	}
	if _, ok := s.params.Get(paramKey(sc.Region, id)); !ok || checkName(id) != nil {
		return "", bare("InvalidResourceId")
	}
	return id, nil
}

// retag changes the tags of the parameter a tagging call names.
func (s *Service) retag(sc Scope, typ ssmtypes.ResourceTypeForTagging, id string, change func(*paramRec) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, err := s.tagged(sc, typ, id)
	if err != nil {
		return err
	}
	return s.editLocked(sc, name, change)
}

// AddTagsToResource adds tags to a parameter, or changes their values.
func (s *Service) AddTagsToResource(ctx context.Context, sc Scope, in *ssmtypes.AddTagsToResourceRequest) (*ssmtypes.AddTagsToResourceResult, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.retag(sc, in.ResourceType, *in.ResourceId, func(r *paramRec) error {
		for _, t := range in.Tags {
			r.setTag(*t.Key, *t.Value)
		}
		if len(r.Tags) > MaxTags {
			return errorf("TooManyTagsError", "The Tags parameter contains more than %d tags.", MaxTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmtypes.AddTagsToResourceResult{}, nil
}

// RemoveTagsFromResource removes tags from a parameter (keys it lacks change nothing).
func (s *Service) RemoveTagsFromResource(ctx context.Context, sc Scope, in *ssmtypes.RemoveTagsFromResourceRequest) (*ssmtypes.RemoveTagsFromResourceResult, error) {
	err := s.retag(sc, in.ResourceType, *in.ResourceId, func(r *paramRec) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmtypes.RemoveTagsFromResourceResult{}, nil
}

// ListTagsForResource answers a parameter's tags, by key.
func (s *Service) ListTagsForResource(ctx context.Context, sc Scope, in *ssmtypes.ListTagsForResourceRequest) (*ssmtypes.ListTagsForResourceResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, err := s.tagged(sc, in.ResourceType, *in.ResourceId)
	if err != nil {
		return nil, err
	}
	r, _ := s.params.Get(paramKey(sc.Region, name))
	out := &ssmtypes.ListTagsForResourceResult{TagList: []ssmtypes.Tag{}}
	for _, t := range r.Tags {
		out.TagList = append(out.TagList, ssmtypes.Tag{Key: ssmtypes.Ptr(t.Key), Value: ssmtypes.Ptr(t.Value)})
	}
	return out, nil
}
