package hostnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// openNetns opens a named namespace file, refusing anything that is not a network
// namespace (e.g. the empty file left by a create that was interrupted).
func openNetns(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, fmt.Errorf("%s: %w", path, errNoNetns)
		}
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("statfs %s: %w", path, err)
	}
	if fs.Type != unix.NSFS_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not a namespace: %w", path, errNoNetns)
	}
	return fd, nil
}

// isNetns reports whether path is a mounted namespace.
func isNetns(path string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}

// netnsDirMu keeps two goroutines from both bind-mounting /run/netns onto itself.
var netnsDirMu sync.Mutex

// ensureNetnsDir does what `ip netns add` does first: /run/netns exists and is a
// shared mount point, so that namespace mounts made under it propagate to the mount
// namespaces that share it (containers started later see them, unmounts too).
// Safe to call again.
func ensureNetnsDir() error {
	netnsDirMu.Lock()
	defer netnsDirMu.Unlock()
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", netnsDir, err)
	}
	// Like iproute2: try to make it shared; EINVAL means it is not a mount point
	// yet, so bind-mount it onto itself and try again.
	for bound := false; ; bound = true {
		err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("make %s a shared mount: %w", netnsDir, err)
		}
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mount %s: %w", netnsDir, err)
		}
	}
}

// createNetns makes a named network namespace at path, like `ip netns add`:
// an empty file under /run/netns with a new namespace bind-mounted on it. It
// reports whether it made one; an existing namespace is kept. Safe to call again.
func createNetns(path string) (bool, error) {
	if isNetns(path) {
		return false, nil
	}
	if err := ensureNetnsDir(); err != nil {
		return false, err
	}
	// Not O_EXCL: an empty file left by an interrupted create is ours to reuse.
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	err = onLockedThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		return nil
	}, func() error {
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount the new namespace on %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}

// inNetns runs fn on a locked OS thread that has entered the namespace at path,
// then switches the thread back. If switching back fails the thread stays locked
// and dies with its goroutine, so no other goroutine ever runs in the wrong
// namespace (CNI pkg/ns). For what only works from inside: sysctls, exec.
func inNetns(path string, fn func() error) error {
	target, err := openNetns(path)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	return onLockedThread(func() error {
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter %s: %w", path, err)
		}
		return nil
	}, fn)
}

// onLockedThread runs enter and then fn on a goroutine locked to its OS thread,
// and afterwards puts the thread back into the namespace it started in. Only if
// that fails is the thread kept locked, so that the runtime ends it with the
// goroutine instead of running other goroutines in the wrong namespace. (Always
// abandoning the thread would be simpler, but a goroutine on the main thread
// cannot end it: the thread would linger, holding the namespace alive.)
func onLockedThread(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open the current namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		ferr := enter()
		if ferr == nil {
			ferr = fn()
		}
		// Switch back even if enter failed: unshare may have half-succeeded.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("return to the original namespace: %w", err))
			return // still locked: the thread is abandoned
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listNetns returns the names under /run/netns that start with prefix.
func listNetns(prefix string) ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// purgeNetns removes the named namespace at path and what is in it: it kills its
// processes, deletes its links (so that the far ends of its veth pairs vanish now,
// not whenever the kernel frees the namespace), unmounts and removes the file.
// Missing is success; safe to call again.
func purgeNetns(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var errs []error
	if isNetns(path) {
		if err := killNetnsProcs(ctx, path); err != nil {
			errs = append(errs, err)
		}
		if err := deleteLinksIn(path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountNetns(path); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteLinksIn deletes every link but lo in the namespace at path.
func deleteLinksIn(path string) error {
	fd, err := openNetns(path)
	if err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", path, err)
	}
	defer h.Close()
	links, err := linkList(h)
	if err != nil {
		return fmt.Errorf("list links in %s: %w", path, err)
	}
	var errs []error
	for _, l := range links {
		if l.Attrs().Flags&unix.IFF_LOOPBACK != 0 || l.Attrs().Name == "lo" {
			continue
		}
		if err := h.LinkDel(l); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s in %s: %w", l.Attrs().Name, path, err))
		}
	}
	return errors.Join(errs...)
}

// unmountNetns unmounts a namespace file (every mount stacked on it) and removes
// it. Missing is success.
func unmountNetns(path string) error {
	for range 16 {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break // not (or no longer) a mount point
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// netnsID identifies a namespace: the device and inode of its nsfs file.
type netnsID struct{ dev, ino uint64 }

func statNetns(path string) (netnsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return netnsID{}, err
	}
	return netnsID{uint64(st.Dev), st.Ino}, nil
}
