package hostnet

import (
	"testing"
)

func TestNames(t *testing.T) {
	if got, err := bridgeName("subnet-0123456789abcdef0"); err != nil || got != "vs-b0123456789a" {
		t.Errorf("bridgeName = %q, %v", got, err)
	}
	n, err := namesOfENI("eni-fedcba9876543210f")
	if err != nil || n.bridgeEnd != "vs-efedcba98765" || n.parked != "vs-pfedcba98765" {
		t.Errorf("namesOfENI = %+v, %v", n, err)
	}
	for _, name := range []string{n.bridgeEnd, n.parked, "vs-b0123456789a"} {
		if len(name) > 15 {
			t.Errorf("%s is longer than IFNAMSIZ-1", name)
		}
	}
	for _, bad := range []string{"subnet-0123", "subnet-0123456789ABCDEF0", "vpc-0123456789abcdef0", "subnet-0123456789g"} {
		if _, err := bridgeName(bad); err == nil {
			t.Errorf("bridgeName(%q) succeeded", bad)
		}
	}
	if d, err := deviceName(0); err != nil || d != "eth0" {
		t.Errorf("deviceName(0) = %q, %v", d, err)
	}
	if _, err := deviceName(-1); err == nil {
		t.Error("deviceName(-1) succeeded")
	}
	if mac := bridgeMAC("subnet-0123456789abcdef0"); mac[0] != 0x06 || mac.String() != bridgeMAC("subnet-0123456789abcdef0").String() {
		t.Errorf("bridgeMAC = %s, want stable and 06:…", mac)
	}
}

func TestPrefix(t *testing.T) {
	for _, ok := range []string{"vs-", "vs-t3f9a-"} {
		if err := checkPrefix(ok); err != nil {
			t.Errorf("checkPrefix(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "vpcsim-", "vs", "vs-/x", "vs-a b"} {
		if err := checkPrefix(bad); err == nil {
			t.Errorf("checkPrefix(%q) succeeded", bad)
		}
	}
	if _, err := New(WithPrefix("tmp-")); err == nil {
		t.Error("New accepted a prefix without vs-")
	}
	for _, bad := range []string{"", "..", "a/b", ".hidden"} {
		if err := checkNameComponent("name", bad); err == nil {
			t.Errorf("checkNameComponent(%q) succeeded", bad)
		}
	}
}
