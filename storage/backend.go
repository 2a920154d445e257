package storage

import (
	"fmt"
	"sort"
	"sync"
)

// Backend keeps documents: each is a JSON body under a kind and an ID, in the
// format version its kind had when it was written. SQLite (Open) is vpcsim's;
// Memory serves tests. Apply is all-or-nothing.
type Backend interface {
	// Load returns every document of one kind, ordered by ID.
	Load(kind string) ([]Doc, error)
	// Apply writes changes in one transaction: every one lands, or none.
	Apply(changes []Change) error
}

// Doc is one stored document.
type Doc struct {
	ID      string
	Version int
	Body    []byte
}

// Change puts (Body != nil) or deletes (Body == nil) one document. A put
// names the format Version of its body (1 or more).
type Change struct {
	Kind    string
	ID      string
	Version int
	Body    []byte
}

func checkChanges(changes []Change) error {
	for _, ch := range changes {
		if ch.Body != nil && ch.Version < 1 {
			return fmt.Errorf("storage: %s %s written without a format version", ch.Kind, ch.ID)
		}
	}
	return nil
}

// Memory is a Backend in memory, for tests. FailNext makes the next Apply
// fail, to prove that a failed write leaves nothing half-made.
type Memory struct {
	mu       sync.Mutex
	docs     map[string]map[string]Doc
	FailNext error
}

// NewMemory returns an empty in-memory backend.
func NewMemory() *Memory { return &Memory{docs: map[string]map[string]Doc{}} }

func (m *Memory) Load(kind string) ([]Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Doc, 0, len(m.docs[kind]))
	for _, d := range m.docs[kind] {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *Memory) Apply(changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.FailNext; err != nil {
		m.FailNext = nil
		return err
	}
	if err := checkChanges(changes); err != nil {
		return err
	}
	for _, ch := range changes {
		if ch.Body == nil {
			delete(m.docs[ch.Kind], ch.ID)
			continue
		}
		if m.docs[ch.Kind] == nil {
			m.docs[ch.Kind] = map[string]Doc{}
		}
		m.docs[ch.Kind][ch.ID] = Doc{ID: ch.ID, Version: ch.Version, Body: append([]byte(nil), ch.Body...)}
	}
	return nil
}
