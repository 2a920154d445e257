package ecsapi

import (
	"errors"
	"fmt"
)

// Error is a refusal the ECS API gives: the exception's name (its __type) and
// message. ServerException is a fault of ours (HTTP 500); the rest are HTTP 400.
type Error struct {
	Type    string // e.g. "ClientException", "ClusterNotFoundException"
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// AsError reports whether err is (or wraps) an ECS Error.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func clientErr(format string, args ...any) *Error {
	return &Error{Type: "ClientException", Message: fmt.Sprintf(format, args...)}
}

func invalidParam(format string, args ...any) *Error {
	return &Error{Type: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

func clusterNotFound() *Error {
	return &Error{Type: "ClusterNotFoundException", Message: "Cluster not found."}
}
