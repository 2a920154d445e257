package storage

import (
	"encoding/json"
	"fmt"
)

// Kind describes the records of one table as the store keeps them: the
// kind's name there, the format version this vpcsim writes, and how a
// document of an older format becomes one of this.
type Kind[T any] struct {
	// Name is the kind in the store ("ec2.vpc"); names never change.
	Name string
	// ID is the record's ID, its key in the table and the store.
	ID func(*T) string
	// Version is the format this vpcsim writes (0 means 1). Bump it when a
	// record's JSON changes in a way old documents do not decode into,
	// and add the migration from the version before.
	Version int
	// Migrations[k] turns a document of format k into one of format k+1.
	Migrations map[int]Migration
}

// Migration rewrites one document's JSON from one format to the next.
type Migration func(json.RawMessage) (json.RawMessage, error)

func (k Kind[T]) version() int { return max(k.Version, 1) }

// upgrade takes a stored document to this vpcsim's format, telling whether
// it had to change. A document of a newer format is refused: this vpcsim
// would drop what it does not know of it on its next write.
func (k Kind[T]) upgrade(d Doc) ([]byte, bool, error) {
	body, v := d.Body, max(d.Version, 1)
	if v > k.version() {
		return nil, false, fmt.Errorf("%s %s is of format %d, written by a newer vpcsim (this one knows up to %d)", k.Name, d.ID, v, k.version())
	}
	for ; v < k.version(); v++ {
		m := k.Migrations[v]
		if m == nil {
			return nil, false, fmt.Errorf("%s %s: no migration from format %d", k.Name, d.ID, v)
		}
		next, err := m(body)
		if err != nil {
			return nil, false, fmt.Errorf("%s %s: migrate from format %d: %w", k.Name, d.ID, v, err)
		}
		body = next
	}
	return body, max(d.Version, 1) != v, nil
}
