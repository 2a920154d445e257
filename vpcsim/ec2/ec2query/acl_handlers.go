package ec2query

import (
	"context"
	"strconv"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type portRangeXML struct {
	From int `xml:"from"`
	To   int `xml:"to"`
}

type icmpTypeCodeXML struct {
	Code int `xml:"code"`
	Type int `xml:"type"`
}

type aclEntryXML struct {
	CidrBlock     string           `xml:"cidrBlock,omitempty"`
	Ipv6CidrBlock string           `xml:"ipv6CidrBlock,omitempty"`
	Egress        bool             `xml:"egress"`
	IcmpTypeCode  *icmpTypeCodeXML `xml:"icmpTypeCode,omitempty"`
	PortRange     *portRangeXML    `xml:"portRange,omitempty"`
	Protocol      string           `xml:"protocol"`
	RuleAction    string           `xml:"ruleAction"`
	RuleNumber    int              `xml:"ruleNumber"`
}

type aclAssocXML struct {
	NetworkAclAssociationID string `xml:"networkAclAssociationId"`
	NetworkAclID            string `xml:"networkAclId"`
	SubnetID                string `xml:"subnetId"`
}

// networkAclXML is the model's NetworkAcl.
type networkAclXML struct {
	Associations set[aclAssocXML] `xml:"associationSet"`
	Entries      set[aclEntryXML] `xml:"entrySet"`
	IsDefault    bool             `xml:"default"`
	NetworkAclID string           `xml:"networkAclId"`
	Tags         set[tagXML]      `xml:"tagSet"`
	VpcID        string           `xml:"vpcId"`
	OwnerID      string           `xml:"ownerId"`
}

func toACLXML(a ec2sim.NetworkACL) networkAclXML {
	x := networkAclXML{Associations: set[aclAssocXML]{}, Entries: set[aclEntryXML]{}, IsDefault: a.IsDefault, NetworkAclID: a.ID,
		Tags: tagSet(a.Tags), VpcID: a.VPCID, OwnerID: a.OwnerID}
	for _, as := range a.Assocs {
		x.Associations = append(x.Associations, aclAssocXML{NetworkAclAssociationID: as.ID, NetworkAclID: a.ID, SubnetID: as.SubnetID})
	}
	for _, e := range a.Entries {
		ex := aclEntryXML{Egress: e.Egress, Protocol: e.Protocol, RuleAction: "deny", RuleNumber: e.Number}
		if e.CIDR.Addr().Is4() {
			ex.CidrBlock = e.CIDR.String()
		} else {
			ex.Ipv6CidrBlock = e.CIDR.String()
		}
		if e.Allow {
			ex.RuleAction = "allow"
		}
		if e.Ports != nil {
			ex.PortRange = &portRangeXML{From: e.Ports[0], To: e.Ports[1]}
		}
		if e.ICMP != nil {
			ex.IcmpTypeCode = &icmpTypeCodeXML{Type: e.ICMP[0], Code: e.ICMP[1]}
		}
		x.Entries = append(x.Entries, ex)
	}
	return x
}

// CreateNetworkAcl

type createNetworkAclRequest struct {
	dryRunParam
	VpcID             string         `query:"VpcId"`
	ClientToken       string         `query:"ClientToken"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createNetworkAclResponse struct {
	responseMeta
	NetworkAcl  networkAclXML `xml:"networkAcl"`
	ClientToken string        `xml:"clientToken,omitempty"`
}

func (h *Handler) createNetworkAcl(ctx context.Context, s ec2sim.Scope, req *createNetworkAclRequest) (*createNetworkAclResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "network-acl")
	if err != nil {
		return nil, err
	}
	a, err := h.cloud.CreateNetworkAcl(ctx, s, req.VpcID, tags["network-acl"])
	if err != nil {
		return nil, err
	}
	return &createNetworkAclResponse{NetworkAcl: toACLXML(a), ClientToken: req.ClientToken}, nil
}

// DeleteNetworkAcl

type deleteNetworkAclRequest struct {
	dryRunParam
	NetworkAclID string `query:"NetworkAclId"`
}

func (h *Handler) deleteNetworkAcl(ctx context.Context, s ec2sim.Scope, req *deleteNetworkAclRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteNetworkAcl(ctx, s, req.NetworkAclID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// CreateNetworkAclEntry, ReplaceNetworkAclEntry

type aclEntryRequest struct {
	dryRunParam
	NetworkAclID  string `query:"NetworkAclId"`
	RuleNumber    string `query:"RuleNumber"`
	Egress        bool   `query:"Egress"`
	Protocol      string `query:"Protocol"`
	RuleAction    string `query:"RuleAction"`
	CidrBlock     string `query:"CidrBlock"`
	Ipv6CidrBlock string `query:"Ipv6CidrBlock"`
	PortRange     *struct {
		From int `query:"From"`
		To   int `query:"To"`
	} `query:"PortRange"`
	Icmp *struct {
		Code int `query:"Code"`
		Type int `query:"Type"`
	} `query:"Icmp"`
}

func (r *aclEntryRequest) input() (ec2sim.ACLEntryInput, error) {
	in := ec2sim.ACLEntryInput{ACLID: r.NetworkAclID, Egress: r.Egress, Protocol: r.Protocol, RuleAction: r.RuleAction, CIDR: r.CidrBlock, IPv6: r.Ipv6CidrBlock}
	if r.RuleNumber == "" {
		return in, errMissingParameter("ruleNumber")
	}
	n, err := strconv.Atoi(r.RuleNumber)
	if err != nil {
		return in, errInvalidValue("Value (%s) for parameter ruleNumber is invalid.", r.RuleNumber)
	}
	in.Number = n
	if r.PortRange != nil {
		in.Ports = &[2]int{r.PortRange.From, r.PortRange.To}
	}
	if r.Icmp != nil {
		in.ICMP = &[2]int{r.Icmp.Type, r.Icmp.Code}
	}
	return in, nil
}

func (h *Handler) createNetworkAclEntry(ctx context.Context, s ec2sim.Scope, req *aclEntryRequest) (*returnResponse, error) {
	in, err := req.input()
	if err == nil {
		err = h.cloud.CreateNetworkAclEntry(ctx, s, in)
	}
	if err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *Handler) replaceNetworkAclEntry(ctx context.Context, s ec2sim.Scope, req *aclEntryRequest) (*returnResponse, error) {
	in, err := req.input()
	if err == nil {
		err = h.cloud.ReplaceNetworkAclEntry(ctx, s, in)
	}
	if err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DeleteNetworkAclEntry

type deleteNetworkAclEntryRequest struct {
	dryRunParam
	NetworkAclID string `query:"NetworkAclId"`
	RuleNumber   string `query:"RuleNumber"`
	Egress       bool   `query:"Egress"`
}

func (h *Handler) deleteNetworkAclEntry(ctx context.Context, s ec2sim.Scope, req *deleteNetworkAclEntryRequest) (*returnResponse, error) {
	if req.RuleNumber == "" {
		return nil, errMissingParameter("ruleNumber")
	}
	n, err := strconv.Atoi(req.RuleNumber)
	if err != nil {
		return nil, errInvalidValue("Value (%s) for parameter ruleNumber is invalid.", req.RuleNumber)
	}
	if err := h.cloud.DeleteNetworkAclEntry(ctx, s, req.NetworkAclID, n, req.Egress); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// ReplaceNetworkAclAssociation

type replaceNetworkAclAssociationRequest struct {
	dryRunParam
	AssociationID string `query:"AssociationId"`
	NetworkAclID  string `query:"NetworkAclId"`
}

type replaceNetworkAclAssociationResponse struct {
	responseMeta
	NewAssociationID string `xml:"newAssociationId"`
}

func (h *Handler) replaceNetworkAclAssociation(ctx context.Context, s ec2sim.Scope, req *replaceNetworkAclAssociationRequest) (*replaceNetworkAclAssociationResponse, error) {
	id, err := h.cloud.ReplaceNetworkAclAssociation(ctx, s, req.AssociationID, req.NetworkAclID)
	if err != nil {
		return nil, err
	}
	return &replaceNetworkAclAssociationResponse{NewAssociationID: id}, nil
}

// DescribeNetworkAcls

type describeNetworkAclsRequest struct {
	dryRunParam
	pageParams
	NetworkAclIDs []string      `query:"NetworkAclId"`
	Filters       []filterParam `query:"Filter"`
}

type describeNetworkAclsResponse struct {
	responseMeta
	NetworkAcls set[networkAclXML] `xml:"networkAclSet"`
	NextToken   string             `xml:"nextToken,omitempty"`
}

func (h *Handler) describeNetworkAcls(ctx context.Context, s ec2sim.Scope, req *describeNetworkAclsRequest) (*describeNetworkAclsResponse, error) {
	as, err := h.cloud.DescribeNetworkAcls(ctx, s, req.NetworkAclIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	as, next := page("DescribeNetworkAcls", as, &req.pageParams)
	resp := &describeNetworkAclsResponse{NetworkAcls: set[networkAclXML]{}, NextToken: next}
	for _, a := range as {
		resp.NetworkAcls = append(resp.NetworkAcls, toACLXML(a))
	}
	return resp, nil
}
