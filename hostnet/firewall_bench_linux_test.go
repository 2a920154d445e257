package hostnet

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// thousandRules is an ingress rule set whose only admitting rule for port 80
// comes last, after 999 that do not match: the worst case for a packet.
func thousandRules() []netmodel.FirewallRule {
	rules := make([]netmodel.FirewallRule, 0, 1000)
	for i := range 999 {
		rules = append(rules, netmodel.FirewallRule{ID: fmt.Sprintf("sgr-%d", i), Proto: netmodel.ProtoTCP, From: 1000 + i, To: 1000 + i, CIDR: pfx("10.0.0.0/16")})
	}
	return append(rules, tcpFrom(80, "0.0.0.0/0"))
}

// BenchmarkFirewallUpdate measures one rule change on the wire: a whole VPC
// ruleset (three ENIs, one with 1,000 rules) replaced in one transaction.
func BenchmarkFirewallUpdate(b *testing.B) {
	lab := newSGLab(b)
	ctx := context.Background()
	rules := map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "b": {Ingress: thousandRules(), Egress: allOut}, "c": {Egress: allOut}}
	fw := lab.fw(rules, nil)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		fw.ENIs[1].Ingress[0].From = 1000 + i%500 // a different ruleset each time
		if err := lab.k.SetFirewall(ctx, fw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/update")
}

// BenchmarkConnectionsThrough1000Rules measures new TCP connections per second
// from a to b when b's group has 1,000 rules and the admitting one is last.
func BenchmarkConnectionsThrough1000Rules(b *testing.B) {
	lab := newSGLab(b)
	must(b, lab.k.SetFirewall(context.Background(), lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut}, "b": {Ingress: thousandRules(), Egress: allOut},
	}, nil)))
	benchConnections(b, lab)
}

// BenchmarkConnectionsThrough1000MemberGroup measures new TCP connections per
// second from a to b when b admits a group reference of 1,000 members.
func BenchmarkConnectionsThrough1000MemberGroup(b *testing.B) {
	lab := newSGLab(b)
	fw := lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut},
		"b": {Ingress: []netmodel.FirewallRule{{ID: "sgr-g", Proto: netmodel.ProtoTCP, From: 80, To: 80, PeerGroup: "sg-big"}}, Egress: allOut},
	}, map[string][]string{"sg-big": {"a"}})
	for i := range 999 {
		fw.Members["sg-big"] = append(fw.Members["sg-big"], netip.AddrFrom4([4]byte{10, 0, 100 + byte(i/250), byte(1 + i%250)}))
	}
	must(b, lab.k.SetFirewall(context.Background(), fw))
	benchConnections(b, lab)
}

func benchConnections(b *testing.B, lab *sgLab) {
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := lab.dial("a", "b", 80, patience); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "conns/s")
}
