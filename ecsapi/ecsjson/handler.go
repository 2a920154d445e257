// Package ecsjson serves the ECS API's wire protocol, AWS JSON 1.1: a POST to /
// with X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation> and a JSON
// body, answered with a JSON body and, on error, {"__type": …, "message": …}.
// It is protocol only: it decodes a request into the generated ecsapi shapes,
// checks the model's constraints, calls the domain (package ecsapi) and renders
// the answer or the error exactly as ECS would. Business rules live in the domain.
package ecsjson

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// DefaultMaxBody bounds a request body (1 MiB): far above what any ECS request
// needs (a task definition with 10 containers is a few KiB).
const DefaultMaxBody = 1 << 20

// contentType is the media type of every JSON 1.1 request and response.
const contentType = awsproto.JSONContentType

// Handler serves ECS JSON 1.1 requests for one ecsapi.Service. Create it with
// NewHandler.
type Handler struct {
	svc      *ecsapi.Service
	log      *slog.Logger
	region   string
	verifier sigv4.Verifier
	maxBody  int64
	actions  map[string]action
	now      func() time.Time
}

// Option configures a Handler.
type Option func(*Handler)

// WithVerifier makes the handler check every request's SigV4 signature with v
// before acting on it; unsigned or badly signed requests are refused as ECS
// refuses them (see errAuth).
func WithVerifier(v sigv4.Verifier) Option { return func(h *Handler) { h.verifier = v } }

// WithMaxBody sets the largest request body accepted (default DefaultMaxBody).
func WithMaxBody(n int64) Option { return func(h *Handler) { h.maxBody = n } }

// WithOperation serves the operation op with fn instead of the domain, e.g. a stub
// in a test: NewHandler(nil, log, "us-east-1", WithOperation("CreateCluster", stub)).
// Req and Resp must be the operation's generated input and output shapes; it
// panics otherwise, or when op is not an ECS operation.
func WithOperation[Req, Resp any](op string, fn func(context.Context, ecsapi.Scope, *Req) (*Resp, error)) Option {
	a := makeAction(func(_ *ecsapi.Service, ctx context.Context, sc ecsapi.Scope, in *Req) (*Resp, error) {
		return fn(ctx, sc, in)
	})
	checkShapes(op, a)
	return func(h *Handler) { h.actions[op] = a }
}

// NewHandler returns the http.Handler of the ECS API served by svc. Requests are
// scoped to the region of their SigV4 credential scope, else defaultRegion.
func NewHandler(svc *ecsapi.Service, log *slog.Logger, defaultRegion string, opts ...Option) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{svc: svc, log: log, region: defaultRegion, maxBody: DefaultMaxBody,
		actions: make(map[string]action, len(actions)), now: time.Now}
	for name, a := range actions {
		h.actions[name] = a
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// action is one entry of the dispatch table: serve decodes the body into the
// operation's input, validates it, calls the domain and returns the output.
type action struct {
	serve   func(ctx context.Context, svc *ecsapi.Service, sc ecsapi.Scope, body []byte) (any, error)
	in, out reflect.Type
}

// op makes a dispatch entry of a domain method, e.g. op((*ecsapi.Service).RunTask).
// Every operation has the same shape: decode → validate → domain → output.
func op[Req, Resp any](m func(*ecsapi.Service, context.Context, ecsapi.Scope, *Req) (*Resp, error)) action {
	return makeAction(m)
}

func makeAction[Req, Resp any](m func(*ecsapi.Service, context.Context, ecsapi.Scope, *Req) (*Resp, error)) action {
	serve := func(ctx context.Context, svc *ecsapi.Service, sc ecsapi.Scope, body []byte) (any, error) {
		in := new(Req)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		if err := ecstypes.Validate(in); err != nil {
			return nil, err
		}
		out, err := m(svc, ctx, sc, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = new(Resp) // an operation without output members answers {}
		}
		return out, nil
	}
	return action{serve: serve, in: reflect.TypeFor[Req](), out: reflect.TypeFor[Resp]()}
}

// checkShapes panics unless a serves a real operation with its model shapes.
func checkShapes(name string, a action) {
	m, ok := ecstypes.Operations[name]
	if !ok {
		panic(fmt.Sprintf("ecsjson: %s is not an ECS operation", name))
	}
	if a.in.Name() != m.Input || a.out.Name() != m.Output {
		panic(fmt.Sprintf("ecsjson: %s takes %s and returns %s, not %s and %s", name, m.Input, m.Output, a.in.Name(), a.out.Name()))
	}
}

// Implemented lists the ECS operations vpcsim serves, sorted.
func Implemented() []string {
	names := make([]string, 0, len(actions))
	for name := range actions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ModelOperations lists every operation of the ECS API (botocore's model),
// sorted; with Implemented it gives the coverage table.
func ModelOperations() []string { return slices.Clone(ecstypes.OperationNames) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	reqID := awsproto.NewRequestID()
	ctx := r.Context()
	op := ""
	defer func() {
		// A bug must answer ServerException, never drop the connection; the
		// stack goes to the log only.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(ctx, "panic serving a request", "operation", op, "requestId", reqID, "panic", v, "stack", string(debug.Stack()))
			awsproto.WriteJSON(w, reqID, http.StatusInternalServerError, errServer().Body())
		}
	}()
	op = operationOf(r.Header.Get("X-Amz-Target"))
	body, err := h.serve(ctx, r, w, op)
	status := http.StatusOK
	if err != nil {
		e := toAPIError(ctx, h.log, op, err)
		status, body = e.Status, e.Body()
	}
	awsproto.WriteJSON(w, reqID, status, body)
	h.log.DebugContext(ctx, "ecsjson", "operation", op, "status", status, "requestId", reqID, "took", h.now().Sub(start))
}

// serve answers one request, in the order AWS's front end checks it: method,
// body size, target, signature, then the operation (decode, validate, domain).
func (h *Handler) serve(ctx context.Context, r *http.Request, w http.ResponseWriter, op string) ([]byte, error) {
	if r.Method != http.MethodPost {
		e := awsproto.ErrUnknownOperation()
		e.Status = http.StatusNotFound
		return nil, e
	}
	var payload []byte
	if r.Body != nil {
		var err error
		payload, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errBodyTooLarge(h.maxBody)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &serializationError{}
		}
	}
	if _, real := ecstypes.Operations[op]; !real {
		return nil, awsproto.ErrUnknownOperation()
	}
	if h.verifier != nil {
		if err := sigv4.Authenticate(r, payload, h.verifier); err != nil {
			h.log.InfoContext(ctx, "signature refused", "operation", op, "err", err)
			return nil, errAuth(err)
		}
	}
	// A credential scope may name only a region ECS serves, signatures
	// verified or not, as AWS's front end answers one scoped elsewhere.
	if a, err := sigv4.FromRequest(r); err == nil && !ecsapi.KnownRegion(a.Credential.Region) {
		return nil, errAuth(sigv4.RegionRefused(a.Credential.Region))
	}
	act, ok := h.actions[op]
	if !ok {
		return nil, errUnsupported(op)
	}
	sc := ecsapi.Scope{Region: sigv4.Region(r, h.region)}
	out, err := act.serve(ctx, h.svc, sc, payload)
	if err != nil {
		return nil, err
	}
	b, err := awsproto.MarshalJSON11(out)
	if err != nil {
		return nil, fmt.Errorf("ecsjson: render %s: %w", op, err)
	}
	return b, nil
}

// operationOf reads the operation of an X-Amz-Target header, "" when it is not
// an ECS target.
func operationOf(target string) string {
	return awsproto.TargetOperation(target, ecstypes.TargetPrefix)
}
