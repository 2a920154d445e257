package hostnet

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

func TestBridgeTaskVethName(t *testing.T) {
	if got, err := taskVethName("task-0123456789abcdef0123456789abcdef"); err != nil || got != "vs-v0123456789a" {
		t.Errorf("taskVethName = %q, %v; want vs-v0123456789a", got, err)
	}
	for _, bad := range []string{"i-0123456789abcdef0", "task-0123", "task-0123456789ABCDEF0123456789abcdef"} {
		if _, err := taskVethName(bad); err == nil {
			t.Errorf("taskVethName(%q) succeeded", bad)
		}
	}
	f := forward{task: "task-0123456789abcdef0123456789abcdef", proto: "udp", hostPort: 53, addr: netip.MustParseAddr("172.17.0.9"), containerPort: 5353}
	if g, ok := parseForward(f.comment()); !ok || g != f {
		t.Errorf("parseForward(%q) = %+v, %v; want %+v", f.comment(), g, ok, f)
	}
	for _, bad := range []string{"", "task-0123456789abcdef0123456789abcdef tcp 80", "x tcp 80 172.17.0.2:80", "task-0123456789abcdef0123456789abcdef tcp 80  172.17.0.2:80"} {
		if _, ok := parseForward(bad); ok {
			t.Errorf("parseForward(%q) succeeded", bad)
		}
	}
}

