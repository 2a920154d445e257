package ec2query

import (
	"io"
	"net/http"
	"net/url"

	"github.com/vpcsim/vpcsim/vpcsim/awsauth"
)

// FrontDoor words the refusals of vpcsim's front door (package frontdoor) as
// EC2 words its own, or STS for a request to STS, which shares the endpoint.
type FrontDoor struct{}

// Forbidden answers 403 UnauthorizedOperation (STS: AccessDenied), the code
// both give a caller that may not make the call.
func (FrontDoor) Forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	sts := isSTS(r, r.URL.Query())
	code := "UnauthorizedOperation"
	if sts {
		code = "AccessDenied"
	}
	writeError(w, &apiError{Status: http.StatusForbidden, Code: code, Message: msg}, sts)
}

// Unauthenticated answers a signature refused on its header as EC2 or STS
// does (see errAuth).
func (FrontDoor) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	sts := isSTS(r, peekParams(r))
	writeError(w, errAuth(err, sts), sts)
}

// isSTS reports whether a request with these parameters is STS's: its API
// version, or the service of its credential scope.
func isSTS(r *http.Request, params url.Values) bool {
	return params.Get("Version") == stsVersion || awsauth.Service(r) == "sts"
}

// peekParams reads the parameters of a request whose body the front door has
// not read: the query, and a form of up to 4 KiB (an unsigned call's: the aws
// CLI's GetCallerIdentity is 43 bytes). Only a refusal's wording depends on
// them; the front door bounds the wait for them.
func peekParams(r *http.Request) url.Values {
	params := r.URL.Query()
	if r.Method != http.MethodPost || r.Body == nil || r.ContentLength < 0 || r.ContentLength > peekLimit {
		return params
	}
	head, _ := io.ReadAll(io.LimitReader(r.Body, peekLimit))
	form, _ := url.ParseQuery(string(head)) // a cut last pair is dropped
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params
}

const peekLimit = 4 << 10

func writeError(w http.ResponseWriter, e *apiError, sts bool) {
	writeXML(w, e.Status, marshalErrorOf(e, awsauth.NewRequestID(), sts))
}

// marshalErrorOf renders an error as EC2 does, or as STS does.
func marshalErrorOf(e *apiError, reqID string, sts bool) []byte {
	if sts {
		return marshalSTSError(e, reqID)
	}
	return marshalError(e, reqID)
}
