package hostnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A connected VPC (vpcsim connect) is reached from the host through a veth pair
// of vpcsim's own: vs-c<11 hex of the VPC ID> in the host's namespace, holding
// the VPC's connect address /32 and a route to the VPC's CIDR, and
// vs-r<11 hex> in the VPC's namespace, which routes to that address. The VPC
// namespace answers ARP on the host's behalf (proxy ARP), for the host's
// neighbours in the VPC and for the host itself. The link's alias is the VPC's
// namespace name, so `vpcsim down` of a prefix finds it; removing the VPC's
// namespace removes the pair with it.
const (
	connectHostPrefix = "vs-c"
	connectVPCPrefix  = "vs-r"
)

// ErrRouteOverlap is returned when connecting a VPC would take traffic away
// from a route the host already has.
var ErrRouteOverlap = errors.New("the VPC's CIDR overlaps a route of this machine")

func connectNames(vpcID string) (host, vpc string, err error) {
	h, err := idHex("vpc", vpcID)
	if err != nil {
		return "", "", err
	}
	return connectHostPrefix + h, connectVPCPrefix + h, nil
}

// ensureConnectLocked makes (addr valid) or removes (addr invalid) the host's
// link into the VPC's namespace vpcNS.
func (k *Kernel) ensureConnectLocked(vpcNS, vpcID string, cidr netip.Prefix, addr netip.Addr) error {
	hostName, vpcName, err := connectNames(vpcID)
	if err != nil {
		return err
	}
	existing, err := netlink.LinkByName(hostName)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("find %s: %w", hostName, err)
	}
	if !addr.IsValid() {
		if existing == nil {
			return nil
		}
		if err := netlink.LinkDel(existing); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s: %w", hostName, err)
		}
		return nil
	}
	if err := checkNoOverlap(cidr, hostName); err != nil {
		return err
	}
	c, err := k.connLocked(vpcNS)
	if err != nil {
		return err
	}
	if existing == nil {
		fd, err := openNetns(filepath.Join(netnsDir, vpcNS))
		if err != nil {
			return err
		}
		veth := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: hostName, Alias: vpcNS},
			PeerName:      vpcName,
			PeerNamespace: netlink.NsFd(fd),
		}
		err = netlink.LinkAdd(veth)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("create %s: %w", hostName, err)
		}
		if existing, err = netlink.LinkByName(hostName); err != nil {
			return fmt.Errorf("find %s: %w", hostName, err)
		}
		// Some kernels ignore the alias on creation.
		if existing.Attrs().Alias != vpcNS {
			if err := netlink.LinkSetAlias(existing, vpcNS); err != nil {
				return fmt.Errorf("alias %s: %w", hostName, err)
			}
		}
	}
	host32 := netip.PrefixFrom(addr, 32)
	if err := reconcileAddrs(&netlink.Handle{}, existing, []netip.Prefix{host32}); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(existing); err != nil {
		return fmt.Errorf("set %s up: %w", hostName, err)
	}
	src := net.IP(addr.AsSlice())
	if err := netlink.RouteReplace(&netlink.Route{LinkIndex: existing.Attrs().Index, Dst: prefixToIPNet(cidr), Src: src, Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("route %s via %s: %w", cidr, hostName, err)
	}

	peer, err := c.h.LinkByName(vpcName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", vpcName, vpcNS, err)
	}
	if err := c.h.LinkSetUp(peer); err != nil {
		return fmt.Errorf("set %s up: %w", vpcName, err)
	}
	if err := c.h.RouteReplace(&netlink.Route{LinkIndex: peer.Attrs().Index, Dst: prefixToIPNet(host32), Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("route %s in %s: %w", addr, vpcNS, err)
	}
	links, err := c.h.LinkList()
	if err != nil {
		return fmt.Errorf("list the links of %s: %w", vpcNS, err)
	}
	names := make([]string, 0, len(links))
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	return inNetns(filepath.Join(netnsDir, vpcNS), func() error {
		if err := writeSysctl("net/ipv4/conf/all/proxy_arp", "1"); err != nil {
			return err
		}
		return noProxyDelay(names...)
	})
}

// checkNoOverlap refuses a CIDR that overlaps any route of the host's own
// (any table, the default route aside) except the one through link mine.
func checkNoOverlap(cidr netip.Prefix, mine string) error {
	desc, err := overlappingHostRoute(cidr, mine)
	if err != nil || desc == "" {
		return err
	}
	return fmt.Errorf("%w: %s; connecting %s would take traffic away from it", ErrRouteOverlap, desc, cidr)
}

// overlappingHostRoute describes the first route of the host's own (any
// table, the default route aside) of cidr's family that overlaps cidr and
// does not go through link mine, as "DST dev LINK (table N)"; "" when there
// is none.
func overlappingHostRoute(cidr netip.Prefix, mine string) (string, error) {
	family := unix.AF_INET
	if cidr.Addr().Is6() {
		family = unix.AF_INET6
	}
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return "", fmt.Errorf("list the host's routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		dst, ok := ipNetToPrefix(r.Dst)
		if !ok || dst.Bits() == 0 || !dst.Overlaps(cidr) {
			continue
		}
		via := fmt.Sprintf("link %d", r.LinkIndex)
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			if l.Attrs().Name == mine {
				continue
			}
			via = l.Attrs().Name
		}
		return fmt.Sprintf("%s dev %s (table %d)", dst, via, r.Table), nil
	}
	return "", nil
}
