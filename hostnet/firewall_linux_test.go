package hostnet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// sgLab is a VPC with two subnets and three hosts, each with one ENI, that the
// firewall tests send real TCP between: a and b share subnet 1, c is in subnet 2.
type sgLab struct {
	k       *Kernel
	vpc     netmodel.NetVPC
	hosts   map[string]string          // name → host ID
	enis    map[string]netmodel.NetENI // name → its ENI
	addrs   map[string]netip.Addr
	packets chan netmodel.FlowPacket
}

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
	sub1 := netmodel.NetSubnet{ID: newID("subnet"), VPCID: lab.vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	sub2 := netmodel.NetSubnet{ID: newID("subnet"), VPCID: lab.vpc.ID, CIDR: pfx("10.0.2.0/24"), Gateway: pfx("10.0.2.1/24")}
	must(t, k.EnsureVPC(ctx, lab.vpc))
	must(t, k.EnsureSubnet(ctx, sub1))
	must(t, k.EnsureSubnet(ctx, sub2))
	for name, at := range map[string]struct {
		sub  netmodel.NetSubnet
		addr string
	}{"a": {sub1, "10.0.1.10/24"}, "b": {sub1, "10.0.1.11/24"}, "c": {sub2, "10.0.2.10/24"}} {
		host := newID("i")
		must(t, k.EnsureHost(ctx, host))
		e := netmodel.NetENI{ID: newID("eni"), VPCID: lab.vpc.ID, SubnetID: at.sub.ID, MAC: newMAC(),
			Addrs: []netip.Prefix{pfx(at.addr)}, Gateway: at.sub.Gateway.Addr(), Host: host}
		must(t, k.EnsureENI(ctx, e))
		lab.hosts[name], lab.enis[name], lab.addrs[name] = host, e, pfx(at.addr).Addr()
	}
	// Every host serves TCP on 80 and 81.
	for name := range lab.hosts {
		for _, port := range []int{80, 81} {
			lab.serve(t, name, port)
		}
	}
	return lab
}

// serve answers "hello from NAME" on the host's address and port, until the test ends.
func (lab *sgLab) serve(t testing.TB, name string, port int) {
	t.Helper()
	serveIn(t, lab.k.NetnsPath(lab.hosts[name]), lab.addrs[name], port, "hello from "+name+"\n")
}

