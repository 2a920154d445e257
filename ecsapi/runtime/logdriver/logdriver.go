// Package logdriver is `vpcsim log-driver CONFIG`, the writer of every
// container's log: what Docker's json-file driver with max-size and max-file
// is to `docker logs`. The runtime gives containerd's shim the vpcsim
// executable as the container's binary logging driver; the shim starts it
// beside the container with the container's stdout and stderr as pipes (fds 3
// and 4), and it writes them to the container's log file, rotating the file
// when it reaches its size cap. It is a child of the shim, so logs keep
// flowing and stay bounded while vpcsim or its containerd restarts; it ends
// when the shim closes the pipes (the container's task is deleted).
package logdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/containerd/containerd/runtime/v2/logging"
)

// Command is the subcommand of vpcsim that runs Run: the shim starts
// `<vpcsim> log-driver CONFIG`.
const Command = "log-driver"

// Config is where a container's output goes, and how much of it is kept.
type Config struct {
	Path string `json:"path"`
	// MaxSize is the most bytes one file holds; the file is then renamed
	// PATH.1 (PATH.1 to PATH.2, …) and a new PATH begins.
	MaxSize int64 `json:"maxSize"`
	// MaxFiles is how many rotated files are kept besides PATH (Docker's
	// max-file less one); older ones are removed.
	MaxFiles int `json:"maxFiles"`
}

// Arg is the config as the subcommand's argument.
func (c Config) Arg() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func parse(args []string) (Config, error) {
	var c Config
	if len(args) != 1 {
		return c, fmt.Errorf("usage: vpcsim %s CONFIG", Command)
	}
	if err := json.Unmarshal([]byte(args[0]), &c); err != nil {
		return c, fmt.Errorf("vpcsim %s: %w", Command, err)
	}
	if c.Path == "" || c.MaxSize <= 0 || c.MaxFiles < 1 {
		return c, fmt.Errorf("vpcsim %s: the config needs a path, a positive maxSize and maxFiles", Command)
	}
	return c, nil
}

// Run is the subcommand: it never returns. The shim waits until the driver is
// ready (fd 5 closed), then runs the container; the driver copies until both
// pipes end, including after the shim's SIGTERM, which comes once the shim
// has closed its ends: what the container wrote is all written out.
func Run(args []string) {
	cfg, err := parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logging.Run(func(_ context.Context, lc *logging.Config, ready func() error) error {
		w, err := Open(cfg)
		if err != nil {
			// The container's output must still be drained, or it would block
			// (or die of SIGPIPE): it is lost, and the shim's log says why.
			fmt.Fprintln(os.Stderr, "vpcsim log-driver:", err)
			if rerr := ready(); rerr != nil {
				return rerr
			}
			return Copy(nopWriteCloser{io.Discard}, lc.Stdout, lc.Stderr)
		}
		if err := ready(); err != nil {
			w.Close()
			return err
		}
		return Copy(w, lc.Stdout, lc.Stderr)
	})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// Copy writes stdout and stderr to w as they come until both end, then
// closes w. A write that fails (a full disk) loses what it held, but the
// pipes are still read: a container must never block on its output. The two
// never write at once (w need not be safe for concurrent use).
func Copy(w io.WriteCloser, stdout, stderr io.Reader) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	one := &oneWriter{w: w}
	for i, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = drain(one, r)
		}()
	}
	wg.Wait()
	return errors.Join(errs[0], errs[1], w.Close())
}

// oneWriter lets one write at a time through to w.
type oneWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *oneWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(p)
}

// drain copies r to w until r ends, reading on when a write fails; it
// answers the first failure.
func drain(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	var first error
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil && first == nil {
				first = werr
				fmt.Fprintln(os.Stderr, "vpcsim log-driver:", werr)
			}
		}
		if errors.Is(err, io.EOF) {
			return first
		}
		if err != nil {
			return errors.Join(first, err)
		}
	}
}

// File is a log file that rotates itself. Its methods are safe for
// concurrent use (stdout and stderr write to it at once).
type File struct {
	cfg  Config
	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appends to) the config's file.
func Open(cfg Config) (*File, error) {
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{cfg: cfg, f: f, size: st.Size()}, nil
}

// Write appends p, rotating first whenever p would take the file past its
// cap: a file ends at a line's end when one fits, and holds at most MaxSize
// bytes (a line longer than that is split).
func (w *File) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	written := 0
	for len(p) > 0 {
		room := w.cfg.MaxSize - w.size
		if int64(len(p)) <= room {
			n, err := w.f.Write(p)
			w.size += int64(n)
			return written + n, err
		}
		cut := int(max(room, 0))
		if i := bytes.LastIndexByte(p[:cut], '\n'); i >= 0 {
			cut = i + 1
		} else if w.size > 0 {
			cut = 0 // the line begins the next file
		}
		n, err := w.f.Write(p[:cut])
		w.size += int64(n)
		written += n
		if err != nil {
			return written, err
		}
		p = p[cut:]
		if err := w.rotate(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// rotate renames PATH.N-1 to PATH.N … PATH to PATH.1 (the oldest beyond
// MaxFiles goes) and starts an empty PATH. A reader that holds PATH open
// (`vpcsim logs -f`) reads on to its end, then opens the new one.
func (w *File) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	for i := w.cfg.MaxFiles; i > 1; i-- {
		if err := os.Rename(Rotated(w.cfg.Path, i-1), Rotated(w.cfg.Path, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(w.cfg.Path, Rotated(w.cfg.Path, 1)); err != nil {
		return err
	}
	f, err := os.OpenFile(w.cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	return nil
}

// Close closes the file.
func (w *File) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// Rotated is the name of the i-th newest rotated file of path: PATH.i.
func Rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }
