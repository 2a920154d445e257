package hostnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// sgLab is a dual-stack VPC with two subnets and three hosts, each with one
// ENI, that the firewall tests send real TCP between: a and b share subnet 1,
// c is in subnet 2. A host's name (a) stands for its IPv4 address, the name
// and 6 (a6) for its IPv6 address.
type sgLab struct {
	k       *Kernel
	vpc     netmodel.NetVPC
	ipv6    netip.Prefix               // the VPC's IPv6 block
	hosts   map[string]string          // name → host ID
	enis    map[string]netmodel.NetENI // name → its ENI
	addrs   map[string]netip.Addr      // a, a6 → a's IPv4 and IPv6 address
	packets chan netmodel.FlowPacket
}

// hostOf is the host an address name (a, a6) is of.
func hostOf(name string) string { return strings.TrimSuffix(name, "6") }

func newSGLab(t testing.TB) *sgLab {
	t.Helper()
	requireRoot(t)
	p := testPrefix(t)
	lab := &sgLab{hosts: map[string]string{}, enis: map[string]netmodel.NetENI{}, addrs: map[string]netip.Addr{}, packets: make(chan netmodel.FlowPacket, 1024)}
	k, err := New(WithPrefix(p), WithFlowSink(func(fp netmodel.FlowPacket) {
		select {
		case lab.packets <- fp:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	lab.k = k
	ctx := context.Background()
	lab.vpc = netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	lab.ipv6 = pfx("fd5e:1:2:300::/56")
	sub1 := netmodel.NetSubnet{ID: newID("subnet"), VPCID: lab.vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24"), Gateway6: pfx("fd5e:1:2:301::1/64")}
	sub2 := netmodel.NetSubnet{ID: newID("subnet"), VPCID: lab.vpc.ID, CIDR: pfx("10.0.2.0/24"), Gateway: pfx("10.0.2.1/24"), Gateway6: pfx("fd5e:1:2:302::1/64")}
	must(t, k.EnsureVPC(ctx, lab.vpc))
	must(t, k.EnsureSubnet(ctx, sub1))
	must(t, k.EnsureSubnet(ctx, sub2))
	for name, at := range map[string]struct {
		sub         netmodel.NetSubnet
		addr, addr6 string
	}{"a": {sub1, "10.0.1.10/24", "fd5e:1:2:301::10/64"}, "b": {sub1, "10.0.1.11/24", "fd5e:1:2:301::11/64"}, "c": {sub2, "10.0.2.10/24", "fd5e:1:2:302::10/64"}} {
		host := newID("i")
		must(t, k.EnsureHost(ctx, host))
		e := netmodel.NetENI{ID: newID("eni"), VPCID: lab.vpc.ID, SubnetID: at.sub.ID, MAC: newMAC(),
			Addrs: []netip.Prefix{pfx(at.addr)}, Gateway: at.sub.Gateway.Addr(),
			Addrs6: []netip.Prefix{pfx(at.addr6)}, Gateway6: at.sub.Gateway6.Addr(), Host: host}
		must(t, k.EnsureENI(ctx, e))
		lab.hosts[name], lab.enis[name] = host, e
		lab.addrs[name], lab.addrs[name+"6"] = pfx(at.addr).Addr(), pfx(at.addr6).Addr()
	}
	// Every host serves TCP on 80 and 81, on both its addresses.
	for name := range lab.addrs {
		for _, port := range []int{80, 81} {
			lab.serve(t, name, port)
		}
	}
	return lab
}

// serve answers "hello from HOST" on an address (a, a6) and port, until the test ends.
func (lab *sgLab) serve(t testing.TB, name string, port int) {
	t.Helper()
	serveIn(t, lab.k.NetnsPath(lab.hosts[hostOf(name)]), lab.addrs[name], port, "hello from "+hostOf(name)+"\n")
}

// serveIn answers greeting to every TCP connection to addr:port inside the
// namespace at nsPath, until the test ends.
func serveIn(t testing.TB, nsPath string, addr netip.Addr, port int, greeting string) {
	t.Helper()
	var ln net.Listener
	err := inNetns(nsPath, func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, greeting)
			c.Close()
		}
	}()
}

// Waits of the firewall tests. patience bounds what must happen (a connection
// that the rules admit): generous, since it is only reached when the thing
// never happens and a busy machine may be seconds late. dropWait is how long a
// connection that must be dropped is given to prove otherwise; a late answer
// there could only hide a failure, never make one, and the checks of one
// ruleset share the wait (expect).
const (
	patience = 2 * time.Minute
	dropWait = time.Second
)

// dial connects from one host to an address (b, b6) and port of another,
// giving up after timeout, and reads the greeting. It only ever sends inside
// the lab's own namespaces.
func (lab *sgLab) dial(from, to string, port int, timeout time.Duration) error {
	var conn net.Conn
	err := inNetns(lab.k.NetnsPath(lab.hosts[from]), func() (err error) {
		conn, err = net.DialTimeout("tcp", netip.AddrPortFrom(lab.addrs[to], uint16(port)).String(), timeout)
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	if want := "hello from " + hostOf(to) + "\n"; string(b) != want {
		return fmt.Errorf("read %q, want %q", b, want)
	}
	return nil
}

// fw is a firewall with one entry per lab ENI, with both its addresses; set
// fills in rules by name. A group's members are hosts, with both their
// addresses, as the domain gives them.
func (lab *sgLab) fw(set map[string]netmodel.FirewallENI, members map[string][]string) netmodel.Firewall {
	fw := netmodel.Firewall{VPCID: lab.vpc.ID, CIDR: lab.vpc.CIDR, IPv6: []netip.Prefix{lab.ipv6}, Members: map[string][]netip.Addr{}}
	for _, name := range []string{"a", "b", "c"} {
		e := set[name]
		n := lab.enis[name]
		e.ID, e.MAC, e.SourceDestCheck = n.ID, n.MAC, true
		e.Addrs = []netip.Addr{lab.addrs[name], lab.addrs[name+"6"]}
		fw.ENIs = append(fw.ENIs, e)
	}
	for g, names := range members {
		fw.Members[g] = []netip.Addr{}
		for _, n := range names {
			fw.Members[g] = append(fw.Members[g], lab.addrs[n], lab.addrs[n+"6"])
		}
		slices.SortFunc(fw.Members[g], netip.Addr.Compare)
	}
	return fw
}

var (
	allOut = []netmodel.FirewallRule{{ID: "sgr-out", Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")}}
	// allOut46 lets out everything of both families.
	allOut46 = append(slices.Clone(allOut), netmodel.FirewallRule{ID: "sgr-out6", Proto: -1, From: -1, To: -1, CIDR: pfx("::/0")})
	tcpFrom  = func(port int, peer string) netmodel.FirewallRule {
		return netmodel.FirewallRule{ID: fmt.Sprintf("sgr-%d", port), Proto: netmodel.ProtoTCP, From: port, To: port, CIDR: pfx(peer)}
	}
)

// flow is a connection a test expects admitted (open) or dropped.
type flow struct {
	from, to string
	port     int
	open     bool
}

// expect checks the flows at once. An admitted one is tried again until it
// answers (a SYN may be lost to a busy machine, not to the rules), within
// patience; a dropped one gets one try of dropWait, and all share that wait.
func (lab *sgLab) expect(t *testing.T, flows ...flow) {
	t.Helper()
	errs := make([]error, len(flows))
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !f.open {
				errs[i] = lab.dial(f.from, f.to, f.port, dropWait)
				return
			}
			for deadline := time.Now().Add(patience); ; {
				if errs[i] = lab.dial(f.from, f.to, f.port, 2*time.Second); errs[i] == nil || time.Now().After(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, f := range flows {
		switch {
		case f.open && errs[i] != nil:
			t.Errorf("%s → %s:%d: %v, want it admitted", f.from, f.to, f.port, errs[i])
		case !f.open && errs[i] == nil:
			t.Errorf("%s → %s:%d answered, want it dropped", f.from, f.to, f.port)
		}
	}
}

func TestFirewallIngressByCIDRAndStatefulReplies(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	// b admits 80 from anywhere and has no egress rule at all: its answers are
	// replies, which pass by conntrack alone.
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut},
		"b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}},
		"c": {Egress: allOut},
	}, nil)))
	lab.expect(t,
		flow{"a", "b", 80, true},  // same subnet, bridged
		flow{"c", "b", 80, true},  // other subnet, routed
		flow{"a", "b", 81, false}, // no rule
		flow{"b", "a", 80, false}, // b may not send anything new
		flow{"a", "c", 80, false}, // c admits nothing
	)

	// A narrower CIDR admits c's subnet only, on 81.
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut},
		"b": {Ingress: []netmodel.FirewallRule{tcpFrom(81, "10.0.2.0/24")}},
		"c": {Egress: allOut},
	}, nil)))
	lab.expect(t,
		flow{"c", "b", 81, true},
		flow{"a", "b", 81, false},
		flow{"a", "b", 80, false}, // revoked: new connections stop at once
	)
}

