package logdriver

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.log")
	cfg := Config{Path: path, MaxSize: 100, MaxFiles: 2}
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	line := func(i int) string { return strings.Repeat("x", 20) + string(rune('a'+i%26)) + "\n" } // 22 bytes
	for i := 0; i < 30; i++ {
		all.WriteString(line(i))
		if _, err := io.WriteString(w, line(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var kept []byte
	for _, p := range []string{Rotated(path, 2), Rotated(path, 1), path} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 100 {
			t.Errorf("%s holds %d bytes, over the cap of 100", p, len(b))
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends within a line: %q", p, b)
		}
		kept = append(kept, b...)
	}
	if _, err := os.Stat(Rotated(path, 3)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a third rotated file: %v", err)
	}
	// What is kept is the end of what was written, whole.
	if !bytes.HasSuffix(all.Bytes(), kept) || len(kept) < 200 {
		t.Errorf("kept %d bytes that are not the end of the output:\n%s", len(kept), kept)
	}
}

func TestLongLineIsSplit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.log")
	w, err := Open(Config{Path: path, MaxSize: 10, MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("abc\n0123456789ABCDE\n")); n != 20 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	w.Close()
	old, _ := os.ReadFile(Rotated(path, 1))
	cur, _ := os.ReadFile(path)
	// "abc\n" fits, the long line starts a file of its own and is cut at 10.
	if string(old) != "0123456789" || string(cur) != "ABCDE\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}

// TestCopyDrains: both pipes are read to their end, and a writer that fails
// does not stop the reading (a container must never block on its output).
func TestCopyDrains(t *testing.T) {
	var got bytes.Buffer
	if err := Copy(nopWriteCloser{&got}, strings.NewReader("one\n"), strings.NewReader("two\n")); err != nil {
		t.Fatal(err)
	}
	if s := got.String(); !strings.Contains(s, "one\n") || !strings.Contains(s, "two\n") {
		t.Errorf("copied %q", s)
	}
	big := strings.NewReader(strings.Repeat("z", 1<<20))
	if err := Copy(nopWriteCloser{failing{}}, big, strings.NewReader("")); err == nil {
		t.Error("a failing writer reported no error")
	}
	if big.Len() != 0 {
		t.Errorf("%d bytes left unread after a write failed", big.Len())
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestParse(t *testing.T) {
	cfg := Config{Path: "/data/logs/t/web.log", MaxSize: 10 << 20, MaxFiles: 1}
	got, err := parse([]string{cfg.Arg()})
	if err != nil || got != cfg {
		t.Errorf("parse(Arg()) = %+v, %v", got, err)
	}
	for _, args := range [][]string{nil, {"{}"}, {`{"path":"/x","maxSize":0,"maxFiles":1}`}, {"nope"}} {
		if _, err := parse(args); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
}
