package vpcsim

import (
	"context"
	"fmt"
)

// ConnectVPC routes the machine itself into a VPC (vpcsim connect): it appears
// there at ConnectAddr, a source and destination that security groups judge
// like any other. The VPC is found by ID in any region. Connecting a connected
// VPC changes nothing; the dataplane refuses a CIDR the host already routes.
func (c *Cloud) ConnectVPC(ctx context.Context, vpcID string, connect bool) (VPC, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.vpcs[vpcID]
	if v == nil {
		return VPC{}, Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if connect {
		if err := c.checkConnectable(v.CIDR); err != nil {
			return VPC{}, err
		}
	}
	if v.Connected == connect {
		return copyVPC(v), c.dp.EnsureVPC(ctx, netVPC(v))
	}
	v.Connected = connect
	if err := c.dp.EnsureVPC(ctx, netVPC(v)); err != nil {
		v.Connected = !connect
		return VPC{}, c.undoKernel(ctx, err, func(ctx context.Context) error { return c.dp.EnsureVPC(ctx, netVPC(v)) })
	}
	var t Batch
	t.Put(kindVPC, v.ID, v)
	if err := c.commitLocked(&t); err != nil {
		return VPC{}, c.undoKernel(ctx, fmt.Errorf("connect %s: %w", vpcID, err), func(ctx context.Context) error { return c.dp.EnsureVPC(ctx, netVPC(c.vpcs[vpcID])) })
	}
	return copyVPC(v), nil
}

// disconnectRefusedLocked takes the machine out of connected VPCs whose range
// the operator no longer allows (a server started without --connect-public,
// or a VPC made before CreateVpc refused its range), before the kernel is
// made to match the model.
func (c *Cloud) disconnectRefusedLocked() {
	var t Batch
	for _, v := range sortedBySeq(c.vpcs, func(v *VPC) int64 { return v.Seq }) {
		if err := c.checkConnectable(v.CIDR); v.Connected && err != nil {
			c.log.Warn("disconnected: its range is not allowed", "vpc", v.ID, "cidr", v.CIDR, "why", err)
			v.Connected = false
			t.Put(kindVPC, v.ID, v)
		}
	}
	if len(t.Changes) == 0 {
		return
	}
	err := t.Err
	if err == nil {
		err = c.store.Apply(t.Changes)
	}
	if err != nil {
		c.log.Error("store the disconnections (the next start-up retries)", "err", err)
	}
}
