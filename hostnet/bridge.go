package hostnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/vishvananda/netlink"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// EnsureSubnet makes the subnet's bridge vs-b<11 hex> in its VPC's namespace, up,
// holding exactly the router addresses s.Gateway (e.g. 10.0.1.1/24) and
// s.Gateway6 (e.g. fd5e:1:2:300::1/64), whichever the subnet has. The VPC must
// have been ensured. Safe to call again; a bridge that drifted is repaired.
func (k *Kernel) EnsureSubnet(ctx context.Context, s netmodel.NetSubnet) error {
	brName, err := bridgeName(s.ID)
	if err != nil {
		return fmt.Errorf("ensure subnet: %w", err)
	}
	vpcNS, err := k.nsName(s.VPCID)
	if err != nil {
		return fmt.Errorf("ensure subnet %s: %w", s.ID, err)
	}
	var routers []netip.Prefix
	if s.Gateway.IsValid() {
		if !s.Gateway.Addr().Is4() {
			return fmt.Errorf("ensure subnet %s: gateway %v is not IPv4", s.ID, s.Gateway)
		}
		routers = append(routers, s.Gateway)
	}
	if s.Gateway6.IsValid() {
		if !s.Gateway6.Addr().Is6() || s.Gateway6.Addr().Is4In6() {
			return fmt.Errorf("ensure subnet %s: IPv6 gateway %v is not IPv6", s.ID, s.Gateway6)
		}
		routers = append(routers, s.Gateway6)
	}
	if len(routers) == 0 {
		return fmt.Errorf("ensure subnet %s: no gateway address", s.ID)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := k.connLocked(vpcNS)
	if err != nil {
		return fmt.Errorf("ensure subnet %s: VPC %s: %w", s.ID, s.VPCID, err)
	}
	br, err := ensureBridge(c.h, brName, bridgeMAC(s.ID))
	if err != nil {
		return fmt.Errorf("ensure subnet %s: %w", s.ID, err)
	}
	if err := reconcileAddrs(c.h, br, routers); err != nil {
		return fmt.Errorf("ensure subnet %s: %w", s.ID, err)
	}
	if err := setUp(c.h, br); err != nil {
		return fmt.Errorf("ensure subnet %s: %w", s.ID, err)
	}
	// The bridge answers ARP for a connected host's address in its subnet.
	if err := inNetns(filepath.Join(netnsDir, vpcNS), func() error { return noProxyDelay(brName) }); err != nil {
		return fmt.Errorf("ensure subnet %s: %w", s.ID, err)
	}
	return nil
}

// DeleteSubnet deletes the subnet's bridge. Its ports (ENIs) stay, detached from
// any bridge. Missing bridge or VPC is success.
func (k *Kernel) DeleteSubnet(ctx context.Context, s netmodel.NetSubnet) error {
	brName, err := bridgeName(s.ID)
	if err != nil {
		return fmt.Errorf("delete subnet: %w", err)
	}
	vpcNS, err := k.nsName(s.VPCID)
	if err != nil {
		return fmt.Errorf("delete subnet %s: %w", s.ID, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	c, err := k.connLocked(vpcNS)
	if errors.Is(err, errNoNetns) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete subnet %s: %w", s.ID, err)
	}
	if err := deleteLinkByName(c.h, brName); err != nil {
		return fmt.Errorf("delete subnet %s: %w", s.ID, err)
	}
	return nil
}

// ensureBridge returns the bridge called name, making it if needed, with the
// given MAC. A link of that name that is not a bridge is ours (vs- prefix) and is
// replaced.
func ensureBridge(h *netlink.Handle, name string, mac net.HardwareAddr) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	missing := isNotFound(err)
	if err == nil && l.Type() != "bridge" {
		if err := h.LinkDel(l); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("delete %s (a %s, not a bridge): %w", name, l.Type(), err)
		}
		missing = true
	}
	if missing {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: mac}}
		if err := h.LinkAdd(br); err != nil && !isExist(err) {
			return nil, fmt.Errorf("add bridge %s: %w", name, err)
		}
		// Re-fetch whether we made it or someone raced us (EEXIST), and check.
		l, err = h.LinkByName(name)
		if err == nil && l.Type() != "bridge" {
			return nil, fmt.Errorf("%s exists and is a %s, not a bridge", name, l.Type())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", name, err)
	}
	if !bytes.Equal(l.Attrs().HardwareAddr, mac) {
		if err := h.LinkSetHardwareAddr(l, mac); err != nil {
			return nil, fmt.Errorf("set MAC of %s: %w", name, err)
		}
	}
	return l, nil
}

// deleteLinkByName deletes a link; missing is success. Deleting either end of a
// veth pair deletes both, wherever the other end is.
func deleteLinkByName(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
