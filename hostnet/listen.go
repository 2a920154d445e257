package hostnet

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// ListenIn opens a TCP listener on addr inside the network namespace at
// netnsPath, first giving the namespace's loopback that address (as a /32) if
// it lacks it. A socket belongs to the namespace it was made in, so vpcsim can
// serve from the host into a task's own network: this is how the task metadata
// endpoint (169.254.170.2:80) is reachable from inside every task, where the ECS
// agent uses a DNAT rule to the same effect. Closing the listener is up to the
// caller; it also goes when the namespace is deleted.
func ListenIn(netnsPath string, addr netip.AddrPort) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(netnsPath, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: prefixToIPNet(netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen()))}
		if err := netlink.AddrReplace(lo, a); err != nil {
			return fmt.Errorf("add %s to lo: %w", addr.Addr(), err)
		}
		ln, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s in %s: %w", addr, netnsPath, err)
	}
	return ln, nil
}
