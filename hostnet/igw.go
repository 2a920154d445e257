package hostnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC's internet gateway is a veth pair of vpcsim's own between the VPC's
// namespace and vpcsim's internet (internet.go), and a 1:1 NAT at its VPC end:
//
//	vs-i<11 hex of the VPC ID>  host netns: a port of the internet bridge, up;
//	                            its alias is the VPC's namespace name, so
//	                            `vpcsim down` of a prefix finds it
//	vs-g<11 hex>                VPC netns: up, fixed MAC, holding every public
//	                            address of the VPC as a /32 (no connected
//	                            route): the VPC answers ARP for them on the
//	                            bridge (arp_ignore=1: for those only)
//
//	table ip vs-igw {           VPC netns, replaced whole when it changes
//		map public  { type ipv4_addr : ipv4_addr }    public → private
//		map private { type ipv4_addr : ipv4_addr }    private → public
//		chain prerouting {
//			type nat hook prerouting priority dstnat;
//			iifname "vs-g…" dnat to ip daddr map @public
//		}
//		chain postrouting {
//			type nat hook postrouting priority srcnat;
//			oifname "vs-g…" snat to ip saddr map @private
//		}
//		chain forward {
//			type filter hook forward priority filter; policy accept;
//			iifname "vs-g…" ct state established,related accept
//			iifname "vs-g…" ct status dnat accept
//			iifname "vs-g…" drop
//			oifname "vs-g…" ip saddr @private accept
//			oifname "vs-g…" drop
//		}
//	}
//
// From the internet only connections to a public address come in (to its
// private one), and only an address with a public one goes out (as it), as
// on AWS. The subnets' tables route to the link (routetables.go); the main
// table has no route to it, so a subnet without an internet route cannot use
// it. The link carries IPv6 too, untranslated, for internet and egress-only
// gateways alike (igw6.go); without public addresses the maps are empty and
// no IPv4 crosses it. Removing the VPC's namespace removes the pair.
const (
	igwHostPrefix = "vs-i"
	igwVPCPrefix  = "vs-g"
	igwTableName  = "vs-igw"
)

func igwNames(vpcID string) (host, vpc string, err error) {
	h, err := idHex("vpc", vpcID)
	if err != nil {
		return "", "", err
	}
	return igwHostPrefix + h, igwVPCPrefix + h, nil
}

// checkNAT refuses translations the gateway cannot make: a public address
// outside the internet range (or the machine's own, or the range's network or
// broadcast address), a private one that is not IPv4, and any address twice.
func checkNAT(internet netip.Prefix, machine netip.Addr, nat []netmodel.PublicMapping) error {
	last := lastAddr4(internet)
	public, private := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, m := range nat {
		switch {
		case !m.Public.Is4() || !internet.Contains(m.Public) || m.Public == internet.Addr() || m.Public == last:
			return fmt.Errorf("public address %v is not a host address of vpcsim's internet %s", m.Public, internet)
		case m.Public == machine:
			return fmt.Errorf("public address %v is the machine's own", m.Public)
		case !m.Private.Is4():
			return fmt.Errorf("private address %v of %v is not IPv4", m.Private, m.Public)
		case public[m.Public]:
			return fmt.Errorf("public address %v is mapped twice", m.Public)
		case private[m.Private]:
			return fmt.Errorf("private address %v has two public addresses", m.Private)
		}
		public[m.Public], private[m.Private] = true, true
	}
	return nil
}

// lastAddr4 is the last address of an IPv4 prefix (its broadcast address).
func lastAddr4(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])|^uint32(0)>>p.Bits())
	return netip.AddrFrom4(a)
}

