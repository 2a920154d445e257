package hostnet

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
)

// vpcsim's internet is this machine (DESIGN.md, "The dataplane"): public and
// Elastic IPs come from a range reserved for testing, by default 198.18.0.0/15
// (RFC 2544, never routed on the internet), and the machine holds the range's
// first host address on a bridge of vpcsim's own in the host's namespace:
//
//	bridge <prefix>inet      up, fixed MAC, holding 198.18.0.1/15: its
//	                         connected route is how the host reaches public
//	                         addresses; each VPC with an internet gateway
//	                         has a port on it (igw.go), so VPCs reach each
//	                         other's public addresses over it. It holds the
//	                         machine's IPv6 address too, 2001:2:0:1200::1/64,
//	                         and takes no router advertisements (igw6.go)
//	table inet <prefix>internet {
//		chain forward {
//			type filter hook forward priority filter; policy accept;
//			iifname "<prefix>inet" oifname != "<prefix>inet" drop
//			oifname "<prefix>inet" iifname != "<prefix>inet" drop
//		}
//		chain input {
//			type filter hook input priority filter; policy accept;
//			iifname "<prefix>inet" ip daddr 198.18.0.1 accept
//			iifname "<prefix>inet" ip6 daddr 2001:2:0:1200::1 accept
//			iifname "<prefix>inet" icmpv6 type nd-neighbor-solicit accept
//			iifname "<prefix>inet" icmpv6 type nd-neighbor-advert accept
//			iifname "<prefix>inet" drop
//		}
//	}
//
// The table keeps the machine from ever routing VPC traffic off the machine,
// or anything into the VPCs, even where the operator has ip_forward=1: the
// bridge exists only while the table does. Frames between two ports of the
// bridge (one VPC to another) stay allowed: with br_netfilter they pass the
// forward hook in and out of the bridge itself. Both are shared by the VPCs
// and stay until `vpcsim down`, which removes them with everything named
// <prefix>….

// DefaultInternet is the range of vpcsim's internet unless WithInternet says
// otherwise.
var DefaultInternet = netip.MustParsePrefix("198.18.0.0/15")

// ErrInternetOverlap is returned when the machine already routes some of the
// internet range elsewhere: vpcsim's internet would take that traffic away.
var ErrInternetOverlap = errors.New("vpcsim's internet range overlaps a route of this machine")

// WithInternet sets the range of vpcsim's internet (default DefaultInternet):
// an IPv4 prefix, masked, at most /24 long. Public addresses come from it and
// the machine holds its first host address. Kernels that run at once (tests,
// two servers) need ranges that do not overlap.
func WithInternet(p netip.Prefix) Option {
	return func(k *Kernel) error {
		if !p.IsValid() || !p.Addr().Is4() {
			return fmt.Errorf("internet range %v is not an IPv4 prefix", p)
		}
		if p.Bits() > 24 {
			return fmt.Errorf("internet range %v is smaller than a /24", p)
		}
		if p != p.Masked() {
			return fmt.Errorf("internet range %v has host bits set (%v?)", p, p.Masked())
		}
		k.internet = p
		return nil
	}
}

// WithInternetEgress lets the VPCs' traffic beyond the machine out, through
// the machine's own routes, masqueraded behind its address; it turns the
// machine's IPv4 forwarding on. Off by default: an operator's choice, never
// a test's.
func WithInternetEgress() Option {
	return func(k *Kernel) error {
		k.egress = true
		return nil
	}
}

// Internet returns the range of vpcsim's internet.
func (k *Kernel) Internet() netip.Prefix { return k.internet }

// InternetAddr returns the machine's address on vpcsim's internet: the first
// host address of the range (198.18.0.1 by default). It is not a public
// address any VPC may have; instances reach the machine at it.
func (k *Kernel) InternetAddr() netip.Addr { return k.internet.Addr().Next() }

