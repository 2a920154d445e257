package runtime

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/remotes"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/distribution/reference"
	"golang.org/x/net/http/httpproxy"
)

// registries is how images are pulled. A task definition names any registry
// host and port, and vpcsim (root) connects there: so a registry is reached
// over TLS, with its certificate verified, and never on this machine's
// loopback, unless the operator listed it (--insecure-registry HOST[:PORT]).
// A listed registry is tried with TLS without verification, then over plain
// HTTP, as Docker treats its insecure-registries. (containerd's own resolver
// would speak plain HTTP to any localhost registry.)
type registries struct {
	insecure map[string]bool // "host:port", or "host" for every port; lower case
	proxies  map[string]bool // the HTTP(S) proxies of the environment, as host:port

	secureHosts, insecureHosts docker.RegistryHosts
}

func newRegistries(insecure []string) (*registries, error) {
	g := &registries{insecure: map[string]bool{}, proxies: map[string]bool{}}
	for _, h := range insecure {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.Contains(h, "/") {
			return nil, fmt.Errorf("insecure registry %q: give HOST or HOST:PORT, without a scheme or path", h)
		}
		g.insecure[h] = true
	}
	// The proxy that http.ProxyFromEnvironment picks is dialled instead of
	// the registry: it is the operator's, so it may be on loopback.
	pc := httpproxy.FromEnvironment()
	for _, p := range []string{pc.HTTPProxy, pc.HTTPSProxy} {
		if p == "" {
			continue
		}
		if !strings.Contains(p, "://") {
			p = "http://" + p
		}
		if u, err := url.Parse(p); err == nil && u.Hostname() != "" {
			port := u.Port()
			if port == "" {
				port = map[bool]string{true: "443", false: "80"}[u.Scheme == "https"]
			}
			g.proxies[strings.ToLower(net.JoinHostPort(u.Hostname(), port))] = true
		}
	}
	client := func(insecure bool) *http.Client {
		return &http.Client{Transport: g.transport(insecure)}
	}
	secure, insecureClient := client(false), client(true)
	g.secureHosts = docker.ConfigureDefaultRegistries(docker.WithClient(secure),
		docker.WithAuthorizer(docker.NewDockerAuthorizer(docker.WithAuthClient(secure))))
	g.insecureHosts = docker.ConfigureDefaultRegistries(docker.WithClient(insecureClient),
		docker.WithAuthorizer(docker.NewDockerAuthorizer(docker.WithAuthClient(insecureClient))))
	return g, nil
}

// listed reports whether the operator listed a registry, given as host:port
// or host.
func (g *registries) listed(hostport string) bool {
	hostport = strings.ToLower(hostport)
	if g.insecure[hostport] {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && g.insecure[host]
}

// hosts is the resolver's configuration of a registry (docker.RegistryHosts).
func (g *registries) hosts(host string) ([]docker.RegistryHost, error) {
	if g.listed(host) {
		return g.insecureHosts(host)
	}
	return g.secureHosts(host)
}

// resolver is a fresh resolver for one pull.
func (g *registries) resolver() remotes.Resolver {
	return docker.NewResolver(docker.ResolverOptions{Hosts: g.hosts})
}

// check refuses, before anything is dialled, an image whose registry is this
// machine's loopback and not listed; names that resolve to loopback are
// refused when dialled (transport).
func (g *registries) check(image string) error {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return err
	}
	domain := reference.Domain(named)
	host := domain
	if h, _, err := net.SplitHostPort(domain); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if g.listed(domain) {
		return nil
	}
	if a, err := netip.ParseAddr(host); (err == nil && localAddr(a)) || strings.EqualFold(host, "localhost") {
		return fmt.Errorf("the registry %s is on this machine's loopback: vpcsim pulls from it only when the operator lists it (--insecure-registry %s)", domain, domain)
	}
	return nil
}

// localAddr is an address that reaches this machine itself.
func localAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsUnspecified()
}

// transport is the HTTP transport of pulls: http.DefaultTransport's (its
// proxy from the environment, its timeouts) with a dialler that refuses this
// machine's loopback unless the registry (or the proxy) dialled is listed.
// insecure ones (for listed registries) skip certificate verification and
// fall back to plain HTTP when the registry answers TLS with HTTP.
func (g *registries) transport(insecure bool) http.RoundTripper {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	guarded := *d
	guarded.Control = func(_, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && localAddr(ap.Addr()) {
			return fmt.Errorf("%s is on this machine's loopback: vpcsim pulls from a registry there only when the operator lists it (--insecure-registry HOST:PORT)", address)
		}
		return nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if g.listed(addr) || g.proxies[strings.ToLower(addr)] {
			return d.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
	if !insecure {
		return t
	}
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator listed this registry as insecure
	return docker.NewHTTPFallback(t)
}
