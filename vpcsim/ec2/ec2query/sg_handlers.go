package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// Input: IpPermissions.N.*

type ipPermissionParam struct {
	IPProtocol       string              `query:"IpProtocol"`
	FromPort         *int32              `query:"FromPort"`
	ToPort           *int32              `query:"ToPort"`
	IPRanges         []ipRangeParam      `query:"IpRanges"`
	IPv6Ranges       []ipv6RangeParam    `query:"Ipv6Ranges"`
	PrefixListIDs    []prefixListParam   `query:"PrefixListIds"`
	UserIDGroupPairs []userIDGroupParams `query:"Groups"`
}

type ipRangeParam struct {
	CidrIP      string `query:"CidrIp"`
	Description string `query:"Description"`
}

type ipv6RangeParam struct {
	CidrIPv6    string `query:"CidrIpv6"`
	Description string `query:"Description"`
}

type prefixListParam struct {
	PrefixListID string `query:"PrefixListId"`
	Description  string `query:"Description"`
}

type userIDGroupParams struct {
	GroupID     string `query:"GroupId"`
	GroupName   string `query:"GroupName"`
	UserID      string `query:"UserId"`
	Description string `query:"Description"`
}

func toPermission(p ipPermissionParam) ec2sim.Permission {
	out := ec2sim.Permission{Protocol: p.IPProtocol, FromPort: p.FromPort, ToPort: p.ToPort}
	for _, r := range p.IPRanges {
		out.CIDRs = append(out.CIDRs, ec2sim.Peer{Value: r.CidrIP, Description: r.Description})
	}
	for _, r := range p.IPv6Ranges {
		out.CIDRsV6 = append(out.CIDRsV6, ec2sim.Peer{Value: r.CidrIPv6, Description: r.Description})
	}
	for _, r := range p.PrefixListIDs {
		out.PrefixIDs = append(out.PrefixIDs, ec2sim.Peer{Value: r.PrefixListID, Description: r.Description})
	}
	for _, g := range p.UserIDGroupPairs {
		out.Groups = append(out.Groups, ec2sim.Peer{Value: g.GroupID, Name: g.GroupName, OwnerID: g.UserID, Description: g.Description})
	}
	return out
}

// Output: IpPermission, as DescribeSecurityGroups groups rules.

type ipRangeXML struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type ipv6RangeXML struct {
	CidrIPv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type prefixListIDXML struct {
	PrefixListID string `xml:"prefixListId"`
	Description  string `xml:"description,omitempty"`
}

type userIDGroupPairXML struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
	// A peered VPC's group: its VPC, and the connection referenced through.
	VpcID                  string `xml:"vpcId,omitempty"`
	VpcPeeringConnectionID string `xml:"vpcPeeringConnectionId,omitempty"`
	PeeringStatus          string `xml:"peeringStatus,omitempty"`
}

type ipPermissionXML struct {
	IPProtocol       string                  `xml:"ipProtocol"`
	FromPort         *int32                  `xml:"fromPort,omitempty"`
	ToPort           *int32                  `xml:"toPort,omitempty"`
	UserIDGroupPairs set[userIDGroupPairXML] `xml:"groups"`
	IPRanges         set[ipRangeXML]         `xml:"ipRanges"`
	IPv6Ranges       set[ipv6RangeXML]       `xml:"ipv6Ranges"`
	PrefixListIDs    set[prefixListIDXML]    `xml:"prefixListIds"`
}

// hasPorts reports whether EC2 shows a rule's port range in IpPermissions: for
// TCP, UDP and ICMP (where the "ports" are type and code) it does, for all traffic
// (-1) and other protocols it leaves them out.
func hasPorts(proto string) bool {
	switch proto {
	case "tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58":
		return true
	}
	return false
}

