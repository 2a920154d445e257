package ec2query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// apiError is an error as the client receives it (the Query family's error,
// rendered in EC2's envelope, awsproto.EC2Envelope). Every error leaving a
// handler becomes one, through toAPIError.
type apiError = awsproto.QueryError

func clientError(code, format string, args ...any) *apiError {
	return awsproto.QueryClientError(code, format, args...)
}

// The refusals the protocol layer makes itself, worded as EC2 words them.

func errDryRun() *apiError {
	return &apiError{Status: http.StatusPreconditionFailed, Code: "DryRunOperation", Message: "Request would have succeeded, but DryRun flag is set."}
}

// errNoSuchVersion refuses an API version; the text is EC2's, as clients
// report it (ansible/ansible#37267).
func errNoSuchVersion(version string) *apiError {
	return clientError("NoSuchVersion", "The requested version (%s) of service AmazonEC2 does not exist", version)
}

func errInvalidAction(action string) *apiError {
	return clientError("InvalidAction", "The action %s is not valid for this web service.", action)
}

func errUnsupportedOperation(action string) *apiError {
	return clientError("UnsupportedOperation", "The operation %s is not supported by vpcsim yet.", action)
}

func errUnknownParameter(key string) *apiError {
	return clientError("UnknownParameter", "The parameter %s is not recognized", key)
}

// errUnsupportedParameter refuses a parameter the EC2 model has but vpcsim does not
// implement: silently ignoring it would answer a different question than was asked.
func errUnsupportedParameter(key string) *apiError {
	return clientError("UnsupportedOperation", "The parameter %s is not supported by vpcsim yet.", key)
}

func errMissingParameter(name string) *apiError {
	return clientError("MissingParameter", "The request must contain the parameter %s", name)
}

// errMissingText is MissingParameter in EC2's own words, where they are
// not "must contain the parameter X".
func errMissingText(format string, args ...any) *apiError {
	return clientError("MissingParameter", format, args...)
}

func errInvalidValue(format string, args ...any) *apiError {
	return clientError("InvalidParameterValue", format, args...)
}

func errCombination(format string, args ...any) *apiError {
	return clientError("InvalidParameterCombination", format, args...)
}

// toAPIError maps any error a handler returns to what the client receives.
// Context errors come first: a request cancelled or timed out mid-way is not a
// bug, whatever error the layer below wrapped it in. Refusals (ours and the
// domain's APIErrors) pass through; anything else is a server fault, logged here
// with its cause and answered with a generic InternalError.
func toAPIError(ctx context.Context, log *slog.Logger, action string, err error) *apiError {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		log.DebugContext(ctx, "request ended by its context", "action", action, "err", err)
		return awsproto.ErrUnavailable()
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if de, ok := ec2sim.AsAPIError(err); ok {
		return clientError(de.Code, "%s", de.Message)
	}
	var dec *decodeError
	if errors.As(err, &dec) {
		return errTypedValue(dec)
	}
	var full *storage.FullError
	if errors.As(err, &full) {
		// A fault of the machine's, not a bug: the client is told which
		// directory to free.
		log.ErrorContext(ctx, "cannot save a change", "action", action, "err", err)
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalError", Message: full.Message()}
	}
	log.ErrorContext(ctx, "internal error", "action", action, "err", err)
	return awsproto.ErrInternal()
}

// errTypedValue words a value of the wrong type. (unverified: AWS's exact text for
// a non-numeric integer parameter was not found; this follows the form of its
// verified "Value ( 1 ) for parameter maxResults is invalid." messages.)
func errTypedValue(e *decodeError) *apiError {
	if e.Expected == "" {
		return errUnknownParameter(e.Key)
	}
	return errInvalidValue("Value (%s) for parameter %s is invalid. Expected: '%s'.", e.Value, e.Key, e.Expected)
}

// errInternalf is a server fault found in the protocol layer (a domain answer that
// breaks its contract); toAPIError logs it and answers InternalError.
func errInternalf(format string, args ...any) error {
	return fmt.Errorf("ec2query: "+format, args...)
}
