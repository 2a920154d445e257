package hostnet

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// firewallDiff is the change from one firewall to another, as the domain
// computes it from its kept state (the test computes it from the two whole
// firewalls, to drive ChangeFirewall with any pair).
func firewallDiff(old, next netmodel.Firewall) netmodel.FirewallChange {
	ch := netmodel.FirewallChange{VPCID: next.VPCID, IPv6: len(next.IPv6) > 0}
	byID := func(fw netmodel.Firewall) map[string]*netmodel.FirewallENI {
		out := map[string]*netmodel.FirewallENI{}
		for i := range fw.ENIs {
			out[fw.ENIs[i].ID] = &fw.ENIs[i]
		}
		return out
	}
	o, n := byID(old), byID(next)
	ch.FlowLogged = slices.ContainsFunc(next.ENIs, func(e netmodel.FirewallENI) bool { return len(e.FlowLogs) > 0 })
	for _, id := range slices.Sorted(maps.Keys(mergeKeys(o, n))) {
		if !reflect.DeepEqual(o[id], n[id]) {
			ch.ENIs = append(ch.ENIs, netmodel.ENIChange{Old: o[id], New: n[id]})
		}
	}
	for _, g := range slices.Sorted(maps.Keys(mergeKeys(old.Members, next.Members))) {
		before, wasThere := old.Members[g]
		after, isThere := next.Members[g]
		gc := netmodel.GroupChange{ID: g, Before: wasThere, After: isThere}
		for _, a := range after {
			if !slices.Contains(before, a) {
				gc.Add = append(gc.Add, a)
			}
		}
		for _, a := range before {
			if !slices.Contains(after, a) {
				gc.Del = append(gc.Del, a)
			}
		}
		slices.SortFunc(gc.Add, netip.Addr.Compare)
		slices.SortFunc(gc.Del, netip.Addr.Compare)
		if gc.Before != gc.After || len(gc.Add)+len(gc.Del) > 0 {
			ch.Groups = append(ch.Groups, gc)
		}
	}
	return ch
}

