// Package storage is vpcsim's state engine, knowing no domain: typed tables
// (Table) of records kept as JSON documents under a kind and an ID, changed
// in transactions (Tx) that work on copies and publish them only once the
// backend has them, with a format version per kind and forward migrations.
// The backend is one SQLite file (modernc.org/sqlite, no cgo), where every
// transaction is one SQLite transaction, so a crash (even kill -9) leaves
// either all of a call's changes or none; Memory serves tests.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	"modernc.org/sqlite"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// SQLite is the Backend of a data directory: one database file.
type SQLite struct {
	db    *sql.DB
	dir   string // the data directory, named when a write fails for want of space
	fresh bool
}

var _ Backend = (*SQLite)(nil)

// layout is the version of the file's tables (SQLite's user_version): 0 is
// the first vpcsim's (documents without a format version), 1 adds it. The
// steps take a file from one layout to the next.
const layout = 1

var layoutSteps = [][]string{
	0: {`CREATE TABLE IF NOT EXISTS documents (
		kind TEXT NOT NULL,
		id   TEXT NOT NULL,
		body BLOB NOT NULL,
		PRIMARY KEY (kind, id)
	) WITHOUT ROWID`,
		// Every document written before versions existed is its kind's first format.
		`ALTER TABLE documents ADD COLUMN version INTEGER NOT NULL DEFAULT 1`},
}

// Open opens (creating if needed) the database at path, with the directory
// made private (0700) since it describes the whole simulated account.
func Open(path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	// WAL lets readers go on while a write commits. synchronous=NORMAL: a
	// committed call survives vpcsim's crash or kill -9 (its write is in the
	// kernel's cache), and the file stays whole through a power cut, which may
	// undo the last seconds of calls. FULL would close that window with an
	// fsync per commit (about 1 ms here, six of them per RunTask), for a case
	// in which the machine's namespaces, links and containers, and mostly the
	// callers too, are gone anyway: the restart rebuilds from what was synced.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer at a time is what SQLite allows; one connection avoids
	// SQLITE_BUSY between our own connections.
	db.SetMaxOpenConns(1)
	// A database without the documents table is new (or an empty file):
	// it has never known anything, so it must not judge what exists.
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'documents'`).Scan(&tables); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := upgradeLayout(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := hostpath.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	return &SQLite{db: db, dir: filepath.Dir(path), fresh: tables == 0}, nil
}

// upgradeLayout brings the file's tables to this vpcsim's layout, in one
// transaction, and refuses a file a newer vpcsim has changed.
func upgradeLayout(db *sql.DB) (err error) {
	var have int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&have); err != nil {
		return err
	}
	if have > layout {
		return fmt.Errorf("its tables are of layout %d, written by a newer vpcsim (this one knows up to %d)", have, layout)
	}
	if have == layout {
		return nil
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, step := range layoutSteps[have:] {
		for _, stmt := range step {
			if _, err := tx.Exec(stmt); err != nil {
				return fmt.Errorf("upgrade the tables from layout %d: %w", have, err)
			}
		}
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, layout)); err != nil {
		return err
	}
	return tx.Commit()
}

// Fresh reports whether the database was new when it was opened: no file, an
// empty one, or one without vpcsim's table. Such a database knows none of the
// kernel objects or containers on the machine, so a start-up reconciliation
// must keep those it finds rather than remove them as strays.
func (d *SQLite) Fresh() bool { return d.fresh }

// Close closes the database.
func (d *SQLite) Close() error { return d.db.Close() }

// Load returns every document of a kind, ordered by ID.
func (d *SQLite) Load(kind string) ([]Doc, error) {
	rows, err := d.db.Query(`SELECT id, version, body FROM documents WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Doc
	for rows.Next() {
		var doc Doc
		if err := rows.Scan(&doc.ID, &doc.Version, &doc.Body); err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, rows.Err()
}

// Apply writes all changes in one transaction.
func (d *SQLite) Apply(changes []Change) (err error) {
	if len(changes) == 0 {
		return nil
	}
	if err := checkChanges(changes); err != nil {
		return err
	}
	tx, err := d.db.BeginTx(context.Background(), nil)
	if err != nil {
		return d.noRoom(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err != nil {
			err = d.noRoom(errors.Join(err, tx.Rollback()))
		}
	}()
	for _, ch := range changes {
		if ch.Body == nil {
			_, err = tx.Exec(`DELETE FROM documents WHERE kind = ? AND id = ?`, ch.Kind, ch.ID)
		} else {
			_, err = tx.Exec(`INSERT INTO documents (kind, id, version, body) VALUES (?, ?, ?, ?)
				ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body`, ch.Kind, ch.ID, ch.Version, ch.Body)
		}
		if err != nil {
			return fmt.Errorf("write %s %s: %w", ch.Kind, ch.ID, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SQLite's primary result codes that a full or read-only filesystem gives.
const (
	sqliteReadonly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)

// noRoom turns a write that failed for want of space or of a writable
// filesystem into a *FullError naming the data directory. SQLite
// says SQLITE_FULL only for ENOSPC; a quota or an I/O error is SQLITE_IOERR,
// told apart by what statfs says of the directory.
func (d *SQLite) noRoom(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	var st unix.Statfs_t
	statErr := unix.Statfs(d.dir, &st)
	full := statErr == nil && st.Bavail == 0
	readonly := statErr == nil && st.Flags&unix.ST_RDONLY != 0
	reason := ""
	switch code := se.Code() & 0xff; {
	case code == sqliteFull || (code == sqliteIOErr || code == sqliteCantOpen) && full:
		reason = "is full (no space left on device)"
	case code == sqliteReadonly || (code == sqliteIOErr || code == sqliteCantOpen) && readonly:
		reason = "is on a read-only filesystem"
	case code == sqliteIOErr:
		reason = "could not be written (over a disk quota, or an I/O error)"
	default:
		return err
	}
	return &FullError{Dir: d.dir, Reason: reason, Err: err}
}
