package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// isLoopback reports whether a --listen address (host:port) accepts
// connections from this machine alone: an address in 127.0.0.0/8, ::1, or
// "localhost". An empty host (":4566"), 0.0.0.0, :: and any other name can be
// reached from elsewhere, or may be.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// parseAccessKeys reads the access keys requests may be signed with: list is
// "AKID:SECRET[,AKID:SECRET...]" (--access-keys), file holds one AKID:SECRET a
// line, with blank lines and #-comments (--access-keys-file; so that secrets
// need not be on a command line, where ps shows them). A secret is everything
// after the first ':'. The file must not be readable by group or others, as
// ssh asks of a private key.
func parseAccessKeys(list, file string) (map[string]string, error) {
	keys := map[string]string{}
	add := func(where, pair string) error {
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		switch {
		case !ok || id == "" || secret == "":
			return fmt.Errorf("%s: want AKID:SECRET, not %q", where, redact(pair))
		case strings.ContainsAny(id, "/,: \t"):
			// '/' would end the access key in a signature's Credential.
			return fmt.Errorf("%s: access key ID %q may not contain '/', ',', ':' or spaces", where, id)
		case strings.ContainsAny(secret, " \t"):
			return fmt.Errorf("%s: the secret of %s contains spaces", where, id)
		case keys[id] != "" && keys[id] != secret:
			return fmt.Errorf("%s: access key ID %s is given twice, with different secrets", where, id)
		}
		keys[id] = secret
		return nil
	}
	for _, pair := range strings.Split(list, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		if err := add("--access-keys", pair); err != nil {
			return nil, err
		}
	}
	if file == "" {
		return keys, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("--access-keys-file: %s holds secrets but is mode %v: chmod 600 it", file, fi.Mode().Perm())
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := add(fmt.Sprintf("--access-keys-file %s:%d", file, n), line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	return keys, nil
}

// redact keeps a secret out of an error message: what follows the first ':'.
func redact(pair string) string {
	if id, _, ok := strings.Cut(pair, ":"); ok {
		return id + ":…"
	}
	return pair
}

// privateDataDir makes the data directory and leaves it 0700, and the
// database file db 0600. MkdirAll keeps the mode of a directory that exists,
// so one left looser is tightened when it is vpcsim's (see canTighten), and
// refused, unchanged, when it may be someone else's: tightening it would lock
// them out. db is created empty (SQLite takes an
// empty file as an empty database) so that SQLite, which gives its -wal and
// -shm files the database's mode, makes them 0600 too; those of an earlier
// run are tightened.
func privateDataDir(dir, db string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0 || fi.Mode()&os.ModeSticky != 0:
		if !canTighten(dir, db, fi.Mode()) {
			return fmt.Errorf("data directory %s (mode %v) is open to other users and is not vpcsim's: give vpcsim a directory of its own, which it keeps 0700", dir, fi.Mode().Perm())
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// canTighten reports whether a data directory looser than 0700 may be made
// 0700: it holds vpcsim's database, or nothing yet (made for vpcsim), and is
// not a shared directory (sticky or writable by all, like /tmp).
func canTighten(dir, db string, mode os.FileMode) bool {
	if mode&os.ModeSticky != 0 || mode.Perm()&0o002 != 0 {
		return false
	}
	if _, err := os.Stat(db); err == nil {
		return true
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}
