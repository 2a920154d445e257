package hostnet

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// TestDown runs Down's code through RemoveAll with a test prefix: Down itself
// (prefix "vs-") would take the objects of every other vpcsim test running on
// the machine.
func TestDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p := w.k.Prefix()
	w.ensure(t, w.eni(w.host1, 0, "10.0.1.10/24"))
	cmd := commandIn(ctx, w.k.NetnsPath(w.host2), "sleep", "1000")
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitInNetns(t, cmd.Process.Pid, w.k.NetnsPath(w.host2))

	// In the host namespace: a veth pair and an nftables table with our prefix.
	hostLink := p + "h"
	must(t, netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostLink}, PeerName: p + "g"}))
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(hostLink); err == nil {
			netlink.LinkDel(l)
		}
	})
	nft, err := nftables.New()
	must(t, err)
	nft.AddTable(&nftables.Table{Name: p + "sg", Family: nftables.TableFamilyINet})
	must(t, nft.Flush())

	if err := RemoveAll(ctx, "v"); err == nil {
		t.Error("RemoveAll accepted a prefix that is not vs-…")
	}

	left, err := leftovers(p, p)
	must(t, err)
	for _, want := range []string{"netns " + p + w.vpc.ID, "netns " + p + w.host1, "link " + hostLink, "link " + p + "g", "nftables inet " + p + "sg"} {
		if !slices.Contains(left, want) {
			t.Errorf("leftovers %v lack %q", left, want)
		}
	}

	for range 2 {
		must(t, RemoveAll(ctx, p))
	}
	if left, err := LeftoversWithPrefix(p); err != nil || len(left) != 0 {
		t.Errorf("after down: %v, %v", left, err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("process in a removed namespace: %v, want killed", err)
	}
}
