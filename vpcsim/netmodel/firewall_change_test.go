package netmodel

import (
	"net/netip"
	"testing"
)

// A change's IPv6 flag must say what the firewall it applies to has: a
// change computed for a VPC with IPv6 does not apply to one without, nor the
// other way round.
func TestApplyChecksIPv6(t *testing.T) {
	eni := FirewallENI{ID: "eni-1", Addrs: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, SourceDestCheck: true}
	v4 := Firewall{VPCID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.0.0/16")}
	dual := v4.Clone()
	dual.IPv6 = []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")}
	for _, tc := range []struct {
		name string
		fw   Firewall
		ipv6 bool
		ok   bool
	}{
		{"IPv4-only VPC, no IPv6", v4, false, true},
		{"IPv4-only VPC, IPv6", v4, true, false},
		{"dual-stack VPC, IPv6", dual, true, true},
		{"dual-stack VPC, no IPv6", dual, false, false},
	} {
		got, err := tc.fw.Apply(FirewallChange{VPCID: "vpc-1", ENIs: []ENIChange{{New: &eni}}, IPv6: tc.ipv6})
		if (err == nil) != tc.ok {
			t.Errorf("%s: err=%v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.ok && len(got.ENIs) != 1 {
			t.Errorf("%s: ENIs %v, want the new one", tc.name, got.ENIs)
		}
		if len(tc.fw.ENIs) != 0 {
			t.Errorf("%s: Apply changed the firewall it was called on", tc.name)
		}
	}
}
