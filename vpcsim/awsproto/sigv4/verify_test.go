package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDVPCSIMTEST01"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// result is what the test server says of a request: the refusal (0: verified)
// and its message.
type result struct {
	Refusal Refusal
	Message string
}

// verifyServer serves Authenticate over real HTTP, so Go's server does to the
// request what it does in vpcsim (Host moved to r.Host, header values trimmed).
func verifyServer(t *testing.T, keys *Keys) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var res result
		if err := Authenticate(r, body, keys); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				res.Message = "not an *Error: " + err.Error()
			} else {
				res = result{e.Refusal, e.Message}
			}
		}
		json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// goRequest is one request shape clients send, signed by aws-sdk-go-v2.
type goRequest struct {
	name, method, path, query, body string
	headers                         [][2]string
	service                         string
	payloadHash                     string // "" : the body's SHA-256
}

var goRequests = []goRequest{
	{name: "EC2 form POST", method: "POST", path: "/", service: "ec2",
		body:    "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b",
		headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}},
	{name: "ECS JSON", method: "POST", path: "/", service: "ecs", body: `{"clusters":["default"]}`,
		headers: [][2]string{{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeClusters"}}},
	{name: "GET query needing encoding", method: "GET", path: "/", service: "ec2",
		query: "Action=DescribeVpcs&Version=2016-11-15&b=2&a=%C3%BC+x~y&a=0&empty=&Filter.1.Name=tag%3A%2A"},
	{name: "path needing encoding", method: "GET", path: "/a%20b/c%2Fd/%C3%BC", service: "ec2"},
	{name: "header spaces and repeats", method: "POST", path: "/", service: "ecs", body: "{}",
		headers: [][2]string{{"X-Amz-Meta-Note", "  two   spaces  "}, {"X-Amz-Meta-Many", "one"}, {"X-Amz-Meta-Many", "two"}}},
	{name: "hashed payload header", method: "POST", path: "/", service: "ecs", body: "{}", payloadHash: hashOf([]byte("{}")),
		headers: [][2]string{{"X-Amz-Content-Sha256", hashOf([]byte("{}"))}}},
	{name: "empty body", method: "POST", path: "/", service: "ec2"},
}

func (g goRequest) build(t *testing.T, base string) *http.Request {
	t.Helper()
	u := base + g.path
	if g.query != "" {
		u += "?" + g.query
	}
	req, err := http.NewRequest(g.method, u, strings.NewReader(g.body))
	if err != nil {
		t.Fatal(err)
	}
	if g.body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for _, h := range g.headers {
		req.Header.Add(h[0], h[1])
	}
	return req
}

func (g goRequest) sign(t *testing.T, req *http.Request, creds aws.Credentials, when time.Time) {
	t.Helper()
	ph := g.payloadHash
	if ph == "" {
		ph = hashOf([]byte(g.body))
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, ph, g.service, "us-west-2", when); err != nil {
		t.Fatal(err)
	}
}

var goodCreds = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}

// TestVerifyGoSigner: every request shape aws-sdk-go-v2 signs verifies, and a
// one-byte change of its body, of a signed header, of the key or of the secret
// is refused as AWS refuses it.
func TestVerifyGoSigner(t *testing.T) {
	srv := verifyServer(t, NewKeys(map[string]string{testKey: testSecret, "AKIDOTHER": "other"}))
	flip := func(s string) string { // one byte changed
		b := []byte(s)
		b[len(b)/2] ^= 1
		return string(b)
	}
	for _, g := range goRequests {
		t.Run(g.name, func(t *testing.T) {
			req := g.build(t, srv.URL)
			g.sign(t, req, goodCreds, time.Now())
			req.Header.Set("User-Agent", "not signed, so free to change")
			if got := send(t, req); got != (result{}) {
				t.Fatalf("signed request refused: %+v", got)
			}

			mismatch := result{Mismatch, MsgMismatch}
			if g.body != "" {
				req = g.build(t, srv.URL)
				g.sign(t, req, goodCreds, time.Now())
				req.Body = io.NopCloser(strings.NewReader(flip(g.body)))
				if got := send(t, req); got != mismatch {
					t.Errorf("body changed: %+v", got)
				}
			}
			req = g.build(t, srv.URL)
			g.sign(t, req, goodCreds, time.Now())
			d, _ := time.Parse(basicISO8601, req.Header.Get("X-Amz-Date"))
			req.Header.Set("X-Amz-Date", d.Add(time.Second).Format(basicISO8601)) // signed, and still a good date
			if got := send(t, req); got != mismatch {
				t.Errorf("signed header changed: %+v", got)
			}

			req = g.build(t, srv.URL)
			g.sign(t, req, aws.Credentials{AccessKeyID: flip(testKey), SecretAccessKey: testSecret}, time.Now())
			if got := send(t, req); got != (result{UnknownKey, MsgUnknownKey}) {
				t.Errorf("unknown key: %+v", got)
			}

			req = g.build(t, srv.URL)
			g.sign(t, req, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: flip(testSecret)}, time.Now())
			if got := send(t, req); got != mismatch {
				t.Errorf("wrong secret: %+v", got)
			}

			req = g.build(t, srv.URL)
			g.sign(t, req, aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: testSecret}, time.Now())
			if got := send(t, req); got != mismatch {
				t.Errorf("another key's secret: %+v", got)
			}
		})
	}
}

