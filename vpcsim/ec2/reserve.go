package ec2

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
)

// Kernel work outside the model lock.
//
// A call that changes the kernel runs in three steps, so that one slow
// netlink call does not stall every other request:
//
//  1. Under c.mu it validates and reserves. The ENIs it makes or changes go
//     in flight (c.inflight, as they will be), which holds their IDs,
//     addresses, MACs and device indexes against every other call, and
//     makes quotas and dependency checks (DeleteSubnet, DeleteSecurityGroup,
//     DeleteVpc) count them. The VPCs and subnets it makes are being made
//     (c.makingVPCs, c.makingSubnets): quotas, subnet range conflicts and
//     DeleteVpc's dependency check count them, Describe calls do not list
//     them. The instances whose namespace it changes, and the VPC whose
//     deleted subnet's bridge it removes, are busy (c.busy). Nothing is
//     staged: the call's transaction is empty when it unlocks.
//  2. Without c.mu it does the kernel work.
//  3. Under c.mu again it stages the change on the records as they are now,
//     commits (commitLocked: firewalls, store, publication), lifts the
//     reservation, and undoes the kernel work if the commit failed.
//
// A delete commits first and then removes the kernel object without c.mu,
// logging a failure for the start-up reconciliation: a deleted ENI stays in
// flight meanwhile (its addresses are not handed out while its veth has
// them), a deleted subnet's VPC is busy (its bridge holds the router
// address that a new subnet of the same range would put on its own), and a
// deleted VPC needs nothing held: no call can name it once it is gone.
//
// A call that would change an ENI in flight, a busy instance's namespace, or
// the bridges of a busy VPC (CreateSubnet, DeleteSubnet, DeleteVpc) waits
// until it is idle (waitIdleLocked) and then decides on what was committed:
// as the same calls did when c.mu covered the kernel work, so what the API
// answers does not change.
//
// Still under c.mu: a region's default VPC (createDefaultVPCLocked) and
// vpcsim connect (ConnectVPC); see there why.

// waitIdleLocked waits until none of the ENIs, instances and VPCs named is in
// flight or busy. It may release c.mu while it waits, so the caller must not
// have staged anything yet (what it read may be stale after: read again).
func (c *Cloud) waitIdleLocked(ids ...string) {
	for slices.ContainsFunc(ids, c.busyLocked) {
		c.abortLocked()
		if c.onWait != nil {
			c.onWait()
		}
		c.idle.Wait()
	}
}

func (c *Cloud) busyLocked(id string) bool {
	if id == "" {
		return false
	}
	_, eni := c.inflight[id]
	return eni || c.busy[id]
}

// flyLocked puts ENIs in flight, as they will be once the call commits.
func (c *Cloud) flyLocked(enis ...*ENI) {
	for _, e := range enis {
		c.inflight[e.ID] = e
	}
}

// landLocked takes ENIs out of flight, instances and VPCs out of busy, and
// VPCs and subnets out of being made, and wakes the calls waiting on them.
func (c *Cloud) landLocked(ids ...string) {
	for _, id := range ids {
		delete(c.inflight, id)
		delete(c.busy, id)
		delete(c.makingVPCs, id)
		delete(c.makingSubnets, id)
	}
	c.idle.Broadcast()
}

// withoutLock runs kernel work f with c.mu released. The call must have
// staged nothing (step 1 reserves, it does not stage): a staged change would
// be dropped by the unlock, or seen by another call.
func (c *Cloud) withoutLock(f func()) {
	if c.cur != nil && c.cur.tx.Changed() {
		panic("vpcsim: kernel work outside the lock with changes staged")
	}
	c.unlock()
	defer c.mu.Lock()
	f()
}

// heldENIs yields the ENIs of the call's model and the new ones other calls
// are making: what quotas, dependency checks and new MACs must count.
func (c *Cloud) heldENIs() iter.Seq[*ENI] {
	return withMaking(c.model().enis.All(), c.model().enis.Get, c.inflight)
}

