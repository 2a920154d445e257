package hostnet

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// reconcileAddrs makes the link hold exactly want (IPv6 link-local addresses,
// which the kernel manages, are left alone). want[0] ends up the primary IPv4
// address: if the kernel has it as a secondary, all IPv4 addresses are re-added
// in order. Safe to call again.
func reconcileAddrs(h *netlink.Handle, link netlink.Link, want []netip.Prefix) error {
	name := link.Attrs().Name
	have, err := linkAddrs(h, link)
	if err != nil {
		return err
	}
	wanted := map[netip.Prefix]bool{}
	for _, p := range want {
		wanted[p] = true
	}
	reorder := false
	if len(want) > 0 && want[0].Addr().Is4() {
		if a, ok := have[want[0]]; ok && a.Flags&unix.IFA_F_SECONDARY != 0 {
			reorder = true
		}
	}
	for p, a := range have {
		if wanted[p] && !(reorder && p.Addr().Is4()) {
			continue
		}
		// Deleting a primary address may take its secondaries with it; they are
		// re-read below, so what is still wanted is added back.
		if err := h.AddrDel(link, &a); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete %s from %s: %w", p, name, err)
		}
	}
	have, err = linkAddrs(h, link)
	if err != nil {
		return err
	}
	var missing []netip.Prefix
	for _, p := range want {
		if _, ok := have[p]; !ok {
			missing = append(missing, p)
		}
	}
	return addAddrs(h, link, missing)
}

// addAddrs adds the addresses to the link, in order (the first IPv4 one
// added is the primary).
func addAddrs(h *netlink.Handle, link netlink.Link, want []netip.Prefix) error {
	for _, p := range want {
		a := &netlink.Addr{IPNet: prefixToIPNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD // no duplicates to detect in a namespace of our own
		}
		if err := h.AddrAdd(link, a); err != nil && !isExist(err) {
			return fmt.Errorf("add %s to %s: %w", p, link.Attrs().Name, err)
		}
	}
	return nil
}

// linkAddrs returns the link's addresses but IPv6 link-local ones.
func linkAddrs(h *netlink.Handle, link netlink.Link) (map[netip.Prefix]netlink.Addr, error) {
	addrs, err := addrList(h, link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	m := map[netip.Prefix]netlink.Addr{}
	for _, a := range addrs {
		p, ok := ipNetToPrefix(a.IPNet)
		if !ok || (p.Addr().Is6() && p.Addr().IsLinkLocalUnicast()) {
			continue
		}
		m[p] = a
	}
	return m, nil
}

// ensureDefaultRoute gives the namespace a default route of gw's family via
// gw on link (want), or removes that family's default routes through link
// (!want). Safe to call again.
func ensureDefaultRoute(h *netlink.Handle, link netlink.Link, gw netip.Addr, want bool) error {
	name := link.Attrs().Name
	family, dst := netlink.FAMILY_V4, &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
	if gw.Is6() {
		family, dst = netlink.FAMILY_V6, &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	}
	routes, err := routeList(h, link, family)
	if err != nil {
		return fmt.Errorf("list routes of %s: %w", name, err)
	}
	for _, r := range routes {
		if !isDefault(r) {
			continue
		}
		if want && r.Table == unix.RT_TABLE_MAIN && r.Gw != nil && r.Gw.Equal(net.IP(gw.AsSlice())) {
			return nil
		}
		if !want {
			if err := h.RouteDel(&r); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete default route of %s: %w", name, err)
			}
		}
	}
	if !want {
		return nil
	}
	r := &netlink.Route{
		LinkIndex: link.Attrs().Index,
		Dst:       dst,
		Gw:        net.IP(gw.AsSlice()),
	}
	if err := h.RouteReplace(r); err != nil {
		return fmt.Errorf("default route via %s on %s: %w", gw, name, err)
	}
	return nil
}

func isDefault(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

func setUp(h *netlink.Handle, l netlink.Link) error {
	if l.Attrs().Flags&net.FlagUp != 0 {
		return nil
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", l.Attrs().Name, err)
	}
	return nil
}

func setDown(h *netlink.Handle, l netlink.Link) error {
	if l.Attrs().Flags&net.FlagUp == 0 {
		return nil
	}
	if err := h.LinkSetDown(l); err != nil {
		return fmt.Errorf("set %s down: %w", l.Attrs().Name, err)
	}
	return nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}
