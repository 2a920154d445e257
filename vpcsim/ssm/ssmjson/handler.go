// Package ssmjson serves the SSM API's wire protocol, AWS JSON 1.1: a POST
// with X-Amz-Target: AmazonSSM.<Operation> and a JSON body, answered with a
// JSON body or {"__type": …, "message": …}. It is protocol only: the
// skeleton is awsproto.JSONService; here are its table (decode into the
// generated ssmtypes shapes, check the model's constraints, call the domain,
// package ssm) and SSM's words for the errors.
package ssmjson

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/ssm"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// classPrefix is the package of SSM's classes as Coral's messages name them.
const classPrefix = "com.amazonaws.ssm.v20141106."

// serverFaultMessage is what vpcsim says of its own faults (InternalServerError, HTTP 500).
const serverFaultMessage = "An error occurred on the server side."

// Option configures the handler.
type Option func(*awsproto.JSONService)

// WithVerifier makes the handler check every request's SigV4 signature with
// v before acting on it.
func WithVerifier(v sigv4.Verifier) Option { return func(s *awsproto.JSONService) { s.Verifier = v } }

// WithMaxBody sets the largest request body accepted (default awsproto.DefaultMaxBody, 1 MiB).
func WithMaxBody(n int64) Option { return func(s *awsproto.JSONService) { s.MaxBody = n } }

// New returns the SSM API served by svc: its entry of the router's table
// (Handler and Door). Requests are scoped to the region of their SigV4
// credential scope, else defaultRegion.
func New(svc *ssm.Service, log *slog.Logger, defaultRegion string, opts ...Option) *awsproto.JSONService {
	if log == nil {
		log = slog.Default()
	}
	s := &awsproto.JSONService{
		TargetPrefix:  ssmtypes.TargetPrefix,
		IsOperation:   func(op string) bool { _, ok := ssmtypes.Operations[op]; return ok },
		Actions:       make(map[string]awsproto.JSONAction, len(actions)),
		Unsupported:   errUnsupported,
		KnownRegion:   ssm.KnownRegion,
		DefaultRegion: defaultRegion,
		Refusal:       func(err error) *awsproto.JSONError { return refusal(log, err) },
		ServerFault:   errServer,
		Log:           log,
	}
	for name, a := range actions {
		s.Actions[name] = a(svc)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// action binds an operation of the domain to a Service.
type action func(*ssm.Service) awsproto.JSONAction

// op makes a dispatch entry of a domain method: decode → validate → domain.
func op[Req, Resp any](m func(*ssm.Service, context.Context, ssm.Scope, *Req) (*Resp, error)) action {
	return func(svc *ssm.Service) awsproto.JSONAction {
		return func(ctx context.Context, region string, body []byte) (any, error) {
			in := new(Req)
			if err := coral.Decode(body, in, classPrefix); err != nil {
				return nil, err
			}
			if err := ssmtypes.Validate(in); err != nil {
				return nil, err
			}
			out, err := m(svc, ctx, ssm.Scope{Region: region}, in)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = new(Resp)
			}
			return out, nil
		}
	}
}

// actions is the dispatch table: every SSM operation the domain implements.
// An operation of the model that is not here answers UnsupportedOperationException.
var actions = map[string]action{
	"PutParameter":            op((*ssm.Service).PutParameter),
	"GetParameter":            op((*ssm.Service).GetParameter),
	"GetParameters":           op((*ssm.Service).GetParameters),
	"GetParametersByPath":     op((*ssm.Service).GetParametersByPath),
	"GetParameterHistory":     op((*ssm.Service).GetParameterHistory),
	"DescribeParameters":      op((*ssm.Service).DescribeParameters),
	"DeleteParameter":         op((*ssm.Service).DeleteParameter),
	"DeleteParameters":        op((*ssm.Service).DeleteParameters),
	"LabelParameterVersion":   op((*ssm.Service).LabelParameterVersion),
	"UnlabelParameterVersion": op((*ssm.Service).UnlabelParameterVersion),
	"AddTagsToResource":       op((*ssm.Service).AddTagsToResource),
	"RemoveTagsFromResource":  op((*ssm.Service).RemoveTagsFromResource),
	"ListTagsForResource":     op((*ssm.Service).ListTagsForResource),
}

// Implemented lists the SSM operations vpcsim serves, sorted.
func Implemented() []string {
	names := make([]string, 0, len(actions))
	for name := range actions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ModelOperations lists every operation of the SSM API (botocore's model),
// sorted; with Implemented it gives the coverage table.
func ModelOperations() []string { return slices.Clone(ssmtypes.OperationNames) }

// errUnsupported answers an SSM operation vpcsim does not implement yet, with
// an exception the SSM model declares.
func errUnsupported(op string) *awsproto.JSONError {
	return &awsproto.JSONError{Status: http.StatusBadRequest, Type: "UnsupportedOperationException",
		Message: fmt.Sprintf("The operation %s is not supported by vpcsim yet.", op), HasMessage: true}
}

func errServer() *awsproto.JSONError {
	return &awsproto.JSONError{Status: http.StatusInternalServerError, Type: "InternalServerError", Message: serverFaultMessage, HasMessage: true}
}

// refusal words the domain's refusals and the model's constraints as SSM
// does: a broken constraint is ValidationException; an *ssm.Error its own
// exception (InternalServerError, a fault, HTTP 500; the rest 400); a full
// data directory a fault that says which directory to free. Anything else
// is not a refusal (nil): a fault, logged by the skeleton.
func refusal(log *slog.Logger, err error) *awsproto.JSONError {
	var ve *coral.ValidationError
	if errors.As(err, &ve) {
		return &awsproto.JSONError{Status: http.StatusBadRequest, Type: "ValidationException", Message: ve.Error(), HasMessage: true}
	}
	if de, ok := ssm.AsError(err); ok {
		status := http.StatusBadRequest
		if ssmtypes.Exceptions[de.Type] {
			status = http.StatusInternalServerError
		}
		if _, known := ssmtypes.Exceptions[de.Type]; !known {
			log.Warn("domain error type is not an exception of the SSM model", "type", de.Type)
		}
		return &awsproto.JSONError{Status: status, Type: de.Type, Message: de.Message, HasMessage: !de.NoMessage}
	}
	var full *storage.FullError
	if errors.As(err, &full) {
		log.Error("cannot save a change", "err", err)
		return &awsproto.JSONError{Status: http.StatusInternalServerError, Type: "InternalServerError", Message: full.Message(), HasMessage: true}
	}
	return nil
}
