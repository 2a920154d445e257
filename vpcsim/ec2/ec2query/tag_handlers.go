package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// CreateTags

type createTagsRequest struct {
	dryRunParam
	Resources []string   `query:"ResourceId"`
	Tags      []tagParam `query:"Tag"`
}

func (h *Handler) createTags(ctx context.Context, s ec2sim.Scope, req *createTagsRequest) (*returnResponse, error) {
	if err := h.cloud.CreateTags(ctx, s, req.Resources, toTags(req.Tags)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DeleteTags: a tag given without Value is deleted whatever its value; with a
// Value (even empty) only if the value matches. Hence *string.

type deleteTagParam struct {
	Key   string  `query:"Key"`
	Value *string `query:"Value"`
}

type deleteTagsRequest struct {
	dryRunParam
	Resources []string         `query:"ResourceId"`
	Tags      []deleteTagParam `query:"Tag"`
}

func (h *Handler) deleteTags(ctx context.Context, s ec2sim.Scope, req *deleteTagsRequest) (*returnResponse, error) {
	var specs []ec2sim.TagSpec
	for _, t := range req.Tags {
		specs = append(specs, ec2sim.TagSpec{Key: t.Key, Value: t.Value})
	}
	if err := h.cloud.DeleteTags(ctx, s, req.Resources, specs); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeTags

type describeTagsRequest struct {
	dryRunParam
	pageParams
	Filters []filterParam `query:"Filter"`
}

type tagDescriptionXML struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

type describeTagsResponse struct {
	responseMeta
	Tags      set[tagDescriptionXML] `xml:"tagSet"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

func (h *Handler) describeTags(ctx context.Context, s ec2sim.Scope, req *describeTagsRequest) (*describeTagsResponse, error) {
	tags, err := h.cloud.DescribeTags(ctx, s, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	tags, next := page("DescribeTags", tags, &req.pageParams)
	resp := &describeTagsResponse{Tags: make(set[tagDescriptionXML], 0, len(tags)), NextToken: next}
	for _, t := range tags {
		resp.Tags = append(resp.Tags, tagDescriptionXML{ResourceID: t.ResourceID, ResourceType: t.ResourceType, Key: t.Key, Value: t.Value})
	}
	return resp, nil
}