// internetNames returns the names of the internet bridge and of its host table.
func (k *Kernel) internetNames() (bridge, table string, err error) {
	bridge = k.prefix + "inet"
	if len(bridge) > 15 {
		return "", "", fmt.Errorf("prefix %q is too long for the internet bridge's name %q (15 characters at most)", k.prefix, bridge)
	}
	return bridge, k.prefix + "internet", nil
}

// EnsureInternet makes vpcsim's internet on this machine: the host table that
// keeps it on the machine, then the bridge holding InternetAddr. SetRouting
// makes them when a VPC first needs them; calling this at start-up fails
// early instead, with an error wrapping ErrInternetOverlap when the machine
// already routes part of the range. Safe to call again; what drifted is
// repaired.
func (k *Kernel) EnsureInternet(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := k.ensureInternetLocked(); err != nil {
		return fmt.Errorf("ensure vpcsim's internet %s: %w", k.internet, err)
	}
	return nil
}

// ensureInternetLocked makes the host table, then the bridge, and returns the
// bridge. Only a bridge that does not hold the range yet is checked against
// the host's routes (a dump of them all, which may be long): once it does,
// the range's route is its own.
func (k *Kernel) ensureInternetLocked() (netlink.Link, error) {
	brName, tableName, err := k.internetNames()
	if err != nil {
		return nil, err
	}
	h := &netlink.Handle{} // the host's namespace
	existing, err := h.LinkByName(brName)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("find %s: %w", brName, err)
	}
	addr := netip.PrefixFrom(k.InternetAddr(), k.internet.Bits())
	check := existing == nil
	if existing != nil {
		// A bridge made for another range (an earlier run's) is checked
		// like a new one.
		have, err := linkAddrs(h, existing)
		if err != nil {
			return nil, err
		}
		_, ok := have[addr]
		check = !ok
	}
	if check {
		desc, err := overlappingHostRoute(k.internet, brName)
		if err != nil {
			return nil, err
		}
		if desc != "" {
			return nil, fmt.Errorf("%w: %s; vpcsim's internet %s would take traffic away from it (choose another range)", ErrInternetOverlap, desc, k.internet)
		}
	}
	if err := ensureHostInternetTable(tableName, brName, k.InternetAddr(), k.egress); err != nil {
		err = fmt.Errorf("host nftables table %s: %w", tableName, err)
		if existing != nil {
			// Without the table the bridge could carry VPC traffic off the
			// machine: it goes.
			if derr := h.LinkDel(existing); derr != nil && !isNotFound(derr) {
				err = errors.Join(err, fmt.Errorf("remove %s: %w", brName, derr))
			}
		}
		return nil, err
	}
	if k.egress {
		// The operator asked for it: the machine forwards what the VPCs send
		// beyond it (its own firewall still applies).
		if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
			return nil, fmt.Errorf("turn on the machine's forwarding for --internet-egress: %w", err)
		}
	}
	br, err := ensureBridge(h, brName, internetMAC(brName))
	if err != nil {
		return nil, err
	}
	// The machine's IPv6 address too (igw6.go), taking no router
	// advertisements; a machine without IPv6 keeps the IPv4 side, and the
	// VPCs' IPv6 routes to the internet stay blackholes.
	err = writeSysctl("net/ipv6/conf/"+brName+"/accept_ra", "0")
	if err == nil {
		err = reconcileAddrs(h, br, []netip.Prefix{addr, k.internet6Prefix()})
	}
	if err != nil {
		k.log.Warn("no IPv6 on vpcsim's internet", "bridge", brName, "err", err)
		if err := reconcileAddrs(h, br, []netip.Prefix{addr}); err != nil {
			return nil, err
		}
	}
	if err := setUp(h, br); err != nil {
		return nil, err
	}
	return br, nil
}

