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
// A call that changes the kernel for an ENI or an instance runs in three
// steps, so that one slow netlink call does not stall every other request:
//
//  1. Under c.mu it validates and reserves: the ENIs it makes or changes go
//     in flight (c.inflight, as they will be), which holds their IDs,
//     addresses, MACs and device indexes against every other call, and
//     makes quotas and dependency checks (DeleteSubnet, DeleteSecurityGroup,
//     DeleteVpc) count them; the instances whose namespace it changes are
//     busy. Nothing is staged: the call's transaction is empty when it
//     unlocks.
//  2. Without c.mu it does the kernel work.
//  3. Under c.mu again it stages the change on the records as they are now,
//     commits (commitLocked: firewalls, store, publication), lifts the
//     reservation, and undoes the kernel work if the commit failed.
//
// A call that would change an ENI in flight, or a busy instance's
// namespace, waits until it is idle (waitIdleLocked) and then decides on
// what was committed: as the same calls did when c.mu covered the kernel
// work, so what the API answers does not change.

// waitIdleLocked waits until none of the ENIs and instances named is in
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
	return eni || c.busyInstances[id]
}

// flyLocked puts ENIs in flight, as they will be once the call commits.
func (c *Cloud) flyLocked(enis ...*ENI) {
	for _, e := range enis {
		c.inflight[e.ID] = e
	}
}

// landLocked takes ENIs out of flight and instances out of busy, and wakes
// the calls waiting on them.
func (c *Cloud) landLocked(ids ...string) {
	for _, id := range ids {
		delete(c.inflight, id)
		delete(c.busyInstances, id)
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
	return func(yield func(*ENI) bool) {
		m := c.model()
		for e := range m.enis.All() {
			if !yield(e) {
				return
			}
		}
		for id, e := range c.inflight {
			if _, ok := m.enis.Get(id); !ok && !yield(e) {
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
			c.busyInstances[id] = true
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