// permissions groups one direction's rules as EC2's IpPermissions do: rules with
// the same protocol and port range form one permission listing all their peers,
// permissions and peers in the order the rules were added.
func permissions(rules []ec2sim.Rule, egress bool) set[ipPermissionXML] {
	out := set[ipPermissionXML]{}
	type key struct {
		proto    string
		from, to int32
	}
	index := map[key]int{}
	for _, r := range rules {
		if r.Egress != egress {
			continue
		}
		k := key{r.Protocol, r.FromPort, r.ToPort}
		i, ok := index[k]
		if !ok {
			p := ipPermissionXML{
				IPProtocol: r.Protocol, UserIDGroupPairs: set[userIDGroupPairXML]{}, IPRanges: set[ipRangeXML]{},
				IPv6Ranges: set[ipv6RangeXML]{}, PrefixListIDs: set[prefixListIDXML]{},
			}
			if hasPorts(r.Protocol) {
				from, to := r.FromPort, r.ToPort
				p.FromPort, p.ToPort = &from, &to
			}
			i = len(out)
			index[k] = i
			out = append(out, p)
		}
		p := &out[i]
		switch {
		case r.CIDRv4 != "":
			p.IPRanges = append(p.IPRanges, ipRangeXML{CidrIP: r.CIDRv4, Description: r.Description})
		case r.CIDRv6 != "":
			p.IPv6Ranges = append(p.IPv6Ranges, ipv6RangeXML{CidrIPv6: r.CIDRv6, Description: r.Description})
		case r.PrefixList != "":
			p.PrefixListIDs = append(p.PrefixListIDs, prefixListIDXML{PrefixListID: r.PrefixList, Description: r.Description})
		case r.PeerGroupID != "":
			p.UserIDGroupPairs = append(p.UserIDGroupPairs, userIDGroupPairXML{UserID: r.PeerOwnerID, GroupID: r.PeerGroupID, Description: r.Description,
				VpcID: r.PeerVPCID, VpcPeeringConnectionID: r.Peering, PeeringStatus: r.PeeringStatus})
		}
	}
	return out
}

// Output: SecurityGroupRule, one rule.

type referencedGroupXML struct {
	GroupID                string `xml:"groupId"`
	UserID                 string `xml:"userId"`
	VpcID                  string `xml:"vpcId,omitempty"`
	VpcPeeringConnectionID string `xml:"vpcPeeringConnectionId,omitempty"`
}

type securityGroupRuleXML struct {
	SecurityGroupRuleID  string              `xml:"securityGroupRuleId"`
	GroupID              string              `xml:"groupId"`
	GroupOwnerID         string              `xml:"groupOwnerId"`
	IsEgress             bool                `xml:"isEgress"`
	IPProtocol           string              `xml:"ipProtocol"`
	FromPort             int32               `xml:"fromPort"`
	ToPort               int32               `xml:"toPort"`
	CidrIPv4             string              `xml:"cidrIpv4,omitempty"`
	CidrIPv6             string              `xml:"cidrIpv6,omitempty"`
	PrefixListID         string              `xml:"prefixListId,omitempty"`
	ReferencedGroupInfo  *referencedGroupXML `xml:"referencedGroupInfo,omitempty"`
	Description          string              `xml:"description,omitempty"`
	Tags                 *set[tagXML]        `xml:"tagSet,omitempty"`
	SecurityGroupRuleArn string              `xml:"securityGroupRuleArn"`
}

func (h *Handler) toRuleXML(s ec2sim.Scope, r ec2sim.Rule) securityGroupRuleXML {
	x := securityGroupRuleXML{
		SecurityGroupRuleID: r.ID, GroupID: r.GroupID, GroupOwnerID: h.cloud.Account(), IsEgress: r.Egress,
		IPProtocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort,
		CidrIPv4: r.CIDRv4, CidrIPv6: r.CIDRv6, PrefixListID: r.PrefixList, Description: r.Description,
		SecurityGroupRuleArn: arn(s, h.cloud.Account(), "security-group-rule/"+r.ID),
	}
	if r.PeerGroupID != "" {
		x.ReferencedGroupInfo = &referencedGroupXML{GroupID: r.PeerGroupID, UserID: r.PeerOwnerID, VpcID: r.PeerVPCID, VpcPeeringConnectionID: r.Peering}
	}
	return x
}

