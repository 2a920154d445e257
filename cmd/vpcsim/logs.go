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

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
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

// logReader prints one container's log file as it grows, as `tail -F`
// does. vpcsim rotates a log by copying it to PATH.1 and emptying it (the
// shim keeps writing to the same file, from its start): when PATH.1 is a new
// file, the reader prints what it had not yet printed from there, then the
// emptied file from its start.
type logReader struct {
	path    string
	prefix  bool        // lines are prefixed with the container's name
	offset  int64       // how much of PATH has been printed
	rotated os.FileInfo // PATH.1 as last seen; nil when there was none
}

// printRotated prints the rotated file whole, if there is one: what came
// before the file itself.
func (l *logReader) printRotated(w io.Writer) error {
	fi, _, err := l.copyFrom(w, ecsrt.RotatedLog(l.path), 0)
	l.rotated = fi
	return err
}

// print prints what was written since the last call.
func (l *logReader) print(w io.Writer) error {
	if fi, err := os.Stat(ecsrt.RotatedLog(l.path)); err == nil && (l.rotated == nil || !os.SameFile(fi, l.rotated)) {
		// Rotated since: PATH.1 holds what PATH held, of which the first
		// offset bytes were printed.
		if fi, _, err = l.copyFrom(w, ecsrt.RotatedLog(l.path), l.offset); err != nil {
			return err
		}
		l.rotated, l.offset = fi, 0
	}
	fi, end, err := l.copyFrom(w, l.path, l.offset)
	if fi != nil {
		l.offset = end
	}
	return err
}

// copyFrom prints the file at path from offset to its end, and answers the
// file (nil when there is none) and where the reading ended.
func (l *logReader) copyFrom(w io.Writer, path string, offset int64) (os.FileInfo, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, 0, err
	}
	n, err := l.copy(w, f)
	return fi, offset + n, err
}

// copy prints r from where it is to its end, each line prefixed with its
// container when several are shown.
func (l *logReader) copy(w io.Writer, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	if err != nil || len(b) == 0 {
		return 0, err
	}
	text := string(b)
	if l.prefix {
		name := strings.TrimSuffix(filepath.Base(l.path), ".log")
		text = name + " | " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n"+name+" | ") + "\n"
	}
	_, err = io.WriteString(w, text)
	return int64(len(b)), err
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