// hostInternetSpec is the host table that keeps vpcsim's internet on the
// machine (see above), and keeps the machine's other addresses (its LAN's,
// docker's, its IPv6 link-local ones) out of the VPCs' reach: what comes in
// from the bridge is taken only for the machine's addresses on it, of both
// families (igw6.go), and neighbour discovery, without which IPv6 finds no
// neighbour on the bridge. With
// egress (serve --internet-egress, the operator's choice), what the VPCs
// send beyond the machine is forwarded and masqueraded behind the machine's
// own address, and only its replies come back.
func hostInternetSpec(tableName, brName string, machine netip.Addr, egress bool) *nftSpec {
	machine6 := MachineAddr6(machine)
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: tableName}
	accept := nftables.ChainPolicyAccept
	fwd := &nftables.Chain{
		Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	}
	crossing := func(in, out expr.MetaKey, then ...[]expr.Any) func() []expr.Any {
		return func() []expr.Any {
			return slices.Concat(append([][]expr.Any{ifname(in, expr.CmpOpEq, brName), ifname(out, expr.CmpOpNeq, brName)}, then...)...)
		}
	}
	drop := []expr.Any{verdict(expr.VerdictDrop)}
	in := &nftables.Chain{
		Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	}
	spec := &nftSpec{table: t, chains: []nftChain{
		{chain: fwd, rules: []nftRule{
			{fmt.Sprintf("iifname %s oifname != %s drop", brName, brName), crossing(expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME, drop)},
			{fmt.Sprintf("oifname %s iifname != %s drop", brName, brName), crossing(expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME, drop)},
		}},
		{chain: in, rules: []nftRule{
			{fmt.Sprintf("iifname %s ip daddr %s accept", brName, machine), func() []expr.Any {
				return slices.Concat(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, brName), isIPv4(), ipAddrIs(ipDaddrOffset, machine), []expr.Any{verdict(expr.VerdictAccept)})
			}},
			{fmt.Sprintf("iifname %s ip6 daddr %s accept", brName, machine6), func() []expr.Any {
				return slices.Concat(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, brName), familyIs(false),
					addrIn(ip6HdrDaddr, netip.PrefixFrom(machine6, 128)), []expr.Any{verdict(expr.VerdictAccept)})
			}},
			ndAccept(brName, "nd-neighbor-solicit", ndNeighborSolicit),
			ndAccept(brName, "nd-neighbor-advert", ndNeighborAdvert),
			{fmt.Sprintf("iifname %s drop", brName), func() []expr.Any {
				return append(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, brName), verdict(expr.VerdictDrop))
			}},
		}},
	}}
	if egress {
		spec.chains[0].rules = []nftRule{
			{fmt.Sprintf("iifname %s oifname != %s accept", brName, brName), crossing(expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME, isIPv4(), []expr.Any{verdict(expr.VerdictAccept)})},
			{fmt.Sprintf("oifname %s iifname != %s ct state established,related accept", brName, brName),
				crossing(expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME, ctStateIn(ctEstablishedRelated), []expr.Any{verdict(expr.VerdictAccept)})},
			spec.chains[0].rules[0], // what is not IPv4
			spec.chains[0].rules[1],
		}
		spec.chains[0].rules[2].comment += " (not IPv4)"
		post := &nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource}
		spec.chains = append(spec.chains, nftChain{chain: post, rules: []nftRule{
			{fmt.Sprintf("iifname %s oifname != %s masquerade", brName, brName), crossing(expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME, isIPv4(), []expr.Any{&expr.Masq{}})},
		}})
	}
	return spec
}

// ensureHostInternetTable makes the host table as hostInternetSpec says,
// replacing one that is not; one that is stays untouched.
func ensureHostInternetTable(tableName, brName string, machine netip.Addr, egress bool) error {
	nft, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	spec := hostInternetSpec(tableName, brName, machine, egress)
	st, err := readNFTTable(nft, spec)
	if err != nil {
		return err
	}
	if st.same {
		return nil
	}
	if err := spec.queueReplace(nft); err != nil {
		return err
	}
	return nft.Flush()
}

// internetMAC is a fixed MAC for a link of vpcsim's internet, from its name
// (or ID): a bridge or veth end made again keeps the MAC its neighbours have
// in their ARP caches. 06 is locally administered unicast, as bridgeMAC.
func internetMAC(name string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("vpcsim internet " + name))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = 0x06
	return mac
}
