package hostnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// EnsureENI makes the ENI's veth pair and puts its own end where e says:
//
//   - the bridge end vs-e<11 hex> is a port of the subnet's bridge, up;
//   - Host set: the other end is eth<Device> in the host's namespace with e.MAC,
//     exactly e.Addrs (primary first), up, and for device 0 a default route via
//     e.Gateway;
//   - Host empty (parked): the other end is vs-p<11 hex>, down, without addresses,
//     in the VPC's namespace.
//
// It converges from any prior state (missing, parked, attached elsewhere or
// under another device index). A parked ENI being attached gets a new pair made
// with its end in the host, and the parked pair is retired (retire.go: moving
// a link to another namespace costs a grace period); otherwise the existing
// pair is moved. The VPC, the subnet's bridge and (when attaching) the host's
// namespace must exist. Safe to call again. A pair it made is deleted again if a
// later step fails.
func (k *Kernel) EnsureENI(ctx context.Context, e netmodel.NetENI) error {
	if err := k.ensureENI(ctx, e); err != nil {
		return fmt.Errorf("ensure ENI %s: %w", e.ID, err)
	}
	return nil
}

func (k *Kernel) ensureENI(ctx context.Context, e netmodel.NetENI) (retErr error) {
	names, err := namesOfENI(e.ID)
	if err != nil {
		return err
	}
	brName, err := bridgeName(e.SubnetID)
	if err != nil {
		return err
	}
	vpcNS, err := k.nsName(e.VPCID)
	if err != nil {
		return err
	}
	if e.Host != "" {
		if _, err := k.nsName(e.Host); err != nil {
			return err
		}
		if _, err := deviceName(e.Device); err != nil {
			return err
		}
	}
	if e.MAC != nil && len(e.MAC) != 6 {
		return fmt.Errorf("MAC %s is not 6 bytes", e.MAC)
	}
	for _, p := range e.Addrs {
		if !p.IsValid() || !p.Addr().Is4() {
			return fmt.Errorf("invalid IPv4 address %v", p)
		}
	}
	for _, p := range e.Addrs6 {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() {
			return fmt.Errorf("invalid IPv6 address %v", p)
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	vpc, err := k.connLocked(vpcNS)
	if err != nil {
		return fmt.Errorf("VPC %s: %w", e.VPCID, err)
	}
	br, err := vpc.h.LinkByName(brName)
	if err != nil {
		return fmt.Errorf("bridge %s of subnet %s (EnsureSubnet first): %w", brName, e.SubnetID, err)
	}

	brEnd, err := vpc.h.LinkByName(names.bridgeEnd)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("find %s: %w", names.bridgeEnd, err)
	}
	if err == nil {
		if _, ok := brEnd.(*netlink.Veth); !ok {
			// Our name on something else: replace it.
			if err := vpc.h.LinkDel(brEnd); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete %s (a %s, not a veth): %w", names.bridgeEnd, brEnd.Type(), err)
			}
			brEnd = nil
		}
	} else {
		brEnd = nil
	}

	var peer netlink.Link
	var peerNS *nsConn
	if brEnd != nil {
		peer, peerNS, err = k.findPeerLocked(vpc, brEnd, e.Host)
		if err != nil {
			return err
		}
		if peer == nil {
			// The far end is somewhere we do not manage: start afresh.
			k.log.Warn("ENI's veth peer not found in any vpcsim namespace; recreating the pair", "eni", e.ID)
			if err := vpc.h.LinkDel(brEnd); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete %s: %w", names.bridgeEnd, err)
			}
			brEnd = nil
		} else if peerNS == vpc && e.Host != "" {
			// A parked ENI being attached: a new pair made with its end in
			// the host costs far less than moving this one there (retire.go).
			if err := k.retirePairLocked(vpc, brEnd, peer); err != nil {
				return err
			}
			brEnd = nil
		}
	}
	fresh := brEnd == nil
	if fresh {
		brEnd, peer, peerNS, err = k.createENILocked(vpc, br, e, names)
		if err != nil {
			return err
		}
		defer func() {
			if retErr != nil {
				if err := vpc.h.LinkDel(brEnd); err != nil && !isNotFound(err) {
					retErr = errors.Join(retErr, fmt.Errorf("undo: delete %s: %w", names.bridgeEnd, err))
				}
			}
		}()
	}

	// The bridge end: a port of the subnet's bridge, up.
	if brEnd.Attrs().MasterIndex != br.Attrs().Index {
		if err := vpc.h.LinkSetMaster(brEnd, br); err != nil {
			return fmt.Errorf("add %s to %s: %w", names.bridgeEnd, brName, err)
		}
	}
	if err := setUp(vpc.h, brEnd); err != nil {
		return err
	}
	if fresh && (peerNS == vpc) == (e.Host == "") {
		return finishFresh(peerNS.h, peer, e)
	}
	return k.placePeerLocked(vpc, e, names, peer, peerNS)
}

