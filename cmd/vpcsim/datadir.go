package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// The data directory holds what root writes and runs: the database,
// containerd's config and state, logs, flow logs, S3 objects, task volumes.
// Whoever can write in it, or in a directory above it, could put a symbolic
// link where vpcsim writes next and have root write anywhere. So serve takes
// a data directory only when this process's user owns it and the directories
// in it that vpcsim uses, and root or that user owns every directory above it
// and none of those is writable by others (unless sticky, like /tmp, where
// what is ours stays ours).

// dataSubdirs are the directories vpcsim keeps in the data directory.
var dataSubdirs = []string{"containerd", "logs", "flowlogs", "s3", "volumes"}

// privateDataDir makes the data directory (0700) or checks the one there, and
// makes the database file db 0600, refusing what another user owns (see
// above). MkdirAll keeps the mode of a directory that exists, so one left
// looser is tightened when it is vpcsim's (see canTighten), and refused,
// unchanged, when it may be someone else's: tightening it would lock them
// out. db is created empty (SQLite takes an empty file as an empty database)
// so that SQLite, which gives its -wal and -shm files the database's mode,
// makes them 0600 too; those of an earlier run are tightened. No file is
// opened through a symbolic link.
func privateDataDir(dir, db string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if fi, err = os.Stat(dir); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if err := checkAbove(dir); err != nil {
		return err
	}
	if uid := ownerOf(fi); uid != os.Geteuid() {
		return fmt.Errorf("data directory %s is owned by uid %d, not by the user vpcsim runs as (uid %d): that user could plant links that vpcsim writes through; give vpcsim a directory of its own", dir, uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o077 != 0 || fi.Mode()&os.ModeSticky != 0 {
		if !canTighten(dir, db, fi.Mode()) {
			return fmt.Errorf("data directory %s (mode %v) is open to other users and is not vpcsim's: give vpcsim a directory of its own, which it keeps 0700", dir, fi.Mode().Perm())
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	if err := checkSubdirs(dir); err != nil {
		return err
	}
	f, err := hostpath.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = ownedFile(f)
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	for _, p := range []string{db + "-wal", db + "-shm"} {
		f, err := hostpath.OpenFile(p, os.O_RDONLY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		err = ownedFile(f)
		if err := errors.Join(err, f.Close()); err != nil {
			return err
		}
	}
	return nil
}

// ownedFile checks that a file of the data directory is this user's, and
// makes it 0600.
func ownedFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if uid := ownerOf(fi); uid != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not by the user vpcsim runs as (uid %d)", f.Name(), uid, os.Geteuid())
	}
	return f.Chmod(0o600)
}

// checkAbove refuses a data directory that someone else could move away or
// replace: every directory above it (of the path as given, and of the path
// its links lead to) must be owned by root or by this user and writable by
// no one else, unless it is sticky (like /tmp: there only an entry's owner
// may rename it, and the next directory down is checked in turn).
func checkAbove(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range []string{dir, real} {
		for a := filepath.Dir(p); !seen[a]; a = filepath.Dir(a) {
			seen[a] = true
			fi, err := os.Stat(a)
			if err != nil {
				return err
			}
			uid := ownerOf(fi)
			switch {
			case uid != 0 && uid != os.Geteuid():
				return fmt.Errorf("data directory %s lies in %s, which uid %d owns and could replace it in: use a data directory that only root or vpcsim's user can reach", dir, a, uid)
			case fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0:
				return fmt.Errorf("data directory %s lies in %s (mode %v), which others may write in and replace it: use a data directory that only root or vpcsim's user can reach", dir, a, fi.Mode().Perm())
			}
			if a == "/" {
				break
			}
		}
	}
	return nil
}

// checkSubdirs refuses a data directory whose own directories (and the
// task directories of logs/) are links or someone else's.
func checkSubdirs(dir string) error {
	check := func(p string) error {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir():
			return fmt.Errorf("data directory: %s is not a directory (or is a symbolic link): remove it", p)
		case ownerOf(fi) != os.Geteuid():
			return fmt.Errorf("data directory: %s is owned by uid %d, not by the user vpcsim runs as (uid %d): that user could plant links that vpcsim writes through", p, ownerOf(fi), os.Geteuid())
		}
		return nil
	}
	for _, sub := range dataSubdirs {
		if err := check(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	tasks, err := os.ReadDir(filepath.Join(dir, "logs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range tasks {
		if err := check(filepath.Join(dir, "logs", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func ownerOf(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// canTighten reports whether a data directory looser than 0700 may be made
// 0700: it holds vpcsim's database, or nothing yet (made for vpcsim), and is
// not a shared directory (sticky or writable by all, like /tmp).
func canTighten(dir, db string, mode os.FileMode) bool {
	if mode&os.ModeSticky != 0 || mode.Perm()&0o002 != 0 {
		return false
	}
	if _, err := os.Lstat(db); err == nil {
		return true
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// openedInsideData refuses a --host-path directory that holds the data
// directory or lies in it: the API could then name vpcsim's own database,
// or containerd's config, as a file to write.
func openedInsideData(dataDir string, opened []string) error {
	data, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return err
	}
	for _, o := range opened {
		if o == data || strings.HasPrefix(data, strings.TrimSuffix(o, "/")+"/") || strings.HasPrefix(o, data+"/") {
			return fmt.Errorf("--host-path %s overlaps the data directory %s: the API could name vpcsim's own files; open a directory beside it", o, data)
		}
	}
	return nil
}
