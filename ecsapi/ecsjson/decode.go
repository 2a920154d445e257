package ecsjson

import "github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"

// serializationError is a body ECS's deserializer refuses (a
// SerializationException).
type serializationError = coral.SerializationError

// classPrefix is the package of ECS's classes as Coral's messages name them.
const classPrefix = "com.amazonaws.ecs.v20141113."

// decode reads a JSON 1.1 request body into out, a pointer to a generated
// ecstypes structure, as ECS's deserializer does (coral.Decode).
func decode(body []byte, out any) error { return coral.Decode(body, out, classPrefix) }
