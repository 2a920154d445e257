package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/containerd/containerd/cio"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// DefaultLogMaxSize is the size at which a container's log file is rotated
// unless the operator sets another (WithLogMaxSize): 10 MiB, with the one
// before kept as LOG.1, as Docker's json-file with max-size=10m, max-file=2.
const DefaultLogMaxSize = 10 << 20

// Container output goes straight from the shim to a file (appendBoth: the
// shim opens it itself, for appending), so logs keep flowing while vpcsim or
// its containerd restarts, and remain after the task is stopped, as
// CloudWatch keeps them. vpcsim rotates the files of the containers it runs
// (rotateLogs), without a process of its own beside each container.

// logRotateEvery is how often the log files of running containers are
// measured against their cap.
const logRotateEvery = time.Second

// logIO is a container's output: the file LogPath, made here so that a
// directory that cannot hold it fails the container, and so that the path is
// a regular file of vpcsim's.
func (r *Runtime) logIO(taskID, container string) (cio.Creator, error) {
	path, err := r.makeLogFile(taskID, container)
	if err != nil {
		return nil, err
	}
	return appendBoth(path), nil
}

// appendBoth sends a container's stdout and stderr to the end of one file,
// naming it twice: as it is, and through "." for stderr. The shim (containerd
// 1.6 to this day) copies each stream in its own goroutine and, when both name
// the same file, hands stdout's goroutine the file itself, which it closes
// when stdout ends: stderr's copy, still draining its pipe after the process
// exited (a burst of errors, a busy machine), then fails and the end of the
// output is lost. Named differently, each copy opens and closes the file on
// its own; both append, so their writes still land whole and in order.
//
// A plain path (no scheme) is how the shim takes a file or a fifo; it parses
// it as a URL, so a data directory whose path does not read as one falls back
// to the file URL.
func appendBoth(path string) cio.Creator {
	dir, name := filepath.Split(path)
	if u, err := url.Parse(path); err != nil || u.Scheme != "" || u.Path != path {
		return cio.LogFile(path)
	}
	return func(string) (cio.IO, error) {
		return &logFiles{cfg: cio.Config{Stdout: path, Stderr: dir + "./" + name}}, nil
	}
}

// logFiles is a container IO that only names its files: the shim writes them,
// and there is nothing of vpcsim's to wait for or close.
type logFiles struct{ cfg cio.Config }

func (l *logFiles) Config() cio.Config { return l.cfg }
func (l *logFiles) Cancel()            {}
func (l *logFiles) Wait()              {}
func (l *logFiles) Close() error       { return nil }

// RotatedLog is the file that holds what a container's log file held
// before its last rotation: PATH.1.
func RotatedLog(path string) string { return path + ".1" }

// rotateLogs rotates the log files of the containers this Runtime watches
// whenever one has grown past the cap, until Close.
func (r *Runtime) rotateLogs() {
	defer r.wg.Done()
	tick := time.NewTicker(logRotateEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
		var paths []string
		r.mu.Lock()
		for _, ts := range r.tasks {
			for _, cs := range ts.containers {
				paths = append(paths, r.LogPath(ts.run.TaskID, cs.name))
			}
		}
		r.mu.Unlock()
		for _, p := range paths {
			if err := RotateLog(p, r.logMaxSize); err != nil {
				r.log.Warn("rotate a container's log", "file", p, "err", err)
			}
		}
	}
}

// RotateLog moves what a log file holds to PATH.1 (replacing the one before)
// and empties it, once it has grown past max: a copy, then a truncation, as
// logrotate's copytruncate, since the shim keeps the file open; it appends,
// so its next write lands at the new start. What a container writes between
// the last copy and the truncation, an instant, is lost. Neither file is
// opened through a link.
func RotateLog(path string, max int64) error {
	f, err := hostpath.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // not made yet, or its task's directory went with it
	} else if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() <= max {
		return err
	}
	tmp := RotatedLog(path) + ".new"
	out, err := hostpath.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// Copy to the end, then once more what came meanwhile, and truncate.
	for n := int64(1); n > 0 && err == nil; {
		n, err = io.Copy(out, f)
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, RotatedLog(path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rotate %s: %w", path, err)
	}
	return nil
}

// LogPath is the file a container's stdout and stderr go to:
// <data>/logs/<task ID>/<container name>.log.
func (r *Runtime) LogPath(taskID, container string) string {
	return filepath.Join(r.logDir, safeName(taskID), safeName(container)+".log")
}

// makeLogDir makes <data>/logs/<task ID>, refusing a link in its place.
func (r *Runtime) makeLogDir(taskID string) error {
	if err := hostpath.Mkdir(r.logDir, 0o755); err != nil {
		return err
	}
	return hostpath.Mkdir(filepath.Join(r.logDir, safeName(taskID)), 0o755)
}

// makeLogFile creates a container's log file before the shim opens it (by
// path, following links), so that the path is a regular file of vpcsim's.
func (r *Runtime) makeLogFile(taskID, container string) (string, error) {
	p := r.LogPath(taskID, container)
	f, err := hostpath.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", err
	}
	return p, f.Close()
}

var safeFile = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// safeName is name if it is a harmless file name (every valid ECS container
// name is), else a cleaned, hashed form.
func safeName(name string) string {
	if safeFile.MatchString(name) {
		return name
	}
	h := sha256.Sum256([]byte(name))
	clean := strings.Trim(unsafeChars.ReplaceAllString(name, "-"), "-")
	if len(clean) > 100 {
		clean = clean[:100]
	}
	return clean + "-" + hex.EncodeToString(h[:4])
}
