package awsproto

import (
	"crypto/rand"
	"fmt"
)

// NewRequestID returns a random (version 4) UUID, the form of the request IDs
// AWS's front ends give every answer, for both protocols.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
