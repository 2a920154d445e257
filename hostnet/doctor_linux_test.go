package hostnet

import (
	"testing"
)

func TestDoctor(t *testing.T) {
	requireRoot(t)
	before, _ := listNetns("vs-doctor-")
	checks := Doctor()
	byName := map[string]Check{}
	for _, c := range checks {
		t.Logf("%-12s ok=%-5v %s  %s", c.Name, c.OK, c.Detail, c.Fix)
		if !c.OK && c.Fix == "" {
			t.Errorf("check %s fails without saying how to fix it", c.Name)
		}
		byName[c.Name] = c
	}
	// What the other tests of this package rely on must be there.
	for _, n := range []string{"privileges", "netns", "veth", "bridge", "nftables"} {
		if c, ok := byName[n]; !ok || !c.OK {
			t.Errorf("check %s: %+v", n, c)
		}
	}
	for _, n := range []string{"br_netfilter", "ip", "containerd", "runc", "busybox"} {
		if _, ok := byName[n]; !ok {
			t.Errorf("no check %s", n)
		}
	}
	if after, _ := listNetns("vs-doctor-"); len(after) > len(before) {
		t.Errorf("Doctor left a scratch namespace: %v", after)
	}
}

func TestPrivileged(t *testing.T) {
	requireRoot(t)
	if err := Privileged(); err != nil {
		t.Fatal(err)
	}
}
