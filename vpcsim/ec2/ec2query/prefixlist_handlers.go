package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// managedPrefixListXML is the model's ManagedPrefixList.
type managedPrefixListXML struct {
	PrefixListID   string      `xml:"prefixListId"`
	AddressFamily  string      `xml:"addressFamily"`
	State          string      `xml:"state"`
	StateMessage   string      `xml:"stateMessage,omitempty"`
	PrefixListArn  string      `xml:"prefixListArn"`
	PrefixListName string      `xml:"prefixListName"`
	MaxEntries     int         `xml:"maxEntries"`
	Version        int64       `xml:"version"`
	Tags           set[tagXML] `xml:"tagSet"`
	OwnerID        string      `xml:"ownerId"`
}

func toManagedPrefixListXML(p ec2sim.PrefixList) managedPrefixListXML {
	return managedPrefixListXML{
		PrefixListID: p.ID, AddressFamily: p.AddressFamily, State: string(p.State), StateMessage: p.StateMessage,
		PrefixListArn: ec2sim.PrefixListARN(&p), PrefixListName: p.Name, MaxEntries: p.MaxEntries, Version: p.Version,
		Tags: tagSet(p.Tags), OwnerID: p.OwnerID,
	}
}

// prefixListResponse answers the operations whose output is one
// ManagedPrefixList: Create, Modify, Restore, Delete.
type prefixListResponse struct {
	responseMeta
	PrefixList managedPrefixListXML `xml:"prefixList"`
}

func prefixListAnswer(p ec2sim.PrefixList, err error) (*prefixListResponse, error) {
	if err != nil {
		return nil, err
	}
	return &prefixListResponse{PrefixList: toManagedPrefixListXML(p)}, nil
}

// entryParam is an AddPrefixListEntry (Entry.N, AddEntry.N) or, without a
// description, a RemovePrefixListEntry.
type entryParam struct {
	Cidr        string `query:"Cidr"`
	Description string `query:"Description"`
}

func toEntries(es []entryParam) []ec2sim.EntryInput {
	out := make([]ec2sim.EntryInput, 0, len(es))
	for _, e := range es {
		out = append(out, ec2sim.EntryInput{CIDR: e.Cidr, Description: e.Description})
	}
	return out
}

// CreateManagedPrefixList

