package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// DescribeInstanceStatus

type describeInstanceStatusRequest struct {
	dryRunParam
	pageParams
	InstanceIDs         []string      `query:"InstanceId"`
	Filters             []filterParam `query:"Filter"`
	IncludeAllInstances bool          `query:"IncludeAllInstances"`
}

type statusDetailXML struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

type statusSummaryXML struct {
	Status  string               `xml:"status"`
	Details set[statusDetailXML] `xml:"details"`
}

type instanceStatusXML struct {
	InstanceID         string            `xml:"instanceId"`
	AvailabilityZone   string            `xml:"availabilityZone"`
	AvailabilityZoneID string            `xml:"availabilityZoneId"`
	Operator           operatorXML       `xml:"operator"`
	InstanceState      instanceStateXML  `xml:"instanceState"`
	InstanceStatus     statusSummaryXML  `xml:"instanceStatus"`
	SystemStatus       statusSummaryXML  `xml:"systemStatus"`
	AttachedEbsStatus  *statusSummaryXML `xml:"attachedEbsStatus"`
}

type describeInstanceStatusResponse struct {
	responseMeta
	Statuses  set[instanceStatusXML] `xml:"instanceStatusSet"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

func (h *Handler) describeInstanceStatus(ctx context.Context, s ec2sim.Scope, req *describeInstanceStatusRequest) (*describeInstanceStatusResponse, error) {
	all, err := h.cloud.DescribeInstanceStatus(ctx, s, req.InstanceIDs, toFilters(req.Filters), req.IncludeAllInstances)
	if err != nil {
		return nil, err
	}
	all, next := page("DescribeInstanceStatus", all, &req.pageParams)
	resp := &describeInstanceStatusResponse{Statuses: set[instanceStatusXML]{}, NextToken: next}
	for _, st := range all {
		summary := func(check string) statusSummaryXML {
			x := statusSummaryXML{Status: st.Status, Details: set[statusDetailXML]{}}
			if st.Status == "ok" {
				x.Details = append(x.Details, statusDetailXML{Name: check, Status: "passed"})
			}
			return x
		}
		resp.Statuses = append(resp.Statuses, instanceStatusXML{
			InstanceID: st.InstanceID, AvailabilityZone: st.AZ, AvailabilityZoneID: zoneID(s.Region, st.AZ),
			InstanceState: stateOf(st.State), InstanceStatus: summary("reachability"), SystemStatus: summary("reachability"),
			AttachedEbsStatus: &statusSummaryXML{Status: st.Status, Details: set[statusDetailXML]{}},
		})
	}
	return resp, nil
}

// DescribeInstanceCreditSpecifications

type describeCreditSpecsRequest struct {
	dryRunParam
	pageParams
	InstanceIDs []string      `query:"InstanceId"`
	Filters     []filterParam `query:"Filter"`
}

type creditSpecXML struct {
	InstanceID string `xml:"instanceId"`
	CPUCredits string `xml:"cpuCredits"`
}

type describeCreditSpecsResponse struct {
	responseMeta
	Specs     set[creditSpecXML] `xml:"instanceCreditSpecificationSet"`
	NextToken string             `xml:"nextToken,omitempty"`
}

func (h *Handler) describeInstanceCreditSpecifications(ctx context.Context, s ec2sim.Scope, req *describeCreditSpecsRequest) (*describeCreditSpecsResponse, error) {
	specs, err := h.cloud.DescribeInstanceCreditSpecifications(ctx, s, req.InstanceIDs)
	if err != nil {
		return nil, err
	}
	var ok []ec2sim.CreditSpec
	for _, c := range specs {
		match, err := ec2sim.MatchFilters(toFilters(req.Filters), func(name string) ([]string, bool) {
			if name == "instance-id" {
				return []string{c.InstanceID}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if match {
			ok = append(ok, c)
		}
	}
	ok, next := page("DescribeInstanceCreditSpecifications", ok, &req.pageParams)
	resp := &describeCreditSpecsResponse{Specs: set[creditSpecXML]{}, NextToken: next}
	for _, c := range ok {
		resp.Specs = append(resp.Specs, creditSpecXML{InstanceID: c.InstanceID, CPUCredits: c.CPUCredits})
	}
	return resp, nil
}

// ModifyInstanceCreditSpecification

type creditSpecItemParam struct {
	InstanceID string `query:"InstanceId"`
	CPUCredits string `query:"CpuCredits"`
}

type modifyCreditSpecRequest struct {
	dryRunParam
	ClientToken string                `query:"ClientToken"`
	Specs       []creditSpecItemParam `query:"InstanceCreditSpecification"`
}

type creditFailureXML struct {
	InstanceID string `xml:"instanceId"`
	Error      struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"error"`
}

type instanceIDXML struct {
	InstanceID string `xml:"instanceId"`
}

type modifyCreditSpecResponse struct {
	responseMeta
	Successful   set[instanceIDXML]    `xml:"successfulInstanceCreditSpecificationSet"`
	Unsuccessful set[creditFailureXML] `xml:"unsuccessfulInstanceCreditSpecificationSet"`
}

func (h *Handler) modifyInstanceCreditSpecification(ctx context.Context, s ec2sim.Scope, req *modifyCreditSpecRequest) (*modifyCreditSpecResponse, error) {
	var specs []ec2sim.CreditSpec
	for _, p := range req.Specs {
		specs = append(specs, ec2sim.CreditSpec{InstanceID: p.InstanceID, CPUCredits: p.CPUCredits})
	}
	ok, failed, err := h.cloud.ModifyInstanceCreditSpecification(ctx, s, specs)
	if err != nil {
		return nil, err
	}
	resp := &modifyCreditSpecResponse{Successful: set[instanceIDXML]{}, Unsuccessful: set[creditFailureXML]{}}
	for _, id := range ok {
		resp.Successful = append(resp.Successful, instanceIDXML{id})
	}
	for _, f := range failed {
		x := creditFailureXML{InstanceID: f.InstanceID}
		x.Error.Code, x.Error.Message = f.Code, f.Message
		resp.Unsuccessful = append(resp.Unsuccessful, x)
	}
	return resp, nil
}
