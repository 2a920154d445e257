package ec2

import (
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// defaultInstanceType is what RunInstances launches when no type is named, as EC2 does.
const defaultInstanceType = "m1.small"

// maxUserData is EC2's limit on decoded user data.
const maxUserData = 16384

// terminatedKept is how long a terminated instance stays describable, as in EC2.
const terminatedKept = time.Hour

// launchPlan is one instance of a RunInstances request, validated.
type launchPlan struct {
	inst *Instance
	enis []*ENI    // new ENIs, the primary first
	kept []keptENI // existing ENIs attached at launch
}

// keptENI is an existing ENI a launch attaches, once the launch commits.
type keptENI struct {
	eni *ENI
	att *ENIAttachment
}

// RunInstances launches MinCount..MaxCount instances in one reservation. They
// answer pending; each becomes running once its namespace and ENIs are made.
func (c *Cloud) RunInstances(ctx context.Context, s Scope, in RunInstancesInput) ([]Instance, error) {
	if err := checkRunInput(&in); err != nil {
		return nil, err
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	var existing []string
	for _, spec := range in.NetworkInterfaces {
		existing = append(existing, spec.ENIID)
	}
	c.waitIdleLocked(existing...)
	plans, err := c.planLaunchLocked(s, in)
	if err != nil {
		c.unlock()
		return nil, err
	}
	var enis []*ENI
	for _, p := range plans {
		enis = append(enis, p.enis...)
	}
	// The instances count against the quota while their ENIs are made,
	// parked, without c.mu; the existing ENIs they attach wait in flight.
	// All is stored in one commit; each ENI moves into its instance when
	// it comes up.
	var kept []*ENI
	for _, p := range plans {
		for _, k := range p.kept {
			next := copyENI(k.eni)
			next.Attachment, next.Status = k.att, "in-use"
			kept = append(kept, &next)
		}
	}
	c.flyLocked(kept...)
	c.launching[s.Region] += len(plans)
	undo, err := c.makeENIsLocked(ctx, enis...)
	c.launching[s.Region] -= len(plans)
	c.landLocked(eniIDs(kept)...)
	if err != nil {
		c.unlock()
		return nil, err
	}
	// Landed: staged below, the ENIs are held by the transaction now.
	c.landLocked(eniIDs(enis)...)
	m := c.model()
	for _, e := range enis {
		m.enis.Put(e)
	}
	for _, p := range plans {
		m.instances.Put(p.inst)
		for _, k := range p.kept {
			e := edit(m.enis, k.eni.ID)
			e.Attachment, e.Status = k.att, "in-use"
		}
	}
	if err := c.commitLocked(); err != nil {
		// Nothing was stored; the new ENIs' veths go too.
		c.undoKernel(ctx, err, undo)
		c.unlock()
		return nil, err
	}
	out := make([]Instance, 0, len(plans))
	for _, p := range plans {
		out = append(out, c.copyInstanceLocked(p.inst))
	}
	c.unlock()
	for _, p := range plans {
		c.background(p.inst.ID, c.bringUp)
	}
	return out, nil
}

func checkRunInput(in *RunInstancesInput) error {
	if in.ImageID == "" {
		return missingParameter("ImageId")
	}
	if err := checkID("InvalidAMIID.Malformed", "ami", in.ImageID); err != nil && !strings.HasPrefix(in.ImageID, "ami-") {
		return err
	}
	if in.MinCount < 1 {
		return invalidValue("Value (%d) for parameter minCount is invalid. Expected a positive integer.", in.MinCount)
	}
	if in.MaxCount < in.MinCount {
		return invalidValue("Value (%d) for parameter maxCount is invalid. Expected a value greater than or equal to minCount.", in.MaxCount)
	}
	if in.InstanceType == "" {
		in.InstanceType = defaultInstanceType
	}
	if _, ok := LookupInstanceType(in.InstanceType); !ok {
		return invalidValue("Invalid value '%s' for InstanceType.", in.InstanceType)
	}
	if in.UserData != "" {
		raw, err := base64.StdEncoding.DecodeString(in.UserData)
		if err != nil {
			return invalidValue("Invalid BASE64 encoding of user data.")
		}
		if len(raw) > maxUserData {
			return invalidValue("User data is limited to %d bytes", maxUserData)
		}
	}
	if len(in.NetworkInterfaces) > 0 && (in.SubnetID != "" || len(in.SecurityGroupIDs) > 0 || len(in.SecurityGroupNames) > 0 || in.PrivateIPAddress != "") {
		return Errorf("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID, security groups or private IP address may not be specified on the same request")
	}
	for _, spec := range in.NetworkInterfaces {
		if spec.ENIID != "" && in.MaxCount > 1 {
			return Errorf("InvalidParameterCombination", "An existing network interface may only be attached when launching one instance")
		}
	}
	if in.PrivateIPAddress != "" && in.MaxCount > 1 {
		return Errorf("InvalidParameterCombination", "A private IP address may not be specified when launching more than one instance")
	}
	return nil
}

// planLaunchLocked validates everything a launch needs and plans as many
// instances as fit (at least MinCount), without changing the model.
func (c *Cloud) planLaunchLocked(s Scope, in RunInstancesInput) ([]launchPlan, error) {
	specs := in.NetworkInterfaces
	if len(specs) == 0 {
		specs = []InstanceENISpec{{SubnetID: in.SubnetID, PrivateIPAddress: in.PrivateIPAddress, Groups: in.SecurityGroupIDs}}
	}
	slices.SortFunc(specs, func(a, b InstanceENISpec) int { return a.DeviceIndex - b.DeviceIndex })
	if specs[0].DeviceIndex != 0 {
		return nil, invalidValue("Each network interface requires a device index, and the primary one index 0.")
	}
	typ, _ := LookupInstanceType(in.InstanceType)
	if len(specs) > typ.MaxENIs {
		return nil, Errorf("InvalidParameterValue", "The number of network interfaces exceeds the limit of %d for %s", typ.MaxENIs, typ.Name)
	}
	// Resolve the primary subnet: named, of the ENI given, or the default one.
	primarySub, err := c.launchSubnetLocked(s, in, specs[0])
	if err != nil {
		return nil, err
	}
	groups := specs[0].Groups
	if len(in.SecurityGroupNames) > 0 {
		for _, name := range in.SecurityGroupNames {
			g, err := c.groupLocked(s, GroupRef{Name: name})
			if err != nil {
				return nil, err
			}
			if g.VPCID != primarySub.VPCID {
				return nil, Errorf("InvalidParameterCombination", "The parameter groupName cannot be used with the parameter subnet")
			}
			groups = append(groups, g.ID)
		}
	}
	alive := c.launching[s.Region]
	for i := range c.allInstances() {
		if i.Region == s.Region && i.State != StateTerminated {
			alive++
		}
	}
	if err := c.checkQuota(quota.Instances, alive+in.MinCount); err != nil {
		return nil, err
	}
	in.MaxCount = min(in.MaxCount, c.quotas.Of(quota.Instances)-alive)
	// The ENIs each instance makes count against their own quota: as many
	// instances as they leave room for, at least MinCount (addENIsLocked
	// refuses the launch when those do not fit).
	if made := len(specs) - countExisting(specs); made > 0 {
		room := c.quotas.Of(quota.NetworkInterfaces) - countWhere(c.heldENIs(), func(e *ENI) bool { return e.Region == s.Region })
		in.MaxCount = max(in.MinCount, min(in.MaxCount, room/made))
	}
	reservation := newID("r")
	taken, planned := map[netip.Addr]bool{}, map[string]int{} // planned: new ENIs by subnet
	var plans []launchPlan
	for n := 0; n < in.MaxCount; n++ {
		p, err := c.planInstanceLocked(s, in, specs, primarySub, groups, taken, planned)
		if err != nil {
			if n >= in.MinCount && isInsufficient(err) {
				break
			}
			return nil, err
		}
		p.inst.ReservationID, p.inst.LaunchIndex = reservation, n
		plans = append(plans, p)
	}
	return plans, nil
}

// countExisting counts the specs that attach an existing ENI rather than make one.
func countExisting(specs []InstanceENISpec) int {
	n := 0
	for _, spec := range specs {
		if spec.ENIID != "" {
			n++
		}
	}
	return n
}

func isInsufficient(err error) bool {
	e, ok := AsAPIError(err)
	return ok && e.Code == "InsufficientFreeAddressesInSubnet"
}

func (c *Cloud) launchSubnetLocked(s Scope, in RunInstancesInput, primary InstanceENISpec) (*Subnet, error) {
	if primary.ENIID != "" {
		e, err := c.eniLocked(s, primary.ENIID)
		if err != nil {
			return nil, err
		}
		return c.subnet(e.SubnetID), nil
	}
	if primary.SubnetID != "" {
		sub, err := c.subnetLocked(s, primary.SubnetID)
		if err != nil {
			return nil, err
		}
		if in.AZ != "" && in.AZ != sub.AZ {
			return nil, invalidValue("Value (%s) for parameter availabilityZone is invalid. Subnet %s is in %s.", in.AZ, sub.ID, sub.AZ)
		}
		return sub, nil
	}
	for _, sub := range sortedBySeq(c.allSubnets(), func(v *Subnet) int64 { return v.Seq }) {
		if sub.Region == s.Region && sub.DefaultForAZ && (in.AZ == "" || in.AZ == sub.AZ) {
			return sub, nil
		}
	}
	return nil, Errorf("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
}

func (c *Cloud) planInstanceLocked(s Scope, in RunInstancesInput, specs []InstanceENISpec, primarySub *Subnet, groups []string, taken map[netip.Addr]bool, planned map[string]int) (launchPlan, error) {
	inst := &Instance{
		ID: newID("i"), Region: s.Region, OwnerID: c.account, ImageID: in.ImageID, Type: in.InstanceType,
		KeyName: in.KeyName, SubnetID: primarySub.ID, VPCID: primarySub.VPCID, AZ: primarySub.AZ,
		State: StatePending, LaunchTime: c.now().UTC().Truncate(time.Second), UserData: in.UserData,
		ClientToken: in.ClientToken, Tags: slices.Clone(in.Tags), Seq: c.nextSeq(),
	}
	var p launchPlan
	p.inst = inst
	for _, spec := range specs {
		att := &ENIAttachment{
			ID: newID("eni-attach"), InstanceID: inst.ID, InstanceOwnerID: c.account,
			DeviceIndex: spec.DeviceIndex, Status: "attaching", AttachTime: inst.LaunchTime,
		}
		if spec.ENIID != "" {
			e, err := c.eniLocked(s, spec.ENIID)
			if err != nil {
				return p, err
			}
			if e.Attachment != nil {
				return p, invalidValue("Interface: [%s] in use.", e.ID)
			}
			if e.AZ != inst.AZ || e.VPCID != inst.VPCID {
				return p, Errorf("InvalidParameterCombination", "The network interface %s is not in the same availability zone as the instance", e.ID)
			}
			att.DeleteOnTermination = spec.DeleteOnTermination != nil && *spec.DeleteOnTermination
			p.kept = append(p.kept, keptENI{eni: e, att: att})
			continue
		}
		sub := primarySub
		if spec.SubnetID != "" && spec.DeviceIndex != 0 {
			var err error
			if sub, err = c.subnetLocked(s, spec.SubnetID); err != nil {
				return p, err
			}
			if sub.AZ != inst.AZ {
				return p, Errorf("InvalidParameterCombination", "The subnet %s is not in the same availability zone as the instance", sub.ID)
			}
		}
		g := spec.Groups
		if spec.DeviceIndex == 0 {
			g = groups
		}
		req, err := c.planENILocked(s, sub, g, spec.PrivateIPAddress, nil, spec.SecondaryPrivateIPAddressCount, taken, planned[sub.ID])
		if err != nil {
			return p, err
		}
		planned[sub.ID]++
		req.description, req.tags = spec.Description, slices.Clone(in.ENITags)
		e := c.newENILocked(req)
		att.DeleteOnTermination = spec.DeleteOnTermination == nil || *spec.DeleteOnTermination
		e.Attachment, e.Status = att, "in-use"
		p.enis = append(p.enis, e)
	}
	return p, nil
}

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
	c.withoutLock(func() {
		err = c.dp.EnsureHost(ctx, id)
		for _, n := range nets {
			if err == nil {
				err = c.dp.EnsureENI(ctx, n)
			}
		}
	})
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
	for _, e := range c.attachedLocked(id) {
		edit(m.enis, e.ID).Attachment.Status = "attached"
	}
	if cerr := c.commitLocked(); cerr != nil {
		c.log.Error("store an instance that came up (the next start-up retries it)", "instance", id, "err", cerr)
		c.parkLocked(ctx, id)
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
	c.busyInstances[id] = true
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
			if terminating {
				e = edit(m.enis, e.ID)
				e.Attachment, e.Status = nil, "available"
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
	out.ENIs = nil
	for _, e := range c.attachedLocked(inst.ID) {
		out.ENIs = append(out.ENIs, copyENI(e))
	}
	return out
}

// resumeTransitions finishes what a previous run left between states.
func (c *Cloud) resumeTransitions() {
	c.mu.Lock()
	var up, down []string
	for inst := range c.allInstances() {
		switch inst.State {
		case StatePending:
			up = append(up, inst.ID)
		case StateStopping, StateShuttingDown:
			down = append(down, inst.ID)
		}
	}
	c.unlock()
	for _, id := range up {
		c.background(id, c.bringUp)
	}
	for _, id := range down {
		c.background(id, c.tearDown)
	}
}

// topologyLocked is the kernel state the whole model wants.
func (c *Cloud) topologyLocked() netmodel.Topology {
	var t netmodel.Topology
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		t.VPCs = append(t.VPCs, netVPC(v))
	}
	for _, s := range sortedBySeq(c.allSubnets(), func(v *Subnet) int64 { return v.Seq }) {
		t.Subnets = append(t.Subnets, netSubnet(s))
	}
	for _, i := range sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }) {
		if instanceUp(i.State) {
			t.Hosts = append(t.Hosts, i.ID)
		}
	}
	for _, e := range sortedBySeq(c.allENIs(), func(v *ENI) int64 { return v.Seq }) {
		n := c.netENILocked(e)
		if e.Host != "" && n.Host == e.Host {
			t.Hosts = append(t.Hosts, e.Host)
		}
		t.ENIs = append(t.ENIs, n)
	}
	for _, h := range sortedBySeq(c.model().hostClaims.All(), func(h *HostClaim) int64 { return h.Seq }) {
		t.Hosts = append(t.Hosts, h.Host)
	}
	return t
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
		var list []*Instance
		if len(ids) > 0 {
			var err error
			if list, err = c.instancesLocked(s, ids); err != nil {
				return nil, err
			}
		} else {
			list = inRegion(sortedBySeq(c.allInstances(), func(v *Instance) int64 { return v.Seq }), s, func(v *Instance) string { return v.Region })
		}
		return copies(list, nil, c.copyInstanceLocked)
	}, func(inst *Instance) []Tag { return inst.Tags }, c.instanceFilterLocked)
}