func TestFirewallGroupReference(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	byGroup := netmodel.FirewallRule{ID: "sgr-g", Proto: netmodel.ProtoTCP, From: 80, To: 81, PeerGroup: "sg-clients"}
	rules := map[string]netmodel.FirewallENI{
		"a": {Egress: allOut},
		"b": {Ingress: []netmodel.FirewallRule{byGroup}, Egress: allOut},
		"c": {Egress: allOut},
	}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, map[string][]string{"sg-clients": {"a", "c"}})))
	lab.expect(t,
		flow{"a", "b", 81, true},
		flow{"c", "b", 80, true},
	)
	// a leaves the group: it is no longer admitted, c still is.
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, map[string][]string{"sg-clients": {"c"}})))
	lab.expect(t,
		flow{"a", "b", 81, false},
		flow{"c", "b", 81, true},
	)
}

func TestFirewallEgressRules(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	open := []netmodel.FirewallRule{{ID: "sgr-in", Proto: -1, From: -1, To: -1, CIDR: pfx("10.0.0.0/16")}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: []netmodel.FirewallRule{{ID: "sgr-e", Proto: netmodel.ProtoTCP, From: 80, To: 80, CIDR: pfx("10.0.1.11/32")}}},
		"b": {Ingress: open},
		"c": {Ingress: open},
	}, nil)))
	lab.expect(t,
		flow{"a", "b", 80, true},
		flow{"a", "b", 81, false}, // port not in a's egress
		flow{"a", "c", 80, false}, // address not in a's egress
	)
}