// finishFresh completes the ENI's end of a pair createENILocked just made
// where e wants it, with its name and MAC: parked, it is as it should be
// (down, no addresses); in a host, it gets e's addresses (primary first), goes
// up and, as eth0, gets the default route. What placePeerLocked would read
// back first, a new link does not have.
func finishFresh(h *netlink.Handle, peer netlink.Link, e netmodel.NetENI) error {
	if e.Host == "" {
		return nil
	}
	if err := addAddrs(h, peer, eniAddrs(e)); err != nil {
		return err
	}
	if err := setUp(h, peer); err != nil {
		return err
	}
	if e.Device != 0 {
		return nil
	}
	return defaultRoutes(h, peer, e, true, true)
}

// eniAddrs are all the addresses of the ENI's end: IPv4, primary first, then
// IPv6.
func eniAddrs(e netmodel.NetENI) []netip.Prefix {
	return append(slices.Clone(e.Addrs), e.Addrs6...)
}

// defaultRoutes gives the ENI's end the default route of each family it has
// a router of (want), or takes them away (!want): device 0 routes the host.
// A fresh link has no routes to take away, so nothing is read for a family
// it does not want.
func defaultRoutes(h *netlink.Handle, peer netlink.Link, e netmodel.NetENI, want, fresh bool) error {
	if e.Gateway.IsValid() && e.Gateway.Is4() {
		if err := ensureDefaultRoute(h, peer, e.Gateway, want); err != nil {
			return err
		}
	}
	// IPv6 routes outlive the addresses they were made with: without an
	// address there is no route either.
	gw6, want6 := e.Gateway6, want && len(e.Addrs6) > 0
	if !gw6.IsValid() || !gw6.Is6() {
		gw6, want6 = netip.IPv6Unspecified(), false
	}
	if fresh && !want6 {
		return nil
	}
	return ensureDefaultRoute(h, peer, gw6, want6)
}

// createENILocked makes the pair: the bridge end in the VPC's namespace, up
// and a port of br, and the ENI's end, with its MAC, directly where it
// belongs (so it never shows up anywhere else): eth<Device> in the host, or
// vs-p… in the VPC's namespace. It returns the ENI's end and the namespace
// it is in.
func (k *Kernel) createENILocked(vpc *nsConn, br netlink.Link, e netmodel.NetENI, names eniNames) (brEnd, peer netlink.Link, peerNS *nsConn, err error) {
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: names.bridgeEnd, MasterIndex: br.Attrs().Index, Flags: net.FlagUp},
		PeerName:         names.parked,
		PeerHardwareAddr: e.MAC,
	}
	peerNS = vpc
	if e.Host != "" {
		host, err := k.connLocked(k.prefix + e.Host)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("host %s (EnsureHost first): %w", e.Host, err)
		}
		dev, _ := deviceName(e.Device)
		// If the name is taken, make the pair parked: placePeerLocked then
		// moves a stale ENI aside, or refuses (and the pair is deleted again).
		if _, err := host.h.LinkByName(dev); isNotFound(err) {
			fd, err := openNetns(host.path())
			if err != nil {
				return nil, nil, nil, err
			}
			defer unix.Close(fd)
			veth.PeerName = dev
			veth.PeerNamespace = netlink.NsFd(fd)
			peerNS = host
		}
	}
	if err := vpc.h.LinkAdd(veth); err != nil && !isExist(err) {
		return nil, nil, nil, fmt.Errorf("add veth %s/%s: %w", names.bridgeEnd, veth.PeerName, err)
	}
	brEnd, err = vpc.h.LinkByName(names.bridgeEnd)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("find new %s: %w", names.bridgeEnd, err)
	}
	if _, ok := brEnd.(*netlink.Veth); !ok {
		return nil, nil, nil, fmt.Errorf("%s exists and is a %s, not a veth", names.bridgeEnd, brEnd.Type())
	}
	peer, err = peerNS.h.LinkByName(veth.PeerName)
	if err != nil {
		vpc.h.LinkDel(brEnd) // the caller only undoes what it was handed
		return nil, nil, nil, fmt.Errorf("find new %s in %s: %w", veth.PeerName, peerNS.name, err)
	}
	return brEnd, peer, peerNS, nil
}