// igwSpec is the VPC's vs-igw table for the link end link and the
// translations nat (see above).
func igwSpec(link string, nat []netmodel.PublicMapping) *nftSpec {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: igwTableName}
	toPrivate, toPublic := map[netip.Addr]netip.Addr{}, map[netip.Addr]netip.Addr{}
	for _, m := range nat {
		toPrivate[m.Public], toPublic[m.Private] = m.Private, m.Public
	}
	public, private := newAddrMap(t, "public", toPrivate), newAddrMap(t, "private", toPublic)
	policy := nftables.ChainPolicyAccept
	chain := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		c := &nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio}
		if typ == nftables.ChainTypeFilter {
			c.Policy = &policy
		}
		return c
	}
	// Each rule's expressions are made once the maps are queued (their IDs
	// are the transaction's), and start with the link's name.
	on := func(key expr.MetaKey, rest func() []expr.Any) func() []expr.Any {
		return func() []expr.Any { return append(ifname(key, expr.CmpOpEq, link), rest()...) }
	}
	then := func(e ...[]expr.Any) func() []expr.Any { return func() []expr.Any { return slices.Concat(e...) } }
	accept := []expr.Any{verdict(expr.VerdictAccept)}
	drop := []expr.Any{verdict(expr.VerdictDrop)}
	iif, oif := "iifname "+link+" ", "oifname "+link+" "
	return &nftSpec{
		table: t,
		maps:  []*nftMap{public, private},
		chains: []nftChain{
			{chain: chain("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest), rules: []nftRule{
				{iif + "dnat to ip daddr map @public", on(expr.MetaKeyIIFNAME, func() []expr.Any {
					return append(ipAddrMapped(ipDaddrOffset, public.set), natToReg1(expr.NATTypeDestNAT))
				})},
			}},
			{chain: chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource), rules: []nftRule{
				{oif + "snat to ip saddr map @private", on(expr.MetaKeyOIFNAME, func() []expr.Any {
					return append(ipAddrMapped(ipSaddrOffset, private.set), natToReg1(expr.NATTypeSourceNAT))
				})},
			}},
			{chain: chain("forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter), rules: []nftRule{
				{iif + "ct state established,related accept", on(expr.MetaKeyIIFNAME, then(ctStateIn(ctEstablishedRelated), accept))},
				{iif + "ct status dnat accept", on(expr.MetaKeyIIFNAME, then(ctStatusHas(ipsDstNAT), accept))},
				{iif + "drop", on(expr.MetaKeyIIFNAME, then(drop))},
				{oif + "ip saddr @private accept", on(expr.MetaKeyOIFNAME, func() []expr.Any {
					return append(ipAddrKeyOf(ipSaddrOffset, private.set), verdict(expr.VerdictAccept))
				})},
				{oif + "drop", on(expr.MetaKeyOIFNAME, then(drop))},
			}},
		},
	}
}

// ensureGatewayLocked makes the VPC's internet gateway translate exactly nat:
// vpcsim's internet on the machine, the link, the vs-igw table, the public
// addresses on the link's VPC end (after the table, so that an address is
// never answered before it is translated). It returns the VPC end.
// Connections through a translation that went are forgotten (conntrack), as
// a disassociated address on AWS ends them.
func (k *Kernel) ensureGatewayLocked(c *nsConn, vpcID string, nat []netmodel.PublicMapping) (netlink.Link, error) {
	br, err := k.ensureInternetLocked()
	if err != nil {
		return nil, err
	}
	vpcEnd, err := k.ensureGatewayLinkLocked(c, vpcID, br)
	if err != nil {
		return nil, err
	}
	name := vpcEnd.Attrs().Name
	fd, err := openNetns(c.path())
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	// A big send buffer, as for security groups: one element per public
	// address, and a VPC may have thousands.
	nft, err := nftables.New(nftables.WithNetNSFd(fd), nftables.WithSockOptions(bigSendBuffer))
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", c.name, err)
	}
	spec := igwSpec(name, nat)
	st, err := readNFTTable(nft, spec)
	if err != nil {
		return nil, fmt.Errorf("read nftables table %s: %w", igwTableName, err)
	}
	if !st.same {
		if err := spec.queueReplace(nft); err != nil {
			return nil, fmt.Errorf("nftables table %s: %w", igwTableName, err)
		}
		if err := nft.Flush(); err != nil {
			return nil, fmt.Errorf("nftables table %s: %w", igwTableName, err)
		}
	}

	want := make([]netip.Prefix, 0, len(nat))
	for _, m := range nat {
		want = append(want, netip.PrefixFrom(m.Public, 32))
	}
	slices.SortFunc(want, netip.Prefix.Compare)
	have, err := linkAddrs(c.h, vpcEnd)
	if err != nil {
		return nil, err
	}
	// A /32 has no connected route (the kernel adds none for a host
	// prefix), which is what noprefixroute would say: the main table gains
	// nothing, the local table answers for the address.
	if err := reconcileAddrs(c.h, vpcEnd, want); err != nil {
		return nil, err
	}
	for _, p := range want {
		if _, ok := have[p]; !ok {
			// The machine may remember another VPC's MAC for an address
			// that moved here.
			n := &netlink.Neigh{LinkIndex: br.Attrs().Index, Family: unix.AF_INET, IP: p.Addr().AsSlice()}
			if err := netlink.NeighDel(n); err != nil && !isNotFound(err) {
				k.log.Warn("could not forget the machine's ARP entry of a public address", "addr", p.Addr(), "err", err)
			}
		}
	}
	if gone := goneTranslations(st.maps["public"], spec.maps[0].elems); len(gone) > 0 {
		// Best effort: the table and addresses are what matter; a lingering
		// entry only keeps an established flow going until it times out.
		if err := deleteConntrackOf(fd, gone); err != nil {
			k.log.Warn("could not delete the conntrack entries of removed public addresses", "netns", c.name, "err", err)
		}
	}
	return vpcEnd, nil
}

