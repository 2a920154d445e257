package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// EnsureVPC makes the VPC's namespace <prefix><vpc-id>: lo up, IPv4 forwarding on,
// bridged traffic through netfilter. Safe to call again; an existing namespace is
// kept and its settings repaired.
func (k *Kernel) EnsureVPC(ctx context.Context, v netmodel.NetVPC) error {
	name, err := k.nsName(v.ID)
	if err != nil {
		return fmt.Errorf("ensure VPC: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := k.ensureNetnsLocked(name); err != nil {
		return fmt.Errorf("ensure VPC %s: %w", v.ID, err)
	}
	if err := k.routerSysctlsLocked(filepath.Join(netnsDir, name)); err != nil {
		return fmt.Errorf("ensure VPC %s: %w", v.ID, err)
	}
	if err := k.ensureConnectLocked(name, v.ID, v.CIDR, v.Connect); err != nil {
		return fmt.Errorf("connect the host to VPC %s: %w", v.ID, err)
	}
	return nil
}

// DeleteVPC removes the VPC's namespace with everything in it: bridges, ENIs
// (also their ends inside hosts) and any process left inside, and the
// machine's routes to its IPv6 blocks. Missing is success.
func (k *Kernel) DeleteVPC(ctx context.Context, vpcID string) error {
	name, err := k.nsName(vpcID)
	if err != nil {
		return fmt.Errorf("delete VPC: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// The machine's routes to the VPC's IPv6 blocks (igw6.go) are the
	// host's, so they do not go with the namespace.
	if err := errors.Join(k.setHostRoutes6Locked(vpcID, nil), k.removeNetnsLocked(ctx, name)); err != nil {
		return fmt.Errorf("delete VPC %s: %w", vpcID, err)
	}
	return nil
}

// EnsureHost makes the namespace <prefix><host> of an instance or task, with lo
// up. Safe to call again.
func (k *Kernel) EnsureHost(ctx context.Context, host string) error {
	name, err := k.nsName(host)
	if err != nil {
		return fmt.Errorf("ensure host: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := k.ensureNetnsLocked(name); err != nil {
		return fmt.Errorf("ensure host %s: %w", host, err)
	}
	return nil
}

// DeleteHost SIGKILLs every process in the host's namespace, waits for them to
// exit, and removes the namespace. ENIs still attached are destroyed with it
// (park them first to keep them). Missing is success.
func (k *Kernel) DeleteHost(ctx context.Context, host string) error {
	name, err := k.nsName(host)
	if err != nil {
		return fmt.Errorf("delete host: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.removeNetnsLocked(ctx, name); err != nil {
		return fmt.Errorf("delete host %s: %w", host, err)
	}
	return nil
}

// ensureNetnsLocked makes the named namespace if needed and brings its lo up
// (a new namespace starts with lo down: even 127.0.0.1 would not work).
func (k *Kernel) ensureNetnsLocked(name string) error {
	created, err := createNetns(filepath.Join(netnsDir, name))
	if err != nil {
		return err
	}
	if created {
		k.log.Debug("created netns", "name", name)
	}
	c, err := k.connLocked(name)
	if err != nil {
		return err
	}
	lo, err := c.h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo in %s: %w", name, err)
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		if err := c.h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up in %s: %w", name, err)
		}
	}
	return nil
}