func TestFirewallKeepsEstablishedFlows(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	// A long-lived connection: c's echo server on 82 keeps it open.
	var ln net.Listener
	must(t, inNetns(lab.k.NetnsPath(lab.hosts["c"]), func() (err error) {
		ln, err = net.Listen("tcp4", lab.addrs["c"].String()+":82")
		return err
	}))
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	rules := map[string]netmodel.FirewallENI{"a": {Egress: allOut}, "c": {Ingress: []netmodel.FirewallRule{tcpFrom(82, "0.0.0.0/0")}}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	var conn net.Conn
	for deadline := time.Now().Add(patience); conn == nil; {
		err := inNetns(lab.k.NetnsPath(lab.hosts["a"]), func() (err error) {
			conn, err = net.DialTimeout("tcp4", lab.addrs["c"].String()+":82", 2*time.Second)
			return err
		})
		if err != nil && time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	defer conn.Close()
	echo := func() error {
		conn.SetDeadline(time.Now().Add(patience))
		if _, err := conn.Write([]byte("x")); err != nil {
			return err
		}
		b := make([]byte, 1)
		_, err := io.ReadFull(conn, b)
		return err
	}
	must(t, echo())
	// The rule goes (and a's egress with it): the admitted flow goes on.
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{}, nil)))
	if err := echo(); err != nil {
		t.Errorf("an established connection broke when rules changed: %v", err)
	}
}

