package awsproto

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// QueryService serves one awsquery API (STS; ELBv2 next) from a table of
// actions: every such API reads its request, checks its signature, finds the
// action and renders the answer the same way, so a new one is its table and
// its actions. (EC2's Query dialect differs in its envelopes and decoding:
// package ec2query.)
//
// A request is answered in this order, as ec2query answers EC2's: parameters
// that could not be read (ParamsError), the signature (with a Verifier:
// QueryAuthError), MissingAction, an action not in the table (InvalidAction),
// then the action. A success is <ActionResponse xmlns=Namespace><ActionResult>
// result</ActionResult><ResponseMetadata><RequestId>; an error the
// ErrorResponse document in Namespace.
//
// The API's Version is not checked here: the router sends a request to the
// API its Version names, or, when no API of the table serves its Version, to
// the one API of its credential scope's service (see Query), which then
// answers in its own shapes.
type QueryService struct {
	// Service and Version are the API's route (QueryAPI): its SigV4
	// signing name and its API version.
	Service, Version string
	// Namespace is the xmlns of its answers and errors:
	// https://sts.amazonaws.com/doc/2011-06-15/.
	Namespace string
	// Actions are its operations, by Action.
	Actions map[string]QueryAction
	// Verifier checks each request's signature; nil: not checked.
	Verifier sigv4.Verifier
	// MaxBody bounds a request's body; 0 is DefaultMaxBody.
	MaxBody int64
	// DomainError words an error of an action that is not a *QueryError
	// (a domain's refusal); nil, or a nil answer, makes it a server fault:
	// logged, answered InternalError.
	DomainError func(error) *QueryError
	// Log gets the server faults; nil is slog.Default().
	Log *slog.Logger
}

// QueryAction serves one action: it returns the result, rendered as the
// <ActionResult> element's content (nil: an empty element), or an error.
type QueryAction func(ctx context.Context, req *QueryRequest) (any, error)

// QueryRequest is what an action gets of its request.
type QueryRequest struct {
	// HTTP is the request (its headers, its credential scope's region).
	HTTP *http.Request
	// Action is the operation's name.
	Action string
	// Form is the operation's input: the parameters without the protocol's
	// own (OperationParams).
	Form *Form
	// RequestID is the request ID of the answer.
	RequestID string
}

var (
	_ http.Handler       = (*QueryService)(nil)
	_ frontdoor.Protocol = (*QueryService)(nil)
)

// API is the service's entry of a router's Table.
func (s *QueryService) API() QueryAPI {
	return QueryAPI{Service: s.Service, Version: s.Version, Handler: s, Door: s}
}

func (s *QueryService) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *QueryService) maxBody() int64 {
	if s.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return s.MaxBody
}

func (s *QueryService) envelope() Envelope { return ErrorResponseEnvelope{Namespace: s.Namespace} }

func (s *QueryService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := NewRequestID()
	ctx := r.Context()
	defer func() {
		// A bug must answer InternalError, never leave the client with a
		// dropped connection; the stack goes to the log only.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log().ErrorContext(ctx, "panic serving a request", "service", s.Service, "requestId", reqID, "panic", v, "stack", string(debug.Stack()))
			WriteXML(w, http.StatusInternalServerError, s.envelope().Marshal(ErrInternal(), reqID))
		}
	}()
	p := ReadQuery(w, r, s.maxBody())
	act := p.Values.Get("Action")
	body, err := s.serve(ctx, r, p, act, reqID)
	if err != nil {
		e := s.toQueryError(ctx, act, err)
		WriteXML(w, e.Status, s.envelope().Marshal(e, reqID))
		return
	}
	WriteXML(w, http.StatusOK, body)
}

// serve answers one request: the body of a success, or the error to render.
func (s *QueryService) serve(ctx context.Context, r *http.Request, p *QueryParams, act, reqID string) ([]byte, error) {
	if e := ParamsError(r, p, s.maxBody()); e != nil {
		return nil, e
	}
	if s.Verifier != nil {
		if err := sigv4.Authenticate(r, p.Payload, s.Verifier); err != nil {
			s.log().InfoContext(ctx, "signature refused", "service", s.Service, "err", err)
			return nil, QueryAuthError(err)
		}
	}
	if act == "" {
		return nil, ErrMissingAction()
	}
	fn, ok := s.Actions[act]
	if !ok {
		// STS's wording of an unknown action.
		return nil, QueryClientError("InvalidAction", "Could not find operation %s for version %s", act, s.Version)
	}
	result, err := fn(ctx, &QueryRequest{HTTP: r, Action: act, Form: NewForm(OperationParams(p.Values)), RequestID: reqID})
	if err != nil {
		return nil, err
	}
	return MarshalQueryResult(s.Namespace, act, result, reqID)
}

// toQueryError maps an error of a request to what the client receives.
// Context errors come first: a request cancelled or timed out mid-way is not
// a bug, whatever the layer below wrapped it in.
func (s *QueryService) toQueryError(ctx context.Context, act string, err error) *QueryError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		s.log().DebugContext(ctx, "request ended by its context", "service", s.Service, "action", act, "err", err)
		return ErrUnavailable()
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return qe
	}
	if s.DomainError != nil {
		if qe := s.DomainError(err); qe != nil {
			return qe
		}
	}
	s.log().ErrorContext(ctx, "internal error", "service", s.Service, "action", act, "err", err)
	return ErrInternal()
}

// Forbidden answers 403 AccessDenied, the awsquery APIs' code for a caller
// that may not make the call.
func (s *QueryService) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	WriteQueryError(w, s.envelope(), &QueryError{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg})
}

// Unauthenticated answers a signature refused on its header (QueryAuthError).
func (s *QueryService) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	WriteQueryError(w, s.envelope(), QueryAuthError(err))
}

// ErrMissingAction refuses a request without an Action.
func ErrMissingAction() *QueryError {
	return QueryClientError("MissingAction", "The request must contain the parameter Action")
}

// ErrInternal is what a client sees of a server fault: nothing of its cause.
func ErrInternal() *QueryError {
	return &QueryError{Status: http.StatusInternalServerError, Code: "InternalError", Message: "An internal error has occurred."}
}

// ErrUnavailable answers a request ended by its context (cancelled, or out
// of time).
func ErrUnavailable() *QueryError {
	return &QueryError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server."}
}

// MarshalQueryResult renders an awsquery success:
// <ActionResponse xmlns=ns><ActionResult>result</ActionResult>
// <ResponseMetadata><RequestId>reqID</RequestId></ResponseMetadata></ActionResponse>,
// result's fields as the model's output members (nil: an empty result).
func MarshalQueryResult(ns, action string, result any, reqID string) ([]byte, error) {
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}}
	if ns != "" {
		start.Attr = []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}
	}
	resultStart := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	err := enc.EncodeToken(start)
	if err == nil && result == nil {
		err = enc.EncodeElement(struct{}{}, resultStart)
	} else if err == nil {
		err = enc.EncodeElement(result, resultStart)
	}
	if err == nil {
		err = enc.EncodeElement(metadata{reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("awsproto: render %s: %w", action, err)
	}
	return b.Bytes(), nil
}
