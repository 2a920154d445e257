package ecsjson

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// apiError is an error as the client receives it: HTTP status, the __type and
// the message (the JSON 1.1 framing of package awsproto). Every error leaving
// the handler becomes one, through toAPIError.
type apiError = awsproto.JSONError

// The Coral framework's exceptions: AWS sends them with this namespace. botocore
// and aws-sdk-go-v2 keep only what follows '#'.
const coralNS = awsproto.CoralNS

// validationType is the exception a request breaking a constraint of the model
// gets. (unverified: AWS's framework names it com.amazon.coral.validate#ValidationException
// in other JSON services; ECS's own refusals of bad parameters are
// InvalidParameterException, which its model declares, so vpcsim answers that.)
const validationType = "InvalidParameterException"

// serverFaultMessage is what ECS says of its own faults (HTTP 500).
const serverFaultMessage = "Service Unavailable. Please try again later."

func serviceError(status int, typ, msg string) *apiError {
	return &apiError{Status: status, Type: typ, Message: msg, HasMessage: true}
}

// errUnsupported answers an ECS operation vpcsim does not implement yet, with an
// exception the ECS model declares.
func errUnsupported(op string) *apiError {
	return serviceError(http.StatusBadRequest, "UnsupportedFeatureException",
		fmt.Sprintf("The operation %s is not supported by vpcsim yet.", op))
}

// errBodyTooLarge refuses a body over the limit (awsproto.JSONBodyTooLarge).
func errBodyTooLarge(limit int64) *apiError { return awsproto.JSONBodyTooLarge(limit) }

func errServer() *apiError {
	return serviceError(http.StatusInternalServerError, "ServerException", serverFaultMessage)
}

// toAPIError maps any error of a request to what the client receives. Context
// errors come first: a request cancelled or timed out mid-way is not a bug,
// whatever the layer below wrapped it in. Refusals (ours, the decoder's, the
// model's constraints, the domain's *ecsapi.Error) pass through; anything else is
// a server fault, logged here with its cause and answered with ServerException.
func toAPIError(ctx context.Context, log *slog.Logger, op string, err error) *apiError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		log.DebugContext(ctx, "request ended by its context", "operation", op, "err", err)
		return errServer()
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *serializationError
	if errors.As(err, &se) {
		return awsproto.JSONSerializationError(se)
	}
	var ve *ecstypes.ValidationError
	if errors.As(err, &ve) {
		return serviceError(http.StatusBadRequest, validationType, ve.Error())
	}
	if de, ok := ecsapi.AsError(err); ok {
		status := http.StatusBadRequest
		if ecstypes.Exceptions[de.Type] {
			status = http.StatusInternalServerError
		}
		if _, known := ecstypes.Exceptions[de.Type]; !known {
			log.WarnContext(ctx, "domain error type is not an exception of the ECS model", "operation", op, "type", de.Type)
		}
		return serviceError(status, de.Type, de.Message)
	}
	var full *storage.FullError
	if errors.As(err, &full) {
		// A fault of the machine's, not a bug: the client is told which
		// directory to free.
		log.ErrorContext(ctx, "cannot save a change", "operation", op, "err", err)
		return serviceError(http.StatusInternalServerError, "ServerException", full.Message())
	}
	log.ErrorContext(ctx, "internal error", "operation", op, "err", err)
	return errServer()
}

// FrontDoor words the refusals of vpcsim's front door (package frontdoor) as
// ECS words its own.
type FrontDoor struct{}

// Forbidden answers 403 AccessDeniedException, the exception the ECS model
// has for a caller that may not make the call.
func (FrontDoor) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	awsproto.WriteJSONError(w, awsproto.NewRequestID(), awsproto.JSONAccessDenied(msg))
}

// Unauthenticated answers a signature refused on its header as ECS does (see
// errAuth).
func (FrontDoor) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	awsproto.WriteJSONError(w, awsproto.NewRequestID(), errAuth(err))
}
