package vpcsim

import (
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
