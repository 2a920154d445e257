// Package hostpath opens files that a request names, beneath a directory the
// operator trusts, without ever leaving it: vpcsim runs as root, and a path
// taken from an API call (a `file` flow log, an environment file, a host
// volume) must not reach /etc through "..", an absolute symbolic link, or a
// link planted in the tree after the path was checked.
//
// A Root is such a directory. Every path given to its methods is relative to
// it and is resolved by the kernel with openat2(2) and RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: no component may be a symbolic
// link (not even one that points back inside), and nothing resolves above the
// root. Where openat2 is missing (Linux before 5.6) the same walk is done one
// component at a time with openat(2) and O_NOFOLLOW. Only regular files are
// opened: a FIFO, a device, a socket or a directory is refused, after an open
// with O_NONBLOCK so that a FIFO cannot block the caller.
//
// The package knows no domain: the rules of which root a request may use are
// its callers'.
package hostpath

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Refusals, wrapped in an *fs.PathError naming the path. A path that does not
// exist is fs.ErrNotExist, as from package os.
var (
	ErrOutside    = errors.New("not beneath the allowed directory")
	ErrSymlink    = errors.New("is or passes through a symbolic link")
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// resolve is how every path beneath a root is resolved.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// noOpenat2 is set once openat2 answers ENOSYS (Linux before 5.6); walk is
// used from then on. Tests set it to exercise the fallback.
var noOpenat2 atomic.Bool

// Root is a directory that paths are resolved beneath. Its own path is the
// caller's (the data directory, or one the operator opened) and is trusted;
// what lies below it is not.
type Root struct {
	dir string
}

// NewRoot makes a Root of an absolute directory path. The directory need not
// exist yet; its methods fail until it does.
func NewRoot(dir string) (Root, error) {
	if !filepath.IsAbs(dir) {
		return Root{}, fmt.Errorf("hostpath: %q is not an absolute path", dir)
	}
	return Root{dir: filepath.Clean(dir)}, nil
}

// Dir is the root's directory.
func (r Root) Dir() string { return r.dir }

// Rel is the path of abs relative to the root, and whether abs lies beneath
// it. abs is cleaned first (lexically: "a/../b" is "b"), so a ".." that would
// climb out of the root is not beneath it; the root itself is not beneath it.
func (r Root) Rel(abs string) (string, bool) {
	if r.dir == "" || !filepath.IsAbs(abs) || strings.ContainsRune(abs, 0) {
		return "", false
	}
	abs = filepath.Clean(abs)
	base := r.dir
	if base != "/" {
		base += "/"
	}
	rel, ok := strings.CutPrefix(abs, base)
	if !ok || rel == "" {
		return "", false
	}
	return rel, true
}

// Find is the root of roots that abs lies beneath (the deepest, when they
// nest) and abs relative to it.
func Find(roots []Root, abs string) (Root, string, bool) {
	var best Root
	var bestRel string
	for _, r := range roots {
		if rel, ok := r.Rel(abs); ok && len(r.dir) > len(best.dir) {
			best, bestRel = r, rel
		}
	}
	return best, bestRel, best.dir != ""
}

// ReadFile reads a regular file beneath the root, of at most limit bytes
// (ErrTooLarge beyond).
func (r Root) ReadFile(rel string, limit int64) ([]byte, error) {
	f, err := r.OpenFile(rel, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if st.Size() > limit {
		return nil, r.pathErr("read", rel, ErrTooLarge)
	}
	// The file may grow between the Stat and the read.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, r.pathErr("read", rel, ErrTooLarge)
	}
	return b, nil
}

// OpenFile opens a regular file beneath the root, as os.OpenFile does
// (O_RDONLY, O_WRONLY, O_RDWR, O_APPEND, O_CREATE, O_EXCL, O_TRUNC). The last
// component is opened with O_NOFOLLOW as well, so a symbolic link is never
// written through even where it is the file itself; the parent directories
// must exist (see MkdirAll).
func (r Root) OpenFile(rel string, flag int, perm os.FileMode) (*os.File, error) {
	const op = "open"
	if err := checkRel(rel); err != nil {
		return nil, r.pathErr(op, rel, err)
	}
	root, err := r.open()
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	// O_NONBLOCK: opening a FIFO must not wait for its other end; O_NOCTTY:
	// a terminal must not become ours.
	fd, err := openBeneath(root, rel, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, r.pathErr(op, rel, err)
	}
	if err := regular(fd); err != nil {
		unix.Close(fd)
		return nil, r.pathErr(op, rel, err)
	}
	// A regular file ignores O_NONBLOCK; cleared so that package os treats
	// the descriptor as the blocking file it is.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, r.pathErr(op, rel, err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(r.dir, rel)), nil
}

// MkdirAll makes the directory rel and the missing ones above it beneath the
// root, one component at a time (mkdirat on the directory just opened), with
// perm (less the umask). An existing component must be a directory, not a
// link to one. The root itself must exist.
func (r Root) MkdirAll(rel string, perm os.FileMode) error {
	if rel == "." {
		return nil
	}
	if err := checkRel(rel); err != nil {
		return r.pathErr("mkdir", rel, err)
	}
	dir, err := r.open()
	if err != nil {
		return err
	}
	defer func() { unix.Close(dir) }()
	done := ""
	for _, name := range strings.Split(rel, "/") {
		done = filepath.Join(done, name)
		if err := unix.Mkdirat(dir, name, uint32(perm.Perm())); err != nil && err != unix.EEXIST {
			return r.pathErr("mkdir", done, err)
		}
		next, err := openBeneath(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return r.pathErr("mkdir", done, err)
		}
		unix.Close(dir)
		dir = next
	}
	return nil
}

// OpenDir opens a directory beneath the root (O_PATH: it can name the
// directory, not list it).
func (r Root) OpenDir(rel string) (*os.File, error) {
	root, err := r.open()
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return os.NewFile(uintptr(root), r.dir), nil
	}
	defer unix.Close(root)
	if err := checkRel(rel); err != nil {
		return nil, r.pathErr("open", rel, err)
	}
	fd, err := openBeneath(root, rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, r.pathErr("open", rel, err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(r.dir, rel)), nil
}

// RemoveAll removes rel beneath the root and everything below it, without
// following a symbolic link anywhere (a link is removed, not what it points
// to). A path that does not exist is no error.
func (r Root) RemoveAll(rel string) error {
	if err := checkRel(rel); err != nil {
		return r.pathErr("remove", rel, err)
	}
	parent, name := ".", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		parent, name = rel[:i], rel[i+1:]
	}
	pf, err := r.OpenDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer pf.Close()
	if err := removeAt(int(pf.Fd()), name); err != nil {
		return r.pathErr("remove", rel, err)
	}
	return nil
}

