package hostnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Each test that uses vpcsim's internet has a /24 of its own from
// 198.19.128.0/17, this package's half of the test ranges (the other packages
// use 198.19.0.0/17): ranges of Kernels that run at once must not overlap.

// newInternetKernel is newTestKernel with the internet range rng.
func newInternetKernel(t *testing.T, rng string) *Kernel {
	t.Helper()
	requireRoot(t)
	p := testPrefix(t)
	k, err := New(WithPrefix(p), WithInternet(pfx(rng)), WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// routedToInternet checks, as every test that sends from the host's own
// namespace must, that addr is routed through the test's own internet bridge.
func routedToInternet(t *testing.T, k *Kernel, addr netip.Addr) bool {
	t.Helper()
	out, err := exec.Command("ip", "route", "get", addr.String()).CombinedOutput()
	br, _, _ := k.internetNames()
	return err == nil && strings.Contains(string(out), " dev "+br+" ")
}

// dialFromHost connects from the host's namespace to addr (only ever through
// the test's internet bridge) and reads the greeting.
func dialFromHost(t *testing.T, k *Kernel, addr netip.AddrPort, timeout time.Duration) (string, error) {
	t.Helper()
	if !routedToInternet(t, k, addr.Addr()) {
		return "", fmt.Errorf("%s is not routed through the test's internet bridge", addr.Addr())
	}
	c, err := net.DialTimeout("tcp", addr.String(), timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(c)
	return string(b), err
}

// dialFrom connects from inside the namespace at nsPath to addr and reads
// the greeting.
func dialFrom(nsPath string, addr netip.AddrPort, timeout time.Duration) (string, error) {
	var c net.Conn
	err := inNetns(nsPath, func() (err error) {
		c, err = net.DialTimeout("tcp", addr.String(), timeout)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(c)
	return string(b), err
}

// eventually retries fn until it succeeds, within patience: for what must
// work, whose first packet a busy machine may lose while ARP resolves.
func eventually(fn func() error) error {
	for deadline := time.Now().Add(patience); ; time.Sleep(100 * time.Millisecond) {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

// machineServer listens on the machine's internet address and answers each
// connection with its source address, which it also sends on the channel.
func machineServer(t *testing.T, k *Kernel) (netip.AddrPort, <-chan netip.Addr) {
	t.Helper()
	return sourceServer(t, "", k.InternetAddr())
}

// sourceServer is machineServer on addr, of either family, inside the
// namespace at nsPath ("": the host's).
func sourceServer(t *testing.T, nsPath string, addr netip.Addr) (netip.AddrPort, <-chan netip.Addr) {
	t.Helper()
	var ln net.Listener
	listen := func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	}
	var err error
	if nsPath == "" {
		err = listen()
	} else {
		err = inNetns(nsPath, listen)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	seen := make(chan netip.Addr, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			from := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
			fmt.Fprint(c, from)
			c.Close()
			select {
			case seen <- from:
			default:
			}
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), seen
}

func TestInternetGateway(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.128.0/24")
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	inst := attachedHost(t, k, sub, "10.0.1.10/24")   // has a public address
	hidden := attachedHost(t, k, sub, "10.0.1.11/24") // has none
	serveIn(t, k.NetnsPath(inst), netip4("10.0.1.10"), 80, "hello from the instance\n")
	public := netip4("198.19.128.10")
	must(t, k.EnsureInternet(ctx)) // the machine's address, to listen on
	machine, seen := machineServer(t, k)
	if k.InternetAddr() != netip4("198.19.128.1") {
		t.Fatalf("InternetAddr() = %v, want 198.19.128.1", k.InternetAddr())
	}

	r := netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR,
		Subnets:  []netmodel.SubnetRouting{{SubnetID: sub.ID, Routes: []netmodel.Route{{Dest: pfx("0.0.0.0/0"), Target: netmodel.RouteInternet}}}},
		Internet: &netmodel.InternetLink{GatewayID: "igw-0123456789abcdef0", NAT: []netmodel.PublicMapping{{Public: public, Private: netip4("10.0.1.10")}}},
	}
	must(t, k.SetRouting(ctx, r))
	if !routedToInternet(t, k, public) {
		t.Fatalf("%s is not routed through the internet bridge", public)
	}
	hostName, vpcName, _ := igwNames(vpc.ID)
	vpcH := handleIn(t, k.NetnsPath(vpc.ID))
	end := mustLink(t, vpcH, vpcName)
	if got, _ := addrsOf(t, vpcH, end); !sameAddrs(got, []netip.Prefix{pfx("198.19.128.10/32")}) {
		t.Errorf("addresses of %s: %v, want the public address", vpcName, got)
	}
	// The public address is local to the VPC, and nothing else routes to
	// the link but the subnet's table: the main table has nothing of it.
	if out, err := exec.Command("ip", "-n", k.Prefix()+vpc.ID, "route", "show", "table", "main").CombinedOutput(); err != nil || strings.Contains(string(out), vpcName) || strings.Contains(string(out), "198.19.") {
		t.Errorf("main table of the VPC: %v\n%s", err, out)
	}
	hostEnd, err := netlink.LinkByName(hostName)
	if err != nil {
		t.Fatal(err)
	}
	br, tableName, _ := k.internetNames()
	if bl, err := netlink.LinkByName(br); err != nil || hostEnd.Attrs().MasterIndex != bl.Attrs().Index {
		t.Errorf("%s is not a port of %s (%v)", hostName, br, err)
	}

	// The machine reaches the instance at its public address.
	var greeting string
	err = eventually(func() (err error) {
		greeting, err = dialFromHost(t, k, netip.AddrPortFrom(public, 80), 3*time.Second)
		return err
	})
	if err != nil || greeting != "hello from the instance\n" {
		t.Fatalf("the machine could not reach the instance at %s: %q, %v", public, greeting, err)
	}
	// The instance reaches the machine, as its public address.
	var from string
	if err := eventually(func() (err error) { from, err = dialFrom(k.NetnsPath(inst), machine, 3*time.Second); return err }); err != nil {
		t.Fatalf("the instance could not reach the machine at %s: %v", machine, err)
	}
	if from != public.String() {
		t.Errorf("the machine saw the instance as %s, want %s", from, public)
	}
	<-seen
	// An address without a public one does not get through: nothing of it
	// even leaves the VPC (a test table counts what reaches postrouting).
	ns := k.Prefix() + vpc.ID
	nftIn(t, ns, "add table ip vs-test")
	nftIn(t, ns, "add chain ip vs-test post { type filter hook postrouting priority 0; }")
	nftIn(t, ns, "add rule ip vs-test post oifname "+vpcName+" ip saddr 10.0.1.10 counter")
	nftIn(t, ns, "add rule ip vs-test post oifname "+vpcName+" ip saddr 10.0.1.11 counter")
	if _, err := dialFrom(k.NetnsPath(hidden), machine, dropWait); err == nil {
		t.Error("an instance without a public address reached the machine")
	}
	if _, err := dialFrom(k.NetnsPath(inst), machine, patience); err != nil {
		t.Errorf("the instance could not reach the machine again: %v", err)
	}
	counted := nftIn(t, ns, "list chain ip vs-test post")
	if !regexp.MustCompile(`10\.0\.1\.10 counter packets [1-9]`).MatchString(counted) || !strings.Contains(counted, "10.0.1.11 counter packets 0 ") {
		t.Errorf("what left the VPC through %s:\n%s\nwant packets of 10.0.1.10, none of 10.0.1.11", vpcName, counted)
	}
	nftIn(t, ns, "delete table ip vs-test")
	<-seen
	select {
	case a := <-seen:
		t.Errorf("the machine saw a connection from %s", a)
	default:
	}

	// The same again: nothing changes in the VPC, nor the links on the host.
	got := changesDuring(t, k.NetnsPath(vpc.ID), func() { must(t, k.SetRouting(ctx, r)) })
	if len(got) > 0 {
		t.Errorf("the same routing again changed the VPC's namespace: %v", got)
	}
	if again, err := netlink.LinkByName(hostName); err != nil || again.Attrs().Index != hostEnd.Attrs().Index {
		t.Errorf("%s was made again (%v)", hostName, err)
	}
	hostTable := nftTableRules(t, "", "inet", tableName)
	if !strings.Contains(hostTable, `iifname "`+br+`" oifname != "`+br+`" drop`) || !strings.Contains(hostTable, `oifname "`+br+`" iifname != "`+br+`" drop`) {
		t.Errorf("host table:\n%s", hostTable)
	}

	// Without the translation, neither way works.
	r.Internet.NAT = nil
	must(t, k.SetRouting(ctx, r))
	if got, _ := addrsOf(t, vpcH, end); len(got) > 0 {
		t.Errorf("addresses of %s without translations: %v", vpcName, got)
	}
	if _, err := dialFromHost(t, k, netip.AddrPortFrom(public, 80), dropWait); err == nil {
		t.Error("the machine reached an address that is no longer public")
	}
	if _, err := dialFrom(k.NetnsPath(inst), machine, dropWait); err == nil {
		t.Error("an instance whose public address went reached the machine")
	}

	// Without the gateway, its link and table go; the route to it drops.
	r.Internet = nil
	must(t, k.SetRouting(ctx, r))
	noLink(t, vpcH, vpcName)
	noLink(t, &netlink.Handle{}, hostName)
	if out := nftTableRules(t, k.Prefix()+vpc.ID, "ip", igwTableName); out != "" {
		t.Errorf("table ip vs-igw stayed:\n%s", out)
	}
	brName, _ := bridgeName(sub.ID)
	table := subnetTableBase + mustLink(t, vpcH, brName).Attrs().Index
	if got := subnetTable(t, k.Prefix()+vpc.ID, table); normSpace(got) != normSpace("blackhole default\nthrow 10.0.0.0/16") {
		t.Errorf("table without the gateway:\n%s", got)
	}
	// The machine's side stays, for the other VPCs.
	if _, err := netlink.LinkByName(br); err != nil {
		t.Errorf("the internet bridge went with the gateway: %v", err)
	}
}

// nftIn runs `nft ARGS` in the namespace ns and returns its output.
func nftIn(t *testing.T, ns, args string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, strings.Fields(args)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v: %s", args, err, out)
	}
	return string(out)
}

// nftTableRules is `nft list table FAMILY NAME` in the namespace ns (the
// host's when ""), "" when there is no such table.
func nftTableRules(t *testing.T, ns, family, name string) string {
	t.Helper()
	args := []string{"nft", "list", "table", family, name}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

func TestInternetBetweenVPCs(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.129.0/24")
	ctx := context.Background()
	type side struct {
		vpc    netmodel.NetVPC
		inst   string
		public netip.Addr
	}
	var sides []side
	for i, public := range []string{"198.19.129.10", "198.19.129.20"} {
		// The same private addresses in both: only the public ones meet.
		vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
		sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
		must(t, k.EnsureVPC(ctx, vpc))
		must(t, k.EnsureSubnet(ctx, sub))
		inst := attachedHost(t, k, sub, "10.0.1.10/24")
		serveIn(t, k.NetnsPath(inst), netip4("10.0.1.10"), 80, fmt.Sprintf("hello from VPC %d\n", i))
		must(t, k.SetRouting(ctx, netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR,
			Subnets:  []netmodel.SubnetRouting{{SubnetID: sub.ID, Routes: []netmodel.Route{{Dest: pfx("0.0.0.0/0"), Target: netmodel.RouteInternet}}}},
			Internet: &netmodel.InternetLink{GatewayID: "igw-0123456789abcdef0", NAT: []netmodel.PublicMapping{{Public: netip4(public), Private: netip4("10.0.1.10")}}},
		}))
		sides = append(sides, side{vpc, inst, netip4(public)})
	}
	for i, s := range sides {
		other := sides[1-i]
		var greeting string
		err := eventually(func() (err error) {
			greeting, err = dialFrom(k.NetnsPath(s.inst), netip.AddrPortFrom(other.public, 80), 3*time.Second)
			return err
		})
		if want := fmt.Sprintf("hello from VPC %d\n", 1-i); err != nil || greeting != want {
			t.Errorf("VPC %d to %s: %q, %v; want %q", i, other.public, greeting, err, want)
		}
	}

	// DeleteVPC takes the VPC's link with it.
	hostName, _, _ := igwNames(sides[0].vpc.ID)
	mustLink(t, &netlink.Handle{}, hostName)
	must(t, k.DeleteVPC(ctx, sides[0].vpc.ID))
	noLink(t, &netlink.Handle{}, hostName)
}

func TestEnsureInternet(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.130.0/24")
	ctx := context.Background()
	for range 2 {
		must(t, k.EnsureInternet(ctx))
	}
	br, tableName, _ := k.internetNames()
	h := &netlink.Handle{}
	l := mustLink(t, h, br)
	if l.Type() != "bridge" || !isUp(l) {
		t.Errorf("%s: a %s, up %v; want an up bridge", br, l.Type(), isUp(l))
	}
	// Both of the machine's addresses (igw6.go).
	if got, _ := addrsOf(t, h, l); !sameAddrs(got, []netip.Prefix{pfx("198.19.130.1/24"), pfx("2001:2:0:1382::1/64")}) {
		t.Errorf("addresses of %s: %v", br, got)
	}
	if !routedToInternet(t, k, netip4("198.19.130.77")) {
		t.Error("the range is not routed through the bridge")
	}
	nft, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := readNFTTable(nft, hostInternetSpec(tableName, br, k.InternetAddr(), false)); err != nil || !st.same {
		t.Errorf("host table: %+v, %v", st, err)
	}

	// Drift is repaired: the table's rules, the bridge's address.
	must(t, exec.Command("nft", "flush", "table", "inet", tableName).Run())
	must(t, h.AddrDel(l, &netlink.Addr{IPNet: prefixToIPNet(pfx("198.19.130.1/24"))}))
	must(t, h.AddrDel(l, &netlink.Addr{IPNet: prefixToIPNet(pfx("2001:2:0:1382::1/64"))}))
	must(t, k.EnsureInternet(ctx))
	if st, err := readNFTTable(nft, hostInternetSpec(tableName, br, k.InternetAddr(), false)); err != nil || !st.same {
		t.Errorf("host table after repair: %+v, %v", st, err)
	}
	if got, _ := addrsOf(t, h, mustLink(t, h, br)); !sameAddrs(got, []netip.Prefix{pfx("198.19.130.1/24"), pfx("2001:2:0:1382::1/64")}) {
		t.Errorf("addresses of %s after repair: %v", br, got)
	}

	// A Kernel of the same prefix with another range (a later run's) takes
	// the bridge over.
	k2, err := New(WithPrefix(k.Prefix()), WithInternet(pfx("198.19.133.0/24")))
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	must(t, k2.EnsureInternet(ctx))
	if got, _ := addrsOf(t, h, mustLink(t, h, br)); !sameAddrs(got, []netip.Prefix{pfx("198.19.133.1/24"), pfx("2001:2:0:1385::1/64")}) {
		t.Errorf("addresses of %s with another range: %v", br, got)
	}

	// Down removes both.
	left, err := leftovers(k.Prefix(), k.Prefix())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"link " + br, "nftables inet " + tableName}
	if !sameStrings(left, want) {
		t.Errorf("leftovers %v, want %v", left, want)
	}
	must(t, RemoveAll(ctx, k.Prefix()))
	noLink(t, h, br)
	if _, err := nft.ListTableOfFamily(tableName, nftables.TableFamilyINet); !errors.Is(err, unix.ENOENT) {
		t.Errorf("table %s after RemoveAll: %v", tableName, err)
	}
}

func TestInternetRefusesOverlap(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.131.0/24")
	ctx := context.Background()
	// A route the host "already has", on a link of the test's own.
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: k.Prefix() + "d"}, PeerName: k.Prefix() + "e"}
	must(t, netlink.LinkAdd(veth))
	defer netlink.LinkDel(veth)
	must(t, netlink.LinkSetUp(veth))
	must(t, netlink.RouteAdd(&netlink.Route{LinkIndex: veth.Attrs().Index, Dst: prefixToIPNet(pfx("198.19.131.128/25")), Scope: netlink.SCOPE_LINK}))

	err := k.EnsureInternet(ctx)
	if !errors.Is(err, ErrInternetOverlap) || !strings.Contains(err.Error(), "198.19.131.128/25") {
		t.Fatalf("EnsureInternet over a host route: %v", err)
	}
	// SetRouting with a gateway refuses the same way, and makes nothing.
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	must(t, k.EnsureVPC(ctx, vpc))
	err = k.SetRouting(ctx, netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR, Internet: &netmodel.InternetLink{}})
	if !errors.Is(err, ErrInternetOverlap) {
		t.Errorf("SetRouting over a host route: %v", err)
	}
	br, tableName, _ := k.internetNames()
	noLink(t, &netlink.Handle{}, br)
	hostName, _, _ := igwNames(vpc.ID)
	noLink(t, &netlink.Handle{}, hostName)
	if out := nftTableRules(t, "", "inet", tableName); out != "" {
		t.Errorf("a refused internet left its table:\n%s", out)
	}
}

// TestInternetWithSecurityGroups checks that security groups judge the
// internet's traffic like any other: ingress rules what comes in through the
// gateway, egress rules what goes out.
func TestInternetWithSecurityGroups(t *testing.T) {
	t.Parallel()
	k := newInternetKernel(t, "198.19.132.0/24")
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.1.0/24"), Gateway: pfx("10.0.1.1/24")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	host := newID("i")
	must(t, k.EnsureHost(ctx, host))
	eni := netmodel.NetENI{ID: newID("eni"), VPCID: vpc.ID, SubnetID: sub.ID, MAC: newMAC(), Addrs: []netip.Prefix{pfx("10.0.1.10/24")}, Gateway: sub.Gateway.Addr(), Host: host}
	must(t, k.EnsureENI(ctx, eni))
	private, public := netip4("10.0.1.10"), netip4("198.19.132.10")
	for _, port := range []int{80, 81} {
		serveIn(t, k.NetnsPath(host), private, port, "hello\n")
	}
	must(t, k.EnsureInternet(ctx))
	machine, _ := machineServer(t, k)
	must(t, k.SetRouting(ctx, netmodel.Routing{VPCID: vpc.ID, CIDR: vpc.CIDR,
		Subnets:  []netmodel.SubnetRouting{{SubnetID: sub.ID, Routes: []netmodel.Route{{Dest: pfx("0.0.0.0/0"), Target: netmodel.RouteInternet}}}},
		Internet: &netmodel.InternetLink{GatewayID: "igw-0123456789abcdef0", NAT: []netmodel.PublicMapping{{Public: public, Private: private}}},
	}))
	setEgress := func(egress []netmodel.FirewallRule) {
		must(t, k.SetFirewall(ctx, netmodel.Firewall{VPCID: vpc.ID, CIDR: vpc.CIDR, ENIs: []netmodel.FirewallENI{{
			ID: eni.ID, MAC: eni.MAC, Addrs: []netip.Addr{private}, SourceDestCheck: true,
			Ingress: []netmodel.FirewallRule{tcpFrom(80, "0.0.0.0/0")}, Egress: egress,
		}}}))
	}
	setEgress(allOut)
	if err := eventually(func() error { _, err := dialFromHost(t, k, netip.AddrPortFrom(public, 80), 3*time.Second); return err }); err != nil {
		t.Errorf("the machine could not reach an admitted port: %v", err)
	}
	if _, err := dialFromHost(t, k, netip.AddrPortFrom(public, 81), dropWait); err == nil {
		t.Error("the machine reached a port no ingress rule admits")
	}
	if err := eventually(func() error { _, err := dialFrom(k.NetnsPath(host), machine, 3*time.Second); return err }); err != nil {
		t.Errorf("the instance could not reach the machine with all egress allowed: %v", err)
	}
	setEgress([]netmodel.FirewallRule{{ID: "sgr-vpc", Proto: -1, From: -1, To: -1, CIDR: vpc.CIDR}})
	if _, err := dialFrom(k.NetnsPath(host), machine, dropWait); err == nil {
		t.Error("the instance reached the machine though its egress rules allow the VPC only")
	}
}
