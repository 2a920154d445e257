package hostnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// IPv6 to vpcsim's internet, which is this machine (internet.go). On AWS a
// VPC's IPv6 addresses are not translated: an internet gateway carries them
// both ways, an egress-only internet gateway out and back only. Here both
// are the VPC's one internet link (igw.go), carrying IPv6 untranslated
// beside the IPv4 it translates:
//
//	bridge <prefix>inet     also holds the machine's IPv6 address
//	                        2001:2:0:XXYY::1/64 (InternetAddr6): XX.YY are
//	                        the 2nd and 3rd bytes of its IPv4 one, so each
//	                        internet range has its own /64. 2001:2::/48 is
//	                        RFC 5180's benchmarking range, the IPv6 twin of
//	                        the RFC 2544 range vpcsim's IPv4 internet comes
//	                        from: not globally reachable, so never a real
//	                        network's, and no route of the machine leads
//	                        there but the bridge's own
//	host main table         <VPC IPv6 block> via fe80::<EUI-64 of vs-g's MAC>
//	                        dev <prefix>inet, per IPv6 block of each VPC
//	                        whose subnets route IPv6 to a gateway: how the
//	                        machine answers (and, through an internet
//	                        gateway, reaches) their addresses; refused for a
//	                        block that overlaps a route of the machine's own
//	vs-g<11 hex>            VPC netns: also its own link-local address,
//	                        fe80::<EUI-64 of its fixed MAC>/64, the machine's
//	                        next hop to the VPC
//	subnet tables           DEST via 2001:2:0:XXYY::1 dev vs-g… onlink, for a
//	                        RouteInternet or RouteEgressOnly IPv6 route
//	                        (routetables.go)
//
//	table ip6 vs-igw6 {     VPC netns, while the link is; replaced whole when it changes
//		chain forward {
//			type filter hook forward priority filter; policy accept;
//			iifname "vs-g…" ct state established,related accept
//			iifname "vs-g…" oifname "vs-b…" accept    per subnet with an IPv6 route to the internet gateway
//			iifname "vs-g…" drop
//			oifname "vs-g…" ip6 saddr <block> accept  per IPv6 block of the VPC
//			oifname "vs-g…" drop
//		}
//	}
//
// So a subnet whose IPv6 goes to the internet gateway takes connections
// from the internet, as on AWS; one whose goes to the egress-only gateway
// gets only the replies to its own (the conntrack of the VPC's namespace
// tells them); only the VPC's own IPv6 addresses go out. The machine keeps
// it all on itself: the host table takes from the bridge only what is
// addressed to the machine's two addresses and neighbour discovery, and its
// forward rules, which name interfaces only, fence IPv6 as they fence IPv4
// (with --internet-egress too: only IPv4 goes beyond the machine). One
// VPC's IPv6 does not reach another's through the internet unless the
// machine itself forwards IPv6 (its own setting, which vpcsim leaves
// alone). The link is there while the VPC has an internet link for IPv4
// (Routing.Internet) or some subnet routes IPv6 to an internet or
// egress-only gateway (the domain names those targets only while the
// gateway exists, as for IPv4).
const igw6TableName = "vs-igw6"

// internet6Block is where the machine's IPv6 internet addresses come from.
var internet6Block = netip.MustParsePrefix("2001:2::/48")

// MachineAddr6 is the machine's IPv6 address on vpcsim's internet for its
// IPv4 one there (see above): what a test reaches the machine at.
func MachineAddr6(machine netip.Addr) netip.Addr {
	a4, a := machine.As4(), internet6Block.Addr().As16()
	a[6], a[7], a[15] = a4[1], a4[2], 1
	return netip.AddrFrom16(a)
}

// InternetAddr6 returns the machine's IPv6 address on vpcsim's internet:
// instances whose subnets route IPv6 to an internet or egress-only gateway
// reach the machine at it.
func (k *Kernel) InternetAddr6() netip.Addr { return MachineAddr6(k.InternetAddr()) }

// internet6Prefix is the machine's IPv6 address with its /64, as the bridge
// holds it.
func (k *Kernel) internet6Prefix() netip.Prefix { return netip.PrefixFrom(k.InternetAddr6(), 64) }

