package hostnet

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC peering connection is a veth pair of vpcsim's own between the two
// VPCs' namespaces, both ends named vs-l<11 hex of the pcx ID>:
//
//   - no addresses, NOARP, and one MAC on both ends: a subnet table's route
//     "DEST dev vs-l… scope link" (routetables.go) sends a packet straight
//     across, since a NOARP link addresses every frame to its own MAC, which
//     the other end, having the same, takes as its own. Nothing to resolve,
//     so nothing to wait for;
//   - what comes in is routed by the namespace's main table, as no rule picks
//     a subnet table for it: to the VPC's own subnets, never on to its
//     internet gateway, NAT gateways or other peerings (AWS's peering is not
//     transitive). The subnets' ACLs and the ENIs' security groups judge it as
//     any traffic from outside the subnet;
//   - no reverse-path filter on it: the way back is in the subnets' tables,
//     not in the main table.
//
// Whichever VPC's routing is set first makes the pair; the routing of a VPC
// whose list lacks a peering deletes its end, and so the pair. Removing
// either namespace removes the pair too.
const peeringPrefix = "vs-l"

func peeringName(pcxID string) (string, error) {
	h, err := idHex("pcx", pcxID)
	if err != nil {
		return "", err
	}
	return peeringPrefix + h, nil
}

// peeringMAC is the MAC of both ends of a peering link.
func peeringMAC(pcxID string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("vpcsim peering " + pcxID))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = 0x06
	return mac
}

// ensurePeeringsLocked makes the links of r's peerings and returns their
// ifindexes in the VPC's namespace, by connection ID. A link it could not
// make is missing from the map (the routes over it are blackholes) and its
// error is returned, joined, after the others are made.
func (k *Kernel) ensurePeeringsLocked(c *nsConn, r netmodel.Routing) (map[string]int, error) {
	out := map[string]int{}
	var errs []error
	for _, p := range r.Peerings {
		if p.PeerVPCID == r.VPCID {
			errs = append(errs, fmt.Errorf("peering %s: the VPC peers with itself", p.ID))
			continue
		}
		l, err := k.ensurePeeringLocked(c, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("peering %s with %s: %w", p.ID, p.PeerVPCID, err))
			continue
		}
		out[p.ID] = l.Attrs().Index
	}
	return out, errors.Join(errs...)
}

// ensurePeeringLocked makes the link of one peering, both ends up, NOARP,
// with the connection's MAC, and returns this VPC's end. A pair whose ends
// are not each other's, or half a pair, is made again.
func (k *Kernel) ensurePeeringLocked(c *nsConn, p netmodel.PeeringLink) (_ netlink.Link, retErr error) {
	name, err := peeringName(p.ID)
	if err != nil {
		return nil, err
	}
	peerNS, err := k.nsName(p.PeerVPCID)
	if err != nil {
		return nil, err
	}
	pc, err := k.connLocked(peerNS)
	if err != nil {
		return nil, err
	}
	local, err := linkByNameOrNil(c.h, name)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", name, c.name, err)
	}
	remote, err := linkByNameOrNil(pc.h, name)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", name, pc.name, err)
	}
	if local == nil || remote == nil || !vethPeers(local, remote) {
		// Half a pair, or two halves of others: deleting an end deletes
		// its peer.
		if err := deleteLinkByName(c.h, name); err != nil {
			return nil, fmt.Errorf("%s in %s: %w", name, c.name, err)
		}
		if err := deleteLinkByName(pc.h, name); err != nil {
			return nil, fmt.Errorf("%s in %s: %w", name, pc.name, err)
		}
		if local, remote, err = k.addPeeringLocked(c, pc, name, p.ID); err != nil {
			return nil, err
		}
		defer func() {
			if retErr != nil {
				if err := deleteLinkByName(c.h, name); err != nil {
					retErr = errors.Join(retErr, err)
				}
			}
		}()
	}
	mac := peeringMAC(p.ID)
	for _, end := range []struct {
		c *nsConn
		l netlink.Link
	}{{c, local}, {pc, remote}} {
		if end.l.Attrs().HardwareAddr.String() != mac.String() {
			if err := end.c.h.LinkSetHardwareAddr(end.l, mac); err != nil {
				return nil, fmt.Errorf("set MAC of %s in %s: %w", name, end.c.name, err)
			}
		}
		if end.l.Attrs().RawFlags&unix.IFF_NOARP == 0 {
			if err := end.c.h.LinkSetARPOff(end.l); err != nil {
				return nil, fmt.Errorf("set %s in %s NOARP: %w", name, end.c.name, err)
			}
		}
		if err := setUp(end.c.h, end.l); err != nil {
			return nil, fmt.Errorf("in %s: %w", end.c.name, err)
		}
	}
	return c.h.LinkByName(name)
}

// addPeeringLocked creates a peering link's pair, its ends in c's and pc's
// namespaces, with no reverse-path filter on either, and returns the ends.
func (k *Kernel) addPeeringLocked(c, pc *nsConn, name, pcxID string) (local, remote netlink.Link, err error) {
	fd, err := openNetns(pc.path())
	if err != nil {
		return nil, nil, err
	}
	mac := peeringMAC(pcxID)
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: name, HardwareAddr: mac},
		PeerName:         name,
		PeerNamespace:    netlink.NsFd(fd),
		PeerHardwareAddr: mac,
	}
	err = c.h.LinkAdd(veth)
	unix.Close(fd)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s in %s and %s: %w", name, c.name, pc.name, err)
	}
	if local, err = c.h.LinkByName(name); err == nil {
		remote, err = pc.h.LinkByName(name)
	}
	for _, ns := range []*nsConn{c, pc} {
		if err != nil {
			break
		}
		err = inNetns(ns.path(), func() error {
			return errors.Join(
				writeSysctl("net/ipv4/conf/"+name+"/rp_filter", "0"),
				writeSysctl("net/ipv4/conf/all/rp_filter", "0"))
		})
	}
	if err != nil {
		return nil, nil, errors.Join(err, deleteLinkByName(c.h, name))
	}
	return local, remote, nil
}

// vethPeers reports whether two links are the two ends of one veth pair.
func vethPeers(a, b netlink.Link) bool {
	return a.Type() == "veth" && b.Type() == "veth" &&
		a.Attrs().ParentIndex == b.Attrs().Index && b.Attrs().ParentIndex == a.Attrs().Index
}

// linkByNameOrNil finds a link by name; missing is nil, no error.
func linkByNameOrNil(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if isNotFound(err) {
		return nil, nil
	}
	return l, err
}

// removeStrayPeeringsLocked deletes the peering links of the namespace that
// r does not list, and with each the peer's end.
func removeStrayPeeringsLocked(c *nsConn, r netmodel.Routing) error {
	want := map[string]bool{}
	for _, p := range r.Peerings {
		if name, err := peeringName(p.ID); err == nil {
			want[name] = true
		}
	}
	links, err := linkList(c.h)
	if err != nil {
		return fmt.Errorf("list links of %s: %w", c.name, err)
	}
	var errs []error
	for _, l := range links {
		if name := l.Attrs().Name; strings.HasPrefix(name, peeringPrefix) && !want[name] {
			if err := c.h.LinkDel(l); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s in %s: %w", name, c.name, err))
			}
		}
	}
	return errors.Join(errs...)
}
