package hostnet

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	bridgeNFSysctl  = "net/bridge/bridge-nf-call-iptables"
	bridgeNF6Sysctl = "net/bridge/bridge-nf-call-ip6tables"
)

// bridgeNFMissing records, for Doctor, that some VPC namespace was made while
// br_netfilter was unavailable.
var bridgeNFMissing atomic.Bool

// writeSysctl writes a sysctl of the calling thread's network namespace
// (/proc/sys/net is resolved per thread, so call it from inside inNetns).
func writeSysctl(name, value string) error {
	p := filepath.Join("/proc/sys", name)
	if cur, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(name, "/", "."), value, err)
	}
	return nil
}

// noProxyDelay makes the named links of the calling thread's namespace answer
// proxy ARP at once. The kernel delays those answers by up to 0.8 s
// (proxy_delay) by default, so a developer's first curl into a connected VPC
// would stall for it. Links without IPv4 settings are skipped.
func noProxyDelay(links ...string) error {
	for _, name := range links {
		err := writeSysctl("net/ipv4/neigh/"+name+"/proxy_delay", "0")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

var (
	brNetfilterOnce sync.Once
	brNetfilterErr  error
)

// loadBrNetfilter makes sure the br_netfilter module is loaded (it is what makes
// bridged IPv4 pass the netfilter hooks, so security groups see traffic within a
// subnet). It runs modprobe at most once per process.
func loadBrNetfilter() error {
	brNetfilterOnce.Do(func() {
		if _, err := os.Stat(filepath.Join("/proc/sys", bridgeNFSysctl)); err == nil {
			return
		}
		out, err := exec.Command("modprobe", "br_netfilter").CombinedOutput()
		if err != nil {
			brNetfilterErr = fmt.Errorf("modprobe br_netfilter: %w: %s", err, strings.TrimSpace(string(out)))
		}
	})
	return brNetfilterErr
}

// routerSysctlsLocked turns a VPC namespace into a router: IPv4 forwarding (the
// VPC's local route between subnets) and bridged traffic through netfilter (for
// security groups). A missing br_netfilter is remembered and logged, not fatal:
// everything but filtering within a subnet still works. Safe to call again.
func (k *Kernel) routerSysctlsLocked(path string) error {
	loadErr := loadBrNetfilter()
	var nfMissing bool
	err := inNetns(path, func() error {
		if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
			return err
		}
		// IPv6 too: a router (it sends no router advertisements: ENIs are
		// given their routes), whose bridged IPv6 the firewall judges as well.
		if err := writeSysctl("net/ipv6/conf/all/forwarding", "1"); err != nil {
			return err
		}
		err := writeSysctl(bridgeNFSysctl, "1")
		if err == nil {
			err = writeSysctl(bridgeNF6Sysctl, "1")
		}
		if errors.Is(err, os.ErrNotExist) {
			nfMissing = true
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if nfMissing {
		if !k.noBridgeNF {
			k.log.Warn("net.bridge.bridge-nf-call-iptables is missing: traffic within a subnet bypasses security groups", "netns", path, "modprobe", loadErr)
		}
		k.noBridgeNF = true
		bridgeNFMissing.Store(true)
	}
	return nil
}