// linkLocalOf is the EUI-64 link-local address of a MAC (RFC 4291).
func linkLocalOf(mac net.HardwareAddr) netip.Addr {
	a := [16]byte{0: 0xfe, 1: 0x80, 11: 0xff, 12: 0xfe}
	copy(a[8:11], mac[0:3])
	copy(a[13:16], mac[3:6])
	a[8] ^= 0x02
	return netip.AddrFrom16(a)
}

// internet6Used reports whether some subnet of r routes IPv6 to an internet
// or egress-only gateway, while the VPC has IPv6: the link must carry IPv6.
func internet6Used(r netmodel.Routing) bool {
	return len(r.IPv6) > 0 && slices.ContainsFunc(r.Subnets, func(s netmodel.SubnetRouting) bool {
		return slices.ContainsFunc(s.Routes, isInternet6Route)
	})
}

func isInternet6Route(rt netmodel.Route) bool {
	return rt.Dest.Addr().Is6() && (rt.Target == netmodel.RouteInternet || rt.Target == netmodel.RouteEgressOnly)
}

// publicBridges6 are the bridges of r's subnets that route IPv6 to the
// internet gateway: the internet may open connections to them.
func publicBridges6(r netmodel.Routing) []string {
	var out []string
	for _, s := range r.Subnets {
		name, err := bridgeName(s.SubnetID)
		if err != nil || slices.Contains(out, name) {
			continue
		}
		if slices.ContainsFunc(s.Routes, func(rt netmodel.Route) bool {
			return rt.Dest.Addr().Is6() && rt.Target == netmodel.RouteInternet
		}) {
			out = append(out, name)
		}
	}
	return out
}

// igw6Spec is the VPC's vs-igw6 table for its link end link, its IPv6
// blocks and the bridges the internet may open connections to (see above).
func igw6Spec(link string, blocks []netip.Prefix, public []string) *nftSpec {
	t := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: igw6TableName}
	policy := nftables.ChainPolicyAccept
	iif, oif := "iifname "+link+" ", "oifname "+link+" "
	rule := func(comment string, key expr.MetaKey, rest ...[]expr.Any) nftRule {
		return nftRule{comment, func() []expr.Any {
			return slices.Concat(append([][]expr.Any{ifname(key, expr.CmpOpEq, link)}, rest...)...)
		}}
	}
	accept, drop := []expr.Any{verdict(expr.VerdictAccept)}, []expr.Any{verdict(expr.VerdictDrop)}
	rules := []nftRule{rule(iif+"ct state established,related accept", expr.MetaKeyIIFNAME, ctStateIn(ctEstablishedRelated), accept)}
	for _, br := range public {
		rules = append(rules, rule(iif+"oifname "+br+" accept", expr.MetaKeyIIFNAME, ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, br), accept))
	}
	rules = append(rules, rule(iif+"drop", expr.MetaKeyIIFNAME, drop))
	for _, b := range blocks {
		rules = append(rules, rule(oif+"ip6 saddr "+b.String()+" accept", expr.MetaKeyOIFNAME, addrIn(ip6HdrSaddr, b), accept))
	}
	rules = append(rules, rule(oif+"drop", expr.MetaKeyOIFNAME, drop))
	return &nftSpec{table: t, chains: []nftChain{{
		chain: &nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &policy},
		rules: rules,
	}}}
}

