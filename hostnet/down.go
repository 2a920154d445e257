package hostnet

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// tablePrefix starts the name of every nftables table vpcsim makes in the host's
// namespace (tables inside vpcsim's namespaces go with the namespace).
const tablePrefix = "vs"

// Down removes every kernel object vpcsim ever made, and nothing else: all network
// namespaces named vs-* (after killing the processes in them), all links named
// vs-* in the host's namespace, and all nftables tables of the host's namespace
// whose name starts with "vs". It goes on past failures and returns what it could
// not remove, joined. Safe to call again; with nothing left it does nothing.
func Down(ctx context.Context) error {
	return down(ctx, DefaultPrefix, tablePrefix)
}

// Leftovers lists what Down would remove: "netns NAME", "link NAME" and
// "nftables FAMILY NAME" entries, empty when vpcsim has left nothing behind.
func Leftovers() ([]string, error) {
	return leftovers(DefaultPrefix, tablePrefix)
}

// RemoveAll is Down for the objects of one prefix only (namespaces, host links
// and host nftables tables whose names start with it), e.g. what one test's
// vpcsim made. The prefix must start with "vs-".
func RemoveAll(ctx context.Context, prefix string) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	return down(ctx, prefix, prefix)
}

// LeftoversWithPrefix is Leftovers for the objects RemoveAll(prefix) removes.
func LeftoversWithPrefix(prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	return leftovers(prefix, prefix)
}

func down(ctx context.Context, prefix, tables string) error {
	var errs []error
	names, err := listNetns(prefix)
	if err != nil {
		errs = append(errs, fmt.Errorf("list namespaces: %w", err))
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := purgeNetns(ctx, filepath.Join(netnsDir, name)); err != nil {
			errs = append(errs, fmt.Errorf("netns %s: %w", name, err))
		}
	}
	links, err := hostLinks(prefix)
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		// Deleting one end of a veth pair deletes the other: ignore "not found".
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("link %s: %w", l.Attrs().Name, err))
		}
	}
	if err := deleteHostTables(tables); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func leftovers(prefix, tables string) ([]string, error) {
	var out []string
	var errs []error
	names, err := listNetns(prefix)
	if err != nil {
		errs = append(errs, fmt.Errorf("list namespaces: %w", err))
	}
	for _, n := range names {
		out = append(out, "netns "+n)
	}
	links, err := hostLinks(prefix)
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		out = append(out, "link "+l.Attrs().Name)
	}
	ts, err := hostTables(tables)
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range ts {
		out = append(out, fmt.Sprintf("nftables %s %s", familyName(t.Family), t.Name))
	}
	return out, errors.Join(errs...)
}

// hostLinks returns the links of the host's namespace whose name starts with prefix.
func hostLinks(prefix string) ([]netlink.Link, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	all, err := linkList(h)
	if err != nil {
		return nil, fmt.Errorf("list host links: %w", err)
	}
	var links []netlink.Link
	for _, l := range all {
		// A connect or internet gateway link carries a VPC's own name and its
		// namespace's as alias.
		if strings.HasPrefix(l.Attrs().Name, prefix) || strings.HasPrefix(l.Attrs().Alias, prefix) {
			links = append(links, l)
		}
	}
	return links, nil
}

// hostTables returns the nftables tables of the host's namespace whose name
// starts with prefix.
func hostTables(prefix string) ([]*nftables.Table, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	all, err := c.ListTables()
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	var ts []*nftables.Table
	for _, t := range all {
		if strings.HasPrefix(t.Name, prefix) {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

func deleteHostTables(prefix string) error {
	ts, err := hostTables(prefix)
	if err != nil || len(ts) == 0 {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	var errs []error
	// One batch per table, so one that cannot go does not keep the others.
	for _, t := range ts {
		c.DelTable(t)
		if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("nftables table %s %s: %w", familyName(t.Family), t.Name, err))
		}
	}
	return errors.Join(errs...)
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyNetdev:
		return "netdev"
	case nftables.TableFamilyBridge:
		return "bridge"
	}
	return fmt.Sprintf("family%d", f)
}
