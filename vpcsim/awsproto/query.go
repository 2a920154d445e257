package awsproto

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// QueryAPI is one API of the Query protocol.
type QueryAPI struct {
	// Service is the API's SigV4 signing name, the service of its requests'
	// credential scope (the model's metadata.signingName, else its
	// endpointPrefix): "ec2", "sts", "elasticloadbalancing".
	Service string
	// Version is the API version it serves, its requests' Version parameter:
	// EC2 2016-11-15, STS 2011-06-15, ELBv2 2015-12-01.
	Version string
	// Default makes it the API of a request that names none: no Version
	// and no credential scope (EC2's older clients send neither). At most one
	// API is the default.
	Default bool
	// Handler serves the API's requests. It gets its parameters with
	// ReadQuery: the router has read them.
	Handler http.Handler
	// Door words the front door's refusals as the API does.
	Door frontdoor.Protocol
}

// Query routes Query requests to their API.
//
// Which API a request is for. botocore and the SDKs send both keys: the
// credential scope names the model's signing name (ec2, sts,
// elasticloadbalancing), and the body's Version the model's apiVersion. The
// Version is authoritative when an API of the table serves it, because it is
// the only key that tells every API apart: ELB (2012-06-01) and ELBv2
// (2015-12-01) both sign as elasticloadbalancing, RDS, Neptune and DocumentDB
// all as rds, so a scope names a family of APIs, while the Version names the
// API whose shapes the body is in. Across all of AWS a Version is not unique
// either (botocore 1.43: 2014-09-01 is an EC2 and an RDS version, 2010-12-01
// SES's and Elastic Beanstalk's), so NewQuery refuses a table in which two
// APIs share one: within the table the Version is a key. The scope comes
// second: a request whose Version no API serves (none, a garbled one, an
// older EC2 one) goes to the one API of its scope's service, which refuses
// the version in its own words (EC2: NoSuchVersion). A request with neither
// goes to the Default API. Anything else is answered InvalidAction (see
// unknownAPI).
//
// The Version is in the body, so the router reads the body, but only once
// and only after the front door has read it within its limits (it guards
// the family as a whole, see Router): ReadQuery parses the form and hands it
// on, with the bytes for a signature verifier, to the API's handler. The
// door's refusals come before the body is read; they are worded by the
// scope's API, or by the Version of what of the body arrives at once (see
// Unauthenticated).
type Query struct {
	apis      []QueryAPI
	byVersion map[string]*QueryAPI
	byService map[string][]*QueryAPI
	def       *QueryAPI
	maxBody   int64
}

var _ frontdoor.Protocol = (*Query)(nil)

// NewQuery returns the Query routes of apis, reading bodies of up to maxBody
// bytes (0: DefaultMaxBody). It fails on an entry without a service, version,
// handler or door, on two entries with one Version, and on two defaults.
func NewQuery(maxBody int64, apis ...QueryAPI) (*Query, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	q := &Query{apis: slices.Clone(apis), byVersion: map[string]*QueryAPI{}, byService: map[string][]*QueryAPI{}, maxBody: maxBody}
	for i := range q.apis {
		a := &q.apis[i]
		if a.Service == "" || a.Version == "" || a.Handler == nil || a.Door == nil {
			return nil, fmt.Errorf("awsproto: Query API %s %s needs a service, a version, a handler and a door", a.Service, a.Version)
		}
		if b, dup := q.byVersion[a.Version]; dup {
			return nil, fmt.Errorf("awsproto: Query APIs %s and %s both have the Version %s", b.Service, a.Service, a.Version)
		}
		if a.Default {
			if q.def != nil {
				return nil, fmt.Errorf("awsproto: Query APIs %s and %s are both the default", q.def.Service, a.Service)
			}
			q.def = a
		}
		q.byVersion[a.Version] = a
		q.byService[a.Service] = append(q.byService[a.Service], a)
	}
	return q, nil
}

// route is the API of a request with this Version and r's credential scope,
// nil when none (see Query).
func (q *Query) route(r *http.Request, version string) *QueryAPI {
	if a, ok := q.byVersion[version]; ok {
		return a
	}
	if svc := sigv4.Service(r); svc != "" {
		if as := q.byService[svc]; len(as) == 1 {
			return as[0]
		}
		// No API of the service, or several that only a Version tells apart.
		return nil
	}
	return q.def
}

func (q *Query) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := ReadQuery(w, r, q.maxBody)
	a := q.route(r, p.Values.Get("Version"))
	if a == nil {
		q.unknownAPI(w, r, p.Values)
		return
	}
	a.Handler.ServeHTTP(w, WithQueryParams(r, p))
}

// unknownAPI answers a request no API claims: HTTP 400 InvalidAction, the
// Query APIs' common error for "the action or operation requested is
// invalid" (AWS's Common Errors of every Query API, e.g. STS's and
// CloudSearch's API references), in the ErrorResponse document: a request
// that reaches here names an API that is not EC2 (EC2's would be routed), so
// its client reads the awsquery envelope, not EC2's.
func (q *Query) unknownAPI(w http.ResponseWriter, r *http.Request, params url.Values) {
	served := make([]string, len(q.apis))
	for i, a := range q.apis {
		served[i] = a.Service + " " + a.Version
	}
	slices.Sort(served)
	msg := fmt.Sprintf("vpcsim serves no API for the action %q of service %q, version %q; it serves %s.",
		params.Get("Action"), sigv4.Service(r), params.Get("Version"), strings.Join(served, ", "))
	WriteQueryError(w, ErrorResponseEnvelope{}, QueryClientError("InvalidAction", "%s", msg))
}

// Forbidden words the refusal as the API of r's URL query and scope does;
// the body is not read.
func (q *Query) Forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	if a := q.route(r, r.URL.Query().Get("Version")); a != nil {
		a.Door.Forbidden(w, r, msg)
		return
	}
	WriteQueryError(w, ErrorResponseEnvelope{}, &QueryError{http.StatusForbidden, "AccessDenied", msg})
}

// Unauthenticated words the refusal as the request's API does: the API of
// its Version, read from the URL query and from the start of a form body
// (see peekParams), else of its scope, else the default.
func (q *Query) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	if a := q.route(r, peekParams(r).Get("Version")); a != nil {
		a.Door.Unauthenticated(w, r, err)
		return
	}
	WriteQueryError(w, ErrorResponseEnvelope{}, QueryAuthError(err))
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
