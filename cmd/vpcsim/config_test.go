package main

import (
	"strings"
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

// --service-timer-scale shortens the service scheduler's waits, within
// bounds: never 0 (a scheduler that retries without pause) nor longer than
// ECS's.
func TestServiceTimerScaleFlag(t *testing.T) {
	c, err := parseServeFlags([]string{"--service-timer-scale", "0.01"})
	if err != nil || c.serviceTimerScale != 0.01 {
		t.Fatalf("--service-timer-scale 0.01: %v %v", c.serviceTimerScale, err)
	}
	if c, err := parseServeFlags(nil); err != nil || c.serviceTimerScale != 1 {
		t.Fatalf("the default: %v %v", c.serviceTimerScale, err)
	}
	for _, bad := range []string{"0", "2", "-1", "NaN", "fast"} {
		if _, err := parseServeFlags([]string{"--service-timer-scale", bad}); err == nil || !strings.Contains(err.Error(), "--service-timer-scale must be a number from 0.001 to 1") {
			t.Errorf("--service-timer-scale %s: %v", bad, err)
		}
	}
}

// --public-cidr takes an IPv4 network of RFC 2544's 198.18.0.0/15, a /24 or
// larger; --internet-egress is off unless asked for.
func TestPublicCIDRFlag(t *testing.T) {
	c, err := parseServeFlags(nil)
	if err != nil || c.publicRange.String() != "198.18.0.0/15" || c.internetEgress {
		t.Fatalf("the defaults: %v, egress %v, %v", c.publicRange, c.internetEgress, err)
	}
	if c, err := parseServeFlags([]string{"--public-cidr", "198.19.7.0/24", "--internet-egress"}); err != nil || c.publicRange.String() != "198.19.7.0/24" || !c.internetEgress {
		t.Fatalf("--public-cidr 198.19.7.0/24 --internet-egress: %v %v %v", c.publicRange, c.internetEgress, err)
	}
	for bad, want := range map[string]string{
		"8.8.8.0/24":    "outside 198.18.0.0/15",
		"198.18.0.0/25": "smaller than a /24",
		"198.18.0.1/24": "not a network address",
		"fd00::/64":     "not an IPv4 CIDR block",
		"198.18.0.0/14": "not a network address",
		"198.16.0.0/14": "outside 198.18.0.0/15",
	} {
		if _, err := parseServeFlags([]string{"--public-cidr", bad}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--public-cidr %s: %v, want %q", bad, err, want)
		}
	}
}
