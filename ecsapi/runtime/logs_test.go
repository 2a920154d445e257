package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotateLog: a log past its cap is copied to PATH.1 (the one before
// goes) and emptied, and the writer that holds it open for appending goes on
// at its start; one within its cap, or a link in its place, is left alone.
func TestRotateLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.log")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }

	w.WriteString("small\n")
	if err := RotateLog(path, 100); err != nil || read(path) != "small\n" {
		t.Fatalf("within the cap: %v, log %q", err, read(path))
	}
	if _, err := os.Stat(RotatedLog(path)); !os.IsNotExist(err) {
		t.Errorf("within the cap, %s: %v", RotatedLog(path), err)
	}
	for _, round := range []string{"a", "b"} {
		big := strings.Repeat(round, 200) + "\n"
		w.WriteString(big)
		if err := RotateLog(path, 100); err != nil {
			t.Fatal(err)
		}
		if got := read(path); got != "" {
			t.Errorf("round %s: the log holds %d bytes after its rotation", round, len(got))
		}
		if want := big; round == "a" {
			if got := read(RotatedLog(path)); got != "small\n"+want {
				t.Errorf("round a: rotated %q", got)
			}
		} else if got := read(RotatedLog(path)); got != want {
			t.Errorf("round b: rotated %d bytes, want only what came after the first rotation", len(got))
		}
		w.WriteString("next\n") // at the start of the emptied file
		if got := read(path); got != "next\n" {
			t.Errorf("round %s: after the rotation the writer wrote %q", round, got)
		}
		w.Truncate(0)
	}

	// A link planted in the log's place is not followed.
	target := filepath.Join(dir, "elsewhere")
	os.WriteFile(target, []byte(strings.Repeat("z", 500)), 0o600)
	link := filepath.Join(dir, "linked.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := RotateLog(link, 100); err == nil {
		t.Error("a log that is a link was rotated")
	}
	if got := read(target); len(got) != 500 {
		t.Errorf("the link's target holds %d bytes, want its 500", len(got))
	}
}

// TestAppendBoth: stdout and stderr name the container's one log file by two
// different strings (the shim closes a file both share when stdout ends, under
// stderr's copy), each a plain path the shim opens for appending; a directory
// whose path would not survive the shim's URL parsing keeps the file URL.
func TestAppendBoth(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	io, err := appendBoth(path)("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := io.Config()
	if cfg.Stdout != path || cfg.Stderr == cfg.Stdout {
		t.Fatalf("stdout %q, stderr %q: want the log's path, and another name of it", cfg.Stdout, cfg.Stderr)
	}
	out, err1 := os.Stat(cfg.Stdout)
	errs, err2 := os.Stat(cfg.Stderr)
	if err1 != nil || err2 != nil || !os.SameFile(out, errs) {
		t.Fatalf("stdout and stderr are not one file: %v %v", err1, err2)
	}
	odd := filepath.Join(dir, "100%", "web.log")
	if io, _ := appendBoth(odd)(""); !strings.HasPrefix(io.Config().Stdout, "file://") {
		t.Errorf("a path that is no URL path: stdout %q, want the file URL", io.Config().Stdout)
	}
}
