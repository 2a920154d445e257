package hostnet

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

func TestWithInternet(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"198.18.0.0/15", true},
		{"198.19.128.0/24", true},
		{"10.0.0.0/8", true},
		{"198.19.128.0/25", false}, // smaller than a /24
		{"198.18.0.1/15", false},   // not masked
		{"2001:db8::/32", false},
	} {
		k := &Kernel{}
		err := WithInternet(netip.MustParsePrefix(tc.p))(k)
		if (err == nil) != tc.ok {
			t.Errorf("WithInternet(%s): %v", tc.p, err)
		}
	}
	if err := WithInternet(netip.Prefix{})(&Kernel{}); err == nil {
		t.Error("WithInternet took the zero prefix")
	}
	k := &Kernel{prefix: DefaultPrefix, internet: DefaultInternet}
	if got := k.InternetAddr(); got != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("InternetAddr() = %v", got)
	}
	if br, table, err := k.internetNames(); err != nil || br != "vs-inet" || table != "vs-internet" {
		t.Errorf("internetNames() = %q, %q, %v", br, table, err)
	}
	k.prefix = "vs-a-long-prefix-"
	if _, _, err := k.internetNames(); err == nil {
		t.Error("a bridge name longer than 15 characters was taken")
	}
	if host, vpc, err := igwNames("vpc-0123456789abcdef0"); err != nil || host != "vs-i0123456789a" || vpc != "vs-g0123456789a" {
		t.Errorf("igwNames = %q, %q, %v", host, vpc, err)
	}
}

func TestCheckNAT(t *testing.T) {
	internet := netip.MustParsePrefix("198.18.0.0/15")
	machine := netip.MustParseAddr("198.18.0.1")
	m := func(public, private string) netmodel.PublicMapping {
		return netmodel.PublicMapping{Public: netip.MustParseAddr(public), Private: netip.MustParseAddr(private)}
	}
	for _, tc := range []struct {
		nat  []netmodel.PublicMapping
		want string // "" for no error
	}{
		{nil, ""},
		{[]netmodel.PublicMapping{m("198.18.0.10", "10.0.1.10"), m("198.19.255.254", "10.0.1.11")}, ""},
		{[]netmodel.PublicMapping{m("203.0.113.5", "10.0.1.10")}, "not a host address"},
		{[]netmodel.PublicMapping{m("198.18.0.0", "10.0.1.10")}, "not a host address"},
		{[]netmodel.PublicMapping{m("198.19.255.255", "10.0.1.10")}, "not a host address"},
		{[]netmodel.PublicMapping{m("198.18.0.1", "10.0.1.10")}, "the machine's own"},
		{[]netmodel.PublicMapping{m("198.18.0.10", "10.0.1.10"), m("198.18.0.10", "10.0.1.11")}, "mapped twice"},
		{[]netmodel.PublicMapping{m("198.18.0.10", "10.0.1.10"), m("198.18.0.11", "10.0.1.10")}, "two public addresses"},
		{[]netmodel.PublicMapping{m("198.18.0.10", "2001:db8::1")}, "not IPv4"},
	} {
		err := checkNAT(internet, machine, tc.nat)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkNAT(%v) = %v, want %q", tc.nat, err, tc.want)
		}
	}
	if got := lastAddr4(netip.MustParsePrefix("198.19.128.0/24")); got != netip.MustParseAddr("198.19.128.255") {
		t.Errorf("lastAddr4 = %v", got)
	}
}

func TestIGWSpec(t *testing.T) {
	nat := []netmodel.PublicMapping{{Public: netip.MustParseAddr("198.18.0.10"), Private: netip.MustParseAddr("10.0.1.10")}}
	s := igwSpec("vs-g0123456789a", nat)
	want := map[string][]string{
		"prerouting":  {"iifname vs-g0123456789a dnat to ip daddr map @public"},
		"postrouting": {"oifname vs-g0123456789a snat to ip saddr map @private"},
		"forward": {
			"iifname vs-g0123456789a ct state established,related accept",
			"iifname vs-g0123456789a ct status dnat accept",
			"iifname vs-g0123456789a drop",
			"oifname vs-g0123456789a ip saddr @private accept",
			"oifname vs-g0123456789a drop",
		},
	}
	if got := s.comments(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rules %v, want %v", got, want)
	}
	if len(s.maps) != 2 || s.maps[0].set.Name != "public" || s.maps[0].elems[nat[0].Public] != nat[0].Private ||
		s.maps[1].set.Name != "private" || s.maps[1].elems[nat[0].Private] != nat[0].Public {
		t.Errorf("maps %+v %+v", s.maps[0], s.maps[1])
	}
	host := hostInternetSpec("vs-internet", "vs-inet", netip.MustParseAddr("198.18.0.1"), false)
	if got := host.comments()["forward"]; !slices.Equal(got, []string{"iifname vs-inet oifname != vs-inet drop", "oifname vs-inet iifname != vs-inet drop"}) {
		t.Errorf("host rules %v", got)
	}
	if got := host.comments()["input"]; !slices.Equal(got, []string{"iifname vs-inet ip daddr 198.18.0.1 accept",
		"iifname vs-inet ip6 daddr 2001:2:0:1200::1 accept", "iifname vs-inet icmpv6 type nd-neighbor-solicit accept",
		"iifname vs-inet icmpv6 type nd-neighbor-advert accept", "iifname vs-inet drop"}) {
		t.Errorf("host input rules %v", got)
	}
	// With egress (the operator's choice), the VPCs' IPv4 goes out
	// masqueraded and only replies come back.
	egress := hostInternetSpec("vs-internet", "vs-inet", netip.MustParseAddr("198.18.0.1"), true)
	if got := egress.comments()["forward"]; !slices.Equal(got, []string{"iifname vs-inet oifname != vs-inet accept",
		"oifname vs-inet iifname != vs-inet ct state established,related accept", "iifname vs-inet oifname != vs-inet drop (not IPv4)",
		"oifname vs-inet iifname != vs-inet drop"}) {
		t.Errorf("host rules with egress %v", got)
	}
	if got := egress.comments()["postrouting"]; !slices.Equal(got, []string{"iifname vs-inet oifname != vs-inet masquerade"}) {
		t.Errorf("host NAT with egress %v", got)
	}
}