// TestVerifyPresigned: a URL presigned by aws-sdk-go-v2 verifies until its
// X-Amz-Expires, and its signature covers its query.
func TestVerifyPresigned(t *testing.T) {
	srv := verifyServer(t, NewKeys(map[string]string{testKey: testSecret}))
	presign := func(query string, when time.Time) string {
		req, _ := http.NewRequest("GET", srv.URL+"/?"+query, nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), goodCreds, req, hashOf(nil), "sts", "us-east-1", when)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(u string) result {
		req, _ := http.NewRequest("GET", u, nil)
		return send(t, req)
	}
	u := presign("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", time.Now())
	if got := get(u); got != (result{}) {
		t.Fatalf("presigned URL refused: %+v", got)
	}
	if got := get(strings.Replace(u, "GetCallerIdentity", "GetCallerIdentitz", 1)); got != (result{Mismatch, MsgMismatch}) {
		t.Errorf("query changed: %+v", got)
	}
	// The server's log says what was signed; the client is not told.
	req, _ := http.NewRequest("GET", strings.Replace(u, "GetCallerIdentity", "GetCallerIdentitz", 1), nil)
	a, _ := ParseQuery(req.URL.Query())
	req.Host = req.URL.Host
	err := NewKeys(map[string]string{testKey: testSecret}).Verify(req, nil, a)
	if err == nil || !strings.Contains(err.Error(), `canonical request "GET\n/\nAction=GetCallerIdentitz&`) || strings.Contains(err.Error(), testSecret) {
		t.Errorf("Verify() = %v", err)
	}
	old := presign("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", time.Now().Add(-2*time.Minute))
	if got := get(old); got.Refusal != Expired || !strings.HasPrefix(got.Message, "Signature expired: ") {
		t.Errorf("past X-Amz-Expires: %+v", got)
	}
	req, _ = http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
	if got := send(t, req); got != (result{Mismatch, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}) {
		t.Errorf("header and query: %+v", got)
	}
}

