package main

import (
	"testing"
)

// TestContainerdFlags: serve, image and down find their containerd and
// namespace by flag, else by variable, else vpcsim's own and "vpcsim".
func TestContainerdFlags(t *testing.T) {
	t.Setenv("VPCSIM_CONTAINERD_ADDRESS", "")
	t.Setenv("VPCSIM_CONTAINERD_NAMESPACE", "")
	c, err := parseServeFlags(nil)
	if err != nil || c.containerd != (containerdFlags{address: "", namespace: "vpcsim"}) {
		t.Errorf("defaults: %+v, %v", c.containerd, err)
	}
	t.Setenv("VPCSIM_CONTAINERD_ADDRESS", "/run/containerd/containerd.sock")
	t.Setenv("VPCSIM_CONTAINERD_NAMESPACE", "vpcsim-b")
	c, err = parseServeFlags(nil)
	if err != nil || c.containerd != (containerdFlags{address: "/run/containerd/containerd.sock", namespace: "vpcsim-b"}) {
		t.Errorf("from the environment: %+v, %v", c.containerd, err)
	}
	c, err = parseServeFlags([]string{"--containerd-namespace", "vpcsim-c"})
	if err != nil || c.containerd.namespace != "vpcsim-c" {
		t.Errorf("the flag wins: %+v, %v", c.containerd, err)
	}
	if n := len(c.containerd.options()); n != 2 {
		t.Errorf("%d runtime options, want the address and the namespace", n)
	}
}
