package hostnet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Reconcile makes the kernel hold exactly want, as far as this Kernel's objects
// go: it ensures every VPC, subnet, host and ENI of want (in that order), then
// removes strays: namespaces named with this Kernel's prefix that want does not
// name, and, in each wanted VPC's namespace, vs-b/vs-e/vs-p links that want does
// not name. With want.KeepStrays it removes nothing; with want.KeepStrayHosts it
// keeps every namespace that is not a VPC's. It does not stop at the first error; it returns them all, joined.
// ENIs that failed are tried once more at the end, since one may have needed a
// device name that another (or a stray) still held. Safe to call again with the
// same want, which then changes nothing.
//
// With the default prefix "vs-" every vs-* namespace is this Kernel's: do not
// share a prefix between Kernels that want different things.
func (k *Kernel) Reconcile(ctx context.Context, want netmodel.Topology) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, v := range want.VPCs {
		add(k.EnsureVPC(ctx, v))
	}
	for _, s := range want.Subnets {
		add(k.EnsureSubnet(ctx, s))
	}
	for _, h := range want.Hosts {
		add(k.EnsureHost(ctx, h))
	}
	var failed []netmodel.NetENI
	for _, e := range want.ENIs {
		if err := k.EnsureENI(ctx, e); err != nil {
			failed = append(failed, e)
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if !want.KeepStrays {
		add(k.removeStrays(ctx, want))
	}
	for _, e := range failed {
		add(k.EnsureENI(ctx, e))
	}
	return errors.Join(errs...)
}

// removeStrays deletes what carries our names but is not in want.
func (k *Kernel) removeStrays(ctx context.Context, want netmodel.Topology) error {
	wantNS := map[string]bool{}
	wantLinks := map[string]map[string]bool{} // VPC namespace → link names
	for _, v := range want.VPCs {
		wantNS[k.prefix+v.ID] = true
		wantLinks[k.prefix+v.ID] = map[string]bool{}
	}
	for _, h := range want.Hosts {
		wantNS[k.prefix+h] = true
	}
	for _, s := range want.Subnets {
		if n, err := bridgeName(s.ID); err == nil && wantLinks[k.prefix+s.VPCID] != nil {
			wantLinks[k.prefix+s.VPCID][n] = true
		}
	}
	for _, e := range want.ENIs {
		if n, err := namesOfENI(e.ID); err == nil && wantLinks[k.prefix+e.VPCID] != nil {
			wantLinks[k.prefix+e.VPCID][n.bridgeEnd] = true
			wantLinks[k.prefix+e.VPCID][n.parked] = true
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	names, err := k.listOwnNetns()
	if err != nil {
		errs = append(errs, fmt.Errorf("list namespaces: %w", err))
	}
	for _, name := range names {
		if wantNS[name] || want.KeepStrayHosts && !strings.HasPrefix(name, k.prefix+"vpc-") {
			continue
		}
		k.log.Info("removing stray namespace", "netns", name)
		if vpcID, ok := strings.CutPrefix(name, k.prefix); ok && strings.HasPrefix(vpcID, "vpc-") {
			// A VPC's: the machine's routes to its IPv6 blocks go too, as
			// with DeleteVPC.
			if err := k.setHostRoutes6Locked(vpcID, nil); err != nil {
				errs = append(errs, fmt.Errorf("remove the machine's IPv6 routes of stray %s: %w", name, err))
			}
		}
		if err := k.removeNetnsLocked(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("remove stray namespace %s: %w", name, err))
		}
	}
	for ns, keep := range wantLinks {
		c, err := k.connLocked(ns)
		if err != nil {
			continue // EnsureVPC reported it
		}
		links, err := linkList(c.h)
		if err != nil {
			errs = append(errs, fmt.Errorf("list links in %s: %w", ns, err))
			continue
		}
		for _, l := range links {
			name := l.Attrs().Name
			if keep[name] || !(strings.HasPrefix(name, bridgePrefix) || strings.HasPrefix(name, bridgeEndPrefix) || strings.HasPrefix(name, parkedPrefix) || strings.HasPrefix(name, retiredPrefix)) {
				continue
			}
			k.log.Info("removing stray link", "netns", ns, "link", name)
			if err := c.h.LinkDel(l); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove stray link %s in %s: %w", name, ns, err))
			}
		}
	}
	return errors.Join(errs...)
}