// TestVerifyRefusals: the refusals that come before the signature, in AWS's words.
func TestVerifyRefusals(t *testing.T) {
	srv := verifyServer(t, NewKeys(map[string]string{testKey: testSecret}))
	g := goRequests[1]
	signedAt := func(when time.Time, creds aws.Credentials) *http.Request {
		req := g.build(t, srv.URL)
		g.sign(t, req, creds, when)
		return req
	}
	if got := send(t, g.build(t, srv.URL)); got != (result{Unsigned, MsgMissingToken}) {
		t.Errorf("unsigned: %+v", got)
	}
	got := send(t, signedAt(time.Now().Add(-20*time.Minute), goodCreds))
	if got.Refusal != Expired || !strings.HasPrefix(got.Message, "Signature expired: ") || !strings.HasSuffix(got.Message, " - 15 min.)") {
		t.Errorf("20 minutes old: %+v", got)
	}
	got = send(t, signedAt(time.Now().Add(20*time.Minute), goodCreds))
	if got.Refusal != Expired || !strings.HasPrefix(got.Message, "Signature not yet current: ") || !strings.HasSuffix(got.Message, " + 15 min.)") {
		t.Errorf("20 minutes ahead: %+v", got)
	}
	if got := send(t, signedAt(time.Now(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: "token"})); got != (result{UnknownKey, MsgUnknownKey}) {
		t.Errorf("session token: %+v", got)
	}
	req := signedAt(time.Now(), goodCreds)
	req.Header.Set("X-Amz-Content-Sha256", hashOf([]byte("another body")))
	if got := send(t, req); got != (result{Mismatch, MsgMismatch}) {
		t.Errorf("x-amz-content-sha256 of another body: %+v", got)
	}
	// EC2, STS and ECS sign their bodies: AWS hashes the body itself, so a
	// signature over UNSIGNED-PAYLOAD (or a streaming mode) does not match.
	for _, mode := range []string{"UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"} {
		req = g.build(t, srv.URL)
		req.Header.Set("X-Amz-Content-Sha256", mode)
		if err := v4.NewSigner().SignHTTP(context.Background(), goodCreds, req, mode, g.service, "us-west-2", time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := send(t, req); got != (result{Mismatch, MsgMismatch}) {
			t.Errorf("%s: %+v", mode, got)
		}
	}
	req = signedAt(time.Now(), goodCreds)
	req.Header.Set("X-Amz-Date", "2015/08/30T12/36/00Z")
	if got := send(t, req); got != (result{Incomplete, "Date must be in ISO-8601 'basic format'. Got '2015/08/30T12/36/00Z'. See http://en.wikipedia.org/wiki/ISO_8601"}) {
		t.Errorf("bad date: %+v", got)
	}
	req = signedAt(time.Now(), goodCreds)
	auth := req.Header.Get("Authorization")
	req.Header.Del("X-Amz-Date")
	if got := send(t, req); got != (result{Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + auth}) {
		t.Errorf("no date: %+v", got)
	}
	req = signedAt(time.Now(), goodCreds)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=x;", 1))
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), ";host;", ";", 1))
	if got := send(t, req); got != (result{Mismatch, "'Host' must be a 'SignedHeader' in the AWS Authorization."}) {
		t.Errorf("host not signed: %+v", got)
	}
	req = signedAt(time.Now(), goodCreds) // an ECS request: X-Amz-Target names its operation
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), ";x-amz-target", "", 1))
	if got := send(t, req); got != (result{Mismatch, "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."}) {
		t.Errorf("operation not signed: %+v", got)
	}
	req = signedAt(time.Now(), goodCreds)
	day := time.Now().UTC().Format("20060102")
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/"+day+"/", "/20150830/", 1))
	want := fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150830' != '%s', from '%s'. ", day, req.Header.Get("X-Amz-Date"))
	if got := send(t, req); got != (result{Mismatch, want}) {
		t.Errorf("scope of another day: %+v", got)
	}
}

// TestVerifyClock: MaxSkew either way is still accepted, a second more is not.
func TestVerifyClock(t *testing.T) {
	keys := NewKeys(map[string]string{testKey: testSecret})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	keys.now = func() time.Time { return now }
	srv := verifyServer(t, keys)
	g := goRequests[0]
	for _, tc := range []struct {
		offset time.Duration
		want   string
	}{
		{-MaxSkew, ""},
		{MaxSkew, ""},
		{-MaxSkew - time.Second, "Signature expired: 20260102T024904Z is now earlier than 20260102T024905Z (20260102T030405Z - 15 min.)"},
		{MaxSkew + time.Second, "Signature not yet current: 20260102T031906Z is still later than 20260102T031905Z (20260102T030405Z + 15 min.)"},
	} {
		req := g.build(t, srv.URL)
		g.sign(t, req, goodCreds, now.Add(tc.offset))
		got := send(t, req)
		if tc.want == "" && got != (result{}) || tc.want != "" && got != (result{Expired, tc.want}) {
			t.Errorf("signed %v from now: %+v", tc.offset, got)
		}
	}
}

// TestKnownAnswer is the worked example of the AWS General Reference (IAM
// ListUsers, 2015-08-30), which aws-sdk-go-v2 signs to the same signature.
func TestKnownAnswer(t *testing.T) {
	req := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Date", "20150830T123600Z")
	a := Auth{Algorithm: Algorithm, Credential: Credential{"AKIDEXAMPLE", "20150830", "us-east-1", "iam", "aws4_request"},
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}}
	cr := CanonicalRequest(req, a, hashOf(nil))
	wantCR := "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", cr, wantCR)
	}
	const want = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if got := Signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", a.Credential, StringToSign("20150830T123600Z", a.Credential, cr)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	sdkReq, _ := http.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	sdkReq.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}, sdkReq, hashOf(nil), "iam", "us-east-1", when)
	if err != nil || !strings.HasSuffix(sdkReq.Header.Get("Authorization"), "Signature="+want) {
		t.Errorf("aws-sdk-go-v2 signs %q (%v)", sdkReq.Header.Get("Authorization"), err)
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"a", "a="},
		{"a=b+c&d=%7e&e=%2a&f=%c3%bc", "a=b%20c&d=~&e=%2A&f=%C3%BC"},
		{"X-Amz-Signature=ab&X-Amz-Date=1", "X-Amz-Date=1"},
		{"bad=%zz", "bad=%25zz"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.raw); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
	if got := uriEncode("/a b/%2F/ü~", false); got != "/a%20b/%252F/%C3%BC~" {
		t.Errorf("uriEncode = %q", got)
	}
}

