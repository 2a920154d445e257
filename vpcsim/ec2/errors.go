package ec2

import (
	"errors"
	"fmt"
)

// APIError is a refusal the EC2 API gives: its AWS error code and message. The
// domain returns these for every rule a request breaks; anything else reaching the
// protocol layer is a server fault.
type APIError struct {
	Code    string // e.g. "InvalidSubnet.Conflict"
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Errorf makes an APIError with a formatted message.
func Errorf(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsAPIError reports whether err is (or wraps) an APIError.
func AsAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// Common refusals, worded as EC2 words them.
func notFound(code, what, id string) *APIError {
	return Errorf(code, "The %s ID '%s' does not exist", what, id)
}

func missingParameter(name string) *APIError {
	return Errorf("MissingParameter", "The request must contain the parameter %s", name)
}

func invalidValue(format string, args ...any) *APIError {
	return Errorf("InvalidParameterValue", format, args...)
}

func dependencyViolation(id string) *APIError {
	return Errorf("DependencyViolation", "The %s '%s' has dependencies and cannot be deleted.", kindOf(id), id)
}

func joinErrs(errs []error) error { return errors.Join(errs...) }
