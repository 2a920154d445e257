// Package sigv4 reads the AWS Signature Version 4 parts of a request: who signed it
// (access key), for which region and service, and with which signature.
//
// Everything here is a pure function of its input, so it is table-tested without a
// server. Verifying a signature is a separate step (see Verifier): parsing never
// trusts a request, it only reads what the request claims.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Algorithm is the only signing algorithm vpcsim reads.
const Algorithm = "AWS4-HMAC-SHA256"

// Credential is the credential scope a request was signed with:
// AKID/20260101/us-west-2/ec2/aws4_request.
type Credential struct {
	AccessKey string
	Date      string // yyyymmdd
	Region    string
	Service   string
	Terminal  string // always aws4_request
}

// Scope is the credential scope without the access key, as it appears in the
// string to sign: 20260101/us-west-2/ec2/aws4_request.
func (c Credential) Scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + c.Terminal
}

// Auth is what a SigV4-signed request claims about its signature.
type Auth struct {
	Algorithm     string
	Credential    Credential
	SignedHeaders []string // lower-case, in the order given
	Signature     string   // hex
	Presigned     bool     // true when read from the query string (X-Amz-*)
}

// ErrNotSigned means the request carries no SigV4 signature at all: no
// Authorization header that starts with "AWS4-" (AWS's front end takes any other
// as absent) and no X-Amz-Algorithm query parameter.
var ErrNotSigned = errors.New("sigv4: request is not signed with SigV4")

// ParseCredential reads "AKID/20260101/us-west-2/ec2/aws4_request". Trailing
// slashes are ignored, as AWS ignores them. The access key and the date are not
// checked here: an unknown key and a date that is not the request's are
// refusals of their own (see Keys.Verify).
func ParseCredential(s string) (Credential, error) {
	parts := strings.Split(strings.TrimRight(s, "/"), "/")
	if len(parts) != 5 {
		return Credential{}, refuse(Incomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", s)
	}
	c := Credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], Terminal: parts[4]}
	// AWS names every wrong piece of the scope in one message, each sentence
	// followed by a space.
	var wrong strings.Builder
	if c.Region == "" {
		wrong.WriteString("Credential should be scoped to a valid region, not ''. ")
	}
	if c.Service == "" {
		// (vpcsim's wording: AWS names the service it expects, which a parser
		// that serves every service cannot.)
		wrong.WriteString("Credential should be scoped to a valid service, not ''. ")
	}
	if c.Terminal != "aws4_request" {
		fmt.Fprintf(&wrong, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", c.Terminal)
	}
	if wrong.Len() > 0 {
		return Credential{}, refuse(Mismatch, "%s", wrong.String())
	}
	return c, nil
}

// ParseAuthorization reads an Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc…
//
// The fields may come in any order, separated by commas and/or spaces; unknown
// fields are ignored. A header that does not start with "AWS4-" is
// ErrNotSigned; any other refusal is an *Error worded as AWS words it.
func ParseAuthorization(h string) (Auth, error) { return parseAuthorization(h, true) }

// parseAuthorization is ParseAuthorization for a request that has (haveDate) or
// lacks an X-Amz-Date or Date header: AWS names a missing date in the same
// message as missing fields.
func parseAuthorization(h string, haveDate bool) (Auth, error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "AWS4-") {
		return Auth{}, ErrNotSigned
	}
	alg, rest, _ := strings.Cut(h, " ")
	fields := map[string]string{}
	for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return Auth{}, refuse(Incomplete, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", f, h)
		}
		fields[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		// An empty SignedHeaders is present to AWS; the host check refuses it later.
		if v, ok := fields[k]; !ok || v == "" && k != "SignedHeaders" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		if !haveDate {
			missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
		return Auth{}, refuse(Incomplete, "%s Authorization=%s", strings.Join(missing, " "), h)
	}
	return readAuth(alg, fields["Credential"], fields["SignedHeaders"], fields["Signature"], false)
}

// ParseQuery reads a presigned request's X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature parameters. Without an
// X-Amz-Algorithm parameter the request is ErrNotSigned, as AWS takes it.
func ParseQuery(q url.Values) (Auth, error) {
	if _, ok := q["X-Amz-Algorithm"]; !ok {
		return Auth{}, ErrNotSigned
	}
	var missing strings.Builder
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			missing.WriteString("AWS query-string parameters must include '" + k + "'. ")
		}
	}
	if missing.Len() > 0 {
		return Auth{}, refuse(Incomplete, "%sRe-examine the query-string parameters.", missing.String())
	}
	return readAuth(q.Get("X-Amz-Algorithm"), q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), true)
}

// readAuth checks the algorithm and reads the credential and signed headers of
// a header or a presigned query.
func readAuth(alg, cred, signedHeaders, sig string, presigned bool) (Auth, error) {
	if alg != Algorithm {
		return Auth{}, refuse(Incomplete, "Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ", alg)
	}
	c, err := ParseCredential(cred)
	if err != nil {
		return Auth{}, err
	}
	return Auth{Algorithm: alg, Credential: c, SignedHeaders: parseSignedHeaders(signedHeaders), Signature: sig, Presigned: presigned}, nil
}

// FromRequest reads the signature of r from its Authorization header, else from its
// URL query (a presigned request). It never reads the body. ErrNotSigned means
// neither is present; other errors are *Error.
func FromRequest(r *http.Request) (Auth, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		a, err := parseAuthorization(h, r.Header.Get("X-Amz-Date") != "" || r.Header.Get("Date") != "")
		if !errors.Is(err, ErrNotSigned) {
			return a, err
		}
	}
	if r.URL != nil {
		return ParseQuery(r.URL.Query())
	}
	return Auth{}, ErrNotSigned
}

// Region is the region of r's credential scope, or fallback when r is unsigned or
// its signature cannot be read. It never reads the body.
func Region(r *http.Request, fallback string) string {
	a, err := FromRequest(r)
	if err != nil {
		return fallback
	}
	return a.Credential.Region
}

// Service is the service of r's credential scope ("ec2", "sts", …), or "" when r is
// unsigned or its signature cannot be read.
func Service(r *http.Request) string {
	a, err := FromRequest(r)
	if err != nil {
		return ""
	}
	return a.Credential.Service
}

// Verifier checks a request's signature against the secret of its access key. It is
// the seam where verification plugs in: the protocol packages call it through
// Authenticate, when one is configured, after reading the body (payload) and
// before doing anything. Verify returns nil, or an *Error naming the AWS refusal;
// Authenticate takes any other error as a signature mismatch. Keys is the
// implementation.
type Verifier interface {
	Verify(r *http.Request, payload []byte, a Auth) error
}

// SigningKey derives the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func SigningKey(secret string, c Credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, c.Terminal)
}

// SignatureEqual compares two hex signatures in constant time, so a verifier does
// not leak how many leading characters of a forged signature were right.
func SignatureEqual(a, b string) bool {
	return hmac.Equal([]byte(strings.ToLower(a)), []byte(strings.ToLower(b)))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// parseSignedHeaders reads "host;x-amz-date". AWS matches header names without
// regard to case, so they are lower-cased here; empty names are dropped.
func parseSignedHeaders(v string) []string {
	var hs []string
	for _, h := range strings.Split(v, ";") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}
