package main

import (
	"log/slog"
	"net"
	"net/netip"
	"syscall"

	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// Who may drive vpcsim's servers (package frontdoor has the rules and why):

// apiPolicy is the API listener's: requests that name this machine's loopback
// (localhost, 127.0.0.0/8, ::1), the --listen address, or an --allowed-host as
// their Host, sent by a client that is no web page, or by a page of an
// --allowed-origin. A listener on every address (0.0.0.0, ::, ":PORT") is
// reached at any of the machine's addresses, so any address is a Host it
// serves; names still need --allowed-host.
func apiPolicy(c config) frontdoor.Policy {
	p := frontdoor.Policy{Loopback: true, Hosts: append([]string(nil), c.allowedHosts...), Origins: c.allowedOrigins,
		HostFlag: "--allowed-host", OriginFlag: "--allowed-origin"}
	host, _, _ := net.SplitHostPort(c.listen)
	if a, err := netip.ParseAddr(host); host == "" || err == nil && a.IsUnspecified() {
		p.AnyAddress = true
	} else {
		p.Hosts = append(p.Hosts, host)
	}
	return p
}

// metadataPolicy is every task metadata endpoint's: requests for
// 169.254.170.2 (ECS_CONTAINER_METADATA_URI_V4's host), from no web page.
func metadataPolicy() frontdoor.Policy {
	return frontdoor.Policy{Hosts: []string{metadataAddr.Addr().String()}}
}

// connectionCap is --max-connections, lowered to half the open files the
// process may have: the rest is for vpcsim's own (the database, namespaces,
// containerd, the task metadata endpoints), which a flood of connections
// must not starve.
func connectionCap(want int, log *slog.Logger) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur/2 < uint64(want) {
		log.Warn("--max-connections is lowered to half the open files allowed (ulimit -n)", "want", want, "cap", lim.Cur/2)
		return max(int(lim.Cur/2), 1)
	}
	return want
}
