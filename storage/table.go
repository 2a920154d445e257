package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
)

// Table holds the committed records of one kind, in memory, by ID. A
// committed record is never changed in place: a transaction changes a copy
// (View.Edit) or puts a new record, and Commit publishes it in the
// record's stead. So a reader holding a committed record sees it whole and
// unchanging, and a failed commit has nothing to undo.
//
// Tables have no lock of their own: the domain that owns them guards them
// and its transactions with one.
type Table[T any] struct {
	db   *DB
	kind Kind[T]
	rows map[string]*T
	// encoded is every committed record's JSON, kept when the DB checks for
	// changes made in place (tests only).
	encoded map[string][]byte
}

// NewTable loads a kind's records from the DB's backend, taking every
// document of an older format to this one (and writing it back so, in one
// transaction), and registers the table with the DB.
func NewTable[T any](db *DB, k Kind[T]) (*Table[T], error) {
	if k.Name == "" || k.ID == nil {
		return nil, fmt.Errorf("storage: a kind needs a name and an ID function")
	}
	rows, upgraded, err := read(db.backend, k)
	if err != nil {
		return nil, err
	}
	t := &Table[T]{db: db, kind: k, rows: rows}
	if err := db.backend.Apply(upgraded); err != nil {
		return nil, fmt.Errorf("write %s in its new format: %w", k.Name, err)
	}
	if db.checkInPlace {
		t.encoded = map[string][]byte{}
		for id, rec := range t.rows {
			t.encoded[id], _ = json.Marshal(rec)
		}
	}
	db.tables = append(db.tables, t)
	return t, nil
}

// Read decodes every document of a kind, taking those of an older format to
// this one in memory only: a look at the store before the domain that owns
// the kind opens its table (which writes the upgrades).
func Read[T any](b Backend, k Kind[T]) (map[string]*T, error) {
	rows, _, err := read(b, k)
	return rows, err
}

// read decodes a kind's documents, by ID, and lists those it upgraded.
func read[T any](b Backend, k Kind[T]) (map[string]*T, []Change, error) {
	docs, err := b.Load(k.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", k.Name, err)
	}
	rows := make(map[string]*T, len(docs))
	var upgraded []Change
	for _, d := range docs {
		body, changed, err := k.upgrade(d)
		if err != nil {
			return nil, nil, err
		}
		rec := new(T)
		if err := json.Unmarshal(body, rec); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", k.Name, d.ID, err)
		}
		rows[d.ID] = rec
		if changed {
			upgraded = append(upgraded, Change{Kind: k.Name, ID: d.ID, Version: k.version(), Body: body})
		}
	}
	return rows, upgraded, nil
}

// Get returns a committed record; the caller must not change it.
func (t *Table[T]) Get(id string) (*T, bool) {
	r, ok := t.rows[id]
	return r, ok
}

// Len is the number of committed records.
func (t *Table[T]) Len() int { return len(t.rows) }

// All yields the committed records in ID order; the caller must not change them.
func (t *Table[T]) All() iter.Seq[*T] {
	return func(yield func(*T) bool) {
		for _, id := range slices.Sorted(maps.Keys(t.rows)) {
			if !yield(t.rows[id]) {
				return
			}
		}
	}
}

// In is the table as tx sees it: its committed records with tx's staged
// changes over them.
func (t *Table[T]) In(tx *Tx) View[T] { return View[T]{t: t, tx: tx} }

// clone copies a record deeply, through its JSON: what is not stored is not
// copied, as it would not survive a restart either.
func (t *Table[T]) clone(r *T) *T {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("storage: copy %s: %v", t.kind.Name, err))
	}
	c := new(T)
	if err := json.Unmarshal(b, c); err != nil {
		panic(fmt.Sprintf("storage: copy %s: %v", t.kind.Name, err))
	}
	return c
}

// The table's side of a transaction, for Tx, which knows no record types.

func (t *Table[T]) name() string { return t.kind.Name }