func TestGoneTranslations(t *testing.T) {
	a := netip.MustParseAddr
	have := map[netip.Addr]netip.Addr{a("198.18.0.10"): a("10.0.1.10"), a("198.18.0.11"): a("10.0.1.11"), a("198.18.0.12"): a("10.0.1.12")}
	want := map[netip.Addr]netip.Addr{a("198.18.0.10"): a("10.0.1.10"), a("198.18.0.11"): a("10.0.1.99")}
	if got := goneTranslations(have, want); !slices.Equal(got, []netip.Addr{a("198.18.0.11"), a("198.18.0.12")}) {
		t.Errorf("goneTranslations = %v", got)
	}
	if got := goneTranslations(have, nil); len(got) != 3 {
		t.Errorf("goneTranslations(have, nil) = %v", got)
	}
}

func TestIGW6Spec(t *testing.T) {
	blocks := []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")}
	s := igw6Spec("vs-g0123456789a", blocks, []string{"vs-b0123456789a"})
	want := map[string][]string{"forward": {
		"iifname vs-g0123456789a ct state established,related accept",
		"iifname vs-g0123456789a oifname vs-b0123456789a accept",
		"iifname vs-g0123456789a drop",
		"oifname vs-g0123456789a ip6 saddr fd5e:1:2:300::/56 accept",
		"oifname vs-g0123456789a drop",
	}}
	if got := s.comments(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rules %v, want %v", got, want)
	}
	if s.table.Family != nftables.TableFamilyIPv6 || s.table.Name != igw6TableName {
		t.Errorf("table %v %s", s.table.Family, s.table.Name)
	}
	// Egress-only, and a link that carries no IPv6: nothing comes in new,
	// nothing goes out.
	s = igw6Spec("vs-g0123456789a", nil, nil)
	if got := s.comments()["forward"]; !slices.Equal(got, []string{"iifname vs-g0123456789a ct state established,related accept",
		"iifname vs-g0123456789a drop", "oifname vs-g0123456789a drop"}) {
		t.Errorf("rules without blocks or public subnets %v", got)
	}
}

func TestInternet6Addresses(t *testing.T) {
	for machine, want := range map[string]string{"198.18.0.1": "2001:2:0:1200::1", "198.19.130.1": "2001:2:0:1382::1"} {
		if got := MachineAddr6(netip.MustParseAddr(machine)); got != netip.MustParseAddr(want) || !internet6Block.Contains(got) {
			t.Errorf("MachineAddr6(%s) = %s, want %s", machine, got, want)
		}
	}
	if got := linkLocalOf(net.HardwareAddr{0x06, 0x11, 0x22, 0x33, 0x44, 0x55}); got != netip.MustParseAddr("fe80::411:22ff:fe33:4455") {
		t.Errorf("linkLocalOf = %s", got)
	}
}

func TestInternet6Used(t *testing.T) {
	route := func(dest string, target netmodel.RouteTarget) netmodel.Route {
		return netmodel.Route{Dest: netip.MustParsePrefix(dest), Target: target}
	}
	a, b := "subnet-0123456789abcdef0", "subnet-0fedcba9876543210"
	r := netmodel.Routing{IPv6: []netip.Prefix{netip.MustParsePrefix("fd5e:1:2:300::/56")}, Subnets: []netmodel.SubnetRouting{
		{SubnetID: a, Routes: []netmodel.Route{route("0.0.0.0/0", netmodel.RouteInternet), route("::/0", netmodel.RouteEgressOnly)}},
		{SubnetID: b, Routes: []netmodel.Route{route("2001:db8::/32", netmodel.RouteInternet)}},
	}}
	brB, _ := bridgeName(b)
	if !internet6Used(r) || !slices.Equal(publicBridges6(r), []string{brB}) {
		t.Errorf("internet6Used %v, public bridges %v; want true, [%s]", internet6Used(r), publicBridges6(r), brB)
	}
	r.Subnets[1].Routes[0].Target = netmodel.RouteBlackhole
	if !internet6Used(r) || len(publicBridges6(r)) != 0 {
		t.Errorf("egress-only only: internet6Used %v, public bridges %v", internet6Used(r), publicBridges6(r))
	}
	r.Subnets = r.Subnets[:0:0]
	if internet6Used(r) {
		t.Error("IPv6 used without IPv6 routes to a gateway")
	}
}
