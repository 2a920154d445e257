// Package awsproto routes one listener to the AWS APIs vpcsim serves, the way
// AWS tells its protocols apart, and holds what those protocols share.
//
// Two protocol families arrive on the listener:
//
//   - JSON 1.1 (ECS; later Cloud Map, SSM, CloudWatch Logs): a POST whose
//     X-Amz-Target header names "<TargetPrefix>.<Operation>". The prefix is the
//     service model's metadata.targetPrefix (botocore: ECS
//     AmazonEC2ContainerServiceV20141113, Cloud Map Route53AutoNaming_v20170314,
//     SSM AmazonSSM, Logs Logs_20140328), unique to one API.
//   - Query (EC2, STS; later ELBv2): Action and Version as form parameters of a
//     POST, or of a GET's query string.
//
// Adding a service is adding an entry to a Table: a JSONAPI or a QueryAPI with
// its handler and the wording of its front-door refusals. An awsquery API
// (ELBv2 next) is a QueryService, the skeleton every such API shares: its
// entry is its API(), its code the actions of its table.
//
// What the families share lives here too: each one's errors and envelopes
// (JSON 1.1's __type documents; the Query family's QueryError, rendered in
// EC2's envelope or in ErrorResponse), request IDs, and, in package sigv4,
// the signatures the front door and the handlers check.
package awsproto

import (
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// Table is every API one listener serves.
type Table struct {
	JSON  []JSONAPI
	Query []QueryAPI
	// MaxBody bounds the Query body the router reads for the handler (see
	// NewQuery); 0 is DefaultMaxBody.
	MaxBody int64
}

// Guard puts a handler behind the front door: (*frontdoor.Door).Guard.
type Guard func(h http.Handler, p frontdoor.Protocol, opts ...frontdoor.RouteOption) http.Handler

// Router is the listener's one entry for AWS API requests: a request with an
// X-Amz-Target header is JSON 1.1, routed by the target's prefix before any
// of its body is read; any other is Query, routed once the front door has read
// its body (see Query). Each family sits behind the front door as a whole,
// and words the door's refusals as the API the request is for.
type Router struct {
	json, query http.Handler
}

// NewRouter returns the router of t; guard (nil: none, for tests) puts each
// family behind the front door. A Query GET must be signed
// (frontdoor.SignedReads): every Query API serves GET, which any web page can
// make a browser send.
func NewRouter(t Table, guard Guard) (*Router, error) {
	j, err := NewJSON(t.JSON...)
	if err != nil {
		return nil, err
	}
	q, err := NewQuery(t.MaxBody, t.Query...)
	if err != nil {
		return nil, err
	}
	if guard == nil {
		return &Router{json: j, query: q}, nil
	}
	return &Router{json: guard(j, j), query: guard(q, q, frontdoor.SignedReads())}, nil
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "" {
		rt.json.ServeHTTP(w, r)
		return
	}
	rt.query.ServeHTTP(w, r)
}