func TestBridgeMode(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	for _, bin := range []string{"busybox", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not on PATH", bin)
		}
	}
	ctx := context.Background()
	vpc := netmodel.NetVPC{ID: newID("vpc"), CIDR: pfx("10.0.0.0/16")}
	sub := netmodel.NetSubnet{ID: newID("subnet"), VPCID: vpc.ID, CIDR: pfx("10.0.0.0/24"), Gateway: pfx("10.0.0.1/24")}
	must(t, k.EnsureVPC(ctx, vpc))
	must(t, k.EnsureSubnet(ctx, sub))
	inst1 := attachedHost(t, k, sub, "10.0.0.10/24")
	inst2 := attachedHost(t, k, sub, "10.0.0.20/24")
	path1, path2 := k.NetnsPath(inst1), k.NetnsPath(inst2)

	task1, task2 := "task-"+randHex(32), "task-"+randHex(32)
	addr1, addr2 := netip.MustParseAddr("172.17.0.2"), netip.MustParseAddr("172.17.0.3")
	ports1 := []PortForward{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}
	ports2 := []PortForward{{Proto: "tcp", HostPort: 8081, ContainerPort: 80}, {Proto: "udp", HostPort: 8081, ContainerPort: 53}}
	must(t, k.AttachBridgeTask(ctx, inst1, task1, addr1, ports1))
	must(t, k.AttachBridgeTask(ctx, inst1, task2, addr2, ports2))
	must(t, k.AttachBridgeTask(ctx, inst1, task1, addr1, ports1)) // again: nothing changes

	// What was made.
	h1 := handleIn(t, path1)
	br := mustLink(t, h1, dockerBridgeName)
	if got, _ := addrsOf(t, h1, br); !sameAddrs(got, []netip.Prefix{pfx("172.17.0.1/16")}) || !isUp(br) {
		t.Errorf("%s: addresses %v, up %v; want 172.17.0.1/16, up", dockerBridgeName, got, isUp(br))
	}
	veth1, _ := taskVethName(task1)
	if port := mustLink(t, h1, veth1); port.Attrs().MasterIndex != br.Attrs().Index || !isUp(port) {
		t.Errorf("%s is not an up port of %s", veth1, dockerBridgeName)
	}
	th := handleIn(t, k.NetnsPath(task1))
	eth0 := mustLink(t, th, "eth0")
	if got, _ := addrsOf(t, th, eth0); !sameAddrs(got, []netip.Prefix{pfx("172.17.0.2/16")}) || !isUp(eth0) {
		t.Errorf("task eth0: addresses %v, up %v; want 172.17.0.2/16, up", got, isUp(eth0))
	}
	if gw := defaultGW(t, th, eth0); gw != dockerGateway {
		t.Errorf("task default gateway %v, want %v", gw, dockerGateway)
	}
	if v, err := readSysctl(t, path1, "net/ipv4/ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward in the instance = %q, %v; want 1", v, err)
	}
	c1 := task1 + " tcp 8080 172.17.0.2:80"
	c2 := task2 + " tcp 8081 172.17.0.3:80"
	c2u := task2 + " udp 8081 172.17.0.3:53"
	wantRules := map[string][]string{"prerouting": {c1, c2, c2u}, "output": {c1, c2, c2u}}
	checkECSRules(t, path1, wantRules)

	// A host port that another task forwards is refused before anything is made.
	task3 := "task-" + randHex(32)
	if err := k.AttachBridgeTask(ctx, inst1, task3, netip.MustParseAddr("172.17.0.4"), []PortForward{{Proto: "tcp", HostPort: 8081, ContainerPort: 80}}); err == nil {
		t.Error("a second task got host port 8081/tcp")
	}
	if isNetns(k.NetnsPath(task3)) {
		t.Error("the refused task's namespace was made")
	}
	checkECSRules(t, path1, wantRules)

	// A server in each task, each serving its own file.
	serve(t, k.NetnsPath(task1), "one")
	serve(t, k.NetnsPath(task2), "two")
	waitFor(t, path1, "http://172.17.0.2/", "one")
	waitFor(t, path1, "http://172.17.0.3/", "two")

	// A listener on instance 2 that answers with the client's address.
	ln := listenIn(t, path2, "10.0.0.20:9000")
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		io.WriteString(w, host)
	}))

	expect := func(from, url, want string) {
		t.Helper()
		waitFor(t, from, url, want)
	}
	// From another host (prerouting), to each task.
	expect(path2, "http://10.0.0.10:8080/", "one")
	expect(path2, "http://10.0.0.10:8081/", "two")
	// Only the instance's own addresses are forwarded: the VPC router is not.
	if out, err := curl(path2, "http://10.0.0.1:8080/"); err == nil {
		t.Errorf("10.0.0.1:8080 answered %q", out)
	}
	// From the instance itself (output), at its ENI's address and at localhost.
	expect(path1, "http://10.0.0.10:8080/", "one")
	expect(path1, "http://127.0.0.1:8081/", "two")
	// Containers reach the VPC as the instance (masquerade).
	expect(k.NetnsPath(task1), "http://10.0.0.20:9000/", "10.0.0.10")
	// Containers reach each other, directly and through host ports (their own
	// too), whether or not bridged frames pass the IP hooks.
	for _, nf := range []string{"0", "1"} {
		if _, err := os.Stat("/proc/sys/" + bridgeNFSysctl); err != nil {
			break
		}
		must(t, inNetns(path1, func() error { return writeSysctl(bridgeNFSysctl, nf) }))
		expect(k.NetnsPath(task1), "http://172.17.0.3/", "two")
		expect(k.NetnsPath(task1), "http://10.0.0.10:8081/", "two")
		expect(k.NetnsPath(task1), "http://10.0.0.10:8080/", "one")
		expect(k.NetnsPath(task2), "http://172.17.0.1:8080/", "one")
		expect(path2, "http://10.0.0.10:8080/", "one")
	}

	// Drift is repaired: a lost rule comes back with the next change.
	fd, err := unix.Open(path1, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	must(t, err)
	nft, err := nftables.New(nftables.WithNetNSFd(fd))
	must(t, err)
	nft.FlushChain(&nftables.Chain{Name: "output", Table: ecsTable})
	must(t, nft.Flush())
	unix.Close(fd)
	must(t, k.AttachBridgeTask(ctx, inst1, task1, addr1, ports1))
	checkECSRules(t, path1, wantRules)

	// Detach task 1: its port stops, task 2's goes on; its namespace, veth end,
	// rules and the conntrack entries of connections to it are gone.
	if n := flowsTo(t, path1, addr1); n == 0 {
		t.Error("no conntrack entries of connections to task 1 before detaching it")
	}
	for range 2 {
		must(t, k.DetachBridgeTask(ctx, inst1, task1))
	}
	if out, err := curl(path2, "http://10.0.0.10:8080/"); err == nil {
		t.Errorf("port 8080 of a detached task answered %q", out)
	}
	expect(path2, "http://10.0.0.10:8081/", "two")
	if isNetns(k.NetnsPath(task1)) {
		t.Error("the detached task's namespace is still there")
	}
	noLink(t, h1, veth1)
	mustLink(t, h1, dockerBridgeName)
	if n := flowsTo(t, path1, addr1); n != 0 {
		t.Errorf("%d conntrack entries of connections to task 1 left after detaching it", n)
	}
	checkECSRules(t, path1, map[string][]string{"prerouting": {c2, c2u}, "output": {c2, c2u}})

	// Missing is success: an unknown task, a missing instance.
	must(t, k.DetachBridgeTask(ctx, inst1, "task-"+randHex(32)))
	must(t, k.DetachBridgeTask(ctx, "i-"+randHex(17), "task-"+randHex(32)))

	must(t, k.DetachBridgeTask(ctx, inst1, task2))
	checkECSRules(t, path1, map[string][]string{})
	left, err := LeftoversWithPrefix(k.Prefix())
	must(t, err)
	slices.Sort(left)
	want := []string{"netns " + k.Prefix() + inst1, "netns " + k.Prefix() + inst2, "netns " + k.Prefix() + vpc.ID}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after detaching every task: %v; want %v", left, want)
	}
}