// findPeerLocked finds the other end of the bridge end's veth pair: in the VPC's
// namespace, or in one of this Kernel's namespaces, found by the namespace ID the
// VPC's namespace knows it by (IFLA_LINK_NETNSID). hint, a host name, is looked at
// first. It returns nil, nil, nil if the peer is nowhere we manage.
func (k *Kernel) findPeerLocked(vpc *nsConn, brEnd netlink.Link, hint string) (netlink.Link, *nsConn, error) {
	idx, nsid := brEnd.Attrs().ParentIndex, brEnd.Attrs().NetNsID
	if nsid < 0 {
		peer, err := vpc.h.LinkByIndex(idx)
		if err != nil {
			return nil, nil, fmt.Errorf("peer of %s: %w", brEnd.Attrs().Name, err)
		}
		return peer, vpc, nil
	}
	names, err := k.listOwnNetns()
	if err != nil {
		return nil, nil, err
	}
	if hint != "" {
		names = append([]string{k.prefix + hint}, names...)
	}
	for _, name := range names {
		if name == vpc.name {
			continue
		}
		fd, err := openNetns(filepath.Join(netnsDir, name))
		if err != nil {
			continue // vanished or not a namespace: not where the peer is
		}
		id, err := vpc.h.GetNetNsIdByFd(fd)
		unix.Close(fd)
		if err != nil || id != nsid {
			continue
		}
		c, err := k.connLocked(name)
		if err != nil {
			return nil, nil, err
		}
		peer, err := c.h.LinkByIndex(idx)
		if err != nil {
			return nil, nil, fmt.Errorf("peer of %s in %s: %w", brEnd.Attrs().Name, name, err)
		}
		return peer, c, nil
	}
	return nil, nil, nil
}

// placePeerLocked moves the ENI's end from where it is (from) to where e wants
// it, renames it, and sets its MAC, addresses, state and route.
func (k *Kernel) placePeerLocked(vpc *nsConn, e netmodel.NetENI, names eniNames, peer netlink.Link, from *nsConn) error {
	to, toName := vpc, names.parked
	if e.Host != "" {
		host, err := k.connLocked(k.prefix + e.Host)
		if err != nil {
			return fmt.Errorf("host %s (EnsureHost first): %w", e.Host, err)
		}
		to = host
		toName, _ = deviceName(e.Device)
	}

	// The name may be held by another ENI of this VPC whose state is stale (the
	// model gives each device index of a host to one ENI): move it aside. Anything
	// else holding it is refused before we change anything.
	if other, err := to.h.LinkByName(toName); err == nil && !(from.name == to.name && other.Attrs().Index == peer.Attrs().Index) {
		if err := k.displaceLocked(vpc, to, other); err != nil {
			return fmt.Errorf("%s in %s is taken: %w", toName, to.name, err)
		}
	}

	if from.name != to.name {
		// Move under the parked name, unique to this ENI, so it cannot collide
		// with a link in the target; addresses do not survive the move.
		if err := setDown(from.h, peer); err != nil {
			return err
		}
		if peer.Attrs().Name != names.parked {
			if err := from.h.LinkSetName(peer, names.parked); err != nil {
				return fmt.Errorf("rename %s to %s in %s: %w", peer.Attrs().Name, names.parked, from.name, err)
			}
		}
		fd, err := openNetns(to.path())
		if err != nil {
			return err
		}
		err = from.h.LinkSetNsFd(peer, fd)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("move %s from %s to %s: %w", names.parked, from.name, to.name, err)
		}
		if peer, err = to.h.LinkByName(names.parked); err != nil {
			return fmt.Errorf("find %s moved to %s: %w", names.parked, to.name, err)
		}
	}

	if peer.Attrs().Name != toName {
		if err := setDown(to.h, peer); err != nil {
			return err
		}
		if err := to.h.LinkSetName(peer, toName); err != nil {
			return fmt.Errorf("rename %s to %s in %s: %w", peer.Attrs().Name, toName, to.name, err)
		}
		if err := refresh(to.h, &peer); err != nil {
			return err
		}
	}

	if e.MAC != nil && !bytes.Equal(peer.Attrs().HardwareAddr, e.MAC) {
		if err := setDown(to.h, peer); err != nil {
			return err
		}
		if err := to.h.LinkSetHardwareAddr(peer, e.MAC); err != nil {
			return fmt.Errorf("set MAC of %s in %s: %w", toName, to.name, err)
		}
		if err := refresh(to.h, &peer); err != nil {
			return err
		}
	}

	if e.Host == "" {
		if err := reconcileAddrs(to.h, peer, nil); err != nil {
			return err
		}
		return setDown(to.h, peer)
	}
	if err := reconcileAddrs(to.h, peer, eniAddrs(e)); err != nil {
		return err
	}
	if err := setUp(to.h, peer); err != nil {
		return err
	}
	return defaultRoutes(to.h, peer, e, e.Device == 0, false)
}

