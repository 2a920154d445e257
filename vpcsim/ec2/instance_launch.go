package ec2

import (
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// defaultInstanceType is what RunInstances launches when no type is named, as EC2 does.
const defaultInstanceType = "m1.small"

// maxUserData is EC2's limit on decoded user data.
const maxUserData = 16384

// checkUserData applies EC2's rules to user data (base64, as given).
func checkUserData(v string) error {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return invalidValue("Invalid BASE64 encoding of user data.")
	}
	if len(raw) > maxUserData {
		return invalidValue("User data is limited to %d bytes", maxUserData)
	}
	return nil
}

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
	if in.LaunchTemplate != nil {
		// A version never changes: what it gives is read once, under the
		// lock, and the launch goes on with it as if the request gave it.
		if err := c.lock(ctx, s); err != nil {
			return nil, err
		}
		var err error
		in, err = c.fromLaunchTemplateLocked(s, in)
		c.unlock()
		if err != nil {
			return nil, err
		}
	}
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
	if in.KeyName != "" && c.keyPairNamedLocked(s, in.KeyName) == nil {
		c.unlock()
		return nil, keyPairNotFound(in.KeyName)
	}
	if c.imageCheck {
		if _, err := c.imageLocked(s, in.ImageID); err != nil {
			c.unlock()
			return nil, err
		}
	}
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
	t, ok := LookupInstanceType(in.InstanceType)
	if !ok {
		return invalidValue("Invalid value '%s' for InstanceType.", in.InstanceType)
	}
	if err := checkArchitecture(t); err != nil {
		return err
	}
	if err := checkUserData(in.UserData); err != nil {
		return err
	}
	for _, tags := range [][]Tag{in.Tags, in.VolumeTags, in.ENITags} {
		if err := checkTags(tags); err != nil {
			return err
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
	if in.MaxCount > 1 && (len(in.IPv6Addresses) > 0 || slices.ContainsFunc(in.NetworkInterfaces, func(s InstanceENISpec) bool { return len(s.IPv6Addresses) > 0 })) {
		// (unverified) the message, made like the private address's.
		return Errorf("InvalidParameterCombination", "IPv6 addresses may not be specified when launching more than one instance")
	}
	return nil
}

// planLaunchLocked validates everything a launch needs and plans as many
// instances as fit (at least MinCount), without changing the model.
func (c *Cloud) planLaunchLocked(s Scope, in RunInstancesInput) ([]launchPlan, error) {
	specs := in.NetworkInterfaces
	if len(specs) == 0 {
		specs = []InstanceENISpec{{SubnetID: in.SubnetID, PrivateIPAddress: in.PrivateIPAddress, Groups: in.SecurityGroupIDs,
			IPv6Count: in.IPv6Count, IPv6Addresses: in.IPv6Addresses}}
	}
	slices.SortFunc(specs, func(a, b InstanceENISpec) int { return a.DeviceIndex - b.DeviceIndex })
	if specs[0].DeviceIndex != 0 {
		return nil, invalidValue("Each network interface requires a device index, and the primary one index 0.")
	}
	if err := checkPublicIPSpecs(specs); err != nil {
		return nil, err
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
	if err := refuseIPv6Only(primarySub, "instances"); err != nil {
		return launchPlan{}, err
	}
	inst := &Instance{
		ID: newID("i"), Region: s.Region, OwnerID: c.account, ImageID: in.ImageID, Type: in.InstanceType,
		KeyName: in.KeyName, SubnetID: primarySub.ID, VPCID: primarySub.VPCID, AZ: primarySub.AZ,
		State: StatePending, LaunchTime: c.now().UTC().Truncate(time.Second), UserData: in.UserData,
		ClientToken: in.ClientToken, Tags: append(slices.Clone(in.Tags), in.systemTags...), Seq: c.nextSeq(),
	}
	var p launchPlan
	var err error
	if inst.Settings, err = settingsFor(c.account, in.InstanceType, in.Settings); err != nil {
		return p, err
	}
	if im, err := c.imageLocked(s, in.ImageID); err == nil { // a made-up image keeps the defaults
		inst.Settings.NoENA, inst.Settings.SriovNetSupport = !im.EnaSupport, im.SriovNetSupport
	}
	if inst.Volumes, err = volumesFor(in.BlockDevices, inst.LaunchTime); err != nil {
		return p, err
	}
	for i := range inst.Volumes {
		inst.Volumes[i].Tags = slices.Clone(in.VolumeTags)
	}
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
		if req.ipv6, err = c.pickIPv6Locked(sub, autoIPv6(sub, spec.IPv6Count, spec.IPv6Addresses, false), spec.IPv6Addresses, taken); err != nil {
			return p, err
		}
		req.description, req.tags = spec.Description, slices.Clone(in.ENITags)
		e := c.newENILocked(req)
		if spec.DeviceIndex == 0 && len(specs) == 1 && wantsPublicIP(spec, sub) {
			if e.PrivateIPs[0].Public, err = c.allocPublicLocked(taken); err != nil {
				return p, err
			}
			e.AutoPublic = true
		}
		att.DeleteOnTermination = spec.DeleteOnTermination == nil || *spec.DeleteOnTermination
		e.Attachment, e.Status = att, "in-use"
		p.enis = append(p.enis, e)
	}
	return p, nil
}

// checkPublicIPSpecs refuses AssociatePublicIpAddress where EC2 does: it is
// for one new primary ENI alone.
func checkPublicIPSpecs(specs []InstanceENISpec) error {
	for _, spec := range specs {
		switch {
		case spec.AssociatePublicIP == nil:
		case spec.DeviceIndex != 0:
			return invalidValue("The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.")
		case spec.ENIID != "" && *spec.AssociatePublicIP:
			return invalidValue("The associatePublicIPAddress parameter cannot be specified for an existing network interface.")
		case len(specs) > 1 && *spec.AssociatePublicIP:
			return invalidValue("The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.")
		}
	}
	return nil
}

// wantsPublicIP says whether a new primary ENI gets a public address: as
// asked, or as its subnet's MapPublicIpOnLaunch says.
func wantsPublicIP(spec InstanceENISpec, sub *Subnet) bool {
	if spec.AssociatePublicIP != nil {
		return *spec.AssociatePublicIP
	}
	return sub.MapPublicIPOnLaunch
}
