package ec2query

import (
	"context"
	"slices"
	"strconv"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// DescribeRegions

type describeRegionsRequest struct {
	dryRunParam
	RegionNames []string      `query:"RegionName"`
	AllRegions  bool          `query:"AllRegions"`
	Filters     []filterParam `query:"Filter"`
}

type regionXML struct {
	RegionName  string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

type describeRegionsResponse struct {
	responseMeta
	Regions set[regionXML] `xml:"regionInfo"`
}

func (h *Handler) describeRegions(ctx context.Context, s ec2sim.Scope, req *describeRegionsRequest) (*describeRegionsResponse, error) {
	resp := &describeRegionsResponse{Regions: set[regionXML]{}}
	for _, r := range ec2sim.Regions() {
		if len(req.RegionNames) > 0 && !slices.Contains(req.RegionNames, r.Name) {
			continue
		}
		ok, err := matchFilters(toFilters(req.Filters), func(name string) (string, bool) {
			switch name {
			case "region-name":
				return r.Name, true
			case "endpoint":
				return r.Endpoint, true
			case "opt-in-status":
				return r.OptInStatus, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			resp.Regions = append(resp.Regions, regionXML{RegionName: r.Name, Endpoint: r.Endpoint, OptInStatus: r.OptInStatus})
		}
	}
	return resp, nil
}

// DescribeAvailabilityZones

type describeAvailabilityZonesRequest struct {
	dryRunParam
	ZoneNames            []string      `query:"ZoneName"`
	ZoneIDs              []string      `query:"ZoneId"`
	AllAvailabilityZones bool          `query:"AllAvailabilityZones"`
	Filters              []filterParam `query:"Filter"`
}

type zoneMessageXML struct {
	Message string `xml:"message"`
}

type availabilityZoneXML struct {
	ZoneName           string              `xml:"zoneName"`
	State              string              `xml:"zoneState"`
	RegionName         string              `xml:"regionName"`
	Messages           set[zoneMessageXML] `xml:"messageSet"`
	OptInStatus        string              `xml:"optInStatus"`
	ZoneID             string              `xml:"zoneId"`
	GroupName          string              `xml:"groupName"`
	NetworkBorderGroup string              `xml:"networkBorderGroup"`
	ZoneType           string              `xml:"zoneType"`
	GroupLongName      string              `xml:"groupLongName,omitempty"`
}

type describeAvailabilityZonesResponse struct {
	responseMeta
	Zones set[availabilityZoneXML] `xml:"availabilityZoneInfo"`
}

func (h *Handler) describeAvailabilityZones(ctx context.Context, s ec2sim.Scope, req *describeAvailabilityZonesRequest) (*describeAvailabilityZonesResponse, error) {
	zones := ec2sim.AvailabilityZones(s.Region)
	// Zones asked for by name or ID must exist in the region.
	for _, n := range req.ZoneNames {
		if !slices.ContainsFunc(zones, func(z ec2sim.AvailabilityZone) bool { return z.Name == n }) {
			return nil, errInvalidValue("Invalid availability zone: [%s]", n)
		}
	}
	for _, id := range req.ZoneIDs {
		if !slices.ContainsFunc(zones, func(z ec2sim.AvailabilityZone) bool { return z.ZoneID == id }) {
			return nil, errInvalidValue("Invalid availability zone: [%s]", id)
		}
	}
	resp := &describeAvailabilityZonesResponse{Zones: set[availabilityZoneXML]{}}
	for _, z := range zones {
		if (len(req.ZoneNames) > 0 || len(req.ZoneIDs) > 0) &&
			!slices.Contains(req.ZoneNames, z.Name) && !slices.Contains(req.ZoneIDs, z.ZoneID) {
			continue
		}
		optIn := "opt-in-not-required"
		ok, err := matchFilters(toFilters(req.Filters), func(name string) (string, bool) {
			switch name {
			case "zone-name":
				return z.Name, true
			case "zone-id":
				return z.ZoneID, true
			case "region-name":
				return z.Region, true
			case "state":
				return z.State, true
			case "zone-type":
				return z.ZoneType, true
			case "group-name":
				return z.GroupName, true
			case "network-border-group":
				return z.NetworkBorderGroup, true
			case "opt-in-status":
				return optIn, true
			case "message":
				return "", true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		resp.Zones = append(resp.Zones, availabilityZoneXML{
			ZoneName: z.Name, State: z.State, RegionName: z.Region, Messages: set[zoneMessageXML]{},
			OptInStatus: optIn, ZoneID: z.ZoneID, GroupName: z.GroupName,
			NetworkBorderGroup: z.NetworkBorderGroup, ZoneType: z.ZoneType,
		})
	}
	return resp, nil
}

// DescribeAccountAttributes

type describeAccountAttributesRequest struct {
	dryRunParam
	AttributeNames []string `query:"AttributeName"`
}

type accountAttributeValueXML struct {
	Value string `xml:"attributeValue"`
}

type accountAttributeXML struct {
	Name   string                        `xml:"attributeName"`
	Values set[accountAttributeValueXML] `xml:"attributeValueSet"`
}

type describeAccountAttributesResponse struct {
	responseMeta
	Attributes set[accountAttributeXML] `xml:"accountAttributeSet"`
}

// accountAttributeNames are the attributes, in the order AWS lists them.
var accountAttributeNames = []string{
	"vpc-max-security-groups-per-interface", "max-instances", "supported-platforms",
	"default-vpc", "max-elastic-ips", "vpc-max-elastic-ips",
}

func (h *Handler) describeAccountAttributes(ctx context.Context, s ec2sim.Scope, req *describeAccountAttributesRequest) (*describeAccountAttributesResponse, error) {
	for _, n := range req.AttributeNames {
		if !slices.Contains(accountAttributeNames, n) {
			// (unverified wording)
			return nil, errInvalidValue("Value (%s) for parameter attributeName is invalid. Unknown attribute name.", n)
		}
	}
	resp := &describeAccountAttributesResponse{Attributes: set[accountAttributeXML]{}}
	for _, name := range accountAttributeNames {
		if len(req.AttributeNames) > 0 && !slices.Contains(req.AttributeNames, name) {
			continue
		}
		var values []string
		switch name {
		case "vpc-max-security-groups-per-interface":
			values = []string{strconv.Itoa(h.cloud.Quotas().Of(quota.SecurityGroupsPerInterface))}
		case "max-instances":
			values = []string{strconv.Itoa(h.cloud.Quotas().Of(quota.Instances))}
		case "supported-platforms":
			values = []string{"VPC"}
		case "default-vpc":
			vpcs, err := h.cloud.DescribeVpcs(ctx, s, nil, nil)
			if err != nil {
				return nil, err
			}
			values = []string{"none"}
			for _, v := range vpcs {
				if v.IsDefault {
					values = []string{v.ID}
					break
				}
			}
		case "max-elastic-ips", "vpc-max-elastic-ips":
			values = []string{"5"}
		}
		a := accountAttributeXML{Name: name, Values: set[accountAttributeValueXML]{}}
		for _, v := range values {
			a.Values = append(a.Values, accountAttributeValueXML{Value: v})
		}
		resp.Attributes = append(resp.Attributes, a)
	}
	return resp, nil
}

// zoneID is the zone ID of a zone name in a region ("" if it is not one).
func zoneID(region, zone string) string { return ec2sim.ZoneIDOf(region, zone) }
