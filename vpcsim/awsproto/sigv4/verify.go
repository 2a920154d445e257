package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Refusal is which AWS refusal a failed signature check is. The protocol packages
// word each as their service does: EC2, STS and ECS do not agree (see
// ec2query/auth.go and ecsjson/auth.go).
type Refusal int

const (
	// Unsigned: no SigV4 signature at all. STS and ECS answer
	// MissingAuthenticationToken(Exception); EC2 asks for AWSAccessKeyId.
	Unsigned Refusal = iota + 1
	// Incomplete: the signature's parts are missing or malformed:
	// IncompleteSignature(Exception), with Message saying which.
	Incomplete
	// UnknownKey: an access key (or a session token) the server does not know:
	// STS InvalidClientTokenId, ECS UnrecognizedClientException, EC2 AuthFailure.
	UnknownKey
	// Mismatch: the signature, or its credential scope, is not the one the
	// server computes: SignatureDoesNotMatch (InvalidSignatureException in ECS).
	Mismatch
	// Expired: the request's date is more than MaxSkew from the server's clock,
	// or a presigned URL is past its X-Amz-Expires. EC2 answers RequestExpired;
	// STS and ECS a signature mismatch whose Message gives the times.
	Expired
)

// The messages of AWS's request front end (the one STS and ECS answer from),
// for the refusals that carry no particulars.
const (
	MsgMissingToken = "Request is missing Authentication Token"
	MsgUnknownKey   = "The security token included in the request is invalid."
	MsgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// MaxSkew is how far a request's date may be from the server's clock, either way.
const MaxSkew = 15 * time.Minute

// maxExpires is the longest X-Amz-Expires of a presigned request: 7 days.
const maxExpires = 7 * 24 * 60 * 60

// basicISO8601 is the layout of X-Amz-Date: 20150830T123600Z.
const basicISO8601 = "20060102T150405Z"

// Error is a refused signature: which refusal, and AWS's text for it where the
// text carries particulars (which parts are missing, the times of an expired
// request); otherwise the generic text of the refusal.
type Error struct {
	Refusal Refusal
	Message string
	// cause is a Verifier's own error that Authenticate took as a mismatch.
	cause error
	// detail is for the server's log, not the client: what was signed, when
	// a signature does not match (some AWS services send it; EC2 and ECS
	// do not).
	detail string
}

func (e *Error) Error() string {
	msg := "sigv4: " + e.Message
	if e.cause != nil {
		msg += " (" + e.cause.Error() + ")"
	}
	if e.detail != "" {
		msg += "; " + e.detail
	}
	return msg
}

func (e *Error) Unwrap() error { return e.cause }

func refuse(r Refusal, format string, args ...any) *Error {
	return &Error{Refusal: r, Message: fmt.Sprintf(format, args...)}
}

// Authenticate reads r's signature and verifies it with v, in the order AWS's
// front end checks a request: a signature both in the header and the query, no
// signature, a malformed one, then v. It returns nil or an *Error; any other
// error of v becomes a Mismatch that wraps it. payload is the request body,
// already read.
func Authenticate(r *http.Request, payload []byte, v Verifier) error {
	a, err := signature(r)
	if err == nil {
		err = v.Verify(r, payload, a)
	}
	return asRefusal(err)
}

// HeaderChecker is a Verifier that can refuse a request on its headers alone
// (Keys is one): a server asks it before it reads the body, so that a client
// without a known key cannot make it hold a body in memory.
type HeaderChecker interface {
	CheckHeader(r *http.Request, a Auth) error
}

// AuthenticateHeader is the part of Authenticate that needs no body: the
// signature's presence and form and, when v is a HeaderChecker, what v can
// refuse from the headers. A request it passes must still pass Authenticate
// once its body is read.
func AuthenticateHeader(r *http.Request, v Verifier) error {
	a, err := signature(r)
	if hc, ok := v.(HeaderChecker); ok && err == nil {
		err = hc.CheckHeader(r, a)
	}
	return asRefusal(err)
}

// signature reads r's signature, refusing one given both in the header and in
// the query, and none at all.
func signature(r *http.Request) (Auth, error) {
	if _, inQuery := r.URL.Query()["X-Amz-Algorithm"]; inQuery && r.Header.Get("Authorization") != "" {
		return Auth{}, refuse(Mismatch, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	}
	a, err := FromRequest(r)
	if errors.Is(err, ErrNotSigned) {
		return Auth{}, &Error{Refusal: Unsigned, Message: MsgMissingToken}
	}
	return a, err
}

// asRefusal makes any error an *Error: a Verifier's own is a Mismatch that
// wraps it.
func asRefusal(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Refusal: Mismatch, Message: MsgMismatch, cause: err}
}

// RegionRefused is AWS's refusal of a credential scope whose region the
// endpoint does not serve.
func RegionRefused(region string) *Error {
	return refuse(Mismatch, "Credential should be scoped to a valid region, not '%s'. ", region)
}

// Keys verifies SigV4 signatures against a fixed set of access keys. It is safe
// for concurrent use: the keys do not change after NewKeys.
type Keys struct {
	secrets map[string]string // access key ID → secret access key
	now     func() time.Time
}

var _ Verifier = (*Keys)(nil)

// NewKeys returns a Verifier of the given access key ID → secret access key
// pairs; the map is copied.
func NewKeys(secrets map[string]string) *Keys {
	k := &Keys{secrets: make(map[string]string, len(secrets)), now: time.Now}
	for id, secret := range secrets {
		k.secrets[id] = secret
	}
	return k
}

var _ HeaderChecker = (*Keys)(nil)

// Verify recomputes the signature of r as SigV4 defines it (canonical request,
// string to sign, signing key of the access key's secret) and compares it with
// a's in constant time. It first refuses what CheckHeader refuses, then a body
// that is not the one hashed in x-amz-content-sha256, a wrong signature, and
// a session token (vpcsim issues none). Every refusal is an *Error.
//
// The payload hash signed is always the body's own SHA-256, as every AWS
// service but S3 computes it: a request signed with UNSIGNED-PAYLOAD (or a
// streaming mode) is a signature mismatch, as AWS answers it, for EC2, STS and
// ECS sign their bodies.
func (k *Keys) Verify(r *http.Request, payload []byte, a Auth) error {
	stamp, secret, err := k.checkHeader(r, a)
	if err != nil {
		return err
	}
	bodyHash := hexSHA256(payload)
	if h := r.Header.Get("X-Amz-Content-Sha256"); isSHA256Hex(h) && !strings.EqualFold(h, bodyHash) {
		// The client hashed another body than the one that arrived.
		return &Error{Refusal: Mismatch, Message: MsgMismatch}
	}
	canonical := CanonicalRequest(r, a, bodyHash)
	toSign := StringToSign(stamp, a.Credential, canonical)
	if !SignatureEqual(Signature(secret, a.Credential, toSign), a.Signature) {
		// The canonical request holds no secret: the Authorization header is
		// never among the signed ones.
		return &Error{Refusal: Mismatch, Message: MsgMismatch, detail: fmt.Sprintf("canonical request %q, string to sign %q", canonical, toSign)}
	}
	if r.Header.Get("X-Amz-Security-Token") != "" || r.URL.Query().Get("X-Amz-Security-Token") != "" {
		return &Error{Refusal: UnknownKey, Message: MsgUnknownKey}
	}
	return nil
}

// CheckHeader refuses, in this order and without the body: a request without
// a date or with a malformed one, one dated more than MaxSkew from now (or a
// presigned one past X-Amz-Expires), one that does not sign the host (or the
// X-Amz-Target it has), a credential scope dated another day than the
// request, and an unknown access key. Verify makes the same checks first.
func (k *Keys) CheckHeader(r *http.Request, a Auth) error {
	_, _, err := k.checkHeader(r, a)
	return err
}

// checkHeader is CheckHeader, returning the request's date as the string to
// sign carries it and the access key's secret.
func (k *Keys) checkHeader(r *http.Request, a Auth) (stamp, secret string, err error) {
	when, stamp, err := requestDate(r, a)
	if err != nil {
		return "", "", err
	}
	if err := checkFresh(r, a, when, k.now().UTC()); err != nil {
		return "", "", err
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return "", "", refuse(Mismatch, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	// X-Amz-Target names the operation of a JSON request (ECS): unsigned, a
	// captured request could be replayed as another operation on the same
	// body. Every SDK signs it; vpcsim insists.
	if r.Header.Get("X-Amz-Target") != "" && !slices.Contains(a.SignedHeaders, "x-amz-target") {
		return "", "", refuse(Mismatch, "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if day := stamp[:min(8, len(stamp))]; a.Credential.Date != day {
		return "", "", refuse(Mismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'. ", a.Credential.Date, day, stamp)
	}
	secret, ok := k.secrets[a.Credential.AccessKey]
	if !ok {
		return "", "", &Error{Refusal: UnknownKey, Message: MsgUnknownKey}
	}
	return stamp, secret, nil
}

// requestDate reads the date a request was signed at: X-Amz-Date (the query's,
// when presigned), else the Date header. stamp is that date as the string to
// sign carries it.
func requestDate(r *http.Request, a Auth) (when time.Time, stamp string, err error) {
	raw := r.Header.Get("X-Amz-Date")
	if a.Presigned {
		raw = r.URL.Query().Get("X-Amz-Date") // ParseQuery made sure it is there
	}
	if raw != "" {
		t, err := time.Parse(basicISO8601, raw)
		if err != nil {
			return time.Time{}, "", badDate(raw)
		}
		return t, raw, nil
	}
	raw = r.Header.Get("Date")
	if raw == "" {
		return time.Time{}, "", refuse(Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", r.Header.Get("Authorization"))
	}
	t, err := http.ParseTime(raw)
	if err != nil {
		return time.Time{}, "", badDate(raw)
	}
	// (unverified: which form of a Date header AWS puts in the string to sign;
	// the SigV4 documentation asks for X-Amz-Date's, which SDKs always send.)
	return t, t.UTC().Format(basicISO8601), nil
}

func badDate(raw string) *Error {
	return refuse(Incomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", raw)
}

// checkFresh refuses a request dated more than MaxSkew after now, or one older
// than MaxSkew (a presigned one: older than its X-Amz-Expires).
func checkFresh(r *http.Request, a Auth, when, now time.Time) error {
	f := func(t time.Time) string { return t.UTC().Format(basicISO8601) }
	if when.After(now.Add(MaxSkew)) {
		return refuse(Expired, "Signature not yet current: %s is still later than %s (%s + 15 min.)", f(when), f(now.Add(MaxSkew)), f(now))
	}
	if !a.Presigned {
		if when.Before(now.Add(-MaxSkew)) {
			return refuse(Expired, "Signature expired: %s is now earlier than %s (%s - 15 min.)", f(when), f(now.Add(-MaxSkew)), f(now))
		}
		return nil
	}
	expires := int(MaxSkew / time.Second)
	if v := r.URL.Query().Get("X-Amz-Expires"); v != "" {
		// (AWS's texts for a bad X-Amz-Expires are S3's; the other services'
		// were not found.)
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			return refuse(Incomplete, "X-Amz-Expires should be a number")
		case n > maxExpires:
			return refuse(Incomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		expires = n
	}
	if oldest := now.Add(-time.Duration(expires) * time.Second); when.Before(oldest) {
		// (unverified: AWS's wording for a presigned URL past X-Amz-Expires;
		// this follows its wording for an expired signature.)
		return refuse(Expired, "Signature expired: %s is now earlier than %s (%s - %d sec.)", f(when), f(oldest), f(now), expires)
	}
	return nil
}

// CanonicalRequest is SigV4's canonical form of r:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//
// URI is the path as sent, URI-encoded once more (every service but S3 signs it
// so); QUERY the parameters decoded, strictly re-encoded and sorted by name
// then value, without X-Amz-Signature; HEADERS the signed headers, each
// "name:value\n" with the values trimmed, inner runs of spaces folded, and the
// values of a repeated header joined by commas.
func CanonicalRequest(r *http.Request, a Auth, payloadHash string) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + uriEncode(path, false) + "\n" + canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range a.SignedHeaders {
		b.WriteString(name + ":" + headerValue(r, name) + "\n")
	}
	b.WriteString("\n" + strings.Join(a.SignedHeaders, ";") + "\n" + payloadHash)
	return b.String()
}

// StringToSign is AWS4-HMAC-SHA256 \n stamp \n scope \n hex(SHA-256(canonical request)).
func StringToSign(stamp string, c Credential, canonicalRequest string) string {
	return Algorithm + "\n" + stamp + "\n" + c.Scope() + "\n" + hexSHA256([]byte(canonicalRequest))
}

// Signature is hex(HMAC(signing key of secret, string to sign)).
func Signature(secret string, c Credential, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(SigningKey(secret, c), stringToSign))
}

// canonicalQuery sorts and strictly re-encodes a raw query string.
func canonicalQuery(raw string) string {
	type pair struct{ k, v string }
	var pairs []pair
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k, v = uriEncode(queryUnescape(k), true), uriEncode(queryUnescape(v), true)
		if k == "X-Amz-Signature" {
			continue // what is signed cannot contain the signature
		}
		pairs = append(pairs, pair{k, v})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// queryUnescape decodes a query component as the SDKs read it before
// re-encoding ('+' is a space); one that does not decode is taken as it is.
func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode is SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX
// (upper-case hex), and '/' too when encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// headerValue is a signed header's canonical value. Go's server moves Host out
// of the header map into r.Host, and may leave Content-Length only in
// r.ContentLength.
func headerValue(r *http.Request, name string) string {
	values := r.Header.Values(name)
	switch {
	case name == "host":
		values = []string{r.Host}
	case len(values) == 0 && name == "content-length" && r.ContentLength >= 0:
		values = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	trimmed := make([]string, len(values)) // values is the request's own slice
	for i, v := range values {
		trimmed[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(trimmed, ",")
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
