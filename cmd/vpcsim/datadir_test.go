package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirOwners: serve refuses a data directory that another user owns,
// or could replace (a directory above it is theirs, or writable by others
// without the sticky bit), or whose own directories are links or theirs.
func TestDataDirOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give directories to another user")
	}
	const other = 4242
	mk := func(t *testing.T, path string, mode os.FileMode, uid int) {
		t.Helper()
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, base string) string // returns the data directory
		want  string                                 // "" = accepted
	}{
		{"ours", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, 0)
			return d
		}, ""},
		{"new, made here", func(t *testing.T, base string) string { return filepath.Join(base, "new", "data") }, ""},
		{"below a sticky shared directory", func(t *testing.T, base string) string {
			mk(t, filepath.Join(base, "tmp"), 0o777|os.ModeSticky, 0)
			d := filepath.Join(base, "tmp", "data")
			mk(t, d, 0o700, 0)
			return d
		}, ""},
		{"another user's", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, other)
			return d
		}, "is owned by uid 4242, not by the user vpcsim runs as (uid 0)"},
		{"in another user's directory", func(t *testing.T, base string) string {
			mk(t, filepath.Join(base, "home"), 0o755, other)
			d := filepath.Join(base, "home", "data")
			mk(t, d, 0o700, 0)
			return d
		}, "which uid 4242 owns and could replace it in"},
		{"in a directory all may write", func(t *testing.T, base string) string {
			mk(t, filepath.Join(base, "open"), 0o777, 0)
			d := filepath.Join(base, "open", "data")
			mk(t, d, 0o700, 0)
			return d
		}, "which others may write in and replace it"},
		{"through a link into another user's directory", func(t *testing.T, base string) string {
			mk(t, filepath.Join(base, "home"), 0o755, other)
			mk(t, filepath.Join(base, "home", "real"), 0o700, 0)
			if err := os.Symlink(filepath.Join(base, "home", "real"), filepath.Join(base, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "link")
		}, "which uid 4242 owns"},
		{"containerd directory another user's", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, 0)
			mk(t, filepath.Join(d, "containerd"), 0o700, other)
			return d
		}, "containerd is owned by uid 4242"},
		{"logs a link", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, 0)
			if err := os.Symlink("/etc", filepath.Join(d, "logs")); err != nil {
				t.Fatal(err)
			}
			return d
		}, "logs is not a directory (or is a symbolic link)"},
		{"a task's log directory another user's", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, filepath.Join(d, "logs"), 0o755, 0)
			mk(t, filepath.Join(d, "logs", "task"), 0o755, other)
			return d
		}, "task is owned by uid 4242"},
		{"database a link", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, 0)
			if err := os.Symlink(filepath.Join(base, "elsewhere.db"), filepath.Join(d, "vpcsim.db")); err != nil {
				t.Fatal(err)
			}
			return d
		}, "symbolic link"},
		{"WAL a link", func(t *testing.T, base string) string {
			d := filepath.Join(base, "data")
			mk(t, d, 0o700, 0)
			if err := os.Symlink("/etc/passwd", filepath.Join(d, "vpcsim.db-wal")); err != nil {
				t.Fatal(err)
			}
			return d
		}, "symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := tc.setup(t, base)
			err := privateDataDir(dir, filepath.Join(dir, "vpcsim.db"))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if fi, _ := os.Stat("/etc/passwd"); fi.Mode().Perm() == 0o600 {
		t.Error("/etc/passwd was made 0600 through a link")
	}
}

func TestHostPathFlag(t *testing.T) {
	t.Setenv("VPCSIM_HOST_PATHS", "")
	a, b := t.TempDir(), t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	c, err := parseServeFlags([]string{"--host-path", link, "--host-path", b})
	if err != nil || strings.Join(c.hostPaths, ":") != a+":"+b {
		t.Errorf("--host-path twice: %q %v", c.hostPaths, err)
	}
	t.Setenv("VPCSIM_HOST_PATHS", a+":"+b)
	if c, err := parseServeFlags(nil); err != nil || len(c.hostPaths) != 2 {
		t.Errorf("VPCSIM_HOST_PATHS: %q %v", c.hostPaths, err)
	}
	file := filepath.Join(a, "f")
	os.WriteFile(file, nil, 0o600)
	for arg, want := range map[string]string{"rel/dir": "must be an absolute path", filepath.Join(a, "none"): "no such file", file: "not a directory"} {
		if _, err := parseServeFlags([]string{"--host-path", arg}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--host-path %s: %v, want %q", arg, err, want)
		}
	}
	data := t.TempDir()
	for _, o := range []string{data, filepath.Dir(data), "/"} {
		if err := openedInsideData(data, []string{o}); err == nil || !strings.Contains(err.Error(), "overlaps the data directory") {
			t.Errorf("--host-path %s with data %s: %v", o, data, err)
		}
	}
	if err := openedInsideData(data, []string{a}); err != nil {
		t.Errorf("a directory beside the data: %v", err)
	}
}

// TestLocks: a second taker of a data directory or of an overlapping prefix
// is refused with the holder named; a released lock can be taken again.
func TestLocks(t *testing.T) {
	dir := t.TempDir()
	first := holder{PID: 111, DataDir: dir, Prefix: "vs-t1-", Listen: "127.0.0.1:1"}
	f, err := lockDataDir(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir, holder{PID: 222, DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "is in use by vpcsim serve (pid 111, data directory "+dir+", namespace prefix vs-t1-, listening on 127.0.0.1:1)") {
		t.Errorf("second lock of the data directory: %v", err)
	}
	if h, ok := dataDirHolder(dir); !ok || h.PID != 111 {
		t.Errorf("dataDirHolder = %+v %v", h, ok)
	}
	f.Close()
	if _, ok := dataDirHolder(dir); ok {
		t.Error("a released data directory still has a holder")
	}
	g, err := lockDataDir(dir, first)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	g.Close()

	p := "vs-t" + randHex(6) + "-"
	l, err := lockPrefix(p, first)
	if err != nil {
		t.Fatal(err)
	}
	for other, want := range map[string]string{
		p:            "namespace prefix " + p + " is in use by vpcsim serve (pid 111",
		p + "x-":     "namespace prefix " + p + "x- overlaps " + p + ", in use by vpcsim serve (pid 111",
		p[:len(p)-1]: "overlaps " + p,
	} {
		if _, err := lockPrefix(other, holder{PID: 333}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lockPrefix(%s): %v, want %q", other, err, want)
		}
	}
	if q, err := lockPrefix("vs-u"+randHex(6)+"-", holder{PID: 444}); err != nil {
		t.Errorf("an unrelated prefix: %v", err)
	} else {
		q.Close()
	}
	if other, h, ok := prefixInUse(p); !ok || other != p || h.PID != 111 {
		t.Errorf("prefixInUse = %s %+v %v", other, h, ok)
	}
	l.Close()
	if l, err := lockPrefix(p, first); err != nil {
		t.Errorf("after release: %v", err)
	} else {
		l.Close()
	}
}
