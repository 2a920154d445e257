package awsproto

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// JSONAPI is one API of the JSON 1.1 protocol.
type JSONAPI struct {
	// TargetPrefix is what the API's X-Amz-Target headers start with, before
	// the dot: the model's metadata.targetPrefix.
	TargetPrefix string
	// Handler serves the API's requests; it reads the body itself.
	Handler http.Handler
	// Door words the front door's refusals as the API does.
	Door frontdoor.Protocol
}

// JSON routes JSON 1.1 requests by the prefix of their X-Amz-Target header,
// which is all it reads of a request: an API's handler reads its own body. A
// prefix no API has is answered as AWS's JSON services answer an unknown
// target (UnknownOperationException). JSON is a frontdoor.Protocol: it words a
// refusal as the API of the request's target does.
type JSON struct {
	apis map[string]JSONAPI
}

var _ frontdoor.Protocol = (*JSON)(nil)

// NewJSON returns the JSON 1.1 routes of apis; it fails on an entry without a
// prefix, handler or door, and on two entries with one prefix.
func NewJSON(apis ...JSONAPI) (*JSON, error) {
	j := &JSON{apis: make(map[string]JSONAPI, len(apis))}
	for _, a := range apis {
		if a.TargetPrefix == "" || strings.Contains(a.TargetPrefix, ".") || a.Handler == nil || a.Door == nil {
			return nil, fmt.Errorf("awsproto: JSON API %q needs a target prefix without a dot, a handler and a door", a.TargetPrefix)
		}
		if _, dup := j.apis[a.TargetPrefix]; dup {
			return nil, fmt.Errorf("awsproto: two JSON APIs have the target prefix %q", a.TargetPrefix)
		}
		j.apis[a.TargetPrefix] = a
	}
	return j, nil
}

// route is the API of r's X-Amz-Target, false when none has its prefix.
func (j *JSON) route(r *http.Request) (JSONAPI, bool) {
	prefix, _, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	a, ok := j.apis[prefix]
	return a, ok
}

func (j *JSON) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a, ok := j.route(r); ok {
		a.Handler.ServeHTTP(w, r)
		return
	}
	e := ErrUnknownOperation()
	if r.Method != http.MethodPost {
		// As ECS answers any method but POST, whatever the target.
		e.Status = http.StatusNotFound
	}
	WriteJSONError(w, NewRequestID(), e)
}

// Forbidden words the refusal as the target's API does, else as AWS's JSON
// services do (JSONAccessDenied).
func (j *JSON) Forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	if a, ok := j.route(r); ok {
		a.Door.Forbidden(w, r, msg)
		return
	}
	WriteJSONError(w, NewRequestID(), JSONAccessDenied(msg))
}

// Unauthenticated words the refusal as the target's API does, else as AWS's
// JSON services do (JSONAuthError).
func (j *JSON) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	if a, ok := j.route(r); ok {
		a.Door.Unauthenticated(w, r, err)
		return
	}
	WriteJSONError(w, NewRequestID(), JSONAuthError(err))
}
