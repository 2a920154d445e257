package frontdoor

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// recorder is a Protocol that says which refusal it was asked for.
type recorder struct{}

func (recorder) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, "forbidden: "+msg)
}

func (recorder) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, "unauthenticated: "+err.Error())
}

// served answers 200 with the body it read.
var served = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "body: "+err.Error())
		return
	}
	io.WriteString(w, "served "+string(b))
})

func mustDoor(t *testing.T, p Policy, l Limits, v sigv4.Verifier) *Door {
	t.Helper()
	d, err := New(p, l, v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// apiPolicy is the API listener's on 127.0.0.1:4566 with one allowed host and
// origin, as serve builds it.
var apiPolicy = Policy{Loopback: true, Hosts: []string{"127.0.0.1", "vpcsim.internal"}, Origins: []string{"http://localhost:3000"},
	HostFlag: "--allowed-host", OriginFlag: "--allowed-origin"}

// TestPolicy: which Host, Origin, Sec-Fetch-Site and method combinations
// reach the handler, and which are refused with 403 saying why.
func TestPolicy(t *testing.T) {
	const sig = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	for _, tc := range []struct {
		name    string
		policy  Policy
		method  string
		host    string
		headers map[string]string
		query   string
		reads   bool   // the route asks for SignedReads
		want    string // "" served, else a part of the refusal
	}{
		// Host: what clients send, and what rebinding sends.
		{name: "aws cli on 127.0.0.1", host: "127.0.0.1:4566"},
		{name: "localhost", host: "localhost:4566"},
		{name: "LOCALHOST. any port", host: "LOCALHOST.:1"},
		{name: "another loopback address", host: "127.9.8.7:4566"},
		{name: "ipv6 loopback", host: "[::1]:4566"},
		{name: "mapped ipv4 loopback", host: "[::ffff:127.0.0.1]:4566"},
		{name: "no port", host: "127.0.0.1"},
		{name: "allowed name", host: "VPCSIM.internal:443"},
		{name: "rebinding name", host: "rebind.attacker.example:4566", want: `host "rebind.attacker.example:4566"`},
		{name: "localhost subdomain", host: "evil.localhost:4566", want: "(DNS rebinding); --allowed-host adds"},
		{name: "another address", host: "10.1.2.3:4566", want: "does not serve the host"},
		{name: "empty host", host: "", want: "does not serve the host"},
		{name: "loopback off", policy: Policy{Hosts: []string{"169.254.170.2"}}, host: "127.0.0.1", want: "does not serve the host"},
		{name: "metadata address", policy: Policy{Hosts: []string{"169.254.170.2"}}, host: "169.254.170.2"},
		{name: "metadata address, port", policy: Policy{Hosts: []string{"169.254.170.2"}}, host: "169.254.170.2:51679"},
		{name: "any address listen", policy: Policy{AnyAddress: true, Loopback: true}, host: "192.0.2.7:4566"},
		{name: "any address listen, a name", policy: Policy{AnyAddress: true, Loopback: true}, host: "rebind.example:4566", want: "does not serve the host"},

		// Origin and Sec-Fetch-Site: browsers say which page sent a request.
		{name: "rebinding with origin", host: "rebind.attacker.example:4566", headers: map[string]string{"Origin": "http://rebind.attacker.example:4566"}, want: "does not serve the host"},
		{name: "cross-site form post", method: "POST", host: "127.0.0.1:4566",
			headers: map[string]string{"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"},
			want:    "requests of web pages (Origin: https://attacker.example); --allowed-origin adds"},
		{name: "origin null", method: "POST", host: "127.0.0.1:4566", headers: map[string]string{"Origin": "null"}, want: "Origin: null"},
		{name: "same-site page on another port", method: "POST", host: "127.0.0.1:4566",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-site"}, want: "Origin: http://127.0.0.1:8080"},
		{name: "allowed origin", method: "POST", host: "127.0.0.1:4566", headers: map[string]string{"Origin": "http://LOCALHOST:3000", "Sec-Fetch-Site": "same-site"}},
		{name: "allowed origin, other port", method: "POST", host: "127.0.0.1:4566", headers: map[string]string{"Origin": "http://localhost:3001"}, want: "Origin: http://localhost:3001"},
		{name: "own origin", method: "POST", host: "127.0.0.1:4566", headers: map[string]string{"Origin": "http://127.0.0.1:4566", "Sec-Fetch-Site": "same-origin"}},
		{name: "own origin behind tls", method: "POST", host: "vpcsim.internal", headers: map[string]string{"Origin": "https://vpcsim.internal"}},
		{name: "own origin claimed cross-site", method: "POST", host: "127.0.0.1:4566", headers: map[string]string{"Origin": "http://127.0.0.1:4566", "Sec-Fetch-Site": "cross-site"}, want: "requests of web pages"},
		{name: "img from another site", host: "127.0.0.1:4566", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: "Sec-Fetch-Site: cross-site"},
		{name: "img from a same-site page", host: "127.0.0.1:4566", headers: map[string]string{"Sec-Fetch-Site": "same-site"}, want: "Sec-Fetch-Site: same-site"},
		{name: "typed into the address bar", host: "127.0.0.1:4566", headers: map[string]string{"Sec-Fetch-Site": "none"}},
		{name: "preflight", method: "OPTIONS", host: "127.0.0.1:4566",
			headers: map[string]string{"Origin": "https://attacker.example", "Access-Control-Request-Method": "POST"}, want: "Origin: https://attacker.example"},

		// GET on a route that asks for signed reads (EC2 Query).
		{name: "unsigned get", reads: true, host: "127.0.0.1:4566", query: "Action=CreateVpc&CidrBlock=10.0.0.0/16", want: "GET of this API only when it is signed"},
		{name: "unsigned head", method: "HEAD", reads: true, host: "127.0.0.1:4566", want: "GET of this API"},
		{name: "header-signed get", reads: true, host: "127.0.0.1:4566", query: "Action=DescribeVpcs", headers: map[string]string{"Authorization": sig}},
		{name: "presigned get, unverified", reads: true, host: "127.0.0.1:4566", query: "Action=CreateVpc&X-Amz-Algorithm=AWS4-HMAC-SHA256", want: "in its Authorization header: "},
		{name: "get where reads are free", host: "127.0.0.1:4566", query: "Action=DescribeVpcs"},
		{name: "unsigned post", method: "POST", reads: true, host: "127.0.0.1:4566"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p.Hosts == nil && !p.AnyAddress {
				p = apiPolicy
			}
			var opts []RouteOption
			if tc.reads {
				opts = append(opts, SignedReads())
			}
			h := mustDoor(t, p, DefaultAPI, nil).Guard(served, recorder{}, opts...)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "http://x/?"+tc.query, nil)
			r.Host = tc.host
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			body := w.Body.String()
			switch {
			case tc.want == "" && (w.Code != 200 || !strings.HasPrefix(body, "served")):
				t.Errorf("refused: %d %s", w.Code, body)
			case tc.want != "" && (w.Code != 403 || !strings.Contains(body, tc.want)):
				t.Errorf("%d %s, want 403 saying %q", w.Code, body, tc.want)
			}
		})
	}
}

// TestPolicyPresignedWithKeys: with signatures verified, a presigned GET is
// signed enough (its signature is checked); without, only the header counts.
func TestPolicyPresignedWithKeys(t *testing.T) {
	keys := sigv4.NewKeys(map[string]string{"AKID": "secret"})
	h := mustDoor(t, apiPolicy, DefaultAPI, keys).Guard(served, recorder{}, SignedReads())
	r := httptest.NewRequest("GET", "http://127.0.0.1:4566/?Action=DescribeVpcs&X-Amz-Algorithm=AWS4-HMAC-SHA256", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	// Past the policy: refused by the signature check instead.
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "X-Amz-Credential") {
		t.Errorf("presigned GET with keys: %d %s", w.Code, w.Body)
	}
	r = httptest.NewRequest("GET", "http://127.0.0.1:4566/?Action=DescribeVpcs", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/"+time.Now().UTC().Format("20060102")+"/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	r.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK { // the handler verifies the signature itself
		t.Errorf("header-signed GET with a known key: %d %s", w.Code, w.Body)
	}
}

func TestCanonicalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:3000":   "http://localhost:3000",
		"HTTP://LocalHost:3000/":  "http://localhost:3000",
		"http://example.com:80":   "http://example.com",
		"https://example.com:443": "https://example.com",
		"https://[::1]:8443":      "https://[::1]:8443",
		"null":                    "",
		"file://":                 "",
		"http://a/b":              "",
		"localhost:3000":          "",
		"http://u@h":              "",
	} {
		got, err := CanonicalOrigin(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := New(Policy{Origins: []string{"*"}}, DefaultAPI, nil); err == nil {
		t.Error("an origin of * was taken")
	}
	for _, h := range []string{":80", "http://example.com", "a b"} {
		if _, err := New(Policy{Hosts: []string{h}}, DefaultAPI, nil); err == nil {
			t.Errorf("a host of %q was taken", h)
		}
	}
}
