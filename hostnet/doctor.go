package hostnet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Check is one thing the kernel dataplane needs: whether it is there, what was
// found, and how to get it when it is not.
type Check struct {
	Name   string
	OK     bool
	Detail string
	Fix    string
}

const (
	capNetAdmin = 12
	capSysAdmin = 21
)

// errPrivileged is what Privileged returns.
var errPrivileged = errors.New("the kernel dataplane needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN); run as root, or use --dataplane none for the API only")

// Privileged returns nil if the process may make namespaces, links and rulesets:
// it has CAP_NET_ADMIN and CAP_SYS_ADMIN in effect (root normally has both).
func Privileged() error {
	caps, err := effectiveCaps()
	if err != nil {
		if os.Geteuid() == 0 {
			return nil
		}
		return fmt.Errorf("%w (reading capabilities: %v)", errPrivileged, err)
	}
	if caps&(1<<capNetAdmin) == 0 || caps&(1<<capSysAdmin) == 0 {
		return errPrivileged
	}
	return nil
}

// effectiveCaps reads CapEff from /proc/self/status.
func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no CapEff in /proc/self/status")
}

// Doctor checks what the kernel dataplane and the container runtime need and says
// how to fix what is missing. It tries the namespace, veth, bridge, br_netfilter
// and nftables checks for real in a scratch namespace vs-doctor-…, which it
// removes again; it changes nothing else.
func Doctor() []Check {
	var checks []Check
	priv := Check{Name: "privileges", OK: true, Detail: "CAP_NET_ADMIN and CAP_SYS_ADMIN"}
	if err := Privileged(); err != nil {
		priv = Check{Name: "privileges", Detail: err.Error(), Fix: "run as root (sudo vpcsim …), or use --dataplane none for the API only"}
	}
	checks = append(checks, priv)
	if priv.OK {
		checks = append(checks, scratchChecks()...)
	} else {
		for _, n := range []string{"netns", "veth", "bridge", "br_netfilter", "nftables"} {
			checks = append(checks, Check{Name: n, Detail: "not tried: needs privileges", Fix: priv.Fix})
		}
	}
	checks = append(checks,
		binCheck("ip", "ip", "apt-get install -y iproute2"),
		binCheck("containerd", "containerd", "apt-get install -y containerd runc"),
		binCheck("runc", "runc", "apt-get install -y containerd runc"),
		binCheck("busybox", "busybox", "apt-get install -y busybox-static"),
	)
	return checks
}

func binCheck(name, bin, fix string) Check {
	p, err := exec.LookPath(bin)
	if err != nil {
		return Check{Name: name, Detail: bin + " not found on PATH", Fix: fix}
	}
	return Check{Name: name, OK: true, Detail: p}
}

// scratchChecks makes a scratch namespace and tries in it what vpcsim does.
func scratchChecks() []Check {
	const modFix = "modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/vpcsim.conf"
	const kernelFix = "use a kernel with network namespaces, veth, bridge and nf_tables (CONFIG_NET_NS, CONFIG_VETH, CONFIG_BRIDGE, CONFIG_NF_TABLES)"
	b := make([]byte, 4)
	rand.Read(b)
	path := filepath.Join(netnsDir, "vs-doctor-"+hex.EncodeToString(b))
	skipped := func(names ...string) []Check {
		var cs []Check
		for _, n := range names {
			cs = append(cs, Check{Name: n, Detail: "not tried: no scratch namespace", Fix: kernelFix})
		}
		return cs
	}

	if _, err := createNetns(path); err != nil {
		return append([]Check{{Name: "netns", Detail: err.Error(), Fix: kernelFix}},
			skipped("veth", "bridge", "br_netfilter", "nftables")...)
	}
	defer purgeNetns(context.Background(), path)
	checks := []Check{{Name: "netns", OK: true, Detail: "created and removed " + path}}

	fd, err := openNetns(path)
	if err != nil {
		return append(checks, skipped("veth", "bridge", "br_netfilter", "nftables")...)
	}
	defer unix.Close(fd)
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		return append(checks, skipped("veth", "bridge", "br_netfilter", "nftables")...)
	}
	defer h.Close()

	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vs-dv0"}, PeerName: "vs-dv1"}
	vethErr := h.LinkAdd(veth)
	if vethErr != nil {
		checks = append(checks, Check{Name: "veth", Detail: vethErr.Error(), Fix: kernelFix + "; modprobe veth"})
	} else {
		checks = append(checks, Check{Name: "veth", OK: true, Detail: "veth pair works"})
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vs-dbr"}}
	if err := h.LinkAdd(br); err != nil {
		checks = append(checks, Check{Name: "bridge", Detail: err.Error(), Fix: kernelFix + "; modprobe bridge"})
	} else if vethErr == nil {
		if err := h.LinkSetMaster(veth, br); err != nil {
			checks = append(checks, Check{Name: "bridge", Detail: "enslaving a veth: " + err.Error(), Fix: kernelFix})
		} else {
			checks = append(checks, Check{Name: "bridge", OK: true, Detail: "bridge with a veth port works"})
		}
	} else {
		checks = append(checks, Check{Name: "bridge", OK: true, Detail: "bridge works"})
	}

	nf := Check{Name: "br_netfilter", OK: true, Detail: "net.bridge.bridge-nf-call-iptables present"}
	loadErr := loadBrNetfilter()
	present := false
	err = inNetns(path, func() error {
		_, err := os.Stat(filepath.Join("/proc/sys", bridgeNFSysctl))
		present = err == nil
		return nil
	})
	switch {
	case err != nil:
		nf = Check{Name: "br_netfilter", Detail: err.Error(), Fix: modFix}
	case !present:
		d := "net.bridge.bridge-nf-call-iptables is missing: traffic within a subnet bypasses security groups"
		if loadErr != nil {
			d += " (" + loadErr.Error() + ")"
		}
		nf = Check{Name: "br_netfilter", Detail: d, Fix: modFix}
	case bridgeNFMissing.Load():
		nf.Detail += " now, but VPC namespaces made earlier by this process lack it (restart vpcsim)"
		nf.OK = false
		nf.Fix = "restart vpcsim"
	}
	checks = append(checks, nf)

	checks = append(checks, nftCheck(fd))
	return checks
}

// nftCheck adds, lists and deletes a table in the scratch namespace.
func nftCheck(fd int) Check {
	const fix = "use a kernel with nf_tables (CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET); modprobe nf_tables"
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return Check{Name: "nftables", Detail: err.Error(), Fix: fix}
	}
	t := c.AddTable(&nftables.Table{Name: "vs-doctor", Family: nftables.TableFamilyINet})
	c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
	if err := c.Flush(); err != nil {
		return Check{Name: "nftables", Detail: "add an inet table with a forward chain: " + err.Error(), Fix: fix}
	}
	if _, err := c.ListTableOfFamily("vs-doctor", nftables.TableFamilyINet); err != nil {
		return Check{Name: "nftables", Detail: "list the table: " + err.Error(), Fix: fix}
	}
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return Check{Name: "nftables", Detail: "delete the table: " + err.Error(), Fix: fix}
	}
	return Check{Name: "nftables", OK: true, Detail: "inet table with a forward hook works"}
}