func TestFirewallAntiSpoofing(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	open := []netmodel.FirewallRule{{ID: "sgr-in", Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")}, {ID: "sgr-in6", Proto: -1, From: -1, To: -1, CIDR: pfx("::/0")}}
	rules := map[string]netmodel.FirewallENI{"a": {Egress: allOut46, Ingress: open}, "b": {Egress: allOut46, Ingress: open}, "c": {Egress: allOut46, Ingress: open}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	lab.expect(t, flow{"a", "b", 80, true}, flow{"a", "b6", 80, true})

	// a takes an address of each family that is not its ENI's and sends
	// from it, to b's address of that family.
	aPath := lab.k.NetnsPath(lab.hosts["a"])
	run := func(argv ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", lab.k.prefix + lab.hosts["a"]}, argv...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", argv, err, out)
		}
	}
	foreign := []struct {
		addr netip.Prefix
		to   string
	}{{pfx("10.0.1.99/24"), "b"}, {pfx("fd5e:1:2:301::99/64"), "b6"}}
	for _, f := range foreign {
		run("addr", "add", f.addr.String(), "dev", "eth0", "nodad")
	}
	spoofed := func(src netip.Addr, to string) error {
		var conn net.Conn
		err := inNetns(aPath, func() (err error) {
			d := net.Dialer{Timeout: dropWait, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
			conn, err = d.Dial("tcp", netip.AddrPortFrom(lab.addrs[to], 80).String())
			return err
		})
		if err == nil {
			conn.Close()
		}
		return err
	}
	// b's flow log shows what reached b's security groups: the spoofed SYN
	// must not, since the bridge port drops it first (for IPv6 the neighbour
	// solicitation a sends from the address is dropped as well). reachedB
	// sends it (again and again when it must arrive, until patience runs
	// out) and reports whether the capture saw it; captures flush within a
	// second.
	reachedB := func(src netip.Addr, to string, want bool) bool {
		for deadline := time.Now().Add(patience); ; {
			run("neigh", "flush", "all")
			spoofed(src, to)
			wait := time.After(2 * dropWait)
			for waiting := true; waiting; {
				select {
				case p := <-lab.packets:
					if p.Src == src {
						return true
					}
				case <-wait:
					waiting = false
				}
			}
			if !want || time.Now().After(deadline) {
				return false
			}
		}
	}
	logged := func(srcDstCheck bool) netmodel.Firewall {
		fw := lab.fw(rules, nil)
		fw.ENIs[0].SourceDestCheck = srcDstCheck
		fw.ENIs[1].FlowLogs = []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}
		return fw
	}
	must(t, lab.k.SetFirewall(ctx, logged(true)))
	for _, f := range foreign {
		if reachedB(f.addr.Addr(), f.to, false) {
			t.Errorf("a sent from %s, which is not its own, and it reached b", f.addr.Addr())
		}
	}
	// With the source/dest check off (as for a NAT instance) the port lets it
	// through. (b's answer cannot come back: the VPC gives these addresses to
	// no ENI.)
	must(t, lab.k.SetFirewall(ctx, logged(false)))
	for _, f := range foreign {
		if !reachedB(f.addr.Addr(), f.to, true) {
			t.Errorf("source/dest check off, yet a's packets from %s were dropped at its port", f.addr.Addr())
		}
	}
	// A forged MAC never passes.
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	for _, f := range foreign {
		run("addr", "del", f.addr.String(), "dev", "eth0")
	}
	run("link", "set", "eth0", "address", "0a:00:00:00:00:99")
	run("neigh", "flush", "all")
	lab.expect(t, flow{"a", "b", 80, false}, flow{"a", "b6", 80, false})
}

// An ENI may advertise (neighbour advertisement) only its own addresses: a
// proxy NDP entry makes a answer the router's solicitations for an address of
// b's, from a's own address; the router must not learn a's MAC for it. With
// the source/dest check off, as for ARP, it may: which shows that the
// advertisement is what the check drops.
func TestFirewallNeighborAdvertisementSpoofing(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	// b's second IPv6 address: no host holds it, so only a answers for it.
	victim := netip.MustParseAddr("fd5e:1:2:301::99")
	firewall := func(srcDstCheck bool) netmodel.Firewall {
		fw := lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46}, "b": {Egress: allOut46}}, nil)
		fw.ENIs[0].SourceDestCheck = srcDstCheck
		fw.ENIs[1].Addrs = append(fw.ENIs[1].Addrs, victim)
		return fw
	}
	must(t, lab.k.SetFirewall(ctx, firewall(true)))

	aNS, vpcNS := lab.k.prefix+lab.hosts["a"], lab.k.prefix+lab.vpc.ID
	ip := func(ns string, argv ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, argv...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", argv, err, out)
		}
	}
	must(t, inNetns(lab.k.NetnsPath(lab.hosts["a"]), func() error {
		return errors.Join(
			writeSysctl("net/ipv6/conf/all/forwarding", "1"),
			writeSysctl("net/ipv6/conf/eth0/proxy_ndp", "1"),
			writeSysctl("net/ipv6/neigh/eth0/proxy_delay", "0"))
	}))
	ip(aNS, "-6", "neigh", "add", "proxy", victim.String(), "dev", "eth0")

	vpcPath := lab.k.NetnsPath(lab.vpc.ID)
	h := handleIn(t, vpcPath)
	brName, _ := bridgeName(lab.enis["a"].SubnetID)
	br := mustLink(t, h, brName)
	// routerLearns makes the router solicit addr (it pings it once) and
	// waits until it has an answer or gives up (after its three
	// solicitations): the MAC it learnt, or nil.
	routerLearns := func(addr netip.Addr) net.HardwareAddr {
		t.Helper()
		ip(vpcNS, "-6", "neigh", "flush", "dev", brName)
		ping(t, vpcPath, addr.String()) // answered or not: the solicitation is what counts
		for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			neighs, err := h.NeighList(br.Attrs().Index, netlink.FAMILY_V6)
			must(t, err)
			for _, n := range neighs {
				if a, _ := netip.AddrFromSlice(n.IP); a == addr && n.State&netlink.NUD_INCOMPLETE == 0 {
					if n.State&netlink.NUD_FAILED != 0 {
						return nil
					}
					return n.HardwareAddr
				}
			}
		}
		t.Fatalf("the router neither resolved %s nor gave up", addr)
		return nil
	}
	aMAC := lab.enis["a"].MAC
	if got := routerLearns(lab.addrs["a6"]); !bytes.Equal(got, aMAC) {
		t.Errorf("the router learnt %v for a's own address, want %v", got, aMAC)
	}
	if got := routerLearns(victim); got != nil {
		t.Errorf("a advertised %s, an address of b's, and the router learnt %v for it", victim, got)
	}
	must(t, lab.k.SetFirewall(ctx, firewall(false)))
	if got := routerLearns(victim); !bytes.Equal(got, aMAC) {
		t.Errorf("source/dest check off: the router learnt %v for %s from a's advertisement, want %v", got, victim, aMAC)
	}
}

