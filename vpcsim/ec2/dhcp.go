package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
)

// DHCPOptions is a DHCP options set: what a VPC's DHCP would hand out. Each
// region has a default set, made with its default VPC, that new VPCs get.
// vpcsim gives addresses without DHCP (an ENI's address is set on its
// link), so a set describes its VPCs; the DNS servers are what the VPC's
// resolver will follow when DNS comes.
type DHCPOptions struct {
	ID      string       `json:"id"` // dopt-…
	Region  string       `json:"region"`
	OwnerID string       `json:"owner"`
	Configs []DHCPConfig `json:"configs"`
	Tags    []Tag        `json:"tags,omitempty"`
	Seq     int64        `json:"seq"`
}

// DHCPConfig is one option of a set and its values.
type DHCPConfig struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// noDHCPOptions is what AssociateDhcpOptions names to leave a VPC without a
// set, and what such a VPC reports.
const noDHCPOptions = "default"

func copyDHCPOptions(d *DHCPOptions) DHCPOptions {
	out := *d
	out.Configs = nil
	for _, c := range d.Configs {
		out.Configs = append(out.Configs, DHCPConfig{Key: c.Key, Values: slices.Clone(c.Values)})
	}
	out.Tags = slices.Clone(d.Tags)
	return out
}

// regionDomain is the domain name EC2's default set gives a region.
func regionDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// newDefaultDHCPOptionsLocked is a region's default set.
func (c *Cloud) newDefaultDHCPOptionsLocked(region string) *DHCPOptions {
	return &DHCPOptions{
		ID: dhcpOptionsID(region), Region: region, OwnerID: c.account, Seq: c.nextSeq(),
		Configs: []DHCPConfig{
			{Key: "domain-name", Values: []string{regionDomain(region)}},
			{Key: "domain-name-servers", Values: []string{"AmazonProvidedDNS"}},
		},
	}
}

// markerDHCPOptions says the database keeps DHCP options sets: a region's
// default set missing since is one its owner deleted.
const markerDHCPOptions = "dhcp-options-kept"

// ensureDefaultDHCPOptionsLocked stores, once, the default set of each
// region made before vpcsim kept DHCP options sets.
func (c *Cloud) ensureDefaultDHCPOptionsLocked() {
	m := c.model()
	if get(m.markers, markerDHCPOptions) != nil {
		return
	}
	marker := markerDHCPOptions
	m.markers.Put(&marker)
	for region := range m.regions.All() {
		if get(m.dhcp, dhcpOptionsID(*region)) == nil {
			m.dhcp.Put(c.newDefaultDHCPOptionsLocked(*region))
		}
	}
}

// newVPCDHCPOptionsLocked is the set a new VPC of the region gets: the
// region's default, unless that was deleted.
func (c *Cloud) newVPCDHCPOptionsLocked(region string) string {
	if get(c.model().dhcp, dhcpOptionsID(region)) != nil || !c.regionReady(region) {
		return dhcpOptionsID(region)
	}
	return noDHCPOptions
}

// dhcpOptionsLocked finds a set of the scope's region.
func (c *Cloud) dhcpOptionsLocked(s Scope, id string) (*DHCPOptions, error) {
	if err := checkID("InvalidDhcpOptionsId.Malformed", "dopt", id); err != nil {
		return nil, err
	}
	d := get(c.model().dhcp, id)
	if d == nil || d.Region != s.Region {
		return nil, notFound("InvalidDhcpOptionID.NotFound", "dhcpOption", id)
	}
	return d, nil
}

// dhcpKeys are the options a set may have, with how many values each takes
// and what each value must be.
var dhcpKeys = map[string]struct {
	max   int
	check func(string) bool
}{
	"domain-name":                       {max: 1, check: func(v string) bool { return v != "" && len(v) <= 255 }},
	"domain-name-servers":               {max: 4, check: func(v string) bool { return v == "AmazonProvidedDNS" || isAddr(v) }},
	"ntp-servers":                       {max: 4, check: isAddr},
	"netbios-name-servers":              {max: 4, check: isAddr},
	"netbios-node-type":                 {max: 1, check: func(v string) bool { return slices.Contains([]string{"1", "2", "4", "8"}, v) }},
	"ipv6-address-preferred-lease-time": {max: 1, check: leaseTime},
}

func isAddr(v string) bool {
	_, err := netip.ParseAddr(v)
	return err == nil
}

// leaseTime is a preferred lease time in seconds: 140 to 2147483647.
func leaseTime(v string) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n >= 140 && n <= 2147483647
}