// removeAt removes name in the directory dirfd, and its contents first when
// it is a directory; a link is unlinked, never followed.
func removeAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR && err != unix.EPERM {
		return err
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	// All names first: removing entries while reading the directory could
	// make the reading skip some.
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := removeAt(fd, n); err != nil {
			return err
		}
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return err
	}
	return nil
}

// open opens the root directory itself.
func (r Root) open() (int, error) {
	if r.dir == "" {
		return -1, &fs.PathError{Op: "open", Path: "", Err: errors.New("hostpath: no root")}
	}
	fd, err := unix.Open(r.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: r.dir, Err: err}
	}
	return fd, nil
}

func (r Root) pathErr(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: filepath.Join(r.dir, rel), Err: err}
}

// checkRel accepts a clean relative path that stays beneath its root
// lexically: no "..", no "." (but for the root itself), no empty component.
func checkRel(rel string) error {
	if rel == "" || filepath.IsAbs(rel) || filepath.Clean(rel) != rel || strings.ContainsRune(rel, 0) {
		return ErrOutside
	}
	for _, c := range strings.Split(rel, "/") {
		if c == ".." || c == "." {
			return ErrOutside
		}
	}
	return nil
}

// openBeneath opens rel beneath dirfd with flags, following no symbolic
// link. Errors are mapped to the package's: ELOOP (a link on the way, or the
// file itself) to ErrSymlink, EXDEV (an escape) to ErrOutside.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	if !noOpenat2.Load() {
		f := flags
		if f&unix.O_PATH != 0 {
			// O_PATH|O_NOFOLLOW would open a trailing link itself;
			// RESOLVE_NO_SYMLINKS alone refuses it (ELOOP).
			f &^= unix.O_NOFOLLOW
		}
		how := unix.OpenHow{Flags: uint64(f), Resolve: resolve}
		if f&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
			how.Mode = uint64(mode) // openat2 refuses a mode it would not use
		}
		for range 16 { // EAGAIN: a rename raced the resolution; try again
			fd, err := unix.Openat2(dirfd, rel, &how)
			switch err {
			case nil:
				return fd, nil
			case unix.EAGAIN:
				continue
			case unix.ENOSYS:
				noOpenat2.Store(true)
			default:
				return -1, mapErr(err)
			}
			break
		}
		if !noOpenat2.Load() {
			return -1, unix.EAGAIN
		}
	}
	return walk(dirfd, rel, flags, mode)
}

// walk is openBeneath without openat2: each directory on the way is opened
// with O_NOFOLLOW|O_DIRECTORY from the one before, so a symbolic link fails
// the walk; checkRel has already refused "..".
func walk(dirfd int, rel string, flags int, mode uint32) (int, error) {
	names := strings.Split(rel, "/")
	dir := dirfd
	defer func() {
		if dir != dirfd {
			unix.Close(dir)
		}
	}()
	for _, name := range names[:len(names)-1] {
		next, err := unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, walkErr(dir, name, err)
		}
		if dir != dirfd {
			unix.Close(dir)
		}
		dir = next
	}
	last := names[len(names)-1]
	fd, err := unix.Openat(dir, last, flags|unix.O_NOFOLLOW, mode)
	if err != nil {
		return -1, walkErr(dir, last, err)
	}
	if flags&unix.O_PATH != 0 {
		// O_PATH|O_NOFOLLOW opens a link itself rather than failing.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			return -1, ErrSymlink
		}
	}
	return fd, nil
}

// walkErr words an openat failure of walk: a link met with O_DIRECTORY
// fails ENOTDIR, which is ErrSymlink when the name is one.
func walkErr(dir int, name string, err error) error {
	if err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return ErrSymlink
		}
	}
	return mapErr(err)
}

func mapErr(err error) error {
	switch err {
	case unix.ELOOP:
		return ErrSymlink
	case unix.EXDEV:
		return ErrOutside
	case unix.ENXIO, // a FIFO opened O_WRONLY|O_NONBLOCK with no reader
		unix.EISDIR: // a directory opened for writing
		return ErrNotRegular
	}
	return err
}

// regular refuses an open file that is not a regular file.
func regular(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ErrNotRegular
	}
	return nil
}