// Security groups judge IPv6 as IPv4: a group reference admits its members'
// addresses of both families, a CIDR its own family only, ICMP only IPv4 and
// ICMPv6 only IPv6 (with their types), and egress rules likewise; neighbour
// discovery passes whatever the rules (b and a below let out no neighbour
// advertisement or solicitation).
func TestFirewallIPv6Rules(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	byGroup := netmodel.FirewallRule{ID: "sgr-g", Proto: netmodel.ProtoTCP, From: 80, To: 80, PeerGroup: "sg-clients"}
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut46},
		"b": {Ingress: []netmodel.FirewallRule{byGroup, tcpFrom(81, "fd5e:1:2:302::/64")}},
		"c": {Egress: allOut46, Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}},
	}, map[string][]string{"sg-clients": {"a"}})))
	lab.expect(t,
		flow{"a", "b6", 80, true},  // a member, over IPv6
		flow{"a", "b", 80, true},   // and over IPv4
		flow{"c", "b6", 80, false}, // not a member
		flow{"c", "b6", 81, true},  // c's IPv6 subnet, routed
		flow{"a", "b6", 81, false}, // not in that range
		flow{"c", "b", 81, false},  // an IPv6 range admits no IPv4
		flow{"a", "c", 80, true},
		flow{"a", "c6", 80, false}, // 0.0.0.0/0 admits no IPv6
	)

	// ICMP: b admits ICMPv6 echo requests from anywhere; c admits all ICMP
	// from the group (a) and ICMPv6 echo replies only.
	icmp := func(id string, proto, typ int, cidr, group string) netmodel.FirewallRule {
		r := netmodel.FirewallRule{ID: id, Proto: proto, From: typ, To: -1, PeerGroup: group}
		if cidr != "" {
			r.CIDR = pfx(cidr)
		}
		return r
	}
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut46},
		"b": {Ingress: []netmodel.FirewallRule{icmp("sgr-echo6", netmodel.ProtoICMPv6, 128, "::/0", "")}},
		"c": {Ingress: []netmodel.FirewallRule{icmp("sgr-icmp", netmodel.ProtoICMP, -1, "", "sg-clients"), icmp("sgr-reply6", netmodel.ProtoICMPv6, 129, "::/0", "")}},
	}, map[string][]string{"sg-clients": {"a"}})))
	aPath := lab.k.NetnsPath(lab.hosts["a"])
	for _, to := range []string{"b6", "c"} {
		if err := pingOK(t, aPath, lab.addrs[to].String()); err != nil {
			t.Errorf("a → %s: %v, want an answer", to, err)
		}
	}
	for _, to := range []string{"b", "c6"} { // no ICMP rule; ICMPv6 of another type
		if err := ping(t, aPath, lab.addrs[to].String()); err == nil {
			t.Errorf("a → %s answered, want it dropped", to)
		}
	}

	// Egress: a may send TCP 80 to b's IPv6 address only, and anything to
	// the group (c) over both families.
	open := []netmodel.FirewallRule{{ID: "sgr-in", Proto: -1, From: -1, To: -1, CIDR: pfx("10.0.0.0/16")}, {ID: "sgr-in6", Proto: -1, From: -1, To: -1, CIDR: lab.ipv6}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: []netmodel.FirewallRule{tcpFrom(80, "fd5e:1:2:301::11/128"), {ID: "sgr-all", Proto: -1, From: -1, To: -1, PeerGroup: "sg-servers"}}},
		"b": {Ingress: open},
		"c": {Ingress: open},
	}, map[string][]string{"sg-servers": {"c"}})))
	lab.expect(t,
		flow{"a", "b6", 80, true},
		flow{"a", "b6", 81, false}, // port not in a's egress
		flow{"a", "b", 80, false},  // an IPv6 address admits no IPv4
		flow{"a", "c6", 81, true},  // all protocols to the group: both families
		flow{"a", "c", 81, true},
	)
}