// heldVPCs yields the VPCs of the call's model and those other calls are
// making: what the VPC quota counts.
func (c *Cloud) heldVPCs() iter.Seq[*VPC] {
	return withMaking(c.model().vpcs.All(), c.model().vpcs.Get, c.makingVPCs)
}

// heldSubnets yields the subnets of the call's model and those other calls
// are making: what the subnet quotas, range conflicts and DeleteVpc count.
func (c *Cloud) heldSubnets() iter.Seq[*Subnet] {
	return withMaking(c.model().subnets.All(), c.model().subnets.Get, c.makingSubnets)
}

// withMaking yields the records of all, then those of making (being made,
// or in flight) that all does not hold.
func withMaking[T any](all iter.Seq[*T], get func(string) (*T, bool), making map[string]*T) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		for r := range all {
			if !yield(r) {
				return
			}
		}
		for id, r := range making {
			if _, ok := get(id); !ok && !yield(r) {
				return
			}
		}
	}
}

// attachingLocked lists the ENIs attached to an instance, with those being
// attached to it (in flight) instead of their committed versions: what a new
// attachment's device index and the instance's ENI limit must count.
func (c *Cloud) attachingLocked(instanceID string) []*ENI {
	var out []*ENI
	for _, e := range c.attachedLocked(instanceID) {
		if _, ok := c.inflight[e.ID]; !ok {
			out = append(out, e)
		}
	}
	for _, e := range c.inflight {
		if e.Attachment != nil && e.Attachment.InstanceID == instanceID {
			out = append(out, e)
		}
	}
	return out
}

// kernelStep says where the kernel must have an ENI once a call commits.
type kernelStep struct {
	what string // the step, for errors: "move the ENI into the instance"
	// host, when set, is a namespace made first (a task's) and removed
	// again when the call fails.
	host string
	// busy are instances whose namespace the step needs kept as it is.
	busy []string
	// fault is the crash point between the kernel step and the commit.
	fault string
}

// changeENILocked changes an existing ENI, reserving it (in flight as next,
// its version once the call commits, with step.busy busy), putting it
// where next wants it in the kernel without c.mu, then applying apply to the
// ENI as it is now and committing. On any failure the kernel is put back as
// the committed ENI has it, and nothing is stored.
func (c *Cloud) changeENILocked(ctx context.Context, next *ENI, step kernelStep, apply func(*ENI)) error {
	committed := c.netENILocked(c.eni(next.ID))
	want := c.netENILocked(next)
	c.flyLocked(next)
	for _, id := range step.busy {
		if id != "" {
			c.busy[id] = true
		}
	}
	defer c.landLocked(append(slices.Clone(step.busy), next.ID)...)
	undo := func(ctx context.Context) error {
		err := c.dp.EnsureENI(ctx, committed)
		if step.host != "" {
			err = joinErrs([]error{err, c.dp.DeleteHost(ctx, step.host)})
		}
		return err
	}
	var err error
	c.withoutLock(func() {
		if step.host != "" {
			if err = c.dp.EnsureHost(ctx, step.host); err != nil {
				err = c.undoKernel(ctx, fmt.Errorf("make the task's namespace: %w", err), undo)
				return
			}
		}
		if err = c.dp.EnsureENI(ctx, want); err != nil {
			err = c.undoKernel(ctx, fmt.Errorf("%s: %w", step.what, err), undo)
		}
	})
	if err != nil {
		return err
	}
	if step.fault != "" {
		fault.Point(step.fault)
	}
	e := edit(c.model().enis, next.ID)
	if e == nil { // cannot happen: an ENI in flight is not deleted
		return c.undoKernel(ctx, fmt.Errorf("the ENI %s went while in flight", next.ID), undo)
	}
	apply(e)
	if err := c.commitLocked(); err != nil {
		return c.undoKernel(ctx, err, undo)
	}
	return nil
}
