package hostpath

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const secret = "outside=1\n"

// tree makes <tmp>/root with one file of each kind beneath it and
// <tmp>/outside/secret beside it, and returns the root and the secret's path.
func tree(t *testing.T) (Root, string) {
	t.Helper()
	tmp := t.TempDir()
	dir, out := filepath.Join(tmp, "root"), filepath.Join(tmp, "outside")
	for _, d := range []string{dir, out, filepath.Join(dir, "sub"), filepath.Join(dir, "dir")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(out, "secret")
	files := map[string]string{
		outside:                              secret,
		filepath.Join(dir, "ok.env"):         "A=1\n",
		filepath.Join(dir, "sub", "in.env"):  "B=2\n",
		filepath.Join(dir, "big.env"):        strings.Repeat("x", 65),
		filepath.Join(dir, "sub", "two.env"): "C=3\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"link-inside":  "ok.env",
		"link-outside": "../outside/secret",
		"abs-link":     outside,
		"dirlink":      "sub",
		"dir-out":      "../outside",
		"dangling":     "../outside/new",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if os.Geteuid() == 0 {
		// /dev/null's numbers (1, 3): a character device.
		if err := unix.Mknod(filepath.Join(dir, "dev"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, outside
}

// bothWalks runs f with openat2 and with the fallback walk of kernels
// without it.
func bothWalks(t *testing.T, f func(t *testing.T)) {
	for _, fallback := range []bool{false, true} {
		name := "openat2"
		if fallback {
			name = "walk"
		}
		t.Run(name, func(t *testing.T) {
			noOpenat2.Store(fallback)
			t.Cleanup(func() { noOpenat2.Store(false) })
			f(t)
		})
	}
}

func TestReadFile(t *testing.T) {
	bothWalks(t, func(t *testing.T) {
		r, _ := tree(t)
		for _, tc := range []struct {
			rel  string
			want string // content, or "" for an error
			err  error
		}{
			{"ok.env", "A=1\n", nil},
			{"sub/in.env", "B=2\n", nil},
			{"link-inside", "", ErrSymlink},  // even a link that stays inside
			{"link-outside", "", ErrSymlink}, // relative, leading out
			{"abs-link", "", ErrSymlink},     // absolute
			{"dirlink/in.env", "", ErrSymlink},
			{"dir-out/secret", "", ErrSymlink},
			{"../outside/secret", "", ErrOutside},
			{"sub/../../outside/secret", "", ErrOutside},
			{"sub/../ok.env", "", ErrOutside}, // not clean: callers clean
			{"/etc/passwd", "", ErrOutside},
			{"fifo", "", ErrNotRegular}, // and does not block
			{"sock", "", fs.ErrNotExist},
			{"dev", "", ErrNotRegular},
			{"dir", "", ErrNotRegular},
			{"big.env", "", ErrTooLarge},
			{"missing.env", "", fs.ErrNotExist},
			{"sub/missing/x.env", "", fs.ErrNotExist},
		} {
			if tc.rel == "dev" && os.Geteuid() != 0 {
				continue // only root makes device nodes
			}
			if tc.rel == "sock" {
				// A unix socket cannot be opened at all (ENXIO): refused either way.
				tc.err = ErrNotRegular
			}
			got, err := r.ReadFile(tc.rel, 64)
			switch {
			case tc.err == nil && (err != nil || string(got) != tc.want):
				t.Errorf("ReadFile(%q) = %q, %v; want %q", tc.rel, got, err, tc.want)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("ReadFile(%q) = %q, %v; want %v", tc.rel, got, err, tc.err)
			}
		}
	})
}

func TestOpenFileForAppend(t *testing.T) {
	bothWalks(t, func(t *testing.T) {
		r, outside := tree(t)
		for _, tc := range []struct {
			rel string
			err error
		}{
			{"ok.env", nil},
			{"new.log", nil},
			{"sub/new.log", nil},
			{"link-inside", ErrSymlink},
			{"link-outside", ErrSymlink},
			{"abs-link", ErrSymlink},
			{"dangling", ErrSymlink}, // O_CREAT would make ../outside/new
			{"dirlink/new.log", ErrSymlink},
			{"dir-out/secret", ErrSymlink},
			{"../outside/secret", ErrOutside},
			{"fifo", ErrNotRegular},
			{"dev", ErrNotRegular},
			{"dir", ErrNotRegular},
			{"missing/new.log", fs.ErrNotExist}, // parents are MkdirAll's
		} {
			if tc.rel == "dev" && os.Geteuid() != 0 {
				continue
			}
			f, err := r.OpenFile(tc.rel, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if tc.err == nil {
				if err != nil {
					t.Errorf("OpenFile(%q): %v", tc.rel, err)
					continue
				}
				if _, err := f.WriteString("line\n"); err != nil {
					t.Error(err)
				}
				f.Close()
				continue
			}
			if f != nil {
				f.Close()
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("OpenFile(%q) = %v, want %v", tc.rel, err, tc.err)
			}
		}
		if b, _ := os.ReadFile(outside); string(b) != secret {
			t.Errorf("the file outside was changed: %q", b)
		}
		if _, err := os.Lstat(filepath.Join(filepath.Dir(outside), "new")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a file was made outside through a dangling link: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(r.Dir(), "sub", "new.log")); string(b) != "line\n" {
			t.Errorf("sub/new.log holds %q", b)
		}
	})
}

func TestMkdirAll(t *testing.T) {
	bothWalks(t, func(t *testing.T) {
		r, outside := tree(t)
		if err := r.MkdirAll("a/b/c", 0o755); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(r.Dir(), "a", "b", "c")); err != nil || !fi.IsDir() {
			t.Fatalf("a/b/c: %v", err)
		}
		if err := r.MkdirAll("a/b/c", 0o755); err != nil {
			t.Errorf("again: %v", err)
		}
		for rel, want := range map[string]error{
			"dir-out/x":   ErrSymlink, // would make <outside>/x
			"dirlink/x":   ErrSymlink,
			"ok.env/x":    unix.ENOTDIR,
			"../x":        ErrOutside,
			"a/../../x":   ErrOutside,
			"/tmp/x":      ErrOutside,
			"link-inside": ErrSymlink,
		} {
			if err := r.MkdirAll(rel, 0o755); !errors.Is(err, want) {
				t.Errorf("MkdirAll(%q) = %v, want %v", rel, err, want)
			}
		}
		if _, err := os.Lstat(filepath.Join(filepath.Dir(outside), "x")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("MkdirAll made a directory outside: %v", err)
		}
	})
}

func TestRemoveAll(t *testing.T) {
	r, outside := tree(t)
	if err := r.MkdirAll("vol/a", 0o755); err != nil {
		t.Fatal(err)
	}
	// A link to the directory outside, inside what is removed.
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(r.Dir(), "vol", "a", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir(), "vol", "a", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveAll("vol"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(r.Dir(), "vol")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("vol is still there: %v", err)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != secret {
		t.Errorf("the file outside: %q, %v", b, err)
	}
	if err := r.RemoveAll("vol"); err != nil {
		t.Errorf("removing what is gone: %v", err)
	}
	// Through a link to a directory outside: refused, nothing removed.
	if err := r.RemoveAll("dir-out/secret"); !errors.Is(err, ErrSymlink) {
		t.Errorf("RemoveAll through a link = %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the file outside: %v", err)
	}
}

func TestRel(t *testing.T) {
	r, _ := NewRoot("/data/flowlogs/file")
	for abs, want := range map[string]string{
		"/data/flowlogs/file/a.log":           "a.log",
		"/data/flowlogs/file/x/../a.log":      "a.log",
		"/data/flowlogs/file//b/c.log":        "b/c.log",
		"/data/flowlogs/file":                 "",
		"/data/flowlogs/file/../../vpcsim.db": "",
		"/data/flowlogs/filex/a":              "",
		"/etc/cron.d/x":                       "",
		"relative/a.log":                      "",
		"/data/flowlogs/file/a\x00b":          "",
	} {
		got, ok := r.Rel(abs)
		if got != want || ok != (want != "") {
			t.Errorf("Rel(%q) = %q, %v; want %q", abs, got, ok, want)
		}
	}
	slash, _ := NewRoot("/")
	if got, ok := slash.Rel("/etc/x"); got != "etc/x" || !ok {
		t.Errorf("/ Rel = %q, %v", got, ok)
	}
	a, _ := NewRoot("/srv")
	b, _ := NewRoot("/srv/app")
	if root, rel, ok := Find([]Root{a, b}, "/srv/app/x.env"); !ok || root.Dir() != "/srv/app" || rel != "x.env" {
		t.Errorf("Find = %v %q %v", root, rel, ok)
	}
	if _, _, ok := Find([]Root{a, b}, "/etc/x"); ok {
		t.Error("Find found /etc/x")
	}
	if _, err := NewRoot("rel"); err == nil {
		t.Error("NewRoot took a relative path")
	}
}

func TestOwnedFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("x"), 0o600); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile through a link = %v", err)
	}
	if err := Chmod(link, 0o666); !errors.Is(err, ErrSymlink) {
		t.Errorf("Chmod through a link = %v", err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("the link's target became %v", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target holds %q", b)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(filepath.Join(dir, "fifo"), os.O_RDONLY, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenFile(fifo) = %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "new"), []byte("y"), 0o600); err != nil {
		t.Error(err)
	}

	sub := filepath.Join(dir, "sub")
	if err := Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(sub, 0o777)
	if err := Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(sub); fi.Mode().Perm() != 0o700 {
		t.Errorf("Mkdir left %v", fi.Mode().Perm())
	}
	if err := os.Symlink(dir, filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := Mkdir(filepath.Join(dir, "dirlink"), 0o700); err == nil {
		t.Error("Mkdir took a link to a directory")
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, 12345, 12345)
		var no *NotOwnedError
		if err := Mkdir(theirs, 0o700); !errors.As(err, &no) || no.UID != 12345 {
			t.Errorf("Mkdir of another user's directory = %v", err)
		}
	}
}
