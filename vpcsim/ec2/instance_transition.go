package ec2

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// background runs one instance transition outside the request.
func (c *Cloud) background(id string, step func(context.Context, string)) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), transitionTimeout)
		defer cancel()
		step(ctx, id)
	}()
}

// Timeouts of kernel work done outside a request.
const (
	transitionTimeout = 2 * time.Minute
	undoTimeout       = 30 * time.Second
)

// bringUp makes a pending instance's namespace and moves its ENIs in; then it
// is running. When the kernel refuses, the instance is stored shutting-down
// (with the reason EC2 gives) and torn down. When the store refuses, the
// kernel is put back as the store has the instance (pending, ENIs parked, no
// namespace), for the next start-up to bring it up again.
func (c *Cloud) bringUp(ctx context.Context, id string) {
	c.mu.Lock()
	c.waitInstanceIdleLocked(id)
	inst := c.instance(id)
	if inst == nil || inst.State != StatePending {
		c.unlock()
		return
	}
	// The ENIs' places once running, read from the staged state (which is
	// dropped again: nothing stays staged while the lock is released).
	edit(c.model().instances, id).State = StateRunning
	var nets []netmodel.NetENI
	attached := c.attachedLocked(id)
	for _, e := range attached {
		nets = append(nets, c.netENILocked(e))
	}
	c.abortLocked()
	busy := c.reserveInstanceLocked(id, attached)
	var err error
	c.withoutLock(func() { err = c.ensureHost(ctx, id, nets) })
	c.landLocked(busy...)
	m := c.model()
	if err != nil {
		c.log.Error("instance failed to come up", "instance", id, "err", err)
		inst = edit(m.instances, id)
		inst.State = StateShuttingDown
		inst.StateReasonCode, inst.StateReasonMessage = "Server.InternalError", "Server.InternalError: Internal error on launch"
		if cerr := c.commitLocked(); cerr != nil {
			c.log.Error("store an instance that failed to come up (the next start-up retries it)", "instance", id, "err", cerr)
			c.parkLocked(ctx, id)
			c.unlock()
			return
		}
		c.unlock()
		c.tearDown(ctx, id)
		return
	}
	edit(m.instances, id).State = StateRunning
	taken := map[netip.Addr]bool{}
	for _, e := range c.attachedLocked(id) {
		e = edit(m.enis, e.ID)
		e.Attachment.Status = "attached"
		// Started again, an instance EC2 gave a public address has a new one
		// (unless an Elastic IP took its place).
		if e.AutoPublic && !e.PublicIP().IsValid() {
			if p, err := c.allocPublicLocked(taken); err == nil {
				e.PrivateIPs[slices.IndexFunc(e.PrivateIPs, func(ip PrivateIP) bool { return ip.Primary })].Public = p
			} else {
				c.log.Warn("no public address for a started instance", "instance", id, "err", err)
			}
		}
	}
	if cerr := c.commitLocked(); cerr != nil {
		c.log.Error("store an instance that came up (the next start-up retries it)", "instance", id, "err", cerr)
		c.parkLocked(ctx, id)
	}
	c.unlock()
}

// ensureHost makes an instance's namespace and puts its ENIs in it, as nets
// place them. Safe to call again.
func (c *Cloud) ensureHost(ctx context.Context, id string, nets []netmodel.NetENI) error {
	err := c.dp.EnsureHost(ctx, id)
	for _, n := range nets {
		if err == nil {
			err = c.dp.EnsureENI(ctx, n)
		}
	}
	return err
}

// reboot restarts a rebooting instance's operating system. What ran on it
// ended once the reboot was stored (ECS stops its tasks and its agent
// disconnects then); its network comes up again as it is configured (its
// namespace and ENIs stay, as the network survives a reboot on EC2: the
// kernel only puts back what was changed inside); then the instance is no
// longer rebooting, and its ECS agent connects again. A kernel refusal is
// logged and the reboot ends all the same: the instance runs, and its
// namespace holds what the kernel has. When the store refuses, the instance
// stays stored rebooting and the next start-up reboots it again.
func (c *Cloud) reboot(ctx context.Context, id string) {
	c.mu.Lock()
	c.waitInstanceIdleLocked(id)
	inst := c.instance(id)
	if inst == nil || inst.State != StateRunning || !inst.Rebooting {
		c.unlock()
		return
	}
	attached := c.attachedLocked(id)
	var nets []netmodel.NetENI
	for _, e := range attached {
		if e.Host == "" { // a task's ENI is its task's, not the instance's
			nets = append(nets, c.netENILocked(e))
		}
	}
	busy := c.reserveInstanceLocked(id, attached)
	var err error
	c.withoutLock(func() { err = c.ensureHost(ctx, id, nets) })
	c.landLocked(busy...)
	if err != nil {
		c.log.Error("an instance's network did not come up again after its reboot", "instance", id, "err", err)
	}
	if inst = c.instance(id); inst != nil && inst.Rebooting {
		edit(c.model().instances, id).Rebooting = false
		if err := c.commitLocked(); err != nil {
			c.log.Error("store an instance that rebooted (the next start-up reboots it again)", "instance", id, "err", err)
		}
	}
	c.unlock()
}