func (c *Cloud) instanceFilterLocked(inst *Instance, name string) ([]string, bool) {
	if field, ok := strings.CutPrefix(name, "network-interface."); ok {
		// Which fields exist does not depend on whether the instance has ENIs.
		switch field {
		case "addresses.private-ip-address":
			field = "private-ip-address"
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
	case "tenancy":
		return []string{"default"}, true
	case "launch-time":
		return []string{inst.LaunchTime.Format("2006-01-02T15:04:05.000Z")}, true
	case "client-token":
		return []string{inst.ClientToken}, true
	case "instance-lifecycle":
		return nil, true
	}
	return nil, false
}

// TerminateInstances shuts instances down; they answer shutting-down and become
// terminated once their namespace is gone.
func (c *Cloud) TerminateInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateTerminated, StateShuttingDown:
			return inst.State, nil
		}
		inst.StateReasonCode, inst.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
		inst.StateTransitionReason = "User initiated (" + c.now().UTC().Format("2006-01-02 15:04:05 MST") + ")"
		return StateShuttingDown, nil
	})
}

// StopInstances stops running instances: their processes end, their ENIs stay attached.
func (c *Cloud) StopInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateStopped, StateStopping:
			return inst.State, nil
		case StateRunning:
			inst.StateReasonCode, inst.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
			inst.StateTransitionReason = "User initiated (" + c.now().UTC().Format("2006-01-02 15:04:05 MST") + ")"
			return StateStopping, nil
		}
		return "", Errorf("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", inst.ID)
	})
}

