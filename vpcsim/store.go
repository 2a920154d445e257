package vpcsim

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vpcsim/vpcsim/storage"
)

// Store keeps the model's documents (see package storage): SQLite in
// vpcsim, MemStore in tests.
type Store = storage.Backend

// Change puts or deletes one document.
type Change = storage.Change

// MemStore is a Store in memory, for tests; FailNext makes the next Apply fail.
type MemStore = storage.Memory

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return storage.NewMemory() }

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
	b.Changes = append(b.Changes, Change{Kind: kind, ID: id, Version: 1, Body: body})
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
		if err := json.Unmarshal(d.Body, v); err != nil {
			return fmt.Errorf("%s document: %w", kind, err)
		}
		put(v)
	}
	return nil
}

// StoreFullError is a change the store could not write for want of space
// or of a writable filesystem (see storage.FullError).
type StoreFullError = storage.FullError