// serveIn answers greeting to every TCP connection to addr:port inside the
// namespace at nsPath, until the test ends.
func serveIn(t testing.TB, nsPath string, addr netip.Addr, port int, greeting string) {
	t.Helper()
	var ln net.Listener
	err := inNetns(nsPath, func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(addr, uint16(port)).String())
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

// dial connects from one host to another's port, giving up after timeout,
// and reads the greeting. It only ever sends inside the lab's own namespaces.
func (lab *sgLab) dial(from, to string, port int, timeout time.Duration) error {
	var conn net.Conn
	err := inNetns(lab.k.NetnsPath(lab.hosts[from]), func() (err error) {
		conn, err = net.DialTimeout("tcp4", fmt.Sprintf("%s:%d", lab.addrs[to], port), timeout)
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
	if want := "hello from " + to + "\n"; string(b) != want {
		return fmt.Errorf("read %q, want %q", b, want)
	}
	return nil
}

// fw is a firewall with one entry per lab ENI; set fills in rules by name.
func (lab *sgLab) fw(set map[string]netmodel.FirewallENI, members map[string][]string) netmodel.Firewall {
	fw := netmodel.Firewall{VPCID: lab.vpc.ID, CIDR: lab.vpc.CIDR, Members: map[string][]netip.Addr{}}
	for _, name := range []string{"a", "b", "c"} {
		e := set[name]
		n := lab.enis[name]
		e.ID, e.MAC, e.SourceDestCheck = n.ID, n.MAC, true
		e.Addrs = []netip.Addr{lab.addrs[name]}
		fw.ENIs = append(fw.ENIs, e)
	}
	for g, names := range members {
		fw.Members[g] = []netip.Addr{}
		for _, n := range names {
			fw.Members[g] = append(fw.Members[g], lab.addrs[n])
		}
	}
	return fw
}

var (
	allOut  = []netmodel.FirewallRule{{ID: "sgr-out", Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")}}
	tcpFrom = func(port int, peer string) netmodel.FirewallRule {
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
	open := []netmodel.FirewallRule{{ID: "sgr-in", Proto: -1, From: -1, To: -1, CIDR: pfx("0.0.0.0/0")}}
	rules := map[string]netmodel.FirewallENI{"a": {Egress: allOut, Ingress: open}, "b": {Egress: allOut, Ingress: open}, "c": {Egress: allOut, Ingress: open}}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	lab.expect(t, flow{"a", "b", 80, true})

	// a takes an address that is not its ENI's and sends from it.
	aPath := lab.k.NetnsPath(lab.hosts["a"])
	run := func(argv ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", lab.k.prefix + lab.hosts["a"]}, argv...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", argv, err, out)
		}
	}
	run("addr", "add", "10.0.1.99/24", "dev", "eth0")
	spoofed := func() error {
		var conn net.Conn
		err := inNetns(aPath, func() (err error) {
			d := net.Dialer{Timeout: dropWait, LocalAddr: &net.TCPAddr{IP: net.ParseIP("10.0.1.99")}}
			conn, err = d.Dial("tcp4", lab.addrs["b"].String()+":80")
			return err
		})
		if err == nil {
			conn.Close()
		}
		return err
	}
	// b's flow log shows what reached b's security groups: the spoofed SYN
	// must not, since the bridge port drops it first. reachedB sends it (again
	// and again when it must arrive, until patience runs out) and reports
	// whether the capture saw it; captures flush within a second.
	reachedB := func(want bool) bool {
		for deadline := time.Now().Add(patience); ; {
			run("neigh", "flush", "all")
			spoofed()
			wait := time.After(2 * dropWait)
			for waiting := true; waiting; {
				select {
				case p := <-lab.packets:
					if p.Src == netip.MustParseAddr("10.0.1.99") {
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
	if reachedB(false) {
		t.Error("a sent from an address that is not its own, and it reached b")
	}
	// With the source/dest check off (as for a NAT instance) the port lets it
	// through. (b's answer cannot come back: the VPC gives 10.0.1.99 to no ENI.)
	must(t, lab.k.SetFirewall(ctx, logged(false)))
	if !reachedB(true) {
		t.Error("source/dest check off, yet a's packets from another address were dropped at its port")
	}
	// A forged MAC never passes.
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	run("addr", "del", "10.0.1.99/24", "dev", "eth0")
	run("link", "set", "eth0", "address", "0a:00:00:00:00:99")
	run("neigh", "flush", "all")
	lab.expect(t, flow{"a", "b", 80, false})
}

func TestFirewallFlowCapture(t *testing.T) {
	t.Parallel()
	lab := newSGLab(t)
	ctx := context.Background()
	rules := map[string]netmodel.FirewallENI{
		"a": {Egress: allOut},
		"b": {Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}, FlowLogs: []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}},
	}
	must(t, lab.k.SetFirewall(ctx, lab.fw(rules, nil)))
	lab.expect(t,
		flow{"a", "b", 80, true},
		flow{"a", "b", 81, false},
	)

	var mu sync.Mutex
	seen := map[string]bool{}
	deadline := time.After(patience)
	for !(seen["accept 80"] && seen["reject 81"] && seen["reply"]) {
		select {
		case p := <-lab.packets:
			mu.Lock()
			if p.ENI != lab.enis["b"].ID {
				t.Errorf("captured a packet of %s, which has no flow log", p.ENI)
			}
			switch {
			case p.Accept && p.DstPort == 80 && p.Src == lab.addrs["a"] && p.Proto == 6 && p.Bytes >= 40:
				seen["accept 80"] = true
			case !p.Accept && p.DstPort == 81 && p.Src == lab.addrs["a"]:
				seen["reject 81"] = true
			case p.Accept && p.SrcPort == 80 && p.Src == lab.addrs["b"]:
				seen["reply"] = true
			}
			mu.Unlock()
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
