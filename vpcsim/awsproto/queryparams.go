package awsproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
)

// DefaultMaxBody bounds a Query body the router reads (1 MiB, the front
// door's frontdoor.DefaultAPI.MaxBody).
const DefaultMaxBody = 1 << 20

// QueryParams are a Query request's parameters, read once: the URL query
// plus a form-encoded POST body, and the body's bytes (for a signature
// verifier), or why they could not be read.
type QueryParams struct {
	Values  url.Values
	Payload []byte
	// Err is nil, ErrMethod, a *MalformedError, an *http.MaxBytesError (a
	// body over the limit) or ErrUnreadable. Values holds what was read
	// before it (the URL query, or nothing).
	Err error
}

var (
	// ErrMethod: the Query protocol serves GET and POST only.
	ErrMethod = errors.New("awsproto: the Query protocol serves GET and POST only")
	// ErrUnreadable: the body could not be read (the client went away, or
	// its time ran out).
	ErrUnreadable = errors.New("awsproto: the request body could not be read")
)

// MalformedError: the URL query (InBody false) or the form body is not
// valid form encoding.
type MalformedError struct {
	InBody bool
	Err    error
}

func (e *MalformedError) Error() string { return "awsproto: malformed form: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

type paramsKey struct{}

// ReadQuery returns r's Query parameters. The first call reads them: the URL
// query and, for a POST, the body (up to maxBody bytes through
// http.MaxBytesReader, as the front door left it: already read, within its
// own limit), parsed as a form when its Content-Type is
// application/x-www-form-urlencoded or absent; a body of any other type is
// kept as Payload and not parsed. The Query router reads them to route the
// request and hands them on in the request's context, so a handler behind it
// calls ReadQuery and gets the same values, not an empty body: a body is read
// once.
func ReadQuery(w http.ResponseWriter, r *http.Request, maxBody int64) *QueryParams {
	if p, ok := r.Context().Value(paramsKey{}).(*QueryParams); ok {
		return p
	}
	return readQuery(w, r, maxBody)
}

// WithQueryParams hands p on to whoever calls ReadQuery with r2.
func WithQueryParams(r *http.Request, p *QueryParams) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), paramsKey{}, p))
}

func readQuery(w http.ResponseWriter, r *http.Request, maxBody int64) *QueryParams {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return &QueryParams{Values: url.Values{}, Err: ErrMethod}
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &QueryParams{Values: url.Values{}, Err: &MalformedError{Err: err}}
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return &QueryParams{Values: params}
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &QueryParams{Values: params, Err: mbe}
		}
		return &QueryParams{Values: params, Err: ErrUnreadable}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" && !(ct == "" && len(payload) > 0) {
		return &QueryParams{Values: params, Payload: payload}
	}
	form, err := url.ParseQuery(string(payload))
	if err != nil {
		return &QueryParams{Values: params, Payload: payload, Err: &MalformedError{InBody: true, Err: err}}
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return &QueryParams{Values: params, Payload: payload}
}

// ParamsError words why r's parameters could not be read (p.Err), as EC2
// words it, or refuses a body over maxBody (the router may have read it with
// a larger limit than the API's); nil when they were read.
func ParamsError(r *http.Request, p *QueryParams, maxBody int64) *QueryError {
	var malformed *MalformedError
	var mbe *http.MaxBytesError
	switch {
	case p.Err == nil && int64(len(p.Payload)) > maxBody:
		return errBodyTooLarge(maxBody)
	case p.Err == nil:
		return nil
	case errors.Is(p.Err, ErrMethod):
		return &QueryError{Status: http.StatusMethodNotAllowed, Code: "UnsupportedHttpVerb",
			Message: "The HTTP verb " + r.Method + " is not supported."}
	case errors.As(p.Err, &malformed) && malformed.InBody:
		return QueryClientError("MalformedQueryString", "The request body is not a valid form: %v", malformed.Err)
	case malformed != nil:
		return QueryClientError("MalformedQueryString", "The query string is malformed: %v", malformed.Err)
	case errors.As(p.Err, &mbe):
		return errBodyTooLarge(maxBody)
	}
	return QueryClientError("InvalidRequest", "The request body could not be read.")
}

func errBodyTooLarge(limit int64) *QueryError {
	return &QueryError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge",
		Message: fmt.Sprintf("The request body exceeds the maximum allowed size of %d bytes.", limit)}
}

// protocolParams are not operation parameters: the action, the API version
// and the SigV2/SigV4 query-signing parameters.
var protocolParams = []string{
	"Action", "Version",
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
	"AWSAccessKeyId", "SignatureMethod", "SignatureVersion", "Signature",
	"Timestamp", "Expires", "SecurityToken",
}

// OperationParams is params without the protocol's own (Action, Version and
// the signing parameters): the operation's input.
func OperationParams(params url.Values) url.Values {
	op := maps.Clone(params)
	for _, k := range protocolParams {
		delete(op, k)
	}
	return op
}
