package ecstypes

import "github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"

// ConstraintViolation is one member of a request that breaks a constraint of
// the model (see coral.ConstraintViolation).
type ConstraintViolation = coral.ConstraintViolation

// ValidationError lists every constraint a request breaks, in member order,
// worded as AWS's Java services word them.
type ValidationError = coral.ValidationError

// constraints are the ECS model's, as the shapes' `ecs` tags and the
// generated tables hold them.
var constraints = &coral.Constraints{Tag: "ecs", Patterns: patterns, Enums: enumValues}

// Validate checks v, a pointer to (or value of) a generated structure, against
// the constraints of the model recorded in its fields' `ecs` tags: required
// members, lengths, ranges, enum values and patterns, at any depth. It returns
// nil or a *ValidationError listing every violation.
func Validate(v any) error { return constraints.Validate(v) }
