package hostnet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Retiring a veth pair instead of moving it.
//
// Moving a link to another namespace and deleting one each wait for an RCU
// grace period inside the netlink call: 15–20 ms on this project's machines,
// against about 1 ms to make a new pair. So attaching a parked ENI does not
// move its end into the host: it makes a new pair whose end is created in
// the host, with the ENI's MAC, and retires the old pair. A retired pair is
// renamed at once (down, vs-x<random>), so every name of the ENI is free for
// the new pair, and deleted by a goroutine of its own, off the caller's way.
// Reconcile removes retired links a crash left behind; Close waits for the
// deletions under way.

const (
	retiredPrefix = "vs-x" // a retired veth end, being deleted
	// retireWorkers bounds the deletions at once (each holds a netlink
	// socket while it waits out its grace period).
	retireWorkers = 4
)

// retirePairLocked takes an ENI's pair out of service: both ends down and
// renamed to retired names (the peer must be in c too), and the pair deleted
// in the background.
func (k *Kernel) retirePairLocked(c *nsConn, brEnd, peer netlink.Link) error {
	var name string
	for _, l := range []netlink.Link{peer, brEnd} {
		if err := setDown(c.h, l); err != nil {
			return err
		}
		name = retiredPrefix + randomHex(idHexLen)
		if err := c.h.LinkSetName(l, name); err != nil {
			return fmt.Errorf("retire %s: rename it to %s: %w", l.Attrs().Name, name, err)
		}
	}
	k.deleteLater(c.path(), name) // the bridge end's: the peer goes with it
	return nil
}

// deleteLater deletes the link named name in the namespace at path (its veth
// peer goes with it) in the background. A namespace or link already gone is
// success: whatever removed them did the work.
func (k *Kernel) deleteLater(path, name string) {
	k.retiring.Add(1)
	go func() {
		defer k.retiring.Done()
		k.retireSlots <- struct{}{}
		defer func() { <-k.retireSlots }()
		if err := deleteIn(path, name); err != nil {
			k.log.Warn("delete a retired veth (Reconcile removes it at the next start)", "netns", path, "link", name, "err", err)
		}
	}()
}

func deleteIn(path, name string) error {
	fd, err := openNetns(path)
	if err != nil {
		return nil // the namespace went, and the link with it
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd))
	unix.Close(fd)
	if err != nil {
		return err
	}
	defer h.Close()
	return deleteLinkByName(h, name)
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