// securityGroupXML is the model's SecurityGroup.
type securityGroupXML struct {
	OwnerID             string               `xml:"ownerId"`
	GroupID             string               `xml:"groupId"`
	GroupName           string               `xml:"groupName"`
	Description         string               `xml:"groupDescription"`
	VpcID               string               `xml:"vpcId"`
	SecurityGroupArn    string               `xml:"securityGroupArn"`
	IPPermissions       set[ipPermissionXML] `xml:"ipPermissions"`
	IPPermissionsEgress set[ipPermissionXML] `xml:"ipPermissionsEgress"`
	Tags                set[tagXML]          `xml:"tagSet,omitempty"`
}

// CreateSecurityGroup

type createSecurityGroupRequest struct {
	dryRunParam
	GroupName         string         `query:"GroupName"`
	Description       string         `query:"GroupDescription"`
	VpcID             string         `query:"VpcId"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createSecurityGroupResponse struct {
	responseMeta
	GroupID          string      `xml:"groupId"`
	Tags             set[tagXML] `xml:"tagSet,omitempty"`
	SecurityGroupArn string      `xml:"securityGroupArn"`
}

func (h *Handler) createSecurityGroup(ctx context.Context, s ec2sim.Scope, req *createSecurityGroupRequest) (*createSecurityGroupResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "security-group")
	if err != nil {
		return nil, err
	}
	g, err := h.cloud.CreateSecurityGroup(ctx, s, ec2sim.CreateSecurityGroupInput{
		VPCID: req.VpcID, Name: req.GroupName, Description: req.Description, Tags: tags["security-group"],
	})
	if err != nil {
		return nil, err
	}
	return &createSecurityGroupResponse{GroupID: g.ID, Tags: tagSet(g.Tags), SecurityGroupArn: ec2sim.SecurityGroupARN(&g)}, nil
}

// DescribeSecurityGroups

type describeSecurityGroupsRequest struct {
	dryRunParam
	pageParams
	GroupIDs   []string      `query:"GroupId"`
	GroupNames []string      `query:"GroupName"`
	Filters    []filterParam `query:"Filter"`
}

type describeSecurityGroupsResponse struct {
	responseMeta
	SecurityGroups set[securityGroupXML] `xml:"securityGroupInfo"`
	NextToken      string                `xml:"nextToken,omitempty"`
}

func (h *Handler) describeSecurityGroups(ctx context.Context, s ec2sim.Scope, req *describeSecurityGroupsRequest) (*describeSecurityGroupsResponse, error) {
	groups, err := h.cloud.DescribeSecurityGroups(ctx, s, req.GroupIDs, req.GroupNames, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	groups, next := page("DescribeSecurityGroups", groups, &req.pageParams)
	resp := &describeSecurityGroupsResponse{SecurityGroups: make(set[securityGroupXML], 0, len(groups)), NextToken: next}
	for _, g := range groups {
		resp.SecurityGroups = append(resp.SecurityGroups, securityGroupXML{
			OwnerID: g.OwnerID, GroupID: g.ID, GroupName: g.Name, Description: g.Description, VpcID: g.VPCID,
			SecurityGroupArn: ec2sim.SecurityGroupARN(&g),
			IPPermissions:    permissions(g.Rules, false), IPPermissionsEgress: permissions(g.Rules, true),
			Tags: tagSet(g.Tags),
		})
	}
	return resp, nil
}

// DeleteSecurityGroup

type deleteSecurityGroupRequest struct {
	dryRunParam
	GroupID   string `query:"GroupId"`
	GroupName string `query:"GroupName"`
}

type deleteSecurityGroupResponse struct {
	responseMeta
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId,omitempty"`
}

func (h *Handler) deleteSecurityGroup(ctx context.Context, s ec2sim.Scope, req *deleteSecurityGroupRequest) (*deleteSecurityGroupResponse, error) {
	id := req.GroupID
	if id == "" && req.GroupName != "" {
		// The answer names the group by ID even when the request named it: look it up.
		gs, err := h.cloud.DescribeSecurityGroups(ctx, s, nil, []string{req.GroupName}, nil)
		if err != nil {
			return nil, err
		}
		if len(gs) == 1 {
			id = gs[0].ID
		}
	}
	if err := h.cloud.DeleteSecurityGroup(ctx, s, ec2sim.GroupRef{ID: req.GroupID, Name: req.GroupName}); err != nil {
		return nil, err
	}
	return &deleteSecurityGroupResponse{Return: true, GroupID: id}, nil
}