// CreateDhcpOptions makes a DHCP options set, checked as EC2 checks one.
func (c *Cloud) CreateDhcpOptions(ctx context.Context, s Scope, configs []DHCPConfig, tags []Tag) (DHCPOptions, error) {
	if len(configs) == 0 {
		return DHCPOptions{}, missingParameter("dhcpConfiguration")
	}
	seen := map[string]bool{}
	for _, cfg := range configs {
		rule, ok := dhcpKeys[cfg.Key]
		switch {
		case !ok:
			return DHCPOptions{}, invalidValue("Value (%s) for parameter key is invalid. Unknown DHCP option", cfg.Key)
		case seen[cfg.Key]:
			return DHCPOptions{}, invalidValue("Value (%s) for parameter key is invalid. Duplicate DHCP option", cfg.Key)
		case len(cfg.Values) == 0:
			return DHCPOptions{}, missingParameter("dhcpConfiguration." + cfg.Key + ".value")
		case len(cfg.Values) > rule.max:
			return DHCPOptions{}, invalidValue("Value for parameter %s is invalid. At most %d values are allowed.", cfg.Key, rule.max)
		}
		seen[cfg.Key] = true
		for _, v := range cfg.Values {
			if !rule.check(v) {
				return DHCPOptions{}, invalidValue("Value (%s) for parameter %s is invalid.", v, cfg.Key)
			}
		}
	}
	if err := checkTags(tags); err != nil {
		return DHCPOptions{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return DHCPOptions{}, err
	}
	defer c.unlock()
	d := &DHCPOptions{ID: newID("dopt"), Region: s.Region, OwnerID: c.account, Tags: tags, Seq: c.nextSeq()}
	for _, cfg := range configs {
		d.Configs = append(d.Configs, DHCPConfig{Key: cfg.Key, Values: slices.Clone(cfg.Values)})
	}
	c.model().dhcp.Put(d)
	if err := c.commitLocked(); err != nil {
		return DHCPOptions{}, err
	}
	return copyDHCPOptions(d), nil
}

// AssociateDhcpOptions gives a VPC a set, or none ("default").
func (c *Cloud) AssociateDhcpOptions(ctx context.Context, s Scope, id, vpcID string) error {
	switch {
	case id == "":
		return missingParameter("dhcpOptionsId")
	case vpcID == "":
		return missingParameter("vpcId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	v, err := c.vpcLocked(s, vpcID)
	if err != nil {
		return err
	}
	if id != noDHCPOptions {
		if _, err := c.dhcpOptionsLocked(s, id); err != nil {
			return err
		}
	}
	edit(c.model().vpcs, v.ID).DHCPOptionsID = id
	return c.commitLocked()
}

// DeleteDhcpOptions removes a set no VPC uses (the default set too).
func (c *Cloud) DeleteDhcpOptions(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("dhcpOptionsId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	d, err := c.dhcpOptionsLocked(s, id)
	if err != nil {
		return err
	}
	for v := range c.allVPCs() {
		if v.DHCPOptionsID == d.ID {
			return Errorf("DependencyViolation", "The dhcpOptions '%s' has dependencies and cannot be deleted.", d.ID)
		}
	}
	c.model().dhcp.Delete(d.ID)
	return c.commitLocked()
}

// DescribeDhcpOptions lists the region's sets: those named (all must
// exist), filtered.
func (c *Cloud) DescribeDhcpOptions(ctx context.Context, s Scope, ids []string, f []Filter) ([]DHCPOptions, error) {
	return describeFiltered(ctx, c, s, f, func() ([]DHCPOptions, error) {
		list, err := pick(ids, func(id string) (*DHCPOptions, error) { return c.dhcpOptionsLocked(s, id) },
			func() []*DHCPOptions {
				return inRegion(sortedBySeq(c.model().dhcp.All(), func(d *DHCPOptions) int64 { return d.Seq }), s, func(d *DHCPOptions) string { return d.Region })
			})
		return copies(list, err, copyDHCPOptions)
	}, func(d *DHCPOptions) []Tag { return d.Tags }, dhcpFilter)
}

func dhcpFilter(d *DHCPOptions, name string) ([]string, bool) {
	switch name {
	case "dhcp-options-id":
		return []string{d.ID}, true
	case "owner-id":
		return []string{d.OwnerID}, true
	case "key":
		var out []string
		for _, cfg := range d.Configs {
			out = append(out, cfg.Key)
		}
		return out, true
	case "value":
		var out []string
		for _, cfg := range d.Configs {
			out = append(out, cfg.Values...)
		}
		return out, true
	}
	return nil, false
}
