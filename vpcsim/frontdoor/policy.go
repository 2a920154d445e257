// Package frontdoor decides who may drive vpcsim's HTTP servers at all, before
// any protocol reads a request, and bounds what a client that may not can cost:
// the Host and Origin rules against web pages (Policy), the signature's header
// checked before the body is read, bodies read within a budget (Door), and
// every server's timeouts and connection cap (NewServer). One Door guards every
// route of a server; the protocol behind a route words its refusals.
package frontdoor

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Policy is who may send requests to a server: the Host names they may carry,
// and the web pages (origins) that may make a browser send them.
//
// A browser sends requests to vpcsim for any page that asks: a form posted to
// 127.0.0.1, an <img> whose URL is an EC2 Query GET, or, through DNS
// rebinding (a name of the page's own site that resolves to 127.0.0.1), any
// request at all, read answers included. The Host rule stops rebinding: a
// rebound request carries the attacker's name as its Host. The Origin and
// Sec-Fetch-Site rules stop the rest: every browser sends Origin on a
// cross-origin POST (a form's too) and Sec-Fetch-Site on every request, so a
// request carrying either that names another site is refused. Non-browser
// clients (the aws CLI, boto3, the SDKs) send neither.
type Policy struct {
	// Loopback accepts the loopback names of this machine as Host:
	// localhost, 127.0.0.0/8 and ::1.
	Loopback bool
	// Hosts are the further names and addresses a Host may be (with any
	// port): the --listen address, names given with --allowed-host.
	Hosts []string
	// AnyAddress accepts any IP address as Host: a server listening on every
	// address (0.0.0.0, ::) is reached at each of them, and DNS rebinding
	// needs a name (an address cannot be rebound).
	AnyAddress bool
	// Origins are the origins (scheme://host[:port]) whose pages may call the
	// server, as --allowed-origin gives them. A page of the server's own
	// origin always may.
	Origins []string
	// HostFlag and OriginFlag name the flags that widen the policy, for the
	// refusal's message ("" for none).
	HostFlag, OriginFlag string
}

// rules is a Policy made ready to check requests with.
type rules struct {
	Policy
	names   map[string]bool
	addrs   map[netip.Addr]bool
	origins map[string]bool
}

func (p Policy) compile() (rules, error) {
	c := rules{Policy: p, names: map[string]bool{}, addrs: map[netip.Addr]bool{}, origins: map[string]bool{}}
	for _, h := range p.Hosts {
		name := hostOnly(h)
		if name == "" || strings.ContainsAny(h, "/@ \t") {
			return c, fmt.Errorf("host %q: want a name or an address, as a Host header gives it (a port is ignored)", h)
		}
		if a, err := netip.ParseAddr(name); err == nil {
			c.addrs[a.Unmap().WithZone("")] = true
		} else {
			c.names[name] = true
		}
	}
	for _, o := range p.Origins {
		norm, err := CanonicalOrigin(o)
		if err != nil {
			return c, err
		}
		c.origins[norm] = true
	}
	return c, nil
}

// CanonicalOrigin is an origin as browsers send it in an Origin header,
// scheme://host[:port] in lower case without a default port, or an error
// saying why o is none.
func CanonicalOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], as a browser's Origin header says it (e.g. http://localhost:3000)", o)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		return u.Scheme + "://" + host, nil
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// hostOnly is the host of a Host header or --allowed-host value without its
// port, brackets and final dot, in lower case.
func hostOnly(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	switch {
	case strings.HasPrefix(h, "["):
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return ""
		}
		h = h[1:end]
	case strings.Count(h, ":") == 1: // name:port or v4:port; more colons: a bare IPv6 address
		h = h[:strings.IndexByte(h, ':')]
	}
	return strings.TrimSuffix(h, ".")
}

// check returns why r may not be served, or "".
func (c rules) check(r *http.Request) string {
	if !c.hostAllowed(r.Host) {
		return fmt.Sprintf("vpcsim does not serve the host %q: a web page can reach this machine under a name of its own (DNS rebinding)%s",
			r.Host, advice(c.HostFlag, "the names clients use"))
	}
	origin, site := r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")
	switch {
	case origin != "":
		norm, err := CanonicalOrigin(origin)
		if err == nil && (c.origins[norm] || c.sameOrigin(norm, r.Host) && site != "cross-site" && site != "same-site") {
			return ""
		}
		return fmt.Sprintf("vpcsim does not serve requests of web pages (Origin: %s)%s", origin, advice(c.OriginFlag, "an origin whose pages may call it"))
	case site == "cross-site" || site == "same-site":
		// A browser's request for another page (an <img>, a link) that says
		// no Origin: which page sent it is unknown, so no --allowed-origin
		// can admit it.
		return fmt.Sprintf("vpcsim does not serve requests of web pages (Sec-Fetch-Site: %s)", site)
	}
	return ""
}

func advice(flag, what string) string {
	if flag == "" {
		return ""
	}
	return "; " + flag + " adds " + what
}

// hostAllowed reports whether a Host header is one of the policy's.
func (c rules) hostAllowed(h string) bool {
	name := hostOnly(h)
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap().WithZone("")
		return c.AnyAddress || c.Loopback && a.IsLoopback() || c.addrs[a]
	}
	return name != "" && (c.Loopback && name == "localhost" || c.names[name])
}

// sameOrigin reports whether an origin is the server's own as the request
// reaches it (host and port of its Host header), over HTTP or, behind a TLS
// proxy, HTTPS.
func (c rules) sameOrigin(origin, host string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if own, err := CanonicalOrigin(scheme + host); err == nil && own == origin {
			return true
		}
	}
	return false
}

// signedRead reports whether a GET or HEAD carries a SigV4 signature a web
// page cannot make a browser send: one in the Authorization header (a page
// can set that header only with fetch, which asks first with an OPTIONS that
// the Origin rule refuses), or a presigned one when verify says signatures
// are verified (a page can put any query string in an <img>, so an
// unverified one proves nothing).
func signedRead(r *http.Request, verify bool) bool {
	if strings.HasPrefix(strings.TrimSpace(r.Header.Get("Authorization")), "AWS4-") {
		return true
	}
	_, presigned := r.URL.Query()["X-Amz-Algorithm"]
	return verify && presigned
}
