package main

import (
	"context"
	"os"
	"sync"
	"testing"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
)

// shared is the containerd that the end-to-end servers share, each in a
// namespace of its own: vpcsim's managed containerd, started once per test
// binary, the first time a server needs it, and stopped by TestMain. Servers
// come and go faster without a daemon each, and the test images' content is
// stored once.
var shared struct {
	once sync.Once
	dir  string
	m    *ecsrt.Managed
	err  error
}

// sharedContainerd returns the shared containerd's socket, starting it first.
func sharedContainerd(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		// In /tmp: a unix socket's path may not exceed 108 bytes.
		if shared.dir, shared.err = os.MkdirTemp("/tmp", "vse2e"); shared.err != nil {
			return
		}
		shared.m, shared.err = ecsrt.StartManaged(context.Background(), shared.dir)
	})
	if shared.err != nil {
		t.Fatalf("start the shared containerd: %v", shared.err)
	}
	return shared.m.Address()
}

// stopSharedContainerd stops the shared containerd, if it was started, and
// removes its directory. Every server has removed its containers by then.
func stopSharedContainerd() error {
	if shared.m == nil {
		return nil
	}
	if err := shared.m.Close(); err != nil {
		return err
	}
	return os.RemoveAll(shared.dir)
}