// goneTranslations lists the public addresses of have whose translation want
// lacks or changes, in order.
func goneTranslations(have, want map[netip.Addr]netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, p := range slices.SortedFunc(maps.Keys(have), netip.Addr.Compare) {
		if w, ok := want[p]; !ok || w != have[p] {
			out = append(out, p)
		}
	}
	return out
}

// ensureGatewayLinkLocked makes the VPC's veth pair to the internet bridge br
// and returns its VPC end, up. A pair whose ends are not each other's, or
// half a pair, is made again. A pair it made goes again if a later step fails.
func (k *Kernel) ensureGatewayLinkLocked(c *nsConn, vpcID string, br netlink.Link) (_ netlink.Link, retErr error) {
	hostName, vpcName, err := igwNames(vpcID)
	if err != nil {
		return nil, err
	}
	h := &netlink.Handle{} // the host's namespace
	hostEnd, err := h.LinkByName(hostName)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("find %s: %w", hostName, err)
	}
	vpcEnd, err := c.h.LinkByName(vpcName)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("find %s in %s: %w", vpcName, c.name, err)
	}
	if hostEnd != nil && vpcEnd != nil && (hostEnd.Type() != "veth" || vpcEnd.Type() != "veth" ||
		hostEnd.Attrs().ParentIndex != vpcEnd.Attrs().Index || vpcEnd.Attrs().ParentIndex != hostEnd.Attrs().Index) {
		k.log.Info("replacing a broken internet link", "link", hostName, "netns", c.name)
		if err := h.LinkDel(hostEnd); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("delete %s: %w", hostName, err)
		}
		hostEnd = nil
	}
	if hostEnd == nil || vpcEnd == nil {
		// Half a pair, or one left by the deletion above: deleting an end
		// deletes its peer.
		if err := deleteLinkByName(h, hostName); err != nil {
			return nil, err
		}
		if err := deleteLinkByName(c.h, vpcName); err != nil {
			return nil, fmt.Errorf("%s in %s: %w", vpcName, c.name, err)
		}
		fd, err := openNetns(c.path())
		if err != nil {
			return nil, err
		}
		veth := &netlink.Veth{
			LinkAttrs:        netlink.LinkAttrs{Name: hostName, Alias: c.name},
			PeerName:         vpcName,
			PeerNamespace:    netlink.NsFd(fd),
			PeerHardwareAddr: internetMAC(vpcID),
		}
		err = h.LinkAdd(veth)
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", hostName, err)
		}
		defer func() {
			if retErr != nil {
				if err := deleteLinkByName(h, hostName); err != nil {
					retErr = errors.Join(retErr, err)
				}
			}
		}()
		if hostEnd, err = h.LinkByName(hostName); err != nil {
			return nil, fmt.Errorf("find %s: %w", hostName, err)
		}
		if vpcEnd, err = c.h.LinkByName(vpcName); err != nil {
			return nil, fmt.Errorf("find %s in %s: %w", vpcName, c.name, err)
		}
	}
	// Some kernels ignore the alias on creation.
	if hostEnd.Attrs().Alias != c.name {
		if err := h.LinkSetAlias(hostEnd, c.name); err != nil {
			return nil, fmt.Errorf("alias %s: %w", hostName, err)
		}
	}
	if hostEnd.Attrs().MasterIndex != br.Attrs().Index {
		if err := h.LinkSetMasterByIndex(hostEnd, br.Attrs().Index); err != nil {
			return nil, fmt.Errorf("add %s to %s: %w", hostName, br.Attrs().Name, err)
		}
	}
	if err := setUp(h, hostEnd); err != nil {
		return nil, err
	}
	if mac := internetMAC(vpcID); vpcEnd.Attrs().HardwareAddr.String() != mac.String() {
		if err := c.h.LinkSetHardwareAddr(vpcEnd, mac); err != nil {
			return nil, fmt.Errorf("set MAC of %s: %w", vpcName, err)
		}
	}
	if err := setUp(c.h, vpcEnd); err != nil {
		return nil, err
	}
	// arp_ignore=1: the VPC answers ARP on the bridge for its public
	// addresses only, not for the routers' addresses of its subnets. No
	// reverse-path filter: what comes in (from the machine, from other VPCs)
	// has no route back in the main table, only in the subnets' tables.
	err = inNetns(c.path(), func() error {
		return errors.Join(
			writeSysctl("net/ipv4/conf/"+vpcName+"/arp_ignore", "1"),
			writeSysctl("net/ipv4/conf/"+vpcName+"/rp_filter", "0"),
			writeSysctl("net/ipv4/conf/all/rp_filter", "0"))
	})
	if err != nil {
		return nil, err
	}
	return c.h.LinkByName(vpcName) // re-read: up, with its MAC
}