// waitInstanceIdleLocked waits until neither the instance nor an ENI
// attached to it is busy or in flight, for a transition of its namespace.
func (c *Cloud) waitInstanceIdleLocked(id string) {
	for {
		ids := []string{id}
		for _, e := range c.attachingLocked(id) {
			ids = append(ids, e.ID)
		}
		if !slices.ContainsFunc(ids, c.busyLocked) {
			return
		}
		c.waitIdleLocked(ids...)
	}
}

// reserveInstanceLocked makes an instance busy and its attached ENIs in
// flight (as they are) for a transition of its namespace; it answers what to
// land once the transition is staged.
func (c *Cloud) reserveInstanceLocked(id string, attached []*ENI) []string {
	c.busy[id] = true
	c.flyLocked(attached...)
	return append(eniIDs(attached), id)
}

// parkLocked puts the kernel back as the committed model has a pending
// instance: its ENIs parked in their VPC, its namespace gone.
func (c *Cloud) parkLocked(ctx context.Context, id string) {
	c.undoKernel(ctx, nil, func(ctx context.Context) error {
		var errs []error
		for _, e := range c.attachedLocked(id) {
			errs = append(errs, c.dp.EnsureENI(ctx, c.netENILocked(e)))
		}
		return joinErrs(append(errs, c.dp.DeleteHost(ctx, id)))
	})
}

// tearDown ends a stopping or shutting-down instance: its ENIs are parked (or
// deleted when they go with the instance), its namespace and processes removed.
// When the store refuses, the instance stays stored as it was (stopping or
// shutting-down), and the next start-up ends it again.
func (c *Cloud) tearDown(ctx context.Context, id string) {
	c.mu.Lock()
	c.waitInstanceIdleLocked(id)
	inst := c.instance(id)
	if inst == nil || (inst.State != StateStopping && inst.State != StateShuttingDown) {
		c.unlock()
		return
	}
	attached := c.attachedLocked(id)
	// stage stages the instance's end; it is run twice: once to learn the
	// kernel's work (then dropped, as nothing may stay staged while the
	// lock is released), once after that work, to commit.
	stage := func() (park, gone []netmodel.NetENI) {
		m := c.model()
		terminating := inst.State == StateShuttingDown
		final := StateStopped
		if terminating {
			final = StateTerminated
		}
		next := edit(m.instances, id)
		next.State = final // netENILocked now parks the ENIs
		if terminating {
			next.TerminatedAt = c.now().UTC()
		}
		for _, e := range attached {
			if terminating && e.Attachment.DeleteOnTermination {
				gone = append(gone, c.netENILocked(e))
				m.enis.Delete(e.ID)
				c.dropFlowLogsLocked(e.ID)
				continue
			}
			if terminating || ec2Public(e) {
				e = edit(m.enis, e.ID)
				// An address EC2 assigned goes with the instance's stop; it
				// gets a new one when it starts again.
				for i := range e.PrivateIPs {
					if e.PrivateIPs[i].AllocationID == "" {
						e.PrivateIPs[i].Public = netip.Addr{}
					}
				}
			}
			if terminating {
				e.Attachment, e.Status, e.AutoPublic = nil, "available", false
			}
			park = append(park, c.netENILocked(e))
		}
		return park, gone
	}
	park, gone := stage()
	c.abortLocked()
	busy := c.reserveInstanceLocked(id, attached)
	c.withoutLock(func() {
		for _, n := range park {
			if err := c.dp.EnsureENI(ctx, n); err != nil {
				c.log.Error("park an ENI of an instance going down", "eni", n.ID, "err", err)
			}
		}
		for _, n := range gone {
			if err := c.dp.DeleteENI(ctx, n); err != nil {
				c.log.Error("delete an ENI of a terminated instance", "eni", n.ID, "err", err)
			}
		}
		if err := c.dp.DeleteHost(ctx, id); err != nil {
			c.log.Error("remove an instance's namespace", "instance", id, "err", err)
		}
	})
	c.landLocked(busy...)
	stage()
	if err := c.commitLocked(); err != nil {
		c.log.Error("store an instance that went down (the next start-up ends it again)", "instance", id, "err", err)
	}
	c.unlock()
}

// resumeTransitions finishes what a previous run left between states.
func (c *Cloud) resumeTransitions() {
	c.mu.Lock()
	var up, down, reboots []string
	for inst := range c.allInstances() {
		switch {
		case inst.State == StatePending:
			up = append(up, inst.ID)
		case inst.State == StateStopping, inst.State == StateShuttingDown:
			down = append(down, inst.ID)
		case inst.Rebooting:
			reboots = append(reboots, inst.ID)
		}
	}
	c.unlock()
	for _, id := range up {
		c.background(id, c.bringUp)
	}
	for _, id := range down {
		c.background(id, c.tearDown)
	}
	for _, id := range reboots {
		c.background(id, c.reboot)
	}
}

// ec2Public says whether an ENI has a public address EC2 assigned (not an
// Elastic IP).
func ec2Public(e *ENI) bool {
	return slices.ContainsFunc(e.PrivateIPs, func(ip PrivateIP) bool { return ip.Public.IsValid() && ip.AllocationID == "" })
}
