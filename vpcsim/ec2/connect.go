package ec2

import (
	"context"
	"fmt"
)

// ConnectVPC routes the machine itself into a VPC (vpcsim connect): it appears
// there at ConnectAddr, a source and destination that security groups judge
// like any other. The VPC is found by ID in any region. Connecting a connected
// VPC changes nothing; the dataplane refuses a CIDR the host already routes.
//
// It changes the VPC's namespace under c.mu (see reserve.go): it is an
// operator's command, run once per VPC and not by the API's clients, and
// under c.mu it needs no reservation against a DeleteVpc or another connect
// of the same VPC, nor a wait for a busy VPC.
func (c *Cloud) ConnectVPC(ctx context.Context, vpcID string, connect bool) (VPC, error) {
	c.mu.Lock()
	defer c.unlock()
	v := c.vpc(vpcID)
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
	committed := netVPC(v)
	v = edit(c.model().vpcs, vpcID)
	v.Connected = connect
	undo := func(ctx context.Context) error { return c.dp.EnsureVPC(ctx, committed) }
	if err := c.dp.EnsureVPC(ctx, netVPC(v)); err != nil {
		return VPC{}, c.undoKernel(ctx, err, undo)
	}
	if err := c.commitLocked(); err != nil {
		return VPC{}, c.undoKernel(ctx, fmt.Errorf("connect %s: %w", vpcID, err), undo)
	}
	return copyVPC(v), nil
}

// disconnectRefusedLocked takes the machine out of connected VPCs whose range
// the operator no longer allows (a server started without --connect-public,
// or a VPC made before CreateVpc refused its range). It only stages the
// change: New reads the start-up topology from it, then stores it.
func (c *Cloud) disconnectRefusedLocked() {
	for _, v := range sortedBySeq(c.allVPCs(), func(v *VPC) int64 { return v.Seq }) {
		if err := c.checkConnectable(v.CIDR); v.Connected && err != nil {
			c.log.Warn("disconnected: its range is not allowed", "vpc", v.ID, "cidr", v.CIDR, "why", err)
			edit(c.model().vpcs, v.ID).Connected = false
		}
	}
}