// displaceLocked renames the end of another ENI of vpc's, found inside host, to
// that ENI's parked name and sets it down, freeing its eth<N> name. The ENI's
// own EnsureENI later puts it where it belongs (Reconcile: or removes it).
func (k *Kernel) displaceLocked(vpc, host *nsConn, l netlink.Link) error {
	if _, ok := l.(*netlink.Veth); !ok || l.Attrs().NetNsID < 0 {
		return fmt.Errorf("by a %s that is not an ENI", l.Type())
	}
	fd, err := openNetns(vpc.path())
	if err != nil {
		return err
	}
	vpcID, err := host.h.GetNetNsIdByFd(fd)
	unix.Close(fd)
	if err != nil || vpcID != l.Attrs().NetNsID {
		return fmt.Errorf("by a veth whose peer is not in %s", vpc.name)
	}
	be, err := vpc.h.LinkByIndex(l.Attrs().ParentIndex)
	if err != nil || !strings.HasPrefix(be.Attrs().Name, bridgeEndPrefix) {
		return fmt.Errorf("by a veth whose peer is not an ENI's bridge end")
	}
	parked := parkedPrefix + strings.TrimPrefix(be.Attrs().Name, bridgeEndPrefix)
	if err := setDown(host.h, l); err != nil {
		return err
	}
	if err := host.h.LinkSetName(l, parked); err != nil {
		return fmt.Errorf("rename %s to %s: %w", l.Attrs().Name, parked, err)
	}
	k.log.Info("moved a stale ENI aside", "netns", host.name, "from", l.Attrs().Name, "to", parked)
	return nil
}

// refresh re-reads a link (its name, flags and MAC change under us).
func refresh(h *netlink.Handle, l *netlink.Link) error {
	n, err := h.LinkByIndex((*l).Attrs().Index)
	if err != nil {
		return fmt.Errorf("re-read %s: %w", (*l).Attrs().Name, err)
	}
	*l = n
	return nil
}

// DeleteENI deletes the ENI's veth pair wherever its own end is (deleting the
// bridge end deletes both). Missing ENI or VPC is success.
func (k *Kernel) DeleteENI(ctx context.Context, e netmodel.NetENI) error {
	names, err := namesOfENI(e.ID)
	if err != nil {
		return fmt.Errorf("delete ENI: %w", err)
	}
	vpcNS, err := k.nsName(e.VPCID)
	if err != nil {
		return fmt.Errorf("delete ENI %s: %w", e.ID, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	vpc, err := k.connLocked(vpcNS)
	if errors.Is(err, errNoNetns) {
		return nil // the pair went with the VPC's namespace
	}
	if err != nil {
		return fmt.Errorf("delete ENI %s: %w", e.ID, err)
	}
	if err := deleteLinkByName(vpc.h, names.bridgeEnd); err != nil {
		return fmt.Errorf("delete ENI %s: %w", e.ID, err)
	}
	// Only left over if something renamed the bridge end; harmless otherwise.
	if err := deleteLinkByName(vpc.h, names.parked); err != nil {
		return fmt.Errorf("delete ENI %s: %w", e.ID, err)
	}
	return nil
}
