package vpcsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Store keeps the model's documents. SQLite (package storage) is the real one;
// MemStore serves tests. Apply is all-or-nothing: either every change lands or none.
type Store interface {
	// Load returns every document of one kind.
	Load(kind string) ([][]byte, error)
	// Apply writes changes in one transaction.
	Apply(changes []Change) error
}

// Change puts (Body != nil) or deletes (Body == nil) one document.
type Change struct {
	Kind string
	ID   string
	Body []byte
}

// MemStore is a Store in memory, for tests. FailNext makes the next Apply fail,
// to prove that a failed write leaves nothing half-made.
type MemStore struct {
	mu       sync.Mutex
	docs     map[string]map[string][]byte
	FailNext error
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return &MemStore{docs: map[string]map[string][]byte{}} }

func (m *MemStore) Load(kind string) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.docs[kind]))
	for id := range m.docs[kind] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([][]byte, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.docs[kind][id])
	}
	return out, nil
}

func (m *MemStore) Apply(changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.FailNext; err != nil {
		m.FailNext = nil
		return err
	}
	for _, ch := range changes {
		if ch.Body == nil {
			delete(m.docs[ch.Kind], ch.ID)
			continue
		}
		if m.docs[ch.Kind] == nil {
			m.docs[ch.Kind] = map[string][]byte{}
		}
		m.docs[ch.Kind][ch.ID] = append([]byte(nil), ch.Body...)
	}
	return nil
}

// Batch collects the documents one operation changes, to apply in one
// transaction. A document that cannot be encoded is remembered in Err.
type Batch struct {
	Changes []Change
	Err     error
}

// Put stores v (as JSON) under kind and id.
func (b *Batch) Put(kind, id string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		b.Err = errors.Join(b.Err, err)
		return
	}
	b.Changes = append(b.Changes, Change{Kind: kind, ID: id, Body: body})
}

// Delete removes the document of kind and id.
func (b *Batch) Delete(kind, id string) { b.Changes = append(b.Changes, Change{Kind: kind, ID: id}) }

// LoadAll decodes every document of a kind and hands each to put.
func LoadAll[T any](s Store, kind string, put func(*T)) error {
	docs, err := s.Load(kind)
	if err != nil {
		return err
	}
	for _, d := range docs {
		v := new(T)
		if err := json.Unmarshal(d, v); err != nil {
			return fmt.Errorf("%s document: %w", kind, err)
		}
		put(v)
	}
	return nil
}

// StoreFullError is a change the store could not write because the
// filesystem of the data directory is full, over its quota or read-only. The
// protocols answer it as a server fault (EC2 InternalError, ECS
// ServerException, HTTP 500) whose message names the directory, so that the
// user learns what to do rather than that something failed.
type StoreFullError struct {
	Dir    string // the data directory
	Reason string // "is full (no space left on device)", "is read-only", …
	Err    error
}

func (e *StoreFullError) Error() string {
	return fmt.Sprintf("the data directory %s %s: %v", e.Dir, e.Reason, e.Err)
}

func (e *StoreFullError) Unwrap() error { return e.Err }

// Message is what a client is told.
func (e *StoreFullError) Message() string {
	return fmt.Sprintf("vpcsim could not save this change: its data directory %s %s. Free space there (or make it writable) and retry.", e.Dir, e.Reason)
}
