package ec2

import (
	"context"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
)

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
