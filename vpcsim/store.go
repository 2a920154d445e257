package vpcsim

import "github.com/vpcsim/vpcsim/storage"

// Store keeps the model's documents (see package storage): SQLite in
// vpcsim, MemStore in tests.
type Store = storage.Backend

// MemStore is a Store in memory, for tests; FailNext makes the next Apply fail.
type MemStore = storage.Memory

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return storage.NewMemory() }