// Authorize/RevokeSecurityGroupIngress/Egress share most of their request: the
// group, its IpPermissions, or the older flat form of one permission. Ingress
// also names a group by GroupName (default VPC); egress has only VPC groups.

type permissionParams struct {
	GroupID                    string              `query:"GroupId"`
	IPPermissions              []ipPermissionParam `query:"IpPermissions"`
	CidrIP                     *string             `query:"CidrIp"`
	IPProtocol                 *string             `query:"IpProtocol"`
	FromPort                   *int32              `query:"FromPort"`
	ToPort                     *int32              `query:"ToPort"`
	SourceSecurityGroupName    *string             `query:"SourceSecurityGroupName"`
	SourceSecurityGroupOwnerID *string             `query:"SourceSecurityGroupOwnerId"`
}

func (p *permissionParams) input(groupName string, egress bool) ec2sim.AuthorizeInput {
	in := ec2sim.AuthorizeInput{Group: ec2sim.GroupRef{ID: p.GroupID, Name: groupName}, Egress: egress}
	for _, perm := range p.IPPermissions {
		in.Permissions = append(in.Permissions, toPermission(perm))
	}
	if p.CidrIP != nil || p.IPProtocol != nil || p.FromPort != nil || p.ToPort != nil || p.SourceSecurityGroupName != nil || p.SourceSecurityGroupOwnerID != nil {
		flat := ec2sim.Permission{Protocol: deref(p.IPProtocol), FromPort: p.FromPort, ToPort: p.ToPort}
		if p.CidrIP != nil {
			flat.CIDRs = []ec2sim.Peer{{Value: *p.CidrIP}}
		}
		if p.SourceSecurityGroupName != nil || p.SourceSecurityGroupOwnerID != nil {
			flat.Groups = []ec2sim.Peer{{Name: deref(p.SourceSecurityGroupName), OwnerID: deref(p.SourceSecurityGroupOwnerID)}}
		}
		in.Flat = &flat
	}
	return in
}

