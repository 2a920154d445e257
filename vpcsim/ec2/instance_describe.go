package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// terminatedKept is how long a terminated instance stays describable, as in EC2.
const terminatedKept = time.Hour

// purgeLocked forgets instances terminated more than an hour ago, as EC2 does.
func (c *Cloud) purgeLocked() {
	m := c.model()
	for _, inst := range slices.Collect(m.instances.All()) {
		if inst.State == StateTerminated && !inst.TerminatedAt.IsZero() && c.now().Sub(inst.TerminatedAt) > terminatedKept {
			m.instances.Delete(inst.ID)
		}
	}
	if !m.tx.Changed() {
		return
	}
	if err := c.commitLocked(); err != nil {
		c.log.Error("forget long-terminated instances (the next Describe retries)", "err", err)
	}
}

// DescribeInstances lists the region's instances: those named (all must
// exist), filtered. An unknown filter name is refused even when no instance is
// left to match.
func (c *Cloud) DescribeInstances(ctx context.Context, s Scope, ids []string, f []Filter) ([]Instance, error) {
	return describeFiltered(ctx, c, s, f, func() ([]Instance, error) {
		c.purgeLocked()
		list, err := c.regionInstancesLocked(s, ids)
		return copies(list, err, c.copyInstanceLocked)
	}, func(inst *Instance) []Tag { return inst.Tags }, c.instanceFilterLocked)
}

func (c *Cloud) instanceFilterLocked(inst *Instance, name string) ([]string, bool) {
	if field, ok := strings.CutPrefix(name, "network-interface."); ok {
		// Which fields exist does not depend on whether the instance has ENIs.
		switch field {
		case "addresses.private-ip-address":
			field = "private-ip-address"
		case "association.public-ip", "association.ip-owner-id", "association.allocation-id", "association.association-id",
			"addresses.association.public-ip", "addresses.association.ip-owner-id":
			if field == "addresses.association.ip-owner-id" {
				field = "addresses.association.owner-id"
			}
		case "attachment.attachment-id", "attachment.device-index", "attachment.status",
			"description", "group-id", "group-name", "mac-address", "network-interface-id",
			"owner-id", "private-dns-name", "source-dest-check", "status", "subnet-id", "vpc-id":
		default:
			return nil, false
		}
		var vs []string
		for i := range inst.ENIs {
			v, _ := c.eniFilterLocked(&inst.ENIs[i], field)
			vs = append(vs, v...)
		}
		return vs, true
	}
	var primary netip.Addr
	var groups []string
	if len(inst.ENIs) > 0 {
		primary = inst.ENIs[0].PrimaryIP()
		groups = inst.ENIs[0].Groups
	}
	switch name {
	case "availability-zone":
		return []string{inst.AZ}, true
	case "image-id":
		return []string{inst.ImageID}, true
	case "instance-id":
		return []string{inst.ID}, true
	case "instance-state-code":
		return []string{strconv.Itoa(StateCode(inst.State))}, true
	case "instance-state-name":
		return []string{inst.State}, true
	case "instance-type":
		return []string{inst.Type}, true
	case "key-name":
		return []string{inst.KeyName}, true
	case "owner-id":
		return []string{inst.OwnerID}, true
	case "private-ip-address":
		if primary.IsValid() {
			return []string{primary.String()}, true
		}
		return nil, true
	case "private-dns-name":
		if primary.IsValid() {
			return []string{PrivateDNSName(inst.Region, primary)}, true
		}
		return nil, true
	case "ip-address", "dns-name":
		if len(inst.ENIs) == 0 {
			return nil, true
		}
		field := "public-ip"
		if name == "dns-name" {
			field = "public-dns-name"
		}
		return c.eniFilterLocked(&inst.ENIs[0], "association."+field)
	case "reservation-id":
		return []string{inst.ReservationID}, true
	case "subnet-id":
		return []string{inst.SubnetID}, true
	case "vpc-id":
		return []string{inst.VPCID}, true
	case "instance.group-id", "group-id":
		return groups, true
	case "instance.group-name", "group-name":
		var names []string
		for _, id := range groups {
			if g := c.group(id); g != nil {
				names = append(names, g.Name)
			}
		}
		return names, true
	case "ami-launch-index":
		return []string{strconv.Itoa(inst.LaunchIndex)}, true
	case "architecture":
		return []string{"x86_64"}, true
	case "tenancy", "placement.tenancy":
		return []string{inst.Described().Tenancy}, true
	case "launch-time":
		return []string{inst.LaunchTime.Format("2006-01-02T15:04:05.000Z")}, true
	case "client-token":
		return []string{inst.ClientToken}, true
	case "instance-lifecycle":
		return nil, true
	}
	return nil, false
}

// DescribeInstanceAttribute returns the instance; the caller renders the attribute.
func (c *Cloud) DescribeInstanceAttribute(ctx context.Context, s Scope, id, attr string) (Instance, error) {
	if id == "" {
		return Instance{}, missingParameter("instanceId")
	}
	if attr == "" {
		return Instance{}, missingParameter("attribute")
	}
	if err := c.lock(ctx, s); err != nil {
		return Instance{}, err
	}
	defer c.unlock()
	inst, err := c.instanceLocked(s, id)
	if err != nil {
		return Instance{}, err
	}
	return c.copyInstanceLocked(inst), nil
}
