package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"

	"github.com/vpcsim/vpcsim/hostnet"
)

// doctor prints every check of the kernel dataplane, and how to fix what fails.
func doctor(w io.Writer) error {
	failed := 0
	for _, c := range hostnet.Doctor() {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s %s", mark, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(w, ": %s", c.Detail)
		}
		fmt.Fprintln(w)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "     fix: %s\n", c.Fix)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed: the kernel dataplane cannot run here (--dataplane none serves the API alone)", failed)
	}
	fmt.Fprintln(w, "the kernel dataplane can run here")
	return nil
}

// down removes every container of vpcsim's containerd and every kernel object
// whose name carries vpcsim's prefix.
func down(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dataDir := fs.String("data-dir", env("VPCSIM_DATA_DIR", defaultDataDir()), "data directory of the vpcsim to take down")
	var ctrd containerdFlags
	ctrd.add(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if err := hostnet.Privileged(); err != nil {
		return err
	}
	// Taking down what a running server uses would break it under its feet.
	prefix := netnsPrefix()
	if h, ok := dataDirHolder(*dataDir); ok {
		return fmt.Errorf("data directory %s is in use by %s: stop it first", *dataDir, h)
	}
	if other, h, ok := prefixInUse(prefix); ok {
		return fmt.Errorf("namespace prefix %s is in use by %s (its prefix is %s): stop it first", prefix, h, other)
	}
	// vpcsim's own containerd exists once serve has run; another one is
	// there to be used whenever it is named.
	if _, err := os.Stat(filepath.Join(*dataDir, "containerd")); err == nil || ctrd.address != "" {
		if err := removeContainers(ctx, *dataDir, ctrd); err != nil {
			fmt.Fprintln(w, "containers:", err)
		}
	}
	remove := func() error { return hostnet.RemoveAll(ctx, prefix) }
	if prefix == hostnet.DefaultPrefix {
		remove = func() error { return hostnet.Down(ctx) }
	}
	before, _ := leftoversOf(prefix)
	err := remove()
	after, _ := leftoversOf(prefix)
	fmt.Fprintf(w, "removed %d objects\n", len(before)-len(after))
	for _, l := range after {
		fmt.Fprintln(w, "left:", l)
	}
	return err
}

// leftoversOf lists what `vpcsim down` removes for a prefix: the default
// prefix owns every vs- object; another one (tests, a second vpcsim beside
// the first) only its own.
func leftoversOf(prefix string) ([]string, error) {
	if prefix == hostnet.DefaultPrefix {
		return hostnet.Leftovers()
	}
	return hostnet.LeftoversWithPrefix(prefix)
}

// hostOf names the namespace of an instance ID, or of a task by ID or ARN.
func hostOf(id string) string {
	if strings.HasPrefix(id, "arn:aws:ecs:") {
		id = id[strings.LastIndexByte(id, '/')+1:]
	}
	if len(id) == 32 && strings.Trim(id, "0123456789abcdef") == "" {
		return "task-" + id
	}
	return id
}

// removeContainers deletes every container, task and snapshot of vpcsim's
// namespace in its containerd.
func removeContainers(ctx context.Context, dataDir string, ctrd containerdFlags) error {
	rt, err := ecsrt.New(ctx, dataDir, ctrd.options()...)
	if err != nil {
		return err
	}
	defer rt.Close()
	return rt.RemoveAll(ctx)
}

// execIn replaces this process with CMD running inside an instance's network
// namespace, as if the user had logged in to the instance.
func execIn(args []string) error {
	if len(args) < 3 || args[1] != "--" {
		return usageError{"exec needs INSTANCE-ID -- CMD [ARGS...]"}
	}
	id, argv := args[0], args[2:]
	path := hostnet.NetnsPathFor(netnsPrefix(), hostOf(id))
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s has no network namespace here: is it running, and is vpcsim serving with the kernel dataplane?", id)
		}
		return err
	}
	return hostnet.ExecIn(path, argv)
}
