package hostnet

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// LinkStats are the counters of one link, as `ip -s link` shows them.
type LinkStats struct {
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// LinkStatsIn returns the counters of every link but loopback in the network
// namespace at netnsPath, by name: a task's eth0, for its metadata endpoint's
// statistics. Equivalent to: `ip -n NS -s link show`.
func LinkStatsIn(netnsPath string) (map[string]LinkStats, error) {
	fd, err := openNetns(netnsPath)
	if err != nil {
		return nil, err
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", netnsPath, err)
	}
	defer h.Close()
	links, err := linkList(h)
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", netnsPath, err)
	}
	out := map[string]LinkStats{}
	for _, l := range links {
		a := l.Attrs()
		if a.Flags&net.FlagLoopback != 0 || a.Statistics == nil {
			continue
		}
		s := a.Statistics
		out[a.Name] = LinkStats{
			RxBytes: s.RxBytes, RxPackets: s.RxPackets, RxErrors: s.RxErrors, RxDropped: s.RxDropped,
			TxBytes: s.TxBytes, TxPackets: s.TxPackets, TxErrors: s.TxErrors, TxDropped: s.TxDropped,
		}
	}
	return out, nil
}