func mergeKeys[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// listRuleset is the VPC namespace's ruleset as `nft -j list ruleset` prints
// it, in a form where only what the kernel enforces counts: handles dropped,
// sets and chains in name order, set elements sorted, rules in their chain's
// order.
func (lab *sgLab) listRuleset(t *testing.T) []string {
	t.Helper()
	ns, err := lab.k.nsName(lab.vpc.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset").Output()
	if err != nil {
		t.Fatalf("nft list ruleset: %v", err)
	}
	var doc struct {
		Nftables []map[string]map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("nft -j: %v", err)
	}
	var lines []string
	ruleIndex := map[string]int{}
	for _, o := range doc.Nftables {
		for kind, v := range o {
			if kind == "metainfo" {
				continue
			}
			delete(v, "handle")
			key := fmt.Sprintf("%s %v %v %v", kind, v["family"], v["table"], v["name"])
			switch kind {
			case "set", "map":
				if el, ok := v["elem"].([]any); ok {
					slices.SortFunc(el, func(a, b any) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
				}
			case "rule":
				chain := fmt.Sprintf("%v %v %v", v["family"], v["table"], v["chain"])
				key = fmt.Sprintf("rule %s #%04d", chain, ruleIndex[chain])
				ruleIndex[chain]++
			}
			b, _ := json.Marshal(v)
			lines = append(lines, key+" "+string(b))
		}
	}
	slices.Sort(lines)
	return lines
}

// A sequence of changes leaves exactly the ruleset that a full replace of the
// last firewall makes (so changes can never drift from what SetFirewall
// means), and real packets obey it. Dual stack, every ENI and group member
// has an address of each family, so every step changes both families' maps
// and sets; some steps change one family alone. IPv4-only, the same steps
// without the IPv6 block and addresses (the IPv6 rules stay, as a group's
// may in any VPC): the tables hold nothing of IPv6, and no IPv6 gets
// through.
func TestFirewallChangesEqualAFullReplace(t *testing.T) {
	t.Parallel()
	t.Run("dual-stack", func(t *testing.T) {
		t.Parallel()
		testChangesEqualAFullReplace(t, false)
	})
	t.Run("IPv4-only", func(t *testing.T) {
		t.Parallel()
		testChangesEqualAFullReplace(t, true)
	})
}

// ipv4Only is fw in a VPC without IPv6 blocks, as the domain gives it: no
// IPv6 block, and no IPv6 address of an ENI or a group member. The rules
// stay as they are.
func ipv4Only(fw netmodel.Firewall) netmodel.Firewall {
	fw = fw.Clone()
	fw.IPv6 = nil
	is6 := func(a netip.Addr) bool { return a.Is6() }
	for i := range fw.ENIs {
		fw.ENIs[i].Addrs = slices.DeleteFunc(slices.Clone(fw.ENIs[i].Addrs), is6)
	}
	for g, m := range fw.Members {
		fw.Members[g] = slices.DeleteFunc(m, is6)
	}
	return fw
}

// ipv6Pieces are the lines of a listed ruleset (listRuleset) that are of
// IPv6: sets, maps and matches of its addresses, its protocol, ICMPv6.
func ipv6Pieces(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "ip6") || strings.Contains(l, "ipv6") {
			out = append(out, l)
		}
	}
	return out
}

func testChangesEqualAFullReplace(t *testing.T, v4only bool) {
	lab := newSGLab(t)
	ctx := context.Background()
	logged := []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}
	fromClients := func(port int) netmodel.FirewallRule {
		return netmodel.FirewallRule{ID: fmt.Sprintf("sgr-g%d", port), Proto: netmodel.ProtoTCP, From: port, To: port, PeerGroup: "sg-clients"}
	}
	echo6 := netmodel.FirewallRule{ID: "sgr-echo6", Proto: netmodel.ProtoICMPv6, From: 128, To: -1, CIDR: lab.ipv6}
	without := func(fw netmodel.Firewall, name string) netmodel.Firewall {
		fw.ENIs = slices.DeleteFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return e.ID == lab.enis[name].ID })
		return fw
	}
	steps := []netmodel.Firewall{
		lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "b": {Ingress: []netmodel.FirewallRule{fromClients(80)}}, "c": {Egress: allOut}},
			map[string][]string{"sg-clients": {"a"}}),
		// c joins the group: one set element.
		lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "b": {Ingress: []netmodel.FirewallRule{fromClients(80)}}, "c": {Egress: allOut}},
			map[string][]string{"sg-clients": {"a", "c"}}),
		// b is flow-logged and opens 81 (and 81 over IPv6 from subnet 2,
		// ICMPv6 echo from the VPC); a leaves the group.
		lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46}, "b": {Ingress: []netmodel.FirewallRule{fromClients(80), tcpFrom(81, "0.0.0.0/0"), tcpFrom(81, "fd5e:1:2:302::/64"), echo6}, FlowLogs: logged}, "c": {Egress: allOut46}},
			map[string][]string{"sg-clients": {"c"}}),
		// c goes; no rule references the group any more; a gets a second
		// address of each family.
		func() netmodel.Firewall {
			fw := without(lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46}, "b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "10.0.1.0/24"), tcpFrom(80, "fd5e:1:2:301::/64")}, FlowLogs: logged}}, nil), "c")
			fw.ENIs[0].Addrs = []netip.Addr{lab.addrs["a"], netip.MustParseAddr("10.0.1.20"), lab.addrs["a6"], netip.MustParseAddr("fd5e:1:2:301::20")}
			return fw
		}(),
		// a's second IPv6 address goes, its IPv4 one stays; c comes back
		// without its source/dest check and without IPv6, in a new group
		// that a references.
		func() netmodel.Firewall {
			fw := lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46, Ingress: []netmodel.FirewallRule{{ID: "sgr-x", Proto: -1, From: -1, To: -1, PeerGroup: "sg-x"}}}, "b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "10.0.1.0/24")}}, "c": {Egress: allOut}},
				map[string][]string{"sg-x": {"c"}})
			fw.ENIs[0].Addrs = []netip.Addr{lab.addrs["a"], netip.MustParseAddr("10.0.1.20"), lab.addrs["a6"]}
			fw.ENIs[2].SourceDestCheck = false
			fw.ENIs[2].Addrs = []netip.Addr{lab.addrs["c"]}
			fw.Members["sg-x"] = []netip.Addr{lab.addrs["c"]}
			return fw
		}(),
		// c's IPv6 address comes back: in its maps and in the group's IPv6 set.
		func() netmodel.Firewall {
			fw := lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46, Ingress: []netmodel.FirewallRule{{ID: "sgr-x", Proto: -1, From: -1, To: -1, PeerGroup: "sg-x"}}}, "b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "10.0.1.0/24")}}, "c": {Egress: allOut}},
				map[string][]string{"sg-x": {"c"}})
			fw.ENIs[0].Addrs = []netip.Addr{lab.addrs["a"], netip.MustParseAddr("10.0.1.20"), lab.addrs["a6"]}
			fw.ENIs[2].SourceDestCheck = false
			return fw
		}(),
		// The end: b admits 80 from the group's members, a alone, over both
		// families, and ICMPv6 echo.
		lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46}, "b": {Ingress: []netmodel.FirewallRule{fromClients(80), echo6}, Egress: allOut}, "c": {Egress: allOut46}},
			map[string][]string{"sg-clients": {"a"}}),
	}
	for i := range steps {
		slices.SortFunc(steps[i].ENIs, func(a, b netmodel.FirewallENI) int { return cmp.Compare(a.ID, b.ID) })
		if v4only {
			steps[i] = ipv4Only(steps[i])
		}
	}
	must(t, lab.k.SetFirewall(ctx, steps[0]))
	for i := 1; i < len(steps); i++ {
		ch := firewallDiff(steps[i-1], steps[i])
		if got, err := steps[i-1].Apply(ch); err != nil || !reflect.DeepEqual(got, steps[i]) {
			t.Fatalf("step %d: the test's change does not lead to the step: %v", i, err)
		}
		must(t, lab.k.ChangeFirewall(ctx, ch))
		changed := lab.listRuleset(t)
		must(t, lab.k.SetFirewall(ctx, steps[i]))
		replaced := lab.listRuleset(t)
		if !slices.Equal(changed, replaced) {
			t.Fatalf("step %d: the ruleset after the change differs from a full replace:\n%s", i, lineDiff(changed, replaced))
		}
		if v6 := ipv6Pieces(replaced); v4only && len(v6) > 0 {
			t.Fatalf("step %d: the tables of a VPC without IPv6 hold IPv6:\n%s", i, strings.Join(v6, "\n"))
		} else if !v4only && len(v6) == 0 {
			t.Fatalf("step %d: the tables of a dual-stack VPC hold nothing of IPv6", i)
		}
		// Go on from what the change made.
		must(t, lab.k.SetFirewall(ctx, steps[i-1]))
		must(t, lab.k.ChangeFirewall(ctx, ch))
		if got := lab.captures(); got != ch.FlowLogged {
			t.Fatalf("step %d: flow capture running=%v, want %v", i, got, ch.FlowLogged)
		}
	}
	// Without IPv6 in the VPC the hosts' IPv6 addresses (the lab's kernel
	// objects are dual stack either way) reach nothing: their ports drop it.
	lab.expect(t,
		flow{"a", "b", 80, true},
		flow{"a", "b", 81, false},
		flow{"c", "b", 80, false},
		flow{"a", "b6", 80, !v4only},
		flow{"a", "b6", 81, false},
		flow{"c", "b6", 80, false},
		flow{"c", "a6", 80, false},
	)
	if v4only {
		if err := ping(t, lab.k.NetnsPath(lab.hosts["c"]), lab.addrs["b6"].String()); err == nil {
			t.Error("c → b6 answered in a VPC without IPv6")
		}
	} else if err := pingOK(t, lab.k.NetnsPath(lab.hosts["c"]), lab.addrs["b6"].String()); err != nil {
		t.Errorf("c → b6: %v, want an answer", err)
	}
}

