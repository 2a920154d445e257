package hostnet

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// BenchmarkFirewallChange measures what one ENI costs the kernel's firewall
// when it comes and when it goes (ChangeFirewall), in a VPC whose ENIs are
// all in one self-referencing group, at 200 and at 2,000 ENIs; and, for
// comparison, the whole-VPC replace (SetFirewall) every change cost before.
func BenchmarkFirewallChange(b *testing.B) {
	requireRoot(b)
	k, err := New(WithPrefix(testPrefix(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close() })
	ctx := context.Background()
	for _, n := range []int{200, 2000} {
		vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
		must(b, k.EnsureVPC(ctx, vpc))
		fw := groupFirewall(vpc, n)
		must(b, k.SetFirewall(ctx, fw))
		extra := groupENI(n)
		come := netmodel.FirewallChange{VPCID: vpc.ID, ENIs: []netmodel.ENIChange{{New: &extra}},
			Groups: []netmodel.GroupChange{{ID: "sg-self", Before: true, After: true, Add: extra.Addrs}}}
		goes := netmodel.FirewallChange{VPCID: vpc.ID, ENIs: []netmodel.ENIChange{{Old: &extra}},
			Groups: []netmodel.GroupChange{{ID: "sg-self", Before: true, After: true, Del: extra.Addrs}}}
		b.Run(fmt.Sprintf("enis=%d/change", n), func(b *testing.B) {
			start := time.Now()
			for range b.N {
				must(b, k.ChangeFirewall(ctx, come))
				must(b, k.ChangeFirewall(ctx, goes))
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(2*b.N)/1000, "ms/change")
		})
		b.Run(fmt.Sprintf("enis=%d/replace", n), func(b *testing.B) {
			start := time.Now()
			for range b.N {
				must(b, k.SetFirewall(ctx, fw))
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/replace")
		})
		must(b, k.DeleteVPC(ctx, vpc.ID))
	}
}

// groupFirewall is a VPC of n ENIs, all in sg-self, which admits TCP 80 from
// itself and sends anywhere.
func groupFirewall(vpc netmodel.NetVPC, n int) netmodel.Firewall {
	fw := netmodel.Firewall{VPCID: vpc.ID, CIDR: vpc.CIDR, Members: map[string][]netip.Addr{"sg-self": {}}}
	for i := range n {
		e := groupENI(i)
		fw.ENIs = append(fw.ENIs, e)
		fw.Members["sg-self"] = append(fw.Members["sg-self"], e.Addrs...)
	}
	slices.SortFunc(fw.ENIs, func(a, b netmodel.FirewallENI) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(fw.Members["sg-self"], netip.Addr.Compare)
	return fw
}

// groupENI is the i-th ENI of groupFirewall.
func groupENI(i int) netmodel.FirewallENI {
	return netmodel.FirewallENI{
		ID: fmt.Sprintf("eni-%05x%012x", i, i), MAC: net.HardwareAddr{0x0a, 0, 0, 0, byte(i >> 8), byte(i)},
		Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})}, SourceDestCheck: true,
		Ingress: []netmodel.FirewallRule{{ID: "sgr-self", GroupID: "sg-self", Proto: netmodel.ProtoTCP, From: 80, To: 80, PeerGroup: "sg-self"}},
		Egress:  allOut,
	}
}
