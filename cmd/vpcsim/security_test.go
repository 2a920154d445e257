package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4566":       true,
		"127.3.4.5:4566":       true,
		"[::1]:4566":           true,
		"localhost:4566":       true,
		"LOCALHOST:1":          true,
		"[::ffff:127.0.0.1]:1": true,
		":4566":                false, // every interface
		"0.0.0.0:4566":         false,
		"[::]:4566":            false,
		"10.0.0.5:4566":        false,
		"myhost:4566":          false, // a name may resolve anywhere
		"127.0.0.1":            false, // no port: not an address net.Listen takes
		"":                     false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseAccessKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	if err := os.WriteFile(file, []byte("# CI's key\nAKIDFILE:se/cr+et=:x\n\n  AKIDTWO:two  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := parseAccessKeys("AKIDLIST:one, AKIDTWO:two", file)
	want := map[string]string{"AKIDLIST": "one", "AKIDFILE": "se/cr+et=:x", "AKIDTWO": "two"}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("parseAccessKeys = %v, %v; want %v", got, err, want)
	}
	if got, err := parseAccessKeys("", ""); err != nil || len(got) != 0 {
		t.Errorf("no keys: %v, %v", got, err)
	}
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte("AKID:secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ list, file, want string }{
		{"AKID", "", "want AKID:SECRET"},
		{"AKID:", "", "want AKID:SECRET"},
		{":secret", "", "want AKID:SECRET"},
		{"AK/ID:secret", "", "may not contain"},
		{"AKID:sec ret", "", "contains spaces"},
		{"AKID:one,AKID:two", "", "given twice"},
		{"", loose, "chmod 600"},
		{"", filepath.Join(dir, "missing"), "no such file"},
	} {
		_, err := parseAccessKeys(tc.list, tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseAccessKeys(%q, %q) = %v, want an error saying %q", tc.list, tc.file, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), ":secret") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

// TestServeFlagsLoopback: beyond loopback serve needs access keys; with keys
// it verifies wherever it listens; on loopback without keys it does not.
func TestServeFlagsLoopback(t *testing.T) {
	for _, v := range []string{"VPCSIM_ACCESS_KEYS", "VPCSIM_ACCESS_KEYS_FILE", "VPCSIM_LISTEN"} {
		t.Setenv(v, "")
	}
	for _, tc := range []struct {
		args     []string
		wantErr  string
		wantKeys int
	}{
		{args: nil},
		{args: []string{"--listen", "[::1]:4566"}},
		{args: []string{"--listen", "0.0.0.0:4566"}, wantErr: "--listen 0.0.0.0:4566 is reachable from other machines"},
		{args: []string{"--listen", ":4566"}, wantErr: "--access-keys AKID:SECRET or --access-keys-file FILE"},
		{args: []string{"--listen", "0.0.0.0:4566", "--access-keys", "AKID:secret"}, wantKeys: 1},
		{args: []string{"--access-keys", "AKID:secret,AKID2:s2"}, wantKeys: 2},
	} {
		c, err := parseServeFlags(tc.args)
		switch {
		case tc.wantErr != "":
			if _, usage := err.(usageError); !usage || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, want a usage error saying %q", tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case len(c.accessKeys) != tc.wantKeys:
			t.Errorf("%q: %d keys, want %d", tc.args, len(c.accessKeys), tc.wantKeys)
		}
	}
	t.Setenv("VPCSIM_ACCESS_KEYS", "AKIDENV:secret")
	if c, err := parseServeFlags([]string{"--listen", "0.0.0.0:4566"}); err != nil || c.accessKeys["AKIDENV"] != "secret" {
		t.Errorf("keys from VPCSIM_ACCESS_KEYS: %v %v", c.accessKeys, err)
	}
}

// TestPrivateDataDir: a data directory and database left looser than 0700 and
// 0600 are tightened, a new database is made 0600 from the start, and a
// directory that is not vpcsim's is refused, untouched.
func TestPrivateDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "vpcsim.db")
	for _, f := range []string{db, db + "-wal"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	if err := privateDataDir(dir, db); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "new", "data")
	if err := privateDataDir(fresh, filepath.Join(fresh, "vpcsim.db")); err != nil {
		t.Fatal(err)
	}
	// A shared directory is refused and left as it was.
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := privateDataDir(shared, filepath.Join(shared, "vpcsim.db")); err == nil {
		t.Error("a sticky, world-writable directory (like /tmp) was taken as the data directory")
	}
	stranger := t.TempDir()
	if err := os.Chmod(stranger, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stranger, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir() // made for vpcsim with the usual umask
	if err := os.Chmod(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := privateDataDir(empty, filepath.Join(empty, "vpcsim.db")); err != nil {
		t.Errorf("an empty directory made for vpcsim: %v", err)
	}
	if err := privateDataDir(stranger, filepath.Join(stranger, "vpcsim.db")); err == nil {
		t.Error("an open directory holding other files and no vpcsim database was taken and tightened")
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, db: 0o600, db + "-wal": 0o600, fresh: 0o700, filepath.Join(fresh, "vpcsim.db"): 0o600,
		shared: 0o777, stranger: 0o755, empty: 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}
