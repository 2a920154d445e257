// Package ssmtypes holds the wire shapes of the SSM API that vpcsim serves,
// generated from botocore's model into shapes_gen.go by
// ecsapi/ecstypes/gen/genshapes.py --service ssm (its conventions are
// ecstypes', see ecsapi/ecstypes/gen/README.md), and the pieces they use.
// Every shape keeps the model's name (ssmtypes.Parameter), beside the SSM
// domain's own types in package ssm.
package ssmtypes

//go:generate python3 ../../../ecsapi/ecstypes/gen/genshapes.py --service ssm

import (
	"encoding/json"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"
)

// OperationShape describes one operation of the model: the names of its input
// and output shapes and of the exceptions it may answer with.
type OperationShape struct {
	Input, Output string
	Errors        []string
}

// Ptr returns a pointer to a copy of v: Ptr("/app/db"), Ptr(int64(2)).
func Ptr[T any](v T) *T { return &v }

// Document is the model's document shape: any JSON value, kept raw.
type Document = json.RawMessage

// Timestamp is a timestamp member (coral.Timestamp): epoch seconds on the wire.
type Timestamp = coral.Timestamp

// NewTimestamp returns t as a *Timestamp, truncated to milliseconds.
func NewTimestamp(t time.Time) *Timestamp { return coral.NewTimestamp(t) }

// ConstraintViolation is one member of a request that breaks a constraint.
type ConstraintViolation = coral.ConstraintViolation

// ValidationError lists every constraint of the model a request breaks.
type ValidationError = coral.ValidationError

var constraints = &coral.Constraints{Tag: "ssm", Patterns: patterns, Enums: enumValues}

// Validate checks v, a pointer to a generated structure, against the
// constraints of the SSM model in its fields' `ssm` tags; nil or a
// *ValidationError.
func Validate(v any) error { return constraints.Validate(v) }
