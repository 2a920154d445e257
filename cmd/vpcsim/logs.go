package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// logsCmd is `vpcsim logs TASK [CONTAINER] [-f]`: a task's container output,
// kept under the data directory (logs/<task id>/<container>.log).
func logsCmd(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	follow := fs.Bool("f", false, "keep printing what the containers write")
	dataDir := fs.String("data-dir", env("VPCSIM_DATA_DIR", defaultDataDir()), "data directory of the vpcsim that runs the task")
	if err := fs.Parse(reorderFlags(args)); err != nil {
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
	offsets := make([]int64, len(files))
	for {
		for i, f := range files {
			n, err := printFrom(w, f, offsets[i], len(files) > 1)
			if err != nil {
				return err
			}
			offsets[i] += n
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

// printFrom copies a log from offset on, each line prefixed with its container
// when several are shown; it answers how many bytes it read.
func printFrom(w io.Writer, path string, offset int64, prefix bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(f)
	if err != nil || len(b) == 0 {
		return 0, err
	}
	text := string(b)
	if prefix {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		text = name + " | " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n"+name+" | ") + "\n"
	}
	_, err = io.WriteString(w, text)
	return int64(len(b)), err
}

// reorderFlags lets flags follow the positional arguments (logs TASK -f).
func reorderFlags(args []string) []string {
	var flags, rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}