func TestFirewallFlowCapture(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	rules := map[string]netmodel.FirewallENI{
		"a": {Egress: allOut46},
		"b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0"), tcpFrom(80, "::/0")}, FlowLogs: []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}},
	}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	lab.expect(t,
		flow{"a", "b", 80, true},
		flow{"a", "b", 81, false},
		flow{"a", "b6", 80, true},
		flow{"a", "b6", 81, false},
	)

	// Each family's records: an accepted connection (a SYN at least a header
	// and a TCP header long), a rejected one, and b's reply.
	var want []string
	for _, tag := range []string{"", "6"} {
		want = append(want, "accept 80"+tag, "reject 81"+tag, "reply"+tag)
	}
	seen := map[string]bool{}
	deadline := time.After(patience)
	for !allSeen(seen, want) {
		select {
		case p := <-lab.packets:
			if p.ENI != lab.enis["b"].ID {
				t.Errorf("captured a packet of %s, which has no flow log", p.ENI)
			}
			for _, tag := range []string{"", "6"} {
				a, b, header := lab.addrs["a"+tag], lab.addrs["b"+tag], 20
				if tag == "6" {
					header = 40
				}
				switch {
				case p.Accept && p.DstPort == 80 && p.Src == a && p.Dst == b && p.Proto == 6 && p.Bytes >= header+20:
					seen["accept 80"+tag] = true
				case !p.Accept && p.DstPort == 81 && p.Src == a && p.Dst == b:
					seen["reject 81"+tag] = true
				case p.Accept && p.SrcPort == 80 && p.Src == b && p.Dst == a:
					seen["reply"+tag] = true
				}
			}
		case <-deadline:
			t.Fatalf("captured only %v", seen)
		}
	}
	// Without flow logs the capture ends.
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{"b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}}}, nil)))
	lab.k.mu.Lock()
	n := len(lab.k.captures)
	lab.k.mu.Unlock()
	if n != 0 {
		t.Errorf("%d captures still run without flow logs", n)
	}
}