// captures reports whether the lab's VPC has a flow capture running.
func (lab *sgLab) captures() bool {
	lab.k.mu.Lock()
	defer lab.k.mu.Unlock()
	return len(lab.k.captures) > 0
}

// lineDiff lists the lines only one side has.
func lineDiff(a, b []string) string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// A change that the kernel refuses changes nothing, flow capture included.
func TestFirewallChangeIsAtomic(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	base := lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}}}, nil)
	must(t, lab.k.SetFirewall(ctx, base))
	before := lab.listRuleset(t)
	// b gets a flow log and a rule, and the change also names a set to
	// remove that does not exist: the kernel refuses the transaction.
	next := lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "b": {Ingress: []netmodel.FirewallRule{tcpFrom(81, "0.0.0.0/0")}, FlowLogs: []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}}}, nil)
	ch := firewallDiff(base, next)
	ch.Groups = append(ch.Groups, netmodel.GroupChange{ID: "sg-none", Before: true})
	if err := lab.k.ChangeFirewall(ctx, ch); err == nil {
		t.Fatal("a change removing a set that does not exist was accepted")
	}
	if after := lab.listRuleset(t); !slices.Equal(before, after) {
		t.Fatalf("a refused change changed the ruleset:\n%s", lineDiff(before, after))
	}
	if lab.captures() {
		t.Error("a refused change left a flow capture running")
	}
	lab.expect(t, flow{"a", "b", 80, true}, flow{"a", "b", 81, false})
}