// TestAuthenticateForeignError: a Verifier's own error is a mismatch that
// still says its cause.
func TestAuthenticateForeignError(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=ab")
	cause := errors.New("backend down")
	err := Authenticate(r, nil, verifierFunc(func(*http.Request, []byte, Auth) error { return cause }))
	var e *Error
	if !errors.As(err, &e) || e.Refusal != Mismatch || !errors.Is(err, cause) {
		t.Errorf("Authenticate() = %v", err)
	}
}

type verifierFunc func(*http.Request, []byte, Auth) error

func (f verifierFunc) Verify(r *http.Request, p []byte, a Auth) error { return f(r, p, a) }

// botocoreScript signs requests with botocore as the aws CLI v1 does (SigV4Auth,
// and SigV4QueryAuth for a presigned URL) and prints them as JSON.
const botocoreScript = `
import json, sys
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

base, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
creds = Credentials(key, secret)
out = []
def emit(name, auth, method, url, body, headers):
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    auth.add_auth(req)
    p = req.prepare()
    hs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in p.headers.items()}
    out.append({"name": name, "method": p.method, "url": p.url, "headers": hs, "body": body})
emit("ec2 form", SigV4Auth(creds, "ec2", "eu-west-1"), "POST", base + "/",
     "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName",
     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
emit("ecs json", SigV4Auth(creds, "ecs", "eu-west-1"), "POST", base + "/", '{"cluster":"default"}',
     {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTasks"})
emit("query", SigV4Auth(creds, "ec2", "eu-west-1"), "GET",
     base + "/?Action=DescribeVpcs&Version=2016-11-15&b=%C3%BC%20x&a=~", "", {})
emit("presigned", SigV4QueryAuth(creds, "sts", "us-east-1", expires=60), "GET",
     base + "/?Action=GetCallerIdentity&Version=2011-06-15", "", {})
print(json.dumps(out))
`

// TestVerifyBotocore: requests botocore signs verify, and are refused with the
// wrong secret or an unknown key.
func TestVerifyBotocore(t *testing.T) {
	if exec.Command("python3", "-c", "import botocore").Run() != nil {
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatal("botocore is missing (VPCSIM_REQUIRE_E2E=1): pip install botocore")
		}
		t.Skip("botocore is missing: pip install botocore")
	}
	srv := verifyServer(t, NewKeys(map[string]string{testKey: testSecret}))
	signed := func(key, secret string) []map[string]any {
		out, err := exec.Command("python3", "-c", botocoreScript, srv.URL, key, secret).Output()
		if err != nil {
			t.Fatalf("botocore: %v %s", err, out)
		}
		var reqs []map[string]any
		if err := json.Unmarshal(out, &reqs); err != nil {
			t.Fatal(err)
		}
		return reqs
	}
	do := func(r map[string]any) result {
		req, err := http.NewRequest(r["method"].(string), r["url"].(string), bytes.NewReader([]byte(r["body"].(string))))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range r["headers"].(map[string]any) {
			req.Header.Set(k, v.(string))
		}
		return send(t, req)
	}
	for _, r := range signed(testKey, testSecret) {
		if got := do(r); got != (result{}) {
			t.Errorf("%s: botocore's signature refused: %+v", r["name"], got)
		}
	}
	for _, r := range signed(testKey, testSecret[:len(testSecret)-1]+"X") {
		if got := do(r); got != (result{Mismatch, MsgMismatch}) {
			t.Errorf("%s with a wrong secret: %+v", r["name"], got)
		}
	}
	for _, r := range signed("AKIDUNKNOWN", testSecret) {
		if got := do(r); got != (result{UnknownKey, MsgUnknownKey}) {
			t.Errorf("%s with an unknown key: %+v", r["name"], got)
		}
	}
}
