package sigv4

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sign signs r with SigV4, as aws-sdk-go-v2's signer does for a service other
// than S3: it sets X-Amz-Date and the Authorization header, signing the host,
// X-Amz-Date and every other X-Amz-* header r has, over payload (r's body, nil
// for none). It is how vpcsim's own commands sign their calls to a server
// given access keys; Keys.Verify accepts what it signs.
func Sign(r *http.Request, payload []byte, key, secret, region, service string, when time.Time) {
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	when = when.UTC()
	r.Header.Set("X-Amz-Date", when.Format(basicISO8601))
	signed := []string{"host"}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !slices.Contains(signed, l) {
			signed = append(signed, l)
		}
	}
	slices.Sort(signed)
	a := Auth{Algorithm: Algorithm, SignedHeaders: signed, Credential: Credential{
		AccessKey: key, Date: when.Format("20060102"), Region: region, Service: service, Terminal: "aws4_request"}}
	toSign := StringToSign(when.Format(basicISO8601), a.Credential, CanonicalRequest(r, a, hexSHA256(payload)))
	r.Header.Set("Authorization", Algorithm+" Credential="+key+"/"+a.Credential.Scope()+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+Signature(secret, a.Credential, toSign))
}
