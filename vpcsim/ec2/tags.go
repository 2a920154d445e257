package ec2

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/storage"
)

// Tag limits, as EC2 enforces them.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// TagSpec names a tag to delete: by key alone, or by key and value.
type TagSpec struct {
	Key   string
	Value *string
}

func checkTags(tags []Tag) error {
	for _, t := range tags {
		if t.Key == "" {
			return invalidValue("Tag keys must not be empty")
		}
		if len(t.Key) > maxTagKeyLen {
			return invalidValue("Tag key exceeds the maximum length of %d characters", maxTagKeyLen)
		}
		if len(t.Value) > maxTagValueLen {
			return invalidValue("Tag value exceeds the maximum length of %d characters", maxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidValue("Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	return nil
}

// mergeTags sets tags on have: a key given again takes the new value.
func mergeTags(have, set []Tag) ([]Tag, error) {
	out := slices.Clone(have)
	for _, t := range set {
		if i := slices.IndexFunc(out, func(h Tag) bool { return h.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, Errorf("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
	}
	return out, nil
}

func removeTags(have []Tag, del []TagSpec) []Tag {
	return slices.DeleteFunc(slices.Clone(have), func(h Tag) bool {
		for _, d := range del {
			if d.Key == h.Key && (d.Value == nil || *d.Value == h.Value) {
				return true
			}
		}
		return false
	})
}

// taggableIn finds a resource of one table by ID: tagsOf points at a
// record's tags and names its region.
func taggableIn[T any](v storage.View[T], id string, tagsOf func(*T) (*[]Tag, string)) (taggable, bool) {
	r, ok := v.Get(id)
	if !ok {
		return taggable{}, false
	}
	tags, region := tagsOf(r)
	return taggable{*tags, func() *[]Tag { p, _ := tagsOf(edit(v, id)); return p }, region}, true
}

// taggable is a resource that carries tags; taggableLocked finds it by ID.
// tags are the tags the call sees; edit stages a copy of the resource and
// points at the copy's tags, to change.
type taggable struct {
	tags   []Tag
	edit   func() *[]Tag
	region string
}

func (c *Cloud) taggableLocked(id string) (taggable, bool) {
	m := c.model()
	if r, ok := taggableIn(m.vpcs, id, func(v *VPC) (*[]Tag, string) { return &v.Tags, v.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.subnets, id, func(s *Subnet) (*[]Tag, string) { return &s.Tags, s.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.groups, id, func(g *SecurityGroup) (*[]Tag, string) { return &g.Tags, g.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.enis, id, func(e *ENI) (*[]Tag, string) { return &e.Tags, e.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.instances, id, func(i *Instance) (*[]Tag, string) { return &i.Tags, i.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.flowLogs, id, func(f *FlowLog) (*[]Tag, string) { return &f.Tags, f.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.rts, id, func(rt *RouteTable) (*[]Tag, string) { return &rt.Tags, rt.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.keyPairs, id, func(k *KeyPair) (*[]Tag, string) { return &k.Tags, k.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.dhcp, id, func(d *DHCPOptions) (*[]Tag, string) { return &d.Tags, d.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.igws, id, func(g *InternetGateway) (*[]Tag, string) { return &g.Tags, g.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.eigws, id, func(g *EgressOnlyIGW) (*[]Tag, string) { return &g.Tags, g.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.addresses, id, func(a *Address) (*[]Tag, string) { return &a.Tags, a.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.nats, id, func(g *NatGateway) (*[]Tag, string) { return &g.Tags, g.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.images, id, func(im *Image) (*[]Tag, string) { return &im.Tags, im.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.acls, id, func(a *NetworkACL) (*[]Tag, string) { return &a.Tags, a.Region }); ok {
		return r, true
	}
	// A peering connection's one set of tags is the requester's region's.
	if r, ok := taggableIn(m.peerings, id, func(p *VpcPeering) (*[]Tag, string) { return &p.Tags, p.Requester.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.launchTemplates, id, func(t *LaunchTemplate) (*[]Tag, string) { return &t.Tags, t.Region }); ok {
		return r, true
	}
	if r, ok := taggableIn(m.prefixLists, id, func(p *PrefixList) (*[]Tag, string) { return &p.Tags, p.Region }); ok {
		return r, true
	}
	if strings.HasPrefix(id, "vol-") {
		// A volume's tags are kept with it, on its instance.
		for inst := range c.allInstances() {
			if inst.State == StateTerminated {
				continue // its volumes are gone
			}
			for k := range inst.Volumes {
				if inst.Volumes[k].ID == id {
					iid := inst.ID
					return taggable{inst.Volumes[k].Tags, func() *[]Tag { return &edit(m.instances, iid).Volumes[k].Tags }, inst.Region}, true
				}
			}
		}
	}
	if strings.HasPrefix(id, "sgr-") {
		for g := range c.allGroups() {
			for k := range g.Rules {
				if g.Rules[k].ID == id {
					gid := g.ID
					return taggable{g.Rules[k].Tags, func() *[]Tag { return &edit(m.groups, gid).Rules[k].Tags }, g.Region}, true
				}
			}
		}
	}
	return taggable{}, false
}

// CreateTags adds or overwrites tags on resources; all or nothing.
func (c *Cloud) CreateTags(ctx context.Context, s Scope, ids []string, tags []Tag) error {
	if len(ids) == 0 {
		return missingParameter("resourceIdSet")
	}
	if len(tags) == 0 {
		return missingParameter("tagSet")
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	var found []taggable
	for _, id := range ids {
		r, ok := c.taggableLocked(id)
		if !ok || r.region != s.Region {
			return Errorf(tagNotFoundCode(id), "The ID '%s' is not valid", id)
		}
		if _, err := mergeTags(r.tags, tags); err != nil {
			return err
		}
		found = append(found, r)
	}
	return c.retagLocked(found, func(have []Tag) []Tag { out, _ := mergeTags(have, tags); return out })
}

// DeleteTags removes tags from resources; all or nothing.
func (c *Cloud) DeleteTags(ctx context.Context, s Scope, ids []string, tags []TagSpec) error {
	if len(ids) == 0 {
		return missingParameter("resourceIdSet")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	var found []taggable
	for _, id := range ids {
		r, ok := c.taggableLocked(id)
		if !ok || r.region != s.Region {
			return Errorf(tagNotFoundCode(id), "The ID '%s' is not valid", id)
		}
		found = append(found, r)
	}
	return c.retagLocked(found, func(have []Tag) []Tag {
		if len(tags) == 0 {
			return nil
		}
		return removeTags(have, tags)
	})
}

func (c *Cloud) retagLocked(rs []taggable, change func([]Tag) []Tag) error {
	for _, r := range rs {
		p := r.edit()
		*p = change(*p)
	}
	return c.commitLocked()
}

func tagNotFoundCode(id string) string {
	switch kindOf(id) {
	case "vpc":
		return "InvalidVpcID.NotFound"
	case "subnet":
		return "InvalidSubnetID.NotFound"
	case "security-group":
		return "InvalidGroup.NotFound"
	case "security-group-rule":
		return "InvalidSecurityGroupRuleId.NotFound"
	case "network-interface":
		return "InvalidNetworkInterfaceID.NotFound"
	case "instance":
		return "InvalidInstanceID.NotFound"
	case "vpc-flow-log":
		return "InvalidFlowLogId.NotFound"
	case "internet-gateway":
		return "InvalidInternetGatewayID.NotFound"
	case "egress-only-internet-gateway":
		return "InvalidEgressOnlyInternetGatewayId.NotFound"
	case "elastic-ip":
		return "InvalidAllocationID.NotFound"
	case "natgateway":
		return "InvalidNatGatewayID.NotFound"
	case "image":
		return "InvalidAMIID.NotFound"
	case "network-acl":
		return "InvalidNetworkAclID.NotFound"
	case "vpc-peering-connection":
		return "InvalidVpcPeeringConnectionID.NotFound"
	case "launch-template":
		return "InvalidLaunchTemplateId.NotFound"
	case "prefix-list":
		return "InvalidPrefixListID.NotFound"
	}
	return "InvalidID"
}

// DescribeTags lists the tags of the region's resources, filtered by key, value,
// resource-id and resource-type. A region without tags still refuses an
// unknown filter name.
func (c *Cloud) DescribeTags(ctx context.Context, s Scope, f []Filter) ([]TagDescription, error) {
	return describeFiltered(ctx, c, s, f, func() ([]TagDescription, error) {
		var all []TagDescription
		add := func(region, id string, tags []Tag) {
			if region != s.Region {
				return
			}
			for _, t := range tags {
				all = append(all, TagDescription{ResourceID: id, ResourceType: kindOf(id), Key: t.Key, Value: t.Value})
			}
		}
		for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.allSubnets(), func(v *Subnet) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.allGroups(), func(v *SecurityGroup) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
			for _, r := range v.Rules {
				add(v.Region, r.ID, r.Tags)
			}
		}
		for _, v := range sortedBySeq(c.allENIs(), func(v *ENI) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
			for _, vol := range v.Volumes {
				if v.State != StateTerminated {
					add(v.Region, vol.ID, vol.Tags)
				}
			}
		}
		for _, v := range sortedBySeq(c.allFlowLogs(), func(v *FlowLog) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.allRouteTables(), func(v *RouteTable) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().keyPairs.All(), func(v *KeyPair) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().dhcp.All(), func(v *DHCPOptions) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().igws.All(), func(v *InternetGateway) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().eigws.All(), func(v *EgressOnlyIGW) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().addresses.All(), func(v *Address) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().acls.All(), func(v *NetworkACL) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().images.All(), func(v *Image) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().peerings.All(), func(v *VpcPeering) int64 { return v.Seq }) {
			if v.visibleAt(c.now()) {
				add(v.Requester.Region, v.ID, v.Tags)
			}
		}
		for _, v := range sortedBySeq(c.model().launchTemplates.All(), func(v *LaunchTemplate) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().prefixLists.All(), func(v *PrefixList) int64 { return v.Seq }) {
			add(v.Region, v.ID, v.Tags)
		}
		for _, v := range sortedBySeq(c.model().nats.All(), func(v *NatGateway) int64 { return v.Seq }) {
			if v.State != natDeleted {
				add(v.Region, v.ID, v.Tags)
			}
		}
		return all, nil
	}, nil, func(d *TagDescription, name string) ([]string, bool) {
		switch name {
		case "key":
			return []string{d.Key}, true
		case "value":
			return []string{d.Value}, true
		case "resource-id":
			return []string{d.ResourceID}, true
		case "resource-type":
			return []string{d.ResourceType}, true
		}
		return nil, false
	})
}

// sortedBySeq lists a map's values in creation order, which is the order Describe answers in.
func sortedBySeq[T any](all iter.Seq[*T], seq func(*T) int64) []*T {
	out := slices.Collect(all)
	slices.SortFunc(out, func(a, b *T) int { return int(seq(a) - seq(b)) })
	return out
}
