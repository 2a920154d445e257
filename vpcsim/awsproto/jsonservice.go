package awsproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// JSONService serves one JSON 1.1 API (SSM) from a table of operations, as
// QueryService serves an awsquery one: every such API reads its request,
// checks its signature and region, finds the operation and renders the answer
// or the error the same way, so a new one is its table and its refusals.
//
// A request is answered in the order AWS's front end checks it: the method
// (not POST: 404 UnknownOperationException), the body's size (413), a target
// that is no operation of the model (UnknownOperationException), the
// signature (with a Verifier: JSONAuthError), a credential scope of a region
// the API does not serve, an operation of the model vpcsim does not serve
// (Unsupported), then the operation.
type JSONService struct {
	// TargetPrefix is the model's metadata.targetPrefix: AmazonSSM.
	TargetPrefix string
	// IsOperation reports whether op is an operation of the API's model.
	IsOperation func(op string) bool
	// Actions are the operations served, by name.
	Actions map[string]JSONAction
	// Unsupported answers an operation of the model not in Actions.
	Unsupported func(op string) *JSONError
	// KnownRegion reports whether a credential scope's region is served;
	// DefaultRegion is the region of a request without one.
	KnownRegion   func(region string) bool
	DefaultRegion string
	// Verifier checks each request's signature; nil: not checked.
	Verifier sigv4.Verifier
	// MaxBody bounds a request's body; 0 is DefaultMaxBody.
	MaxBody int64
	// Refusal words an error of an action that is none of the protocol's
	// own (a domain's refusal, a constraint of the model); nil, or a nil
	// answer, makes it a server fault.
	Refusal func(error) *JSONError
	// ServerFault is what a client sees of a fault of ours (HTTP 500).
	ServerFault func() *JSONError
	// Log gets the server faults; nil is slog.Default().
	Log *slog.Logger
}

// JSONAction serves one operation: it decodes body, calls the domain for the
// request's region and returns what to render as the answer.
type JSONAction func(ctx context.Context, region string, body []byte) (any, error)

var (
	_ http.Handler       = (*JSONService)(nil)
	_ frontdoor.Protocol = (*JSONService)(nil)
)

// API is the service's entry of a router's Table.
func (s *JSONService) API() JSONAPI {
	return JSONAPI{TargetPrefix: s.TargetPrefix, Handler: s, Door: s}
}

func (s *JSONService) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *JSONService) maxBody() int64 {
	if s.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return s.MaxBody
}

func (s *JSONService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := NewRequestID()
	ctx := r.Context()
	op := TargetOperation(r.Header.Get("X-Amz-Target"), s.TargetPrefix)
	defer func() {
		// A bug must answer a server fault, never drop the connection; the
		// stack goes to the log only.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log().ErrorContext(ctx, "panic serving a request", "api", s.TargetPrefix, "operation", op, "requestId", reqID, "panic", v, "stack", string(debug.Stack()))
			WriteJSONError(w, reqID, s.ServerFault())
		}
	}()
	body, err := s.serve(ctx, w, r, op)
	if err != nil {
		WriteJSONError(w, reqID, s.toJSONError(ctx, op, err))
		return
	}
	WriteJSON(w, reqID, http.StatusOK, body)
}

func (s *JSONService) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, op string) ([]byte, error) {
	if r.Method != http.MethodPost {
		e := ErrUnknownOperation()
		e.Status = http.StatusNotFound
		return nil, e
	}
	var payload []byte
	if r.Body != nil {
		var err error
		payload, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody()))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, JSONBodyTooLarge(s.maxBody())
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &coral.SerializationError{}
		}
	}
	if !s.IsOperation(op) {
		return nil, ErrUnknownOperation()
	}
	if s.Verifier != nil {
		if err := sigv4.Authenticate(r, payload, s.Verifier); err != nil {
			s.log().InfoContext(ctx, "signature refused", "api", s.TargetPrefix, "operation", op, "err", err)
			return nil, JSONAuthError(err)
		}
	}
	// A credential scope may name only a region the API serves, signatures
	// verified or not, as AWS's front end answers one scoped elsewhere.
	if a, err := sigv4.FromRequest(r); err == nil && !s.KnownRegion(a.Credential.Region) {
		return nil, JSONAuthError(sigv4.RegionRefused(a.Credential.Region))
	}
	act, ok := s.Actions[op]
	if !ok {
		return nil, s.Unsupported(op)
	}
	out, err := act(ctx, sigv4.Region(r, s.DefaultRegion), payload)
	if err != nil {
		return nil, err
	}
	b, err := MarshalJSON11(out)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", op, err)
	}
	return b, nil
}

// toJSONError maps an error of a request to what the client receives.
// Context errors come first: a request cancelled or timed out mid-way is not
// a bug, whatever the layer below wrapped it in.
func (s *JSONService) toJSONError(ctx context.Context, op string, err error) *JSONError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		s.log().DebugContext(ctx, "request ended by its context", "api", s.TargetPrefix, "operation", op, "err", err)
		return s.ServerFault()
	}
	var je *JSONError
	if errors.As(err, &je) {
		return je
	}
	var se *coral.SerializationError
	if errors.As(err, &se) {
		return JSONSerializationError(se)
	}
	if s.Refusal != nil {
		if je := s.Refusal(err); je != nil {
			return je
		}
	}
	s.log().ErrorContext(ctx, "internal error", "api", s.TargetPrefix, "operation", op, "err", err)
	return s.ServerFault()
}

// Forbidden answers 403 AccessDeniedException (JSONAccessDenied).
func (s *JSONService) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	WriteJSONError(w, NewRequestID(), JSONAccessDenied(msg))
}

// Unauthenticated answers a signature refused on its header (JSONAuthError).
func (s *JSONService) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	WriteJSONError(w, NewRequestID(), JSONAuthError(err))
}

// JSONSerializationError is Coral's refusal of a body its deserializer
// cannot read: 400 com.amazon.coral.service#SerializationException, its
// message as "Message" (none for a body that is not JSON).
func JSONSerializationError(se *coral.SerializationError) *JSONError {
	return &JSONError{Status: http.StatusBadRequest, Type: CoralNS + "SerializationException",
		Message: se.Message, HasMessage: se.Message != "", CapitalM: true}
}

// JSONBodyTooLarge refuses a body over the limit. (unverified: AWS's front
// end answers 413; the __type follows Coral's naming.)
func JSONBodyTooLarge(limit int64) *JSONError {
	return &JSONError{Status: http.StatusRequestEntityTooLarge, Type: CoralNS + "RequestEntityTooLargeException",
		Message: fmt.Sprintf("Request body exceeds the maximum allowed size of %d bytes.", limit), HasMessage: true, CapitalM: true}
}
