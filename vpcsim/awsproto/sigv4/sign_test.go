package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSign: what Sign signs verifies, with and without a body and with
// X-Amz-* headers, and is refused once changed or signed with another secret.
func TestSign(t *testing.T) {
	srv := verifyServer(t, NewKeys(map[string]string{testKey: testSecret}))
	for _, tc := range []struct {
		method, path, body string
		headers            map[string]string
	}{
		{method: "POST", path: "/_vpcsim/connect?vpc=vpc-1234"},
		{method: "GET", path: "/_vpcsim/sg/explain?eni=eni-1&from=10.0.0.1&port=80&proto=tcp"},
		{method: "POST", path: "/", body: `{"a":1}`, headers: map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"}},
	} {
		build := func() *http.Request {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			return req
		}
		req := build()
		Sign(req, []byte(tc.body), testKey, testSecret, "us-west-2", "vpcsim", time.Now())
		if got := send(t, req); got != (result{}) {
			t.Errorf("%s %s: refused %+v", tc.method, tc.path, got)
		}
		req = build()
		Sign(req, []byte(tc.body), testKey, testSecret, "us-west-2", "vpcsim", time.Now())
		req.URL.RawQuery += "&x=1"
		if got := send(t, req); got != (result{Mismatch, MsgMismatch}) {
			t.Errorf("%s %s changed: %+v", tc.method, tc.path, got)
		}
		req = build()
		Sign(req, []byte(tc.body), testKey, "not-the-secret", "us-west-2", "vpcsim", time.Now())
		if got := send(t, req); got != (result{Mismatch, MsgMismatch}) {
			t.Errorf("%s %s with another secret: %+v", tc.method, tc.path, got)
		}
	}
}

// TestAuthenticateHeader: what can be refused without the body is, in the
// words Authenticate uses; a request that passes still needs its body checked.
func TestAuthenticateHeader(t *testing.T) {
	keys := NewKeys(map[string]string{testKey: testSecret})
	signed := func(key string, when time.Time) *http.Request {
		r := httptest.NewRequest("POST", "http://127.0.0.1:4566/", strings.NewReader("Action=DescribeVpcs"))
		Sign(r, []byte("Action=DescribeVpcs"), key, testSecret, "us-east-1", "ec2", when)
		return r
	}
	refusal := func(err error) Refusal {
		var e *Error
		if errors.As(err, &e) {
			return e.Refusal
		}
		if err != nil {
			return -1
		}
		return 0
	}
	noDate := signed(testKey, time.Now())
	noDate.Header.Del("X-Amz-Date")
	both := signed(testKey, time.Now())
	both.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
	for name, tc := range map[string]struct {
		r    *http.Request
		want Refusal
	}{
		"known key":        {signed(testKey, time.Now()), 0},
		"unknown key":      {signed("AKIDUNKNOWN", time.Now()), UnknownKey},
		"stale":            {signed(testKey, time.Now().Add(-time.Hour)), Expired},
		"unsigned":         {httptest.NewRequest("POST", "/", nil), Unsigned},
		"no date":          {noDate, Incomplete},
		"header and query": {both, Mismatch},
	} {
		if got := refusal(AuthenticateHeader(tc.r, keys)); got != tc.want {
			t.Errorf("%s: refusal %d, want %d", name, got, tc.want)
		}
	}
	// The header check cannot know the body: a good header over another body
	// passes it, and Authenticate refuses the request.
	r := signed(testKey, time.Now())
	if err := AuthenticateHeader(r, keys); err != nil {
		t.Fatal(err)
	}
	if got := refusal(Authenticate(r, []byte("Action=DeleteVpc"), keys)); got != Mismatch {
		t.Errorf("another body: refusal %d, want a mismatch", got)
	}
	// A Verifier that checks nothing before the body lets a signed request on.
	if err := AuthenticateHeader(signed("AKIDUNKNOWN", time.Now()), verifierFunc(func(*http.Request, []byte, Auth) error { return errors.New("x") })); err != nil {
		t.Errorf("a Verifier without CheckHeader refused on the header: %v", err)
	}
}
