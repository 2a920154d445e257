package ec2

import (
	"slices"
	"strings"
)

// attachedLocked lists the ENIs attached to an instance, by device index.
func (c *Cloud) attachedLocked(instanceID string) []*ENI {
	var out []*ENI
	for e := range c.allENIs() {
		if e.Attachment != nil && e.Attachment.InstanceID == instanceID {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *ENI) int { return a.Attachment.DeviceIndex - b.Attachment.DeviceIndex })
	return out
}

func (c *Cloud) copyInstanceLocked(inst *Instance) Instance {
	out := *inst
	out.Tags = slices.Clone(inst.Tags)
	out.Volumes = slices.Clone(inst.Volumes)
	for i := range out.Volumes {
		out.Volumes[i].Tags = slices.Clone(out.Volumes[i].Tags)
	}
	out.ENIs = nil
	for _, e := range c.attachedLocked(inst.ID) {
		out.ENIs = append(out.ENIs, copyENI(e))
	}
	return out
}

func (c *Cloud) instanceLocked(s Scope, id string) (*Instance, error) {
	if err := checkID("InvalidInstanceID.Malformed", "i", id); err != nil {
		return nil, err
	}
	inst := c.instance(id)
	if inst == nil || inst.Region != s.Region {
		return nil, notFound("InvalidInstanceID.NotFound", "instance", id)
	}
	return inst, nil
}

// regionInstancesLocked lists the scope's instances in the order they were
// made: those named (all must exist, see instancesLocked), or all.
func (c *Cloud) regionInstancesLocked(s Scope, ids []string) ([]*Instance, error) {
	if len(ids) > 0 {
		return c.instancesLocked(s, ids)
	}
	return inRegion(sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }), s, func(v *Instance) string { return v.Region }), nil
}

// instancesLocked resolves IDs; all missing ones are named in one error, as EC2 does.
func (c *Cloud) instancesLocked(s Scope, ids []string) ([]*Instance, error) {
	var out []*Instance
	var missing []string
	seen := map[*Instance]bool{}
	for _, id := range ids {
		inst, err := c.instanceLocked(s, id)
		if e, ok := AsAPIError(err); ok && e.Code == "InvalidInstanceID.NotFound" {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if !seen[inst] {
			seen[inst] = true
			out = append(out, inst)
		}
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, notFound("InvalidInstanceID.NotFound", "instance", missing[0])
	}
	return nil, Errorf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}