// ensureGateway6Locked makes the IPv6 side of the VPC's internet link
// vpcEnd (see above): its vs-igw6 table, always; with use, its link-local
// next hop, the machine's IPv6 address and a host route per IPv6 block of
// r; without, no host route to the VPC. What r newly restricts (the table)
// comes before what it newly opens (the routes).
func (k *Kernel) ensureGateway6Locked(c *nsConn, r netmodel.Routing, vpcEnd netlink.Link, use bool) error {
	name := vpcEnd.Attrs().Name
	if !use {
		if err := applyNFTSpec(c, igw6Spec(name, nil, nil)); err != nil {
			return err
		}
		return k.setHostRoutes6Locked(r.VPCID, nil)
	}
	if err := applyNFTSpec(c, igw6Spec(name, r.IPv6, publicBridges6(r))); err != nil {
		return err
	}
	nextHop := netip.PrefixFrom(linkLocalOf(vpcEnd.Attrs().HardwareAddr), 64)
	addrs, err := addrList(c.h, vpcEnd, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("list the addresses of %s in %s: %w", name, c.name, err)
	}
	if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool {
		p, _ := ipNetToPrefix(a.IPNet)
		return p == nextHop && a.Flags&unix.IFA_F_TENTATIVE == 0
	}) {
		if err := c.h.AddrReplace(vpcEnd, &netlink.Addr{IPNet: prefixToIPNet(nextHop), Flags: unix.IFA_F_NODAD}); err != nil {
			return fmt.Errorf("add %s to %s in %s: %w", nextHop, name, c.name, err)
		}
	}
	brName, _, err := k.internetNames()
	if err != nil {
		return err
	}
	br, err := netlink.LinkByName(brName)
	if err != nil {
		return fmt.Errorf("find %s: %w", brName, err)
	}
	if have, err := linkAddrs(&netlink.Handle{}, br); err != nil {
		return err
	} else if _, ok := have[k.internet6Prefix()]; !ok {
		return fmt.Errorf("%s does not hold the machine's IPv6 address %s (IPv6 disabled on the machine?)", brName, k.internet6Prefix())
	}
	return k.setHostRoutes6Locked(r.VPCID, r.IPv6)
}

// setHostRoutes6Locked makes the machine's routes to the VPC's IPv6 blocks
// exactly blocks, each via the VPC end's link-local address on the internet
// bridge; a block that overlaps a route of the machine's own is refused.
// Without the bridge there are none to remove.
func (k *Kernel) setHostRoutes6Locked(vpcID string, blocks []netip.Prefix) error {
	brName, _, err := k.internetNames()
	if err != nil && len(blocks) == 0 {
		return nil // no bridge could be
	}
	if err != nil {
		return err
	}
	h := &netlink.Handle{} // the host's namespace
	br, err := h.LinkByName(brName)
	if isNotFound(err) && len(blocks) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", brName, err)
	}
	gw := linkLocalOf(internetMAC(vpcID))
	routes, err := routeList(h, br, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("list the routes of %s: %w", brName, err)
	}
	have := map[netip.Prefix]netlink.Route{}
	var errs []error
	for _, rt := range routes {
		dst, ok := ipNetToPrefix(rt.Dst)
		if a, _ := netip.AddrFromSlice(rt.Gw); !ok || a != gw {
			if ok && slices.Contains(blocks, dst) {
				errs = append(errs, fmt.Errorf("IPv6 block %s is routed to another VPC on %s", dst, brName))
				blocks = slices.DeleteFunc(slices.Clone(blocks), func(b netip.Prefix) bool { return b == dst })
			}
			continue
		}
		have[dst] = rt
	}
	for _, b := range blocks {
		if _, ok := have[b]; ok {
			continue
		}
		if desc, err := overlappingHostRoute(b, brName); err != nil || desc != "" {
			errs = append(errs, errors.Join(err, fmt.Errorf("%w: %s; IPv6 block %s is not routed to the VPC", ErrRouteOverlap, desc, b)))
			continue
		}
		rt := &netlink.Route{LinkIndex: br.Attrs().Index, Dst: prefixToIPNet(b), Gw: gw.AsSlice()}
		if err := h.RouteReplace(rt); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s dev %s: %w", b, gw, brName, err))
		}
	}
	for dst, rt := range have {
		if !slices.Contains(blocks, dst) {
			if err := h.RouteDel(&rt); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("delete route %s via %s dev %s: %w", dst, gw, brName, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ICMPv6 types of neighbour discovery (RFC 4861).
const (
	ndNeighborSolicit = 135
	ndNeighborAdvert  = 136
)

// ndAccept: iifname BR icmpv6 type NAME accept.
func ndAccept(brName, name string, typ byte) nftRule {
	return nftRule{fmt.Sprintf("iifname %s icmpv6 type %s accept", brName, name), func() []expr.Any {
		return slices.Concat(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, brName), familyIs(false), l4protoIs(unix.IPPROTO_ICMPV6),
			transportByteIs(0, typ), []expr.Any{verdict(expr.VerdictAccept)})
	}}
}
