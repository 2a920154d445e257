package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/runtime/logdriver"
)

// logsCmd is `vpcsim logs TASK [CONTAINER] [-f]`: a task's container output,
// kept under the data directory (logs/<task id>/<container>.log, and the
// file before it, rotated to <container>.log.1).
func logsCmd(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	follow := fs.Bool("f", false, "keep printing what the containers write")
	dataDir := fs.String("data-dir", env("VPCSIM_DATA_DIR", defaultDataDir()), "data directory of the vpcsim that runs the task")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usageError{"logs needs TASK [CONTAINER]"}
	}
	task := fs.Arg(0)
	if strings.HasPrefix(task, "arn:") {
		task = task[strings.LastIndexByte(task, '/')+1:]
	}
	dir := filepath.Join(*dataDir, "logs", filepath.Base(task))
	var files []string
	if fs.NArg() == 2 {
		files = []string{filepath.Join(dir, filepath.Base(fs.Arg(1))+".log")}
	} else {
		files, _ = filepath.Glob(filepath.Join(dir, "*.log"))
		sort.Strings(files)
	}
	if len(files) == 0 {
		return fmt.Errorf("no logs of task %s under %s", task, dir)
	}
	logs := make([]*logReader, len(files))
	for i, f := range files {
		logs[i] = &logReader{path: f, prefix: len(files) > 1}
		// What was rotated away first (PATH.1), then the file itself.
		if err := logs[i].printRotated(w); err != nil {
			return err
		}
	}
	for {
		for _, l := range logs {
			if err := l.print(w); err != nil {
				return err
			}
		}
		if !*follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logReader prints one container's log file as it grows. It keeps the file
// open: when the log driver rotates it (renames it PATH.1 and starts a new
// PATH), the reader finishes the old file through its descriptor, then opens
// the new one, as `tail -F` does.
type logReader struct {
	path    string
	prefix  bool // lines are prefixed with the container's name
	f       *os.File
	rotated bool // the file was seen rotated: a missing PATH is a new one to come
}

// printRotated prints the newest rotated file, if there is one.
func (l *logReader) printRotated(w io.Writer) error {
	f, err := os.Open(logdriver.Rotated(l.path, 1))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	return l.copy(w, f)
}

// print prints what was written since the last call.
func (l *logReader) print(w io.Writer) error {
	if l.f == nil {
		f, err := os.Open(l.path)
		if errors.Is(err, os.ErrNotExist) && l.rotated {
			return nil // between the driver's rename and its new file
		} else if err != nil {
			return err
		}
		l.f = f
	}
	if err := l.copy(w, l.f); err != nil {
		return err
	}
	now, err := os.Stat(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // between the driver's rename and its new file
	} else if err != nil {
		return err
	}
	held, err := l.f.Stat()
	if err != nil || os.SameFile(now, held) {
		return err
	}
	// Rotated: the rest of the old file, then the new one from its start.
	if err := l.copy(w, l.f); err != nil {
		return err
	}
	l.f.Close()
	l.f, l.rotated = nil, true
	return l.print(w)
}

// copy prints r from where it is to its end, each line prefixed with its
// container when several are shown.
func (l *logReader) copy(w io.Writer, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil || len(b) == 0 {
		return err
	}
	text := string(b)
	if l.prefix {
		name := strings.TrimSuffix(filepath.Base(l.path), ".log")
		text = name + " | " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n"+name+" | ") + "\n"
	}
	_, err = io.WriteString(w, text)
	return err
}

// reorderFlags lets flags follow the positional arguments (logs TASK -f); a
// flag that takes a value keeps the argument after it (--data-dir DIR).
func reorderFlags(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") || i+1 == len(args) {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, rest...)
}