func allSeen(seen map[string]bool, want []string) bool {
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

// What no ENI's ingress rules would judge is dropped between ENIs: a
// connection to a neighbour's link-local address, which the neighbour's
// kernel would take though its group admits nothing from there.
func TestFirewallLinkLocalBetweenENIs(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	bPath := lab.k.NetnsPath(lab.hosts["b"])
	// On all of b's addresses, its link-local one too.
	serveIn(t, bPath, netip.IPv6Unspecified(), 82, "hello from b\n")
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{
		"a": {Egress: allOut46},
		"b": {Ingress: []netmodel.FirewallRule{tcpFrom(82, "::/0")}},
	}, nil)))
	// b's server answers at its address: the rule admits a.
	if err := lab.dial("a", "b6", 82, patience); err != nil {
		t.Fatalf("a → b6:82: %v", err)
	}
	hb := handleIn(t, bPath)
	var ll netip.Addr
	for deadline := time.Now().Add(patience); !ll.IsValid(); time.Sleep(20 * time.Millisecond) { // until b's link-local address is no longer tentative
		addrs, err := hb.AddrList(mustLink(t, hb, "eth0"), netlink.FAMILY_V6)
		must(t, err)
		for _, a := range addrs {
			if ip, _ := netip.AddrFromSlice(a.IP); ip.IsLinkLocalUnicast() && a.Flags&unix.IFA_F_TENTATIVE == 0 {
				ll = ip
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("b's eth0 never had a usable link-local address")
		}
	}
	// From a's own global address, which its port lets out and its
	// groups know, to b's link-local one, which no map holds.
	err := inNetns(lab.k.NetnsPath(lab.hosts["a"]), func() error {
		d := net.Dialer{Timeout: dropWait, LocalAddr: &net.TCPAddr{IP: lab.addrs["a6"].AsSlice()}}
		c, err := d.Dial("tcp6", netip.AddrPortFrom(ll.WithZone("eth0"), 82).String())
		if err == nil {
			c.Close()
		}
		return err
	})
	if err == nil {
		t.Errorf("a connected to b's link-local address %s past the security groups", ll)
	}
}

// An ENI's link-local address is its own, the EUI-64 address of its MAC:
// from it, a reaches its router's link-local address (a UDP datagram to a
// closed port, which the router refuses); from another it takes, nothing
// reaches the router (it could claim a neighbour's or the router's).
func TestFirewallLinkLocalSpoofing(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	must(t, lab.k.SetFirewall(ctx, lab.fw(map[string]netmodel.FirewallENI{"a": {Egress: allOut46}}, nil)))
	aPath := lab.k.NetnsPath(lab.hosts["a"])
	router := linkLocalOf(bridgeMAC(lab.enis["a"].SubnetID))
	own := linkLocalOf(lab.enis["a"].MAC)
	foreign := netip.MustParseAddr("fe80::99")
	if out, err := exec.Command("ip", "-n", lab.k.prefix+lab.hosts["a"], "addr", "add", foreign.String()+"/64", "dev", "eth0", "nodad").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	// refused sends a datagram from src to the router's port 9 and reports
	// whether the router refused it (it reached the router).
	refused := func(src netip.Addr) (bool, error) {
		var refused bool
		err := inNetns(aPath, func() error {
			c, err := net.DialUDP("udp6", &net.UDPAddr{IP: src.AsSlice(), Zone: "eth0"}, &net.UDPAddr{IP: router.AsSlice(), Port: 9, Zone: "eth0"})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Write([]byte("x")); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(dropWait))
			_, err = c.Read(make([]byte, 1))
			refused = errors.Is(err, syscall.ECONNREFUSED)
			return nil
		})
		return refused, err
	}
	for deadline := time.Now().Add(patience); ; time.Sleep(50 * time.Millisecond) { // the own address may still be tentative
		ok, err := refused(own)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a → its router from its own link-local address %s: no answer (%v)", own, err)
		}
	}
	if ok, err := refused(foreign); ok || err != nil {
		t.Errorf("from a link-local address not its own (%s): reached the router %v (%v)", foreign, ok, err)
	}
}
