package ec2

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// Task ENIs: what ECS asks of EC2 for a task in awsvpc mode. The ENI is
// requester-managed (users may not detach or delete it), is attached to the
// container instance (or, on Fargate, to no instance of the user's), and lives in
// the kernel as eth0 of the task's own namespace.

// fargateOwner is the AWS account that shows as the instance owner of a Fargate
// task's ENI attachment.
const fargateOwner = "amazon-aws"

// CreateTaskENI makes the requester-managed ENI of a task in a subnet, parked
// until AttachTaskENI moves it into the task. The description names the task's
// attachment and so is unique: when a requester-managed ENI of the subnet
// already has it, vpcsim stopped between making the ENI and recording it in the
// task, and that ENI is returned rather than a second one (whose address would
// be lost). With public, it has a public address (assignPublicIp). In a
// subnet with an IPv6 range it has an IPv6 address too, as a task's ENI in
// a dual-stack subnet has on AWS.
func (c *Cloud) CreateTaskENI(ctx context.Context, s Scope, subnetID string, groups []string, description string, public bool) (ENI, error) {
	c.mu.Lock()
	for e := range c.heldENIs() {
		if e.RequesterManaged && e.Region == s.Region && e.SubnetID == subnetID && e.Description == description {
			c.unlock()
			return copyENI(e), nil
		}
	}
	v6 := 0
	if sub := c.subnet(subnetID); sub != nil && sub.Region == s.Region && sub.IPv6CIDR().IsValid() {
		v6 = 1
	}
	c.unlock()
	return c.CreateNetworkInterface(ctx, s, CreateNetworkInterfaceInput{
		SubnetID: subnetID, Groups: groups, Description: description, RequesterManaged: true, PublicIP: public, IPv6Count: v6,
	})
}

// TaskENI is what a task learns of its ENI once attached: the ENI, the
// subnet's range its gateway (.1) and DNS server (.2) come from, and the
// subnet's IPv6 range, if any.
type TaskENI struct {
	ENI
	SubnetCIDR netip.Prefix
	SubnetIPv6 netip.Prefix
}

func (c *Cloud) taskENILocked(id string) TaskENI {
	e := c.eni(id)
	if e == nil {
		return TaskENI{}
	}
	out := TaskENI{ENI: copyENI(e)}
	if sub := c.subnet(e.SubnetID); sub != nil {
		out.SubnetCIDR, out.SubnetIPv6 = sub.CIDR, sub.IPv6CIDR()
	}
	return out
}

// AttachTaskENI attaches a task's ENI to instanceID (at the lowest free device
// index from 1; "" on Fargate) and moves it into the namespace named host as
// eth0, making that namespace first. The instance is not busy meanwhile: the
// ENI goes into the task's namespace, not the instance's.
func (c *Cloud) AttachTaskENI(ctx context.Context, s Scope, eniID, instanceID, host string) (TaskENI, error) {
	c.mu.Lock()
	defer c.unlock()
	c.waitIdleLocked(eniID)
	e, err := c.eniLocked(s, eniID)
	if err != nil {
		return TaskENI{}, err
	}
	if e.Attachment != nil && e.Host == host {
		// Attached before vpcsim stopped, and the task did not learn it: keep
		// the attachment, and make sure the kernel has it.
		n := c.netENILocked(e)
		c.flyLocked(e)
		defer c.landLocked(e.ID)
		c.withoutLock(func() {
			if err = c.dp.EnsureHost(ctx, host); err == nil {
				err = c.dp.EnsureENI(ctx, n)
			}
		})
		if err != nil {
			return TaskENI{}, err
		}
		return c.taskENILocked(e.ID), nil
	}
	att := &ENIAttachment{
		ID: newID("eni-attach"), InstanceOwnerID: fargateOwner, DeviceIndex: 1,
		Status: "attached", AttachTime: c.now().UTC().Truncate(time.Second),
	}
	if instanceID != "" {
		att.InstanceID, att.InstanceOwnerID = instanceID, c.account
		used := map[int]bool{}
		for _, x := range c.attachingLocked(instanceID) {
			used[x.Attachment.DeviceIndex] = true
		}
		for used[att.DeviceIndex] {
			att.DeviceIndex++
		}
	}
	next := copyENI(e)
	next.Attachment, next.Status, next.Host = att, "in-use", host
	err = c.changeENILocked(ctx, &next, kernelStep{what: "move the ENI into the task", host: host}, func(e *ENI) {
		e.Attachment, e.Status, e.Host = att, "in-use", host
	})
	if err != nil {
		return TaskENI{}, err
	}
	return c.taskENILocked(e.ID), nil
}

// DeleteTaskENI detaches and deletes a task's ENI, returns its addresses to the
// subnet and removes the task's namespace (and whatever still runs in it).
// Deleting an ENI that is already gone succeeds.
func (c *Cloud) DeleteTaskENI(ctx context.Context, s Scope, eniID string) error {
	c.mu.Lock()
	defer c.unlock()
	c.waitIdleLocked(eniID)
	e := c.eni(eniID)
	if e == nil || e.Region != s.Region {
		return nil
	}
	return c.deleteENILocked(ctx, e, e.Host)
}

// InstanceENIs lists the IDs of the ENIs attached to an instance now, its
// primary included: what ECS weighs against the type's maximum.
func (c *Cloud) InstanceENIs(instanceID string) []string {
	c.mu.Lock()
	defer c.unlock()
	var ids []string
	for _, e := range c.attachedLocked(instanceID) {
		ids = append(ids, e.ID)
	}
	return ids
}

// LookupInstance returns an instance by ID in any region, for ECS's own bookkeeping.
func (c *Cloud) LookupInstance(id string) (Instance, bool) {
	c.mu.Lock()
	defer c.unlock()
	inst := c.instance(id)
	if inst == nil {
		return Instance{}, false
	}
	return c.copyInstanceLocked(inst), true
}

// Instances lists every instance of every region, for ECS's start-up reconciliation.
func (c *Cloud) Instances() []Instance {
	c.mu.Lock()
	defer c.unlock()
	var out []Instance
	for _, i := range sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }) {
		out = append(out, c.copyInstanceLocked(i))
	}
	return slices.Clip(out)
}
