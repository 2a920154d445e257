package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type rec struct {
	ID   string   `json:"id"`
	N    int      `json:"n"`
	Tags []string `json:"tags,omitempty"`
}

var recKind = Kind[rec]{Name: "test.rec", ID: func(r *rec) string { return r.ID }}

func newTestTable(t *testing.T, b Backend, opts ...Option) (*DB, *Table[rec]) {
	t.Helper()
	db := New(b, append([]Option{CheckInPlace()}, opts...)...)
	tbl, err := NewTable(db, recKind)
	if err != nil {
		t.Fatal(err)
	}
	return db, tbl
}

func ids(seq func(func(*rec) bool)) []string {
	var out []string
	for r := range seq {
		out = append(out, r.ID+":"+string(rune('0'+r.N)))
	}
	return out
}

// A transaction's changes are its own until it commits; then every reader
// sees them, and the store has them.
func TestTxStagesThenPublishes(t *testing.T) {
	mem := NewMemory()
	db, tbl := newTestTable(t, mem)
	tx := db.Begin()
	tbl.In(tx).Put(&rec{ID: "b", N: 2})
	tbl.In(tx).Put(&rec{ID: "a", N: 1})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := ids(tbl.All()); !slices.Equal(got, []string{"a:1", "b:2"}) {
		t.Fatalf("committed %v", got)
	}

	committedA, _ := tbl.Get("a")
	tx = db.Begin()
	v := tbl.In(tx)
	a, _ := v.Edit("a")
	a.N = 5
	a.Tags = append(a.Tags, "x")
	v.Delete("b")
	v.Put(&rec{ID: "c", N: 3})
	if got := ids(v.All()); !slices.Equal(got, []string{"a:5", "c:3"}) || v.Len() != 2 {
		t.Fatalf("the transaction sees %v (len %d)", got, v.Len())
	}
	var staged []string
	for id, r := range v.Staged() {
		staged = append(staged, fmt.Sprintf("%s %v", id, r != nil))
	}
	if !slices.Equal(staged, []string{"a true", "b false", "c true"}) {
		t.Fatalf("staged %v", staged)
	}
	if got := ids(tbl.All()); !slices.Equal(got, []string{"a:1", "b:2"}) || committedA.N != 1 {
		t.Fatalf("before the commit others see %v", got)
	}
	if again, _ := v.Edit("a"); again != a {
		t.Fatal("a second Edit in the same transaction gave another copy")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := ids(tbl.All()); !slices.Equal(got, []string{"a:5", "c:3"}) {
		t.Fatalf("after the commit %v", got)
	}
	if committedA.N != 1 || len(committedA.Tags) != 0 {
		t.Fatalf("the record a reader held changed: %+v", committedA)
	}
	docs, _ := mem.Load(recKind.Name)
	if len(docs) != 2 || docs[0].ID != "a" || docs[1].ID != "c" || docs[0].Version != 1 {
		t.Fatalf("stored %+v", docs)
	}
}

// When the backend refuses, nothing is published and no event goes out: the
// tables are as they were, with no reload.
func TestFailedCommitLeavesTablesAsTheyWere(t *testing.T) {
	mem := NewMemory()
	var events []any
	db, tbl := newTestTable(t, mem)
	db.OnCommit(func(evs []any) { events = append(events, evs...) })
	tx := db.Begin()
	tbl.In(tx).Put(&rec{ID: "a", N: 1})
	tx.Emit("a created")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	before, _ := tbl.Get("a")

	mem.FailNext = errors.New("disk on fire")
	tx = db.Begin()
	a, _ := tbl.In(tx).Edit("a")
	a.N = 9
	tbl.In(tx).Put(&rec{ID: "z", N: 2})
	tx.Emit("a changed")
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("commit: %v", err)
	}
	tx.Abort() // as a deferred Abort does: nothing
	if got, _ := tbl.Get("a"); got != before || got.N != 1 || tbl.Len() != 1 {
		t.Fatalf("after a refused commit: %+v, %d records", got, tbl.Len())
	}
	if !slices.Equal(events, []any{"a created"}) {
		t.Fatalf("events %v", events)
	}
	if docs, _ := mem.Load(recKind.Name); len(docs) != 1 || string(docs[0].Body) != `{"id":"a","n":1}` {
		t.Fatalf("stored %+v", docs)
	}
}

