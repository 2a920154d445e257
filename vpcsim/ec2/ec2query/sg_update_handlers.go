package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// UpdateSecurityGroupRuleDescriptionsIngress/Egress

type ruleDescriptionParam struct {
	SecurityGroupRuleID string `query:"SecurityGroupRuleId"`
	Description         string `query:"Description"`
}

type updateRuleDescriptionsRequest struct {
	dryRunParam
	GroupID       string                 `query:"GroupId"`
	GroupName     string                 `query:"GroupName"`
	IPPermissions []ipPermissionParam    `query:"IpPermissions"`
	ByRuleID      []ruleDescriptionParam `query:"SecurityGroupRuleDescription"`
}

func (h *Handler) updateRuleDescriptions(ctx context.Context, s ec2sim.Scope, req *updateRuleDescriptionsRequest, egress bool) (*returnResponse, error) {
	in := ec2sim.AuthorizeInput{Group: ec2sim.GroupRef{ID: req.GroupID, Name: req.GroupName}, Egress: egress}
	for _, p := range req.IPPermissions {
		in.Permissions = append(in.Permissions, toPermission(p))
	}
	byID := map[string]string{}
	for _, d := range req.ByRuleID {
		byID[d.SecurityGroupRuleID] = d.Description
	}
	if err := h.cloud.UpdateRuleDescriptions(ctx, s, in, byID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *Handler) updateRuleDescriptionsIngress(ctx context.Context, s ec2sim.Scope, req *updateRuleDescriptionsRequest) (*returnResponse, error) {
	return h.updateRuleDescriptions(ctx, s, req, false)
}

func (h *Handler) updateRuleDescriptionsEgress(ctx context.Context, s ec2sim.Scope, req *updateRuleDescriptionsRequest) (*returnResponse, error) {
	return h.updateRuleDescriptions(ctx, s, req, true)
}

// ModifySecurityGroupRules

type ruleRequestParam struct {
	IPProtocol        string `query:"IpProtocol"`
	FromPort          *int32 `query:"FromPort"`
	ToPort            *int32 `query:"ToPort"`
	CidrIPv4          string `query:"CidrIpv4"`
	CidrIPv6          string `query:"CidrIpv6"`
	PrefixListID      string `query:"PrefixListId"`
	ReferencedGroupID string `query:"ReferencedGroupId"`
	Description       string `query:"Description"`
}

type ruleUpdateParam struct {
	SecurityGroupRuleID string            `query:"SecurityGroupRuleId"`
	Rule                *ruleRequestParam `query:"SecurityGroupRule"`
}

type modifySecurityGroupRulesRequest struct {
	dryRunParam
	GroupID string            `query:"GroupId"`
	Rules   []ruleUpdateParam `query:"SecurityGroupRule"`
}

func (h *Handler) modifySecurityGroupRules(ctx context.Context, s ec2sim.Scope, req *modifySecurityGroupRulesRequest) (*returnResponse, error) {
	var changes []ec2sim.RuleChange
	for _, u := range req.Rules {
		if u.Rule == nil {
			return nil, errMissingParameter("SecurityGroupRule.SecurityGroupRule")
		}
		r := u.Rule
		peers := 0
		for _, v := range []string{r.CidrIPv4, r.CidrIPv6, r.PrefixListID, r.ReferencedGroupID} {
			if v != "" {
				peers++
			}
		}
		switch {
		case peers == 0:
			return nil, errMissingText("The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId")
		case peers > 1:
			return nil, errCombination("Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified")
		}
		p := ec2sim.Permission{Protocol: r.IPProtocol, FromPort: r.FromPort, ToPort: r.ToPort}
		peer := []ec2sim.Peer{{Description: r.Description}}
		switch {
		case r.CidrIPv4 != "":
			peer[0].Value, p.CIDRs = r.CidrIPv4, peer
		case r.CidrIPv6 != "":
			peer[0].Value, p.CIDRsV6 = r.CidrIPv6, peer
		case r.PrefixListID != "":
			peer[0].Value, p.PrefixIDs = r.PrefixListID, peer
		case r.ReferencedGroupID != "":
			peer[0].Value, p.Groups = r.ReferencedGroupID, peer
		}
		changes = append(changes, ec2sim.RuleChange{RuleID: u.SecurityGroupRuleID, Permission: p})
	}
	if err := h.cloud.ModifySecurityGroupRules(ctx, s, req.GroupID, changes); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// GetSecurityGroupsForVpc

type getSecurityGroupsForVpcRequest struct {
	dryRunParam
	pageParams
	VpcID   string        `query:"VpcId"`
	Filters []filterParam `query:"Filter"`
}

type securityGroupForVpcXML struct {
	Description  string      `xml:"description"`
	GroupName    string      `xml:"groupName"`
	OwnerID      string      `xml:"ownerId"`
	GroupID      string      `xml:"groupId"`
	Tags         set[tagXML] `xml:"tagSet"`
	PrimaryVpcID string      `xml:"primaryVpcId"`
}

type getSecurityGroupsForVpcResponse struct {
	responseMeta
	Groups    set[securityGroupForVpcXML] `xml:"securityGroupForVpcSet"`
	NextToken string                      `xml:"nextToken,omitempty"`
}

func (h *Handler) getSecurityGroupsForVpc(ctx context.Context, s ec2sim.Scope, req *getSecurityGroupsForVpcRequest) (*getSecurityGroupsForVpcResponse, error) {
	groups, err := h.cloud.GetSecurityGroupsForVpc(ctx, s, req.VpcID, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	groups, next := page("GetSecurityGroupsForVpc", groups, &req.pageParams)
	resp := &getSecurityGroupsForVpcResponse{Groups: set[securityGroupForVpcXML]{}, NextToken: next}
	for _, g := range groups {
		resp.Groups = append(resp.Groups, securityGroupForVpcXML{Description: g.Description, GroupName: g.Name, OwnerID: g.OwnerID,
			GroupID: g.ID, Tags: tagSet(g.Tags), PrimaryVpcID: g.VPCID})
	}
	return resp, nil
}

// DescribeSecurityGroupReferences, DescribeStaleSecurityGroups: about the
// references of peered VPCs' groups (see the Cloud's).

type describeSecurityGroupReferencesRequest struct {
	dryRunParam
	GroupIDs []string `query:"GroupId"`
}

type securityGroupReferenceXML struct {
	GroupID                string `xml:"groupId"`
	ReferencingVpcID       string `xml:"referencingVpcId"`
	VpcPeeringConnectionID string `xml:"vpcPeeringConnectionId,omitempty"`
}

type describeSecurityGroupReferencesResponse struct {
	responseMeta
	References set[securityGroupReferenceXML] `xml:"securityGroupReferenceSet"`
}

func (h *Handler) describeSecurityGroupReferences(ctx context.Context, s ec2sim.Scope, req *describeSecurityGroupReferencesRequest) (*describeSecurityGroupReferencesResponse, error) {
	refs, err := h.cloud.DescribeSecurityGroupReferences(ctx, s, req.GroupIDs)
	if err != nil {
		return nil, err
	}
	resp := &describeSecurityGroupReferencesResponse{References: set[securityGroupReferenceXML]{}}
	for _, r := range refs {
		resp.References = append(resp.References, securityGroupReferenceXML{GroupID: r.GroupID, ReferencingVpcID: r.ReferencingVPCID, VpcPeeringConnectionID: r.PeeringID})
	}
	return resp, nil
}

type describeStaleSecurityGroupsRequest struct {
	dryRunParam
	pageParams
	VpcID string `query:"VpcId"`
}

// staleSecurityGroupXML is a group with its stale rules, as permissions.
type staleSecurityGroupXML struct {
	Description              string               `xml:"description"`
	GroupID                  string               `xml:"groupId"`
	GroupName                string               `xml:"groupName"`
	StaleIPPermissions       set[ipPermissionXML] `xml:"staleIpPermissions"`
	StaleIPPermissionsEgress set[ipPermissionXML] `xml:"staleIpPermissionsEgress"`
	VpcID                    string               `xml:"vpcId"`
}

type describeStaleSecurityGroupsResponse struct {
	responseMeta
	Stale     set[staleSecurityGroupXML] `xml:"staleSecurityGroupSet"`
	NextToken string                     `xml:"nextToken,omitempty"`
}

func (h *Handler) describeStaleSecurityGroups(ctx context.Context, s ec2sim.Scope, req *describeStaleSecurityGroupsRequest) (*describeStaleSecurityGroupsResponse, error) {
	groups, err := h.cloud.DescribeStaleSecurityGroups(ctx, s, req.VpcID)
	if err != nil {
		return nil, err
	}
	groups, next := page("DescribeStaleSecurityGroups", groups, &req.pageParams)
	resp := &describeStaleSecurityGroupsResponse{Stale: set[staleSecurityGroupXML]{}, NextToken: next}
	for _, g := range groups {
		resp.Stale = append(resp.Stale, staleSecurityGroupXML{
			Description: g.Description, GroupID: g.ID, GroupName: g.Name, VpcID: g.VPCID,
			StaleIPPermissions: permissions(g.Rules, false), StaleIPPermissionsEgress: permissions(g.Rules, true),
		})
	}
	return resp, nil
}
