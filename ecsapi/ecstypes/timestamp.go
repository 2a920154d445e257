package ecstypes

import (
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/coral"
)

// Timestamp is a point in time as the AWS JSON 1.1 protocol carries it (see
// coral.Timestamp): epoch seconds, rendered as 1.732478212123E9.
type Timestamp = coral.Timestamp

// NewTimestamp returns t as a *Timestamp, truncated to milliseconds.
func NewTimestamp(t time.Time) *Timestamp { return coral.NewTimestamp(t) }
