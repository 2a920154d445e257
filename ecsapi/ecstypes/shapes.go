// Package ecstypes holds the wire shapes of the ECS API, generated from
// botocore's model into shapes_gen.go (conventions at its top and in
// gen/README.md), and the hand-written pieces they use: OperationShape, Ptr
// and Document here, Timestamp in timestamp.go, and Validate, the check of
// the model's constraints, in validate.go. They are a package of their own so
// that every shape keeps the model's name (ecstypes.Service, ecstypes.Scope)
// beside the ECS domain's own types in package ecsapi.
package ecstypes

//go:generate python3 gen/genshapes.py

import "encoding/json"

// OperationShape describes one operation of the model: the names of its input
// and output shapes and of the exceptions it may answer with.
type OperationShape struct {
	Input, Output string
	Errors        []string
}

// Ptr returns a pointer to a copy of v: Ptr("awsvpc"), Ptr(int32(256)).
func Ptr[T any](v T) *T { return &v }

// Document is the model's document shape (HookDetails): any JSON value, kept raw.
type Document = json.RawMessage
