package hostnet

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

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
	if got := host.comments()["input"]; !slices.Equal(got, []string{"iifname vs-inet ip daddr 198.18.0.1 accept", "iifname vs-inet drop"}) {
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
