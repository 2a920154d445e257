package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// unsuccessfulXML is an UnsuccessfulItem: a resource an operation over many
// did not act on, and why.
type unsuccessfulXML struct {
	Error      unsuccessfulErrorXML `xml:"error"`
	ResourceID string               `xml:"resourceId"`
}

type unsuccessfulErrorXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// unsuccessfulSet renders an answer's failures; none is an empty set, which
// clients read as [], as AWS answers.
func unsuccessfulSet(items []ec2sim.UnsuccessfulItem) set[unsuccessfulXML] {
	out := make(set[unsuccessfulXML], 0, len(items))
	for _, u := range items {
		out = append(out, unsuccessfulXML{Error: unsuccessfulErrorXML{Code: u.Error.Code, Message: u.Error.Message}, ResourceID: u.ResourceID})
	}
	return out
}

// CreateFlowLogs

type createFlowLogsRequest struct {
	dryRunParam
	ClientToken              string         `query:"ClientToken"`
	ResourceIDs              []string       `query:"ResourceId"`
	ResourceType             string         `query:"ResourceType"`
	TrafficType              string         `query:"TrafficType"`
	LogDestinationType       string         `query:"LogDestinationType"`
	LogDestination           string         `query:"LogDestination"`
	LogGroupName             string         `query:"LogGroupName"`
	DeliverLogsPermissionArn string         `query:"DeliverLogsPermissionArn"`
	LogFormat                *string        `query:"LogFormat"`
	MaxAggregationInterval   *int           `query:"MaxAggregationInterval"`
	TagSpecifications        []tagSpecParam `query:"TagSpecification"`
}

type createFlowLogsResponse struct {
	responseMeta
	ClientToken  string               `xml:"clientToken,omitempty"`
	FlowLogIDs   set[string]          `xml:"flowLogIdSet"`
	Unsuccessful set[unsuccessfulXML] `xml:"unsuccessful"`
}

func (h *Handler) createFlowLogs(ctx context.Context, s ec2sim.Scope, req *createFlowLogsRequest) (*createFlowLogsResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "vpc-flow-log")
	if err != nil {
		return nil, err
	}
	out, err := h.cloud.CreateFlowLogs(ctx, s, ec2sim.CreateFlowLogsInput{
		ResourceIDs: req.ResourceIDs, ResourceType: req.ResourceType, TrafficType: req.TrafficType,
		LogDestinationType: req.LogDestinationType, LogDestination: req.LogDestination, LogGroupName: req.LogGroupName,
		DeliverLogsPermissionArn: req.DeliverLogsPermissionArn, LogFormat: req.LogFormat,
		MaxAggregationInterval: req.MaxAggregationInterval, Tags: tags["vpc-flow-log"], ClientToken: req.ClientToken,
	})
	if err != nil {
		return nil, err
	}
	return &createFlowLogsResponse{ClientToken: out.ClientToken, FlowLogIDs: out.FlowLogIDs, Unsuccessful: unsuccessfulSet(out.Unsuccessful)}, nil
}

// DescribeFlowLogs

type describeFlowLogsRequest struct {
	dryRunParam
	pageParams
	FlowLogIDs []string      `query:"FlowLogId"`
	Filters    []filterParam `query:"Filter"`
}

// flowLogXML is the model's FlowLog.
type flowLogXML struct {
	CreationTime             timestamp   `xml:"creationTime"`
	DeliverLogsErrorMessage  string      `xml:"deliverLogsErrorMessage,omitempty"`
	DeliverLogsPermissionArn string      `xml:"deliverLogsPermissionArn,omitempty"`
	DeliverLogsStatus        string      `xml:"deliverLogsStatus"`
	FlowLogID                string      `xml:"flowLogId"`
	FlowLogStatus            string      `xml:"flowLogStatus"`
	LogGroupName             string      `xml:"logGroupName,omitempty"`
	ResourceID               string      `xml:"resourceId"`
	TrafficType              string      `xml:"trafficType,omitempty"`
	LogDestinationType       string      `xml:"logDestinationType"`
	LogDestination           string      `xml:"logDestination,omitempty"`
	LogFormat                string      `xml:"logFormat"`
	Tags                     set[tagXML] `xml:"tagSet"`
	MaxAggregationInterval   int         `xml:"maxAggregationInterval"`
}

type describeFlowLogsResponse struct {
	responseMeta
	FlowLogs  set[flowLogXML] `xml:"flowLogSet"`
	NextToken string          `xml:"nextToken,omitempty"`
}

func (h *Handler) describeFlowLogs(ctx context.Context, s ec2sim.Scope, req *describeFlowLogsRequest) (*describeFlowLogsResponse, error) {
	logs, err := h.cloud.DescribeFlowLogs(ctx, s, req.FlowLogIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	logs, next := page("DescribeFlowLogs", logs, &req.pageParams)
	resp := &describeFlowLogsResponse{FlowLogs: make(set[flowLogXML], 0, len(logs)), NextToken: next}
	for _, f := range logs {
		resp.FlowLogs = append(resp.FlowLogs, flowLogXML{
			CreationTime: timestamp(f.CreationTime), DeliverLogsErrorMessage: f.DeliverLogsError,
			DeliverLogsPermissionArn: f.DeliverLogsPermissionArn, DeliverLogsStatus: f.DeliverLogsStatus(),
			FlowLogID: f.ID, FlowLogStatus: "ACTIVE", LogGroupName: f.LogGroupName, ResourceID: f.ResourceID,
			TrafficType: f.TrafficType, LogDestinationType: f.LogDestinationType, LogDestination: f.LogDestination,
			LogFormat: f.LogFormat, Tags: tagSet(f.Tags), MaxAggregationInterval: f.MaxAggregationInterval,
		})
	}
	return resp, nil
}

// DeleteFlowLogs

type deleteFlowLogsRequest struct {
	dryRunParam
	FlowLogIDs []string `query:"FlowLogId"`
}

type deleteFlowLogsResponse struct {
	responseMeta
	Unsuccessful set[unsuccessfulXML] `xml:"unsuccessful"`
}

func (h *Handler) deleteFlowLogs(ctx context.Context, s ec2sim.Scope, req *deleteFlowLogsRequest) (*deleteFlowLogsResponse, error) {
	un, err := h.cloud.DeleteFlowLogs(ctx, s, req.FlowLogIDs)
	if err != nil {
		return nil, err
	}
	return &deleteFlowLogsResponse{Unsuccessful: unsuccessfulSet(un)}, nil
}