type createManagedPrefixListRequest struct {
	dryRunParam
	PrefixListName    string         `query:"PrefixListName"`
	Entries           []entryParam   `query:"Entry"`
	MaxEntries        *int           `query:"MaxEntries"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
	AddressFamily     string         `query:"AddressFamily"`
	ClientToken       string         `query:"ClientToken"`
}

func (h *Handler) createManagedPrefixList(ctx context.Context, s ec2sim.Scope, req *createManagedPrefixListRequest) (*prefixListResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "prefix-list")
	if err != nil {
		return nil, err
	}
	return prefixListAnswer(h.cloud.CreateManagedPrefixList(ctx, s, ec2sim.CreatePrefixListInput{
		Name: req.PrefixListName, AddressFamily: req.AddressFamily, MaxEntries: req.MaxEntries,
		Entries: toEntries(req.Entries), Tags: tags["prefix-list"], ClientToken: req.ClientToken,
	}))
}

// DescribeManagedPrefixLists

type describeManagedPrefixListsRequest struct {
	dryRunParam
	pageParams
	Filters       []filterParam `query:"Filter"`
	PrefixListIDs []string      `query:"PrefixListId"`
}

type describeManagedPrefixListsResponse struct {
	responseMeta
	NextToken   string                    `xml:"nextToken,omitempty"`
	PrefixLists set[managedPrefixListXML] `xml:"prefixListSet"`
}

func (h *Handler) describeManagedPrefixLists(ctx context.Context, s ec2sim.Scope, req *describeManagedPrefixListsRequest) (*describeManagedPrefixListsResponse, error) {
	lists, err := h.cloud.DescribeManagedPrefixLists(ctx, s, req.PrefixListIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	lists, next := page("DescribeManagedPrefixLists", lists, &req.pageParams)
	resp := &describeManagedPrefixListsResponse{NextToken: next, PrefixLists: set[managedPrefixListXML]{}}
	for _, p := range lists {
		resp.PrefixLists = append(resp.PrefixLists, toManagedPrefixListXML(p))
	}
	return resp, nil
}

// GetManagedPrefixListEntries

type getManagedPrefixListEntriesRequest struct {
	dryRunParam
	pageParams
	PrefixListID  string `query:"PrefixListId"`
	TargetVersion *int64 `query:"TargetVersion"`
}

type prefixListEntryXML struct {
	Cidr        string `xml:"cidr"`
	Description string `xml:"description,omitempty"`
}

type getManagedPrefixListEntriesResponse struct {
	responseMeta
	Entries   set[prefixListEntryXML] `xml:"entrySet"`
	NextToken string                  `xml:"nextToken,omitempty"`
}

func (h *Handler) getManagedPrefixListEntries(ctx context.Context, s ec2sim.Scope, req *getManagedPrefixListEntriesRequest) (*getManagedPrefixListEntriesResponse, error) {
	entries, err := h.cloud.GetManagedPrefixListEntries(ctx, s, req.PrefixListID, req.TargetVersion)
	if err != nil {
		return nil, err
	}
	entries, next := page("GetManagedPrefixListEntries", entries, &req.pageParams)
	resp := &getManagedPrefixListEntriesResponse{Entries: set[prefixListEntryXML]{}, NextToken: next}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, prefixListEntryXML{Cidr: e.CIDR.String(), Description: e.Description})
	}
	return resp, nil
}

// ModifyManagedPrefixList

type modifyManagedPrefixListRequest struct {
	dryRunParam
	PrefixListID   string             `query:"PrefixListId"`
	CurrentVersion *int64             `query:"CurrentVersion"`
	PrefixListName string             `query:"PrefixListName"`
	AddEntries     []entryParam       `query:"AddEntry"`
	RemoveEntries  []removeEntryParam `query:"RemoveEntry"`
	MaxEntries     *int               `query:"MaxEntries"`
}

// removeEntryParam is a RemovePrefixListEntry.
type removeEntryParam struct {
	Cidr string `query:"Cidr"`
}

func (h *Handler) modifyManagedPrefixList(ctx context.Context, s ec2sim.Scope, req *modifyManagedPrefixListRequest) (*prefixListResponse, error) {
	in := ec2sim.ModifyPrefixListInput{
		ID: req.PrefixListID, CurrentVersion: req.CurrentVersion, Name: req.PrefixListName,
		Add: toEntries(req.AddEntries), MaxEntries: req.MaxEntries,
	}
	for _, e := range req.RemoveEntries {
		in.Remove = append(in.Remove, e.Cidr)
	}
	return prefixListAnswer(h.cloud.ModifyManagedPrefixList(ctx, s, in))
}

// RestoreManagedPrefixListVersion

type restoreManagedPrefixListVersionRequest struct {
	dryRunParam
	PrefixListID    string `query:"PrefixListId"`
	PreviousVersion *int64 `query:"PreviousVersion"`
	CurrentVersion  *int64 `query:"CurrentVersion"`
}

func (h *Handler) restoreManagedPrefixListVersion(ctx context.Context, s ec2sim.Scope, req *restoreManagedPrefixListVersionRequest) (*prefixListResponse, error) {
	return prefixListAnswer(h.cloud.RestoreManagedPrefixListVersion(ctx, s, req.PrefixListID, req.PreviousVersion, req.CurrentVersion))
}

// DeleteManagedPrefixList

type deleteManagedPrefixListRequest struct {
	dryRunParam
	PrefixListID string `query:"PrefixListId"`
}

func (h *Handler) deleteManagedPrefixList(ctx context.Context, s ec2sim.Scope, req *deleteManagedPrefixListRequest) (*prefixListResponse, error) {
	return prefixListAnswer(h.cloud.DeleteManagedPrefixList(ctx, s, req.PrefixListID))
}

// GetManagedPrefixListAssociations

type getManagedPrefixListAssociationsRequest struct {
	dryRunParam
	pageParams
	PrefixListID string `query:"PrefixListId"`
}

type prefixListAssociationXML struct {
	ResourceID    string `xml:"resourceId"`
	ResourceOwner string `xml:"resourceOwner"`
}

type getManagedPrefixListAssociationsResponse struct {
	responseMeta
	PrefixListAssociations set[prefixListAssociationXML] `xml:"prefixListAssociationSet"`
	NextToken              string                        `xml:"nextToken,omitempty"`
}

func (h *Handler) getManagedPrefixListAssociations(ctx context.Context, s ec2sim.Scope, req *getManagedPrefixListAssociationsRequest) (*getManagedPrefixListAssociationsResponse, error) {
	assocs, err := h.cloud.GetManagedPrefixListAssociations(ctx, s, req.PrefixListID)
	if err != nil {
		return nil, err
	}
	assocs, next := page("GetManagedPrefixListAssociations", assocs, &req.pageParams)
	resp := &getManagedPrefixListAssociationsResponse{PrefixListAssociations: set[prefixListAssociationXML]{}, NextToken: next}
	for _, a := range assocs {
		resp.PrefixListAssociations = append(resp.PrefixListAssociations, prefixListAssociationXML{ResourceID: a.ResourceID, ResourceOwner: a.ResourceOwner})
	}
	return resp, nil
}

// DescribePrefixLists

type describePrefixListsRequest struct {
	dryRunParam
	pageParams
	Filters       []filterParam `query:"Filter"`
	PrefixListIDs []string      `query:"PrefixListId"`
}

type prefixListXML struct {
	Cidrs          set[string] `xml:"cidrSet"`
	PrefixListID   string      `xml:"prefixListId"`
	PrefixListName string      `xml:"prefixListName"`
}

type describePrefixListsResponse struct {
	responseMeta
	NextToken   string             `xml:"nextToken,omitempty"`
	PrefixLists set[prefixListXML] `xml:"prefixListSet"`
}

func (h *Handler) describePrefixLists(ctx context.Context, s ec2sim.Scope, req *describePrefixListsRequest) (*describePrefixListsResponse, error) {
	lists, err := h.cloud.DescribePrefixLists(ctx, s, req.PrefixListIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	lists, next := page("DescribePrefixLists", lists, &req.pageParams)
	resp := &describePrefixListsResponse{NextToken: next, PrefixLists: set[prefixListXML]{}}
	for _, p := range lists {
		resp.PrefixLists = append(resp.PrefixLists, prefixListXML{Cidrs: set[string](p.CIDRs), PrefixListID: p.ID, PrefixListName: p.Name})
	}
	return resp, nil
}
