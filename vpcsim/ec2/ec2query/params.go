package ec2query

import ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"

// Request pieces many operations share. Requests embed them (without a query tag,
// so their fields are promoted) or use them as field types.

// dryRunParam is embedded by every request: the model gives every operation but a
// few a DryRun member.
type dryRunParam struct {
	DryRun bool `query:"DryRun"`
}

func (p dryRunParam) dryRun() bool { return p.DryRun }

// filterParam is one Filter.N: Filter.N.Name, Filter.N.Value.M.
type filterParam struct {
	Name   string   `query:"Name"`
	Values []string `query:"Value"`
}

func toFilters(fs []filterParam) []ec2sim.Filter {
	if len(fs) == 0 {
		return nil
	}
	out := make([]ec2sim.Filter, 0, len(fs))
	for _, f := range fs {
		out = append(out, ec2sim.Filter{Name: f.Name, Values: f.Values})
	}
	return out
}

// tagParam is one Tag.N: Key and Value.
type tagParam struct {
	Key   string `query:"Key"`
	Value string `query:"Value"`
}

func toTags(ts []tagParam) []ec2sim.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]ec2sim.Tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, ec2sim.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// tagSpecParam is one TagSpecification.N: ResourceType and Tag.M.
type tagSpecParam struct {
	ResourceType string     `query:"ResourceType"`
	Tags         []tagParam `query:"Tag"`
}

// tagSpecs sorts TagSpecifications by resource type, refusing a type the operation
// cannot tag, as EC2 does. allowed lists the types this operation creates.
func tagSpecs(specs []tagSpecParam, allowed ...string) (map[string][]ec2sim.Tag, error) {
	out := map[string][]ec2sim.Tag{}
	for _, s := range specs {
		if s.ResourceType == "" {
			return nil, errInvalidValue("Tag specification resource type must have a value")
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == s.ResourceType
		}
		if !ok {
			return nil, errInvalidValue("'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
		out[s.ResourceType] = append(out[s.ResourceType], toTags(s.Tags)...)
	}
	return out, nil
}

// attrBool is an AttributeBooleanValue input: Name.Value=true.
type attrBool struct {
	Value *bool `query:"Value"`
}

// attrString is an AttributeValue input: Name.Value=text.
type attrString struct {
	Value *string `query:"Value"`
}
