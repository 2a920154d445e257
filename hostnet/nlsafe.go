package hostnet

import (
	"errors"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dumpRetries bounds how often a netlink dump is repeated when the kernel says it
// changed while being read (NLM_F_DUMP_INTR): the result would be inconsistent.
const dumpRetries = 10

func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var (
		v   []T
		err error
	)
	for range dumpRetries {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return nil, err
}

// linkList is h.LinkList, repeated while the dump is interrupted.
func linkList(h *netlink.Handle) ([]netlink.Link, error) {
	return retryDump(h.LinkList)
}

// addrList is h.AddrList, repeated while the dump is interrupted.
func addrList(h *netlink.Handle, link netlink.Link, family int) ([]netlink.Addr, error) {
	return retryDump(func() ([]netlink.Addr, error) { return h.AddrList(link, family) })
}

// routeList is h.RouteList, repeated while the dump is interrupted.
func routeList(h *netlink.Handle, link netlink.Link, family int) ([]netlink.Route, error) {
	return retryDump(func() ([]netlink.Route, error) { return h.RouteList(link, family) })
}

// isNotFound reports whether a netlink error means the object is not there, which
// a delete counts as success.
func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EADDRNOTAVAIL)
}

// isExist reports whether a netlink error means the object already exists.
func isExist(err error) bool { return errors.Is(err, unix.EEXIST) }