type authorizeIngressRequest struct {
	dryRunParam
	permissionParams
	GroupName         string         `query:"GroupName"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type authorizeEgressRequest struct {
	dryRunParam
	permissionParams
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type revokeIngressRequest struct {
	dryRunParam
	permissionParams
	GroupName            string   `query:"GroupName"`
	SecurityGroupRuleIDs []string `query:"SecurityGroupRuleId"`
}

type revokeEgressRequest struct {
	dryRunParam
	permissionParams
	SecurityGroupRuleIDs []string `query:"SecurityGroupRuleId"`
}

type authorizeResponse struct {
	responseMeta
	Return             bool                      `xml:"return"`
	SecurityGroupRules set[securityGroupRuleXML] `xml:"securityGroupRuleSet"`
}

func (h *Handler) authorize(ctx context.Context, s ec2sim.Scope, in ec2sim.AuthorizeInput, specs []tagSpecParam) (*authorizeResponse, error) {
	tags, err := tagSpecs(specs, "security-group-rule")
	if err != nil {
		return nil, err
	}
	in.Tags = tags["security-group-rule"]
	rules, err := h.cloud.AuthorizeSecurityGroup(ctx, s, in)
	if err != nil {
		return nil, err
	}
	resp := &authorizeResponse{Return: true, SecurityGroupRules: make(set[securityGroupRuleXML], 0, len(rules))}
	for _, r := range rules {
		x := h.toRuleXML(s, r)
		if len(r.Tags) > 0 { // Authorize's answer leaves out an empty tagSet
			tags := tagSet(r.Tags)
			x.Tags = &tags
		}
		resp.SecurityGroupRules = append(resp.SecurityGroupRules, x)
	}
	return resp, nil
}

func (h *Handler) authorizeIngress(ctx context.Context, s ec2sim.Scope, req *authorizeIngressRequest) (*authorizeResponse, error) {
	return h.authorize(ctx, s, req.input(req.GroupName, false), req.TagSpecifications)
}

func (h *Handler) authorizeEgress(ctx context.Context, s ec2sim.Scope, req *authorizeEgressRequest) (*authorizeResponse, error) {
	return h.authorize(ctx, s, req.input("", true), req.TagSpecifications)
}

type revokedRuleXML struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int32  `xml:"fromPort"`
	ToPort              int32  `xml:"toPort"`
	CidrIPv4            string `xml:"cidrIpv4,omitempty"`
	CidrIPv6            string `xml:"cidrIpv6,omitempty"`
	PrefixListID        string `xml:"prefixListId,omitempty"`
	ReferencedGroupID   string `xml:"referencedGroupId,omitempty"`
	Description         string `xml:"description,omitempty"`
}

type revokeResponse struct {
	responseMeta
	Return       bool                `xml:"return"`
	RevokedRules set[revokedRuleXML] `xml:"revokedSecurityGroupRuleSet"`
}

func (h *Handler) revoke(ctx context.Context, s ec2sim.Scope, in ec2sim.AuthorizeInput, ruleIDs []string) (*revokeResponse, error) {
	in.RuleIDs = ruleIDs
	rules, err := h.cloud.RevokeSecurityGroup(ctx, s, in)
	if err != nil {
		return nil, err
	}
	resp := &revokeResponse{Return: true, RevokedRules: make(set[revokedRuleXML], 0, len(rules))}
	for _, r := range rules {
		resp.RevokedRules = append(resp.RevokedRules, revokedRuleXML{
			SecurityGroupRuleID: r.ID, GroupID: r.GroupID, IsEgress: r.Egress, IPProtocol: r.Protocol,
			FromPort: r.FromPort, ToPort: r.ToPort, CidrIPv4: r.CIDRv4, CidrIPv6: r.CIDRv6,
			PrefixListID: r.PrefixList, ReferencedGroupID: r.PeerGroupID, Description: r.Description,
		})
	}
	return resp, nil
}

func (h *Handler) revokeIngress(ctx context.Context, s ec2sim.Scope, req *revokeIngressRequest) (*revokeResponse, error) {
	return h.revoke(ctx, s, req.input(req.GroupName, false), req.SecurityGroupRuleIDs)
}

func (h *Handler) revokeEgress(ctx context.Context, s ec2sim.Scope, req *revokeEgressRequest) (*revokeResponse, error) {
	return h.revoke(ctx, s, req.input("", true), req.SecurityGroupRuleIDs)
}

// DescribeSecurityGroupRules

type describeSecurityGroupRulesRequest struct {
	dryRunParam
	pageParams
	RuleIDs []string      `query:"SecurityGroupRuleId"`
	Filters []filterParam `query:"Filter"`
}

type describeSecurityGroupRulesResponse struct {
	responseMeta
	SecurityGroupRules set[securityGroupRuleXML] `xml:"securityGroupRuleSet"`
	NextToken          string                    `xml:"nextToken,omitempty"`
}

func (h *Handler) describeSecurityGroupRules(ctx context.Context, s ec2sim.Scope, req *describeSecurityGroupRulesRequest) (*describeSecurityGroupRulesResponse, error) {
	rules, err := h.cloud.DescribeSecurityGroupRules(ctx, s, req.RuleIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	rules, next := page("DescribeSecurityGroupRules", rules, &req.pageParams)
	resp := &describeSecurityGroupRulesResponse{SecurityGroupRules: make(set[securityGroupRuleXML], 0, len(rules)), NextToken: next}
	for _, r := range rules {
		x := h.toRuleXML(s, r)
		tags := tagSet(r.Tags) // Describe's answer always has a tagSet, empty or not
		x.Tags = &tags
		resp.SecurityGroupRules = append(resp.SecurityGroupRules, x)
	}
	return resp, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
