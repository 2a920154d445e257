package hostpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// The functions below are for files whose directory is already trusted: the
// data directory and those vpcsim made in it (see CheckOwned). The last
// component alone is the concern there: it is never a symbolic link followed.

// OpenFile is os.OpenFile with O_NOFOLLOW (a symbolic link at path fails
// with ErrSymlink instead of being written through) that opens regular files
// only, and never blocks on a FIFO.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := unix.Open(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: mapErr(err)}
	}
	if err := regular(fd); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// WriteFile is os.WriteFile through OpenFile: it replaces the content of a
// regular file, and never writes through a link.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// Chmod sets a regular file's mode without following a link at path; a path
// that does not exist is no error.
func Chmod(path string, perm os.FileMode) error {
	f, err := OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return errors.Join(f.Chmod(perm), f.Close())
}

// Mkdir makes the directory path (its parent must exist) or checks the one
// there: a directory, not a link to one, owned by this process's user. It
// leaves it with perm, tightening one that was looser.
func Mkdir(path string, perm os.FileMode) error {
	if err := unix.Mkdir(path, uint32(perm.Perm())); err != nil && err != unix.EEXIST {
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOTDIR || err == unix.ELOOP {
			return &fs.PathError{Op: "mkdir", Path: path, Err: errors.New("exists and is not a directory (or is a symbolic link to one)")}
		}
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := ownedFd(fd, path); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		return &fs.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}

// NotOwnedError is a directory or file that another user owns where vpcsim
// must own it: that user could replace what vpcsim writes there with links.
type NotOwnedError struct {
	Path     string
	UID, Own int
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("%s is owned by uid %d, not by this process's user (uid %d)", e.Path, e.UID, e.Own)
}

func ownedFd(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if int(st.Uid) != os.Geteuid() {
		return &NotOwnedError{Path: path, UID: int(st.Uid), Own: os.Geteuid()}
	}
	return nil
}