// checkECSRules compares the comments of the rules of the instance's vs-ecs
// prerouting and output chains with want (in any order), and checks that
// postrouting holds the masquerade rules.
func checkECSRules(t *testing.T, path string, want map[string][]string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd))
	must(t, err)
	for _, chain := range []string{"prerouting", "output", "postrouting"} {
		rules, err := nft.GetRules(ecsTable, &nftables.Chain{Name: chain, Table: ecsTable})
		if err != nil {
			t.Fatalf("rules of %s: %v", chain, err)
		}
		var got []string
		for _, r := range rules {
			got = append(got, ruleComment(r))
		}
		w := slices.Clone(want[chain])
		if chain == "postrouting" {
			for _, m := range masqRules {
				w = append(w, m.comment)
			}
		}
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("chain %s holds %q, want %q", chain, got, w)
		}
	}
}

// flowsTo counts the conntrack entries in the namespace at path whose replies
// come from addr.
func flowsTo(t *testing.T, path string, addr netip.Addr) int {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	must(t, err)
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_NETFILTER)
	must(t, err)
	defer h.Close()
	flows, err := h.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	must(t, err)
	n := 0
	for _, f := range flows {
		if f.Reverse.SrcIP.Equal(net.IP(addr.AsSlice())) {
			n++
		}
	}
	return n
}

// serve runs busybox httpd on port 80 inside the namespace at path, serving body
// as /index.html. It is killed when the test ends (or with its namespace).
func serve(t *testing.T, path, body string) {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644))
	cmd := commandIn(context.Background(), path, "busybox", "httpd", "-f", "-p", "80", "-h", dir)
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// listenIn opens a TCP listener on addr inside the namespace at path.
func listenIn(t *testing.T, path, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	must(t, inNetns(path, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	return ln
}

// curl fetches url from inside the namespace at path (only ever addresses in
// the test's own namespaces).
func curl(path, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := commandIn(ctx, path, "curl", "-s", "-m", "2", url).Output()
	return strings.TrimSpace(string(out)), err
}

// waitFor polls url from the namespace at path until it answers want, within
// patience.
func waitFor(t *testing.T, path, url, want string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got, err := curl(path, url)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s from %s: %q, %v; want %q", url, filepath.Base(path), got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