// removeGatewayLocked removes the VPC's internet gateway: its vs-igw and
// vs-igw6 tables, its link and the machine's routes to its IPv6 blocks, and
// forgets the connections it translated. Missing is success.
func (k *Kernel) removeGatewayLocked(c *nsConn, vpcID string) error {
	hostName, vpcName, err := igwNames(vpcID)
	if err != nil {
		return err
	}
	fd, err := openNetns(c.path())
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", c.name, err)
	}
	var errs []error
	st, err := readNFTTable(nft, igwSpec(vpcName, nil))
	if err != nil {
		errs = append(errs, fmt.Errorf("read nftables table %s: %w", igwTableName, err))
	}
	// The link first: nothing comes in once it is gone, and the table with
	// it is no longer needed.
	if err := deleteLinkByName(c.h, vpcName); err != nil {
		errs = append(errs, err)
	}
	if err := deleteLinkByName(&netlink.Handle{}, hostName); err != nil {
		errs = append(errs, err)
	}
	if st.exists {
		if err := deleteNFTTable(nft, &nftables.Table{Family: nftables.TableFamilyIPv4, Name: igwTableName}); err != nil {
			errs = append(errs, fmt.Errorf("delete nftables table %s: %w", igwTableName, err))
		}
	}
	if err := deleteNFTTable(nft, &nftables.Table{Family: nftables.TableFamilyIPv6, Name: igw6TableName}); err != nil {
		errs = append(errs, fmt.Errorf("delete nftables table %s: %w", igw6TableName, err))
	}
	if err := k.setHostRoutes6Locked(vpcID, nil); err != nil {
		errs = append(errs, err)
	}
	if gone := goneTranslations(st.maps["public"], nil); len(gone) > 0 {
		if err := deleteConntrackOf(fd, gone); err != nil {
			k.log.Warn("could not delete the conntrack entries of removed public addresses", "netns", c.name, "err", err)
		}
	}
	return errors.Join(errs...)
}

// deleteConntrackOf deletes the conntrack entries, in the namespace fd refers
// to, of connections translated to or from the public addresses: those that
// came in to one (original destination) and those that went out as one
// (reply destination).
func deleteConntrackOf(fd int, public []netip.Addr) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_NETFILTER)
	if err != nil {
		return err
	}
	defer h.Close()
	var filters []netlink.CustomConntrackFilter
	for _, a := range public {
		for _, t := range []netlink.ConntrackFilterType{netlink.ConntrackOrigDstIP, netlink.ConntrackReplyDstIP} {
			f := &netlink.ConntrackFilter{}
			if err := f.AddIP(t, net.IP(a.AsSlice())); err != nil {
				return err
			}
			filters = append(filters, f)
		}
	}
	_, err = h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	return err
}