// StartInstances starts stopped instances: pending, then running.
func (c *Cloud) StartInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateRunning, StatePending:
			return inst.State, nil
		case StateStopped:
			inst.StateReasonCode, inst.StateReasonMessage, inst.StateTransitionReason = "", "", ""
			return StatePending, nil
		}
		return "", Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", inst.ID)
	})
}

// changeStates moves every named instance to the state next gives it, all or
// nothing, then finishes each transition in the background.
func (c *Cloud) changeStates(ctx context.Context, s Scope, ids []string, next func(*Instance) (string, error)) ([]InstanceStateChange, error) {
	if len(ids) == 0 {
		return nil, missingParameter("InstanceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	c.waitIdleLocked(ids...) // a transition in flight finishes first
	list, err := c.instancesLocked(s, ids)
	if err != nil {
		c.unlock()
		return nil, err
	}
	var out []InstanceStateChange
	for _, inst := range list {
		prev := inst.State
		inst = edit(c.model().instances, inst.ID)
		state, err := next(inst)
		if err != nil {
			c.unlock()
			return nil, err
		}
		out = append(out, InstanceStateChange{InstanceID: inst.ID, PreviousState: prev, CurrentState: state})
		inst.State = state
	}
	if err := c.commitLocked(); err != nil {
		c.unlock()
		return nil, err
	}
	c.unlock()
	for i, ch := range out {
		if ch.PreviousState == ch.CurrentState {
			continue
		}
		switch ch.CurrentState {
		case StatePending:
			c.background(list[i].ID, c.bringUp)
		case StateStopping, StateShuttingDown:
			c.background(list[i].ID, c.tearDown)
		}
	}
	return out, nil
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

// AttachNetworkInterface attaches an available ENI to an instance at a device
// index; a running instance sees it at once as eth<index>.
func (c *Cloud) AttachNetworkInterface(ctx context.Context, s Scope, eniID, instanceID string, device int) (string, error) {
	switch {
	case eniID == "":
		return "", missingParameter("networkInterfaceId")
	case instanceID == "":
		return "", missingParameter("instanceId")
	case device < 0:
		return "", invalidValue("Value (%d) for parameter deviceIndex is invalid.", device)
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	c.waitIdleLocked(eniID, instanceID)
	e, err := c.eniLocked(s, eniID)
	if err != nil {
		return "", err
	}
	inst, err := c.instanceLocked(s, instanceID)
	if err != nil {
		return "", err
	}
	if e.Attachment != nil || e.Status != "available" {
		return "", invalidValue("Interface: [%s] in use.", e.ID)
	}
	if inst.State != StateRunning && inst.State != StateStopped {
		return "", Errorf("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	if e.AZ != inst.AZ {
		return "", invalidValue("The network interface %s and instance %s are in different availability zones.", e.ID, inst.ID)
	}
	if e.VPCID != inst.VPCID {
		return "", invalidValue("The network interface %s and instance %s are in different VPCs.", e.ID, inst.ID)
	}
	attached := c.attachingLocked(inst.ID)
	for _, other := range attached {
		if other.Attachment.DeviceIndex == device {
			return "", invalidValue("Instance '%s' already has an interface attached at device index '%d'.", inst.ID, device)
		}
	}
	if typ, ok := LookupInstanceType(inst.Type); ok && len(attached)+1 > typ.MaxENIs {
		return "", Errorf("AttachmentLimitExceeded", "Interface count %d exceeds the limit for %s", len(attached)+1, inst.Type)
	}
	next := copyENI(e)
	next.Attachment = &ENIAttachment{
		ID: newID("eni-attach"), InstanceID: inst.ID, InstanceOwnerID: c.account, DeviceIndex: device,
		Status: "attached", AttachTime: c.now().UTC().Truncate(time.Second),
	}
	next.Status = "in-use"
	// The instance is busy too: its namespace must not go while the ENI
	// moves in (tearDown waits).
	err = c.changeENILocked(ctx, &next, kernelStep{what: "move the ENI into the instance", busy: []string{inst.ID}, fault: fault.ENIAttachMoved}, func(e *ENI) {
		e.Attachment, e.Status = next.Attachment, next.Status
	})
	if err != nil {
		return "", err
	}
	return next.Attachment.ID, nil
}

// DetachNetworkInterface takes a secondary ENI out of its instance; it becomes available.
func (c *Cloud) DetachNetworkInterface(ctx context.Context, s Scope, attachmentID string, force bool) error {
	if attachmentID == "" {
		return missingParameter("attachmentId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	find := func() *ENI {
		for x := range c.allENIs() {
			if x.Region == s.Region && x.Attachment != nil && x.Attachment.ID == attachmentID {
				return x
			}
		}
		return nil
	}
	e := find()
	for e != nil && (c.busyLocked(e.ID) || c.busyLocked(e.Attachment.InstanceID)) {
		c.waitIdleLocked(e.ID, e.Attachment.InstanceID)
		e = find()
	}
	if e == nil {
		return Errorf("InvalidAttachmentID.NotFound", "The attachment ID '%s' does not exist", attachmentID)
	}
	if e.Attachment.DeviceIndex == 0 {
		return Errorf("OperationNotPermitted", "The network interface at device index 0 cannot be detached.")
	}
	if e.RequesterManaged {
		return Errorf("OperationNotPermitted", "You are not allowed to manage '%s' attachments.", attachmentID)
	}
	next := copyENI(e)
	next.Attachment, next.Status = nil, "available"
	return c.changeENILocked(ctx, &next, kernelStep{what: "take the ENI out of the instance", busy: []string{e.Attachment.InstanceID}}, func(e *ENI) {
		e.Attachment, e.Status = nil, "available"
	})
}
