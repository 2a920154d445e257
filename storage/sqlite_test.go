package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestApplyAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply([]Change{
		{Kind: "k", ID: "b", Version: 1, Body: []byte(`{"n":2}`)},
		{Kind: "k", ID: "a", Version: 2, Body: []byte(`{"n":1}`)},
		{Kind: "other", ID: "a", Version: 1, Body: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply([]Change{{Kind: "k", ID: "b", Version: 3, Body: []byte(`{"n":3}`)}, {Kind: "other", ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Load("k")
	if err != nil {
		t.Fatal(err)
	}
	want := []Doc{{"a", 2, []byte(`{"n":1}`)}, {"b", 3, []byte(`{"n":3}`)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded %v, want %v", got, want)
	}
	if other, _ := db.Load("other"); len(other) != 0 {
		t.Fatalf("deleted document still there: %v", other)
	}
}

// TestFresh: a database is new when there was no file, or an empty one;
// once opened it has its table, and the next open knows it.
func TestFresh(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "none.db"), empty} {
		for i, want := range []bool{true, false} {
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if db.Fresh() != want {
				t.Errorf("%s, open %d: Fresh() = %v, want %v", filepath.Base(path), i+1, db.Fresh(), want)
			}
			db.Close()
		}
	}
}

// The file is in WAL mode with synchronous=NORMAL (1): whole after any
// crash, durable across vpcsim's own, without an fsync per commit (see Open).
func TestJournalSettings(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "vpcsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var sync int
	if err := db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 1 {
		t.Fatalf("journal_mode %s, synchronous %d; want wal, 1 (NORMAL)", mode, sync)
	}
}
