// Package awsauth reads the AWS Signature Version 4 parts of a request: who signed it
// (access key), for which region and service, and with which signature.
//
// Everything here is a pure function of its input, so it is table-tested without a
// server. Verifying a signature is a separate step (see Verifier): parsing never
// trusts a request, it only reads what the request claims.
package awsauth

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

// ErrNotSigned means the request carries no SigV4 signature at all.
var ErrNotSigned = errors.New("awsauth: request is not signed with SigV4")

// ParseCredential reads "AKID/20260101/us-west-2/ec2/aws4_request".
func ParseCredential(s string) (Credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return Credential{}, fmt.Errorf("awsauth: credential %q: want 5 slash-separated parts, have %d", s, len(parts))
	}
	c := Credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], Terminal: parts[4]}
	switch {
	case c.AccessKey == "":
		return Credential{}, fmt.Errorf("awsauth: credential %q: empty access key", s)
	case len(c.Date) != 8 || strings.Trim(c.Date, "0123456789") != "":
		return Credential{}, fmt.Errorf("awsauth: credential %q: date %q is not yyyymmdd", s, c.Date)
	case c.Region == "":
		return Credential{}, fmt.Errorf("awsauth: credential %q: empty region", s)
	case c.Service == "":
		return Credential{}, fmt.Errorf("awsauth: credential %q: empty service", s)
	case c.Terminal != "aws4_request":
		return Credential{}, fmt.Errorf("awsauth: credential %q: scope must end in aws4_request", s)
	}
	return c, nil
}

// ParseAuthorization reads an Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc…
//
// The three fields may come in any order, separated by commas with optional spaces.
func ParseAuthorization(h string) (Auth, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return Auth{}, ErrNotSigned
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok {
		return Auth{}, fmt.Errorf("awsauth: authorization header has no fields after %q", alg)
	}
	if alg != Algorithm {
		return Auth{}, fmt.Errorf("awsauth: unsupported algorithm %q", alg)
	}
	a := Auth{Algorithm: alg}
	var haveCred, haveHeaders, haveSig bool
	for _, field := range strings.Split(rest, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return Auth{}, fmt.Errorf("awsauth: authorization field %q has no '='", field)
		}
		switch k {
		case "Credential":
			c, err := ParseCredential(v)
			if err != nil {
				return Auth{}, err
			}
			a.Credential, haveCred = c, true
		case "SignedHeaders":
			hs, err := parseSignedHeaders(v)
			if err != nil {
				return Auth{}, err
			}
			a.SignedHeaders, haveHeaders = hs, true
		case "Signature":
			if !isHex(v) {
				return Auth{}, fmt.Errorf("awsauth: signature %q is not hex", v)
			}
			a.Signature, haveSig = v, true
		default:
			return Auth{}, fmt.Errorf("awsauth: unknown authorization field %q", k)
		}
	}
	switch {
	case !haveCred:
		return Auth{}, errors.New("awsauth: authorization header lacks Credential")
	case !haveHeaders:
		return Auth{}, errors.New("awsauth: authorization header lacks SignedHeaders")
	case !haveSig:
		return Auth{}, errors.New("awsauth: authorization header lacks Signature")
	}
	return a, nil
}

// ParseQuery reads a presigned request's X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-SignedHeaders and X-Amz-Signature parameters.
func ParseQuery(q url.Values) (Auth, error) {
	cred := q.Get("X-Amz-Credential")
	if cred == "" {
		return Auth{}, ErrNotSigned
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != Algorithm {
		return Auth{}, fmt.Errorf("awsauth: unsupported algorithm %q", alg)
	}
	c, err := ParseCredential(cred)
	if err != nil {
		return Auth{}, err
	}
	hs, err := parseSignedHeaders(q.Get("X-Amz-SignedHeaders"))
	if err != nil {
		return Auth{}, err
	}
	sig := q.Get("X-Amz-Signature")
	if !isHex(sig) {
		return Auth{}, fmt.Errorf("awsauth: signature %q is not hex", sig)
	}
	return Auth{Algorithm: Algorithm, Credential: c, SignedHeaders: hs, Signature: sig, Presigned: true}, nil
}

// FromRequest reads the signature of r from its Authorization header, else from its
// URL query (a presigned request). It never reads the body. ErrNotSigned means
// neither is present.
func FromRequest(r *http.Request) (Auth, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return ParseAuthorization(h)
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
// the seam where verification plugs in: the protocol packages call it, when one is
// configured, after reading the body (payload) and before doing anything.
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

func parseSignedHeaders(v string) ([]string, error) {
	if v == "" {
		return nil, errors.New("awsauth: empty SignedHeaders")
	}
	hs := strings.Split(v, ";")
	for _, h := range hs {
		if h == "" || h != strings.ToLower(h) {
			return nil, fmt.Errorf("awsauth: SignedHeaders %q: each name must be non-empty and lower-case", v)
		}
	}
	return hs, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}
