package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type dhcpConfigXML struct {
	Key    string            `xml:"key"`
	Values set[attrValueXML] `xml:"valueSet"`
}

// dhcpOptionsXML is the model's DhcpOptions.
type dhcpOptionsXML struct {
	DhcpOptionsID      string             `xml:"dhcpOptionsId"`
	OwnerID            string             `xml:"ownerId"`
	DhcpConfigurations set[dhcpConfigXML] `xml:"dhcpConfigurationSet"`
	Tags               set[tagXML]        `xml:"tagSet"`
}

func toDHCPOptionsXML(d ec2sim.DHCPOptions) dhcpOptionsXML {
	x := dhcpOptionsXML{DhcpOptionsID: d.ID, OwnerID: d.OwnerID, DhcpConfigurations: set[dhcpConfigXML]{}, Tags: tagSet(d.Tags)}
	for _, c := range d.Configs {
		cx := dhcpConfigXML{Key: c.Key, Values: set[attrValueXML]{}}
		for _, v := range c.Values {
			cx.Values = append(cx.Values, attrValueXML{Value: v})
		}
		x.DhcpConfigurations = append(x.DhcpConfigurations, cx)
	}
	return x
}

// CreateDhcpOptions

type dhcpConfigParam struct {
	Key    string   `query:"Key"`
	Values []string `query:"Value"`
}

type createDhcpOptionsRequest struct {
	dryRunParam
	Configurations    []dhcpConfigParam `query:"DhcpConfiguration"`
	TagSpecifications []tagSpecParam    `query:"TagSpecification"`
}

type createDhcpOptionsResponse struct {
	responseMeta
	DhcpOptions dhcpOptionsXML `xml:"dhcpOptions"`
}

func (h *Handler) createDhcpOptions(ctx context.Context, s ec2sim.Scope, req *createDhcpOptionsRequest) (*createDhcpOptionsResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "dhcp-options")
	if err != nil {
		return nil, err
	}
	var configs []ec2sim.DHCPConfig
	for _, c := range req.Configurations {
		configs = append(configs, ec2sim.DHCPConfig{Key: c.Key, Values: c.Values})
	}
	d, err := h.cloud.CreateDhcpOptions(ctx, s, configs, tags["dhcp-options"])
	if err != nil {
		return nil, err
	}
	return &createDhcpOptionsResponse{DhcpOptions: toDHCPOptionsXML(d)}, nil
}

// AssociateDhcpOptions

type associateDhcpOptionsRequest struct {
	dryRunParam
	DhcpOptionsID string `query:"DhcpOptionsId"`
	VpcID         string `query:"VpcId"`
}

func (h *Handler) associateDhcpOptions(ctx context.Context, s ec2sim.Scope, req *associateDhcpOptionsRequest) (*returnResponse, error) {
	if err := h.cloud.AssociateDhcpOptions(ctx, s, req.DhcpOptionsID, req.VpcID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DeleteDhcpOptions

type deleteDhcpOptionsRequest struct {
	dryRunParam
	DhcpOptionsID string `query:"DhcpOptionsId"`
}

func (h *Handler) deleteDhcpOptions(ctx context.Context, s ec2sim.Scope, req *deleteDhcpOptionsRequest) (*returnResponse, error) {
	if err := h.cloud.DeleteDhcpOptions(ctx, s, req.DhcpOptionsID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeDhcpOptions

type describeDhcpOptionsRequest struct {
	dryRunParam
	pageParams
	DhcpOptionsIDs []string      `query:"DhcpOptionsId"`
	Filters        []filterParam `query:"Filter"`
}

type describeDhcpOptionsResponse struct {
	responseMeta
	DhcpOptions set[dhcpOptionsXML] `xml:"dhcpOptionsSet"`
	NextToken   string              `xml:"nextToken,omitempty"`
}

func (h *Handler) describeDhcpOptions(ctx context.Context, s ec2sim.Scope, req *describeDhcpOptionsRequest) (*describeDhcpOptionsResponse, error) {
	sets, err := h.cloud.DescribeDhcpOptions(ctx, s, req.DhcpOptionsIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	sets, next := page("DescribeDhcpOptions", sets, &req.pageParams)
	resp := &describeDhcpOptionsResponse{DhcpOptions: set[dhcpOptionsXML]{}, NextToken: next}
	for _, d := range sets {
		resp.DhcpOptions = append(resp.DhcpOptions, toDHCPOptionsXML(d))
	}
	return resp, nil
}
