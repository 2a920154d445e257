package hostnet

import (
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	mnetlink "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

const (
	aclSubnetA = "subnet-0123456789abcdef0"
	aclSubnetB = "subnet-0fedcba9876543210"
)

func TestACLSpecNoneWithoutACLs(t *testing.T) {
	r := netmodel.Routing{VPCID: "vpc-0123456789abcdef0", CIDR: pfx("10.0.0.0/16"),
		Subnets: []netmodel.SubnetRouting{{SubnetID: aclSubnetA}}, Logged: map[netip.Addr]string{netip4("10.0.1.5"): "eni-1"}}
	if s, err := aclSpec(r); s != nil || err != nil {
		t.Errorf("aclSpec without ACLs = %v, %v; want no table", s, err)
	}
}

func TestACLSpec(t *testing.T) {
	acl := &netmodel.NetworkACL{ID: "acl-1",
		Ingress: []netmodel.ACLRule{
			// Out of order on purpose: rules go by number.
			{Number: 200, Allow: true, Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")},
			{Number: 100, Allow: false, Proto: netmodel.ProtoICMP, From: 8, To: -1, CIDR: pfx("10.0.1.0/24")},
			{Number: 110, Allow: true, Proto: netmodel.ProtoTCP, From: 80, To: 80, CIDR: pfx("10.0.0.0/16")},
			{Number: 120, Allow: true, Proto: 47, From: -1, To: -1, CIDR: pfx("10.0.0.7/16")}, // not masked
			{Number: 130, Allow: true, Proto: -1, CIDR: pfx("::/0")},                          // IPv6: judges IPv6 only
			{Number: 105, Allow: false, Proto: netmodel.ProtoICMPv6, From: 128, To: 0, CIDR: pfx("fd5e:1:2:301::/64")},
		},
		Egress: []netmodel.ACLRule{
			{Number: 100, Allow: true, Proto: netmodel.ProtoUDP, From: -1, To: -1, CIDR: pfx("10.0.1.0/24")},
			{Number: 101, Allow: true, Proto: netmodel.ProtoTCP, From: 1024, To: 65535, CIDR: pfx("0.0.0.0/0")},
			{Number: 102, Allow: true, Proto: netmodel.ProtoTCP, From: 443, To: 443, CIDR: pfx("fd5e:1:2:300::7/56")}, // not masked
		},
	}
	r := netmodel.Routing{VPCID: "vpc-0123456789abcdef0", CIDR: pfx("10.0.0.0/16"),
		Subnets: []netmodel.SubnetRouting{{SubnetID: aclSubnetA}, {SubnetID: aclSubnetB, ACL: acl}},
		Logged: map[netip.Addr]string{
			netip4("10.0.2.5"): "eni-b", netip4("10.0.2.6"): "eni-b", // two addresses of one ENI
			netip4("10.0.1.5"): "eni-a", netip.MustParseAddr("fd5e:1:2:301::5"): "eni-a",
		}}
	s, err := aclSpec(r)
	if err != nil {
		t.Fatal(err)
	}
	br, _ := bridgeName(aclSubnetB)
	want := map[string][]string{
		"r-eni-a":  {`log group 4566 snaplen 64 prefix "R eni-a"`},
		"r-eni-b":  {`log group 4566 snaplen 64 prefix "R eni-b"`},
		"deny-out": {"ip saddr vmap @logged", "ip6 saddr vmap @logged6", "drop"},
		"deny-in":  {"ip daddr vmap @logged", "ip6 daddr vmap @logged6", "drop"},
		"out-" + aclSubnetB: {
			"rule 100 allow udp 0-65535 to 10.0.1.0/24",
			"rule 101 allow tcp 1024-65535 to 0.0.0.0/0",
			"rule 102 allow tcp 443-443 to fd5e:1:2:300::/56",
			"rule * deny all goto deny-out",
		},
		"in-" + aclSubnetB: {
			"rule 100 deny icmp type 8 code any from 10.0.1.0/24 goto deny-in",
			"rule 105 deny icmpv6 type 128 code 0 from fd5e:1:2:301::/64 goto deny-in",
			"rule 110 allow tcp 80-80 from 10.0.0.0/16",
			"rule 120 allow proto 47 from 10.0.0.0/16",
			"rule 130 allow all from ::/0",
			"rule 200 allow all from 0.0.0.0/0",
			"rule * deny all goto deny-in",
		},
		"forward": {
			"iifname " + br + " oifname != " + br + " jump out-" + aclSubnetB,
			"oifname " + br + " iifname != " + br + " jump in-" + aclSubnetB,
		},
	}
	got := s.comments()
	if len(got) != len(want) {
		t.Errorf("chains %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("chain %s:\n%s\nwant\n%s", name, strings.Join(got[name], "\n"), strings.Join(w, "\n"))
		}
	}
	if s.table.Name != aclTableName || s.table.Family != nftables.TableFamilyINet || len(s.maps) != 2 ||
		s.maps[0].set.Name != "logged" || s.maps[0].set.KeyType != nftables.TypeIPAddr || len(s.maps[0].jumps) != 3 ||
		s.maps[0].jumps[netip4("10.0.2.6")] != "r-eni-b" || s.maps[0].jumps[netip4("10.0.1.5")] != "r-eni-a" ||
		s.maps[1].set.Name != "logged6" || s.maps[1].set.KeyType != nftables.TypeIP6Addr || len(s.maps[1].jumps) != 1 ||
		s.maps[1].jumps[netip.MustParseAddr("fd5e:1:2:301::5")] != "r-eni-a" {
		t.Errorf("table %s %v, maps %+v", s.table.Name, s.table.Family, s.maps)
	}
	// A chain comes before every rule that jumps to it (the transaction's
	// order), the base chain last.
	at := map[string]int{}
	for i, c := range s.chains {
		at[c.chain.Name] = i
	}
	for i, c := range s.chains {
		for _, r := range c.rules {
			for _, e := range r.exprs() {
				if v, ok := e.(*expr.Verdict); ok && v.Chain != "" {
					if j, ok := at[v.Chain]; !ok || j >= i {
						t.Errorf("chain %s jumps to %s, which comes at %d", c.chain.Name, v.Chain, j)
					}
				}
			}
		}
	}
	if last := s.chains[len(s.chains)-1].chain; last.Name != "forward" || last.Hooknum == nil || *last.Hooknum != *nftables.ChainHookForward {
		t.Errorf("last chain %+v, want the forward base chain", last)
	}
	// What each rule ends with.
	in := s.chains[at["in-"+aclSubnetB]].rules
	ends := func(r nftRule) *expr.Verdict { e := r.exprs(); v, _ := e[len(e)-1].(*expr.Verdict); return v }
	if v := ends(in[0]); v == nil || v.Kind != expr.VerdictGoto || v.Chain != "deny-in" {
		t.Errorf("deny rule ends with %+v", v)
	}
	if v := ends(in[2]); v == nil || v.Kind != expr.VerdictReturn {
		t.Errorf("allow rule ends with %+v, want return (the other subnet's ACL may judge it too)", v)
	}
	// What each rule matches: its family first, the peer where that
	// family's header has it, then the protocol.
	family := func(r nftRule) byte { return r.exprs()[1].(*expr.Cmp).Data[0] }
	peer := func(r nftRule) *expr.Payload { return r.exprs()[2].(*expr.Payload) }
	out := s.chains[at["out-"+aclSubnetB]].rules
	for _, tc := range []struct {
		rule   nftRule
		family byte
		offset uint32
		len    uint32
	}{
		{in[0], unix.NFPROTO_IPV4, 12, 4},   // ip saddr
		{in[1], unix.NFPROTO_IPV6, 8, 16},   // ip6 saddr
		{out[0], unix.NFPROTO_IPV4, 16, 4},  // ip daddr
		{out[2], unix.NFPROTO_IPV6, 24, 16}, // ip6 daddr
	} {
		if f, p := family(tc.rule), peer(tc.rule); f != tc.family || p.Offset != tc.offset || p.Len != tc.len {
			t.Errorf("%s: family %d, peer at %d (%d bytes); want %d, %d (%d)", tc.rule.comment, f, p.Offset, p.Len, tc.family, tc.offset, tc.len)
		}
	}
	if e := in[1].exprs(); !slices.ContainsFunc(e, func(x expr.Any) bool {
		c, ok := x.(*expr.Cmp)
		return ok && len(c.Data) == 1 && c.Data[0] == unix.IPPROTO_ICMPV6
	}) {
		t.Errorf("%s: no meta l4proto ipv6-icmp in %v", in[1].comment, e)
	}
	if e := in[4].exprs(); len(e) != 3 { // rule 130: meta nfproto ipv6, return
		t.Errorf("%s matches %d expressions, want only its family", in[4].comment, len(e)-1)
	}
}

func TestACLSpecFailsClosed(t *testing.T) {
	acl := &netmodel.NetworkACL{ID: "acl-1", Egress: []netmodel.ACLRule{
		{Number: 90, Allow: true, Proto: netmodel.ProtoTCP, From: 90, To: 80, CIDR: pfx("0.0.0.0/0")}, // an allow: left out
		{Number: 95, Allow: true, Proto: 300, CIDR: pfx("0.0.0.0/0")},
		{Number: 100, Allow: false, Proto: netmodel.ProtoICMP, From: 256, To: -1, CIDR: pfx("0.0.0.0/0")}, // a deny: denies all
		{Number: 200, Allow: true, Proto: -1, CIDR: pfx("0.0.0.0/0")},
	}}
	r := netmodel.Routing{CIDR: pfx("10.0.0.0/16"), Subnets: []netmodel.SubnetRouting{{SubnetID: aclSubnetA, ACL: acl}}}
	s, err := aclSpec(r)
	if err == nil || !strings.Contains(err.Error(), "rule 90") || !strings.Contains(err.Error(), "rule 95") || !strings.Contains(err.Error(), "rule 100") {
		t.Errorf("error %v, want rules 90, 95 and 100 reported", err)
	}
	if s == nil {
		t.Fatal("no table: an invalid rule must not lift the whole ACL")
	}
	want := []string{"rule 100 deny all (invalid) goto deny-out"}
	if got := s.comments()["out-"+aclSubnetA]; !slices.Equal(got, want) {
		t.Errorf("egress %q, want %q", got, want)
	}
	if got := s.comments()["in-"+aclSubnetA]; !slices.Equal(got, []string{"rule * deny all goto deny-in"}) {
		t.Errorf("empty ingress %q, want only the implicit deny", got)
	}
}

func TestJumpChain(t *testing.T) {
	enc := func(code int32, chain string) []byte {
		ae := mnetlink.NewAttributeEncoder()
		ae.ByteOrder = binary.BigEndian
		ae.Uint32(unix.NFTA_VERDICT_CODE, uint32(code))
		if chain != "" {
			ae.String(unix.NFTA_VERDICT_CHAIN, chain)
		}
		b, err := ae.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if c, ok := jumpChain(enc(int32(expr.VerdictJump), "r-eni-1")); !ok || c != "r-eni-1" {
		t.Errorf("jump = %q, %v", c, ok)
	}
	if _, ok := jumpChain(enc(int32(expr.VerdictGoto), "r-eni-1")); ok {
		t.Error("a goto read as a jump")
	}
	if _, ok := jumpChain(enc(int32(expr.VerdictAccept), "")); ok {
		t.Error("accept read as a jump")
	}
	if _, ok := jumpChain(netip4("10.0.0.1").AsSlice()); ok {
		t.Error("an address read as a jump")
	}
}

func TestSameBaseChainOfRegularChains(t *testing.T) {
	s, _ := aclSpec(netmodel.Routing{Subnets: []netmodel.SubnetRouting{{SubnetID: aclSubnetA, ACL: &netmodel.NetworkACL{}}}})
	var regular, base *nftables.Chain
	for _, c := range s.chains {
		if c.chain.Hooknum == nil {
			regular = c.chain
		} else {
			base = c.chain
		}
	}
	if !sameBaseChain(&nftables.Chain{Name: regular.Name}, regular) {
		t.Error("a regular chain read back differs from itself")
	}
	if sameBaseChain(&nftables.Chain{Name: base.Name}, base) || sameBaseChain(base, regular) {
		t.Error("a base chain and a regular one were taken for each other")
	}
	if !sameBaseChain(base, base) {
		t.Error("the base chain differs from itself")
	}
}