// A committed record changed in place, not through Edit, is a bug the
// tests' engine reports at the next commit.
func TestCheckInPlace(t *testing.T) {
	db, tbl := newTestTable(t, NewMemory())
	tx := db.Begin()
	tbl.In(tx).Put(&rec{ID: "a", N: 1})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a, _ := tbl.In(db.Begin()).Get("a")
	a.N = 2 // the bug
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "test.rec a was changed in place") {
			t.Fatalf("recovered %v", r)
		}
	}()
	db.Begin().Commit()
}

func TestPutOfCommittedRecordPanics(t *testing.T) {
	db, tbl := newTestTable(t, NewMemory())
	tx := db.Begin()
	tbl.In(tx).Put(&rec{ID: "a"})
	tx.Commit()
	a, _ := tbl.Get("a")
	defer func() {
		if recover() == nil {
			t.Fatal("Put of a committed record was taken")
		}
	}()
	tbl.In(db.Begin()).Put(a)
}

// Documents of older formats are migrated as they load, and written back in
// the new format; a newer format than this code knows is refused.
func TestMigrations(t *testing.T) {
	mem := NewMemory()
	mem.Apply([]Change{
		{Kind: "test.rec", ID: "old", Version: 1, Body: []byte(`{"id":"old","count":"4"}`)},
		{Kind: "test.rec", ID: "mid", Version: 2, Body: []byte(`{"id":"mid","count":6}`)},
	})
	v3 := recKind
	v3.Version = 3
	v3.Migrations = map[int]Migration{
		1: func(b json.RawMessage) (json.RawMessage, error) { // count was a string
			return []byte(strings.Replace(string(b), `"count":"4"`, `"count":4`, 1)), nil
		},
		2: func(b json.RawMessage) (json.RawMessage, error) { // count became n
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			m["n"] = m["count"]
			delete(m, "count")
			return json.Marshal(m)
		},
	}
	tbl, err := NewTable(New(mem), v3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(tbl.All()); !slices.Equal(got, []string{"mid:6", "old:4"}) {
		t.Fatalf("loaded %v", got)
	}
	docs, _ := mem.Load("test.rec")
	for _, d := range docs {
		if d.Version != 3 || strings.Contains(string(d.Body), "count") {
			t.Errorf("stored %s as version %d: %s", d.ID, d.Version, d.Body)
		}
	}

	if _, err := NewTable(New(mem), recKind); err == nil || !strings.Contains(err.Error(), "written by a newer vpcsim") {
		t.Fatalf("a format newer than the code's: %v", err)
	}
	gap := v3
	gap.Version = 5
	gap.Migrations = map[int]Migration{3: v3.Migrations[2]}
	if _, err := NewTable(New(mem), gap); err == nil || !strings.Contains(err.Error(), "no migration from format 4") {
		t.Fatalf("a missing migration: %v", err)
	}
}

// A file written by the first vpcsim (no format versions) is upgraded to
// this layout as it opens, its documents of format 1; a file from a newer
// vpcsim is refused whole.
func TestSQLiteLayoutUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE documents (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID`,
		`INSERT INTO documents VALUES ('test.rec', 'a', '{"id":"a","n":7}')`,
	} {
		if _, err := old.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if db.Fresh() {
		t.Error("a file with documents was taken as new")
	}
	tbl, err := NewTable(New(db), recKind)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(tbl.All()); !slices.Equal(got, []string{"a:7"}) {
		t.Fatalf("loaded %v", got)
	}
	docs, _ := db.Load("test.rec")
	if len(docs) != 1 || docs[0].Version != 1 {
		t.Fatalf("stored %+v", docs)
	}
	if _, err := db.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "written by a newer vpcsim") {
		t.Fatalf("a newer layout: %v", err)
	}
}
