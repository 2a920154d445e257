package storage

import (
	"errors"
	"fmt"
)

// DB is the state engine over one backend: the tables registered with it
// (NewTable) and the transactions that change them. Several domains share
// one DB, each guarding its own tables and transactions with its own lock;
// the backend serialises their writes.
type DB struct {
	backend      Backend
	tables       []table
	checkInPlace bool
	afterCommit  []func(events []any)
}

// Option configures a DB.
type Option func(*DB)

// CheckInPlace makes every commit first check that no committed record was
// changed in place, and panic naming it if one was: for tests, as it
// encodes every record of every table at every commit.
func CheckInPlace() Option { return func(d *DB) { d.checkInPlace = true } }

// New returns a state engine over backend.
func New(backend Backend, opts ...Option) *DB {
	d := &DB{backend: backend}
	for _, o := range opts {
		o(d)
	}
	return d
}

// OnCommit registers f to receive the events of every transaction that
// commits, in commit order, right after it is published (with the
// committing domain's lock still held: f must only hand them on).
func (d *DB) OnCommit(f func(events []any)) { d.afterCommit = append(d.afterCommit, f) }

// table is what a transaction needs of a Table, whatever its record type.
type table interface {
	name() string
	encode(id string, rec any) (Change, error)
	publish(ch Change, rec any)
	changedInPlace() error
}

type stageKey struct {
	t  table
	id string
}

type staged struct {
	key stageKey
	rec any // the new record (a *T); nil: deleted
}

// Tx is one change to the tables: the records it puts, edits and deletes,
// staged as copies that no one else sees, and events for after its commit.
// Commit publishes them all, or (when the backend refuses) none; Abort, or
// a Commit that fails, leaves the tables as they were.
type Tx struct {
	db     *DB
	staged map[stageKey]*staged
	order  []*staged
	events []any
	done   bool
}

// Begin starts a transaction. The caller holds the lock that guards the
// tables it will read and change, until Commit or Abort.
func (d *DB) Begin() *Tx { return &Tx{db: d, staged: map[stageKey]*staged{}} }

func (tx *Tx) stage(t table, id string, rec any) {
	if tx.done {
		panic("storage: change after Commit or Abort")
	}
	k := stageKey{t, id}
	if s, ok := tx.staged[k]; ok {
		s.rec = rec
		return
	}
	s := &staged{key: k, rec: rec}
	tx.staged[k] = s
	tx.order = append(tx.order, s)
}

// Emit adds an event, delivered after the transaction commits (see
// DB.OnCommit), and never if it does not.
func (tx *Tx) Emit(event any) { tx.events = append(tx.events, event) }

// Changed reports whether the transaction staged anything.
func (tx *Tx) Changed() bool { return len(tx.order) > 0 }

// Changes lists what the transaction would write, in the order first staged.
func (tx *Tx) Changes() ([]Change, error) {
	out := make([]Change, 0, len(tx.order))
	var errs []error
	for _, s := range tx.order {
		ch, err := s.key.t.encode(s.key.id, s.rec)
		errs = append(errs, err)
		out = append(out, ch)
	}
	return out, errors.Join(errs...)
}

// Commit writes the staged records to the backend in one transaction and,
// once it has them, publishes them to the tables and hands the events on.
// When the backend refuses, nothing is published and the error is returned.
func (tx *Tx) Commit() error {
	if tx.done {
		panic("storage: Commit after Commit or Abort")
	}
	tx.done = true
	if tx.db.checkInPlace {
		for _, t := range tx.db.tables {
			if err := t.changedInPlace(); err != nil {
				panic(err)
			}
		}
	}
	changes, err := tx.Changes()
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		if err := tx.db.backend.Apply(changes); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	for i, s := range tx.order {
		s.key.t.publish(changes[i], s.rec)
	}
	if len(tx.events) > 0 {
		for _, f := range tx.db.afterCommit {
			f(tx.events)
		}
	}
	return nil
}

// Abort drops the staged changes and events. It may follow Commit (as a
// deferred call does), and then does nothing.
func (tx *Tx) Abort() { tx.done = true }