func (t *Table[T]) encode(id string, rec any) (Change, error) {
	if rec == nil {
		return Change{Kind: t.kind.Name, ID: id}, nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return Change{}, fmt.Errorf("encode %s %s: %w", t.kind.Name, id, err)
	}
	return Change{Kind: t.kind.Name, ID: id, Version: t.kind.version(), Body: b}, nil
}

func (t *Table[T]) publish(ch Change, rec any) {
	if rec == nil {
		delete(t.rows, ch.ID)
		delete(t.encoded, ch.ID)
		return
	}
	t.rows[ch.ID] = rec.(*T)
	if t.encoded != nil {
		t.encoded[ch.ID] = ch.Body
	}
}

// changedInPlace names a committed record whose JSON is no longer what was
// committed: code changed it without a transaction's copy.
func (t *Table[T]) changedInPlace() error {
	for id, rec := range t.rows {
		b, _ := json.Marshal(rec)
		if !bytes.Equal(b, t.encoded[id]) {
			return fmt.Errorf("storage: committed %s %s was changed in place (change a copy: View.Edit)", t.kind.Name, id)
		}
	}
	return nil
}

// View is a table as one transaction sees it.
type View[T any] struct {
	t  *Table[T]
	tx *Tx
}

// Get returns the record as the transaction sees it, staged or committed;
// the caller must not change it (Edit gives a copy to change).
func (v View[T]) Get(id string) (*T, bool) {
	if s, ok := v.tx.staged[stageKey{v.t, id}]; ok {
		if s.rec == nil {
			return nil, false
		}
		return s.rec.(*T), true
	}
	return v.t.Get(id)
}

// Edit returns the transaction's copy of a record, to change: the first Edit
// copies the committed record and stages the copy, later ones return it.
func (v View[T]) Edit(id string) (*T, bool) {
	if s, ok := v.tx.staged[stageKey{v.t, id}]; ok {
		if s.rec == nil {
			return nil, false
		}
		return s.rec.(*T), true
	}
	r, ok := v.t.rows[id]
	if !ok {
		return nil, false
	}
	c := v.t.clone(r)
	v.tx.stage(v.t, id, c)
	return c, true
}

// Put stages a new record, or one that replaces the record of its ID. It
// must not be a committed record (Edit that).
func (v View[T]) Put(rec *T) {
	id := v.t.kind.ID(rec)
	if cur, ok := v.t.rows[id]; ok && cur == rec {
		panic(fmt.Sprintf("storage: Put of the committed %s %s: Edit it instead", v.t.kind.Name, id))
	}
	v.tx.stage(v.t, id, rec)
}

// Delete stages the removal of a record.
func (v View[T]) Delete(id string) { v.tx.stage(v.t, id, nil) }

// All yields the records as the transaction sees them, in ID order.
func (v View[T]) All() iter.Seq[*T] {
	return func(yield func(*T) bool) {
		for _, id := range v.ids() {
			if r, ok := v.Get(id); ok && !yield(r) {
				return
			}
		}
	}
}

// Staged yields what the transaction changes in the table, in the order
// first staged: each record's ID and its new version (nil: deleted).
func (v View[T]) Staged() iter.Seq2[string, *T] {
	return func(yield func(string, *T) bool) {
		for _, s := range v.tx.order {
			if s.key.t != v.t {
				continue
			}
			var rec *T
			if s.rec != nil {
				rec = s.rec.(*T)
			}
			if !yield(s.key.id, rec) {
				return
			}
		}
	}
}

// Len is the number of records the transaction sees.
func (v View[T]) Len() int {
	n := len(v.t.rows)
	for k, s := range v.tx.staged {
		if k.t != v.t {
			continue
		}
		_, committed := v.t.rows[k.id]
		switch {
		case s.rec == nil && committed:
			n--
		case s.rec != nil && !committed:
			n++
		}
	}
	return n
}

func (v View[T]) ids() []string {
	ids := slices.Collect(maps.Keys(v.t.rows))
	for k := range v.tx.staged {
		if _, committed := v.t.rows[k.id]; k.t == v.t && !committed {
			ids = append(ids, k.id)
		}
	}
	slices.Sort(ids)
	return ids
}
