package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ECS "bridge" network mode, as the ECS agent sets it up with docker on an EC2
// instance: the containers of a task share a namespace whose eth0 is a port of
// the instance's docker0 (here vs-dbr0, 172.17.0.1/16), and the task's host
// ports are DNATed to it inside the instance's namespace. Everything lives in
// the instance's namespace, which the VPC sees as one ENI: security groups apply
// to the instance, not to the task, as in AWS.
//
// The nftables table "vs-ecs" (family ip) in the instance's namespace:
//
//	table ip vs-ecs {
//		chain prerouting  { type nat hook prerouting priority dstnat; ... }
//		chain output      { type nat hook output priority -100; ... }
//		chain postrouting { type nat hook postrouting priority srcnat; ... }
//	}
//
// prerouting and output hold, per host port of each task, the same rule
//
//	meta l4proto tcp th dport 8080 fib daddr type local dnat to 172.17.0.2:80 comment "task-… tcp 8080 172.17.0.2:80"
//
// and postrouting the three masquerade rules of masqRules. The comment names the
// task and says everything the rule does, so the whole table can be rebuilt from
// the comments alone: each change recomputes the table from them and applies the
// difference as one transaction.

var (
	// dockerNet is the bridge network of every instance, like docker's default.
	dockerNet = netip.MustParsePrefix("172.17.0.0/16")
	// dockerGateway is vs-dbr0's address, the tasks' default gateway.
	dockerGateway   = netip.MustParseAddr("172.17.0.1")
	dockerBroadcast = netip.MustParseAddr("172.17.255.255")
)

const (
	ecsTableName = "vs-ecs"
	taskIfName   = "eth0" // the task's end of its veth pair

	// ipsDstNAT is IPS_DST_NAT of a conntrack entry's status (ct status dnat).
	ipsDstNAT = 1 << 5
)

// PortForward is one host port of a bridge-mode task.
type PortForward struct {
	Proto         string // "tcp" or "udp"
	HostPort      uint16
	ContainerPort uint16
}

// AttachBridgeTask gives the namespace of task (made if missing, named
// <prefix><task>, lo up) an eth0 on the instance's bridge, with addr/16 and a
// default route via 172.17.0.1, and forwards each port: traffic to any address
// of the instance (its ENIs' addresses, 127.0.0.1, 172.17.0.1) on
// HostPort/Proto is DNATed to addr:ContainerPort, from other hosts (prerouting),
// from the instance itself (output) and from its containers, their own ports
// included (those connections are masqueraded to 172.17.0.1 so that replies
// come back through the instance).
//
// The instance's bridge vs-dbr0 holding 172.17.0.1/16 is made on first use, with
// net.ipv4.ip_forward=1 and masquerade of 172.17.0.0/16 traffic leaving through
// any other link of the instance (containers reach the VPC as the instance).
// The task's veth end in the instance is vs-v<11 hex of the task ID>, a port of
// vs-dbr0 in hairpin mode; its eth0 gets the MAC 02:42:<addr>, as docker gives.
//
// The instance (EnsureHost) must exist. A host port that another task of the
// instance forwards is refused before anything changes. Safe to call again with
// the same arguments (rules are not duplicated); called with other ports or
// another address, the task's rules are replaced. What a failed call made is
// removed again.
func (k *Kernel) AttachBridgeTask(ctx context.Context, instance, task string, addr netip.Addr, ports []PortForward) error {
	if err := k.attachBridgeTask(ctx, instance, task, addr, ports); err != nil {
		return fmt.Errorf("attach bridge-mode task %s to %s: %w", task, instance, err)
	}
	return nil
}

func (k *Kernel) attachBridgeTask(ctx context.Context, instance, task string, addr netip.Addr, ports []PortForward) (retErr error) {
	instNS, taskNS, vethName, err := k.bridgeTaskNames(instance, task)
	if err != nil {
		return err
	}
	if !addr.Is4() || !dockerNet.Contains(addr) || addr == dockerNet.Addr() || addr == dockerGateway || addr == dockerBroadcast {
		return fmt.Errorf("address %v is not a host address of %v other than %v", addr, dockerNet, dockerGateway)
	}
	fwds := make([]forward, 0, len(ports))
	for _, p := range ports {
		f := forward{task: task, proto: p.Proto, hostPort: p.HostPort, addr: addr, containerPort: p.ContainerPort}
		if err := f.check(); err != nil {
			return err
		}
		for _, g := range fwds {
			if g.proto == f.proto && g.hostPort == f.hostPort {
				return fmt.Errorf("host port %s/%d is mapped twice", f.proto, f.hostPort)
			}
		}
		fwds = append(fwds, f)
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	inst, err := k.connLocked(instNS)
	if err != nil {
		return fmt.Errorf("instance %s (EnsureHost first): %w", instance, err)
	}
	br, err := k.ensureDockerBridgeLocked(inst)
	if err != nil {
		return err
	}

	instFd, err := openNetns(inst.path())
	if err != nil {
		return err
	}
	defer unix.Close(instFd)
	nft, err := nftables.New(nftables.WithNetNSFd(instFd))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", instNS, err)
	}
	tbl, err := readECSTable(nft)
	if err != nil {
		return fmt.Errorf("read nftables table %s in %s: %w", ecsTableName, instNS, err)
	}
	// Refuse a taken host port before anything changes.
	var want []forward
	for _, f := range tbl.forwards {
		if f.task == task {
			continue
		}
		for _, g := range fwds {
			if f.proto == g.proto && f.hostPort == g.hostPort {
				return fmt.Errorf("host port %s/%d is already forwarded to task %s", g.proto, g.hostPort, f.task)
			}
		}
		want = append(want, f)
	}
	want = append(want, fwds...)

	// The task's namespace and its eth0 on the bridge.
	taskPath := k.NetnsPath(task)
	nsExisted := isNetns(taskPath)
	if err := k.ensureNetnsLocked(taskNS); err != nil {
		return fmt.Errorf("task namespace: %w", err)
	}
	if !nsExisted {
		defer func() {
			if retErr != nil {
				if err := k.removeNetnsLocked(context.Background(), taskNS); err != nil {
					retErr = errors.Join(retErr, fmt.Errorf("undo: %w", err))
				}
			}
		}()
	}
	tc, err := k.connLocked(taskNS)
	if err != nil {
		return err
	}
	port, eth0, created, err := ensureTaskVeth(inst, tc, vethName, macOf(addr))
	if err != nil {
		return err
	}
	if created && nsExisted {
		defer func() {
			if retErr != nil {
				if err := deleteLinkByName(inst.h, vethName); err != nil {
					retErr = errors.Join(retErr, fmt.Errorf("undo: %w", err))
				}
			}
		}()
	}
	if port.Attrs().MasterIndex != br.Attrs().Index {
		if err := inst.h.LinkSetMaster(port, br); err != nil {
			return fmt.Errorf("add %s to %s: %w", vethName, dockerBridgeName, err)
		}
	}
	// Hairpin: with br_netfilter on, a container's connection to its own host
	// port is DNATed by the bridge and must go back out of the port it came in.
	if err := inst.h.LinkSetHairpin(port, true); err != nil {
		return fmt.Errorf("hairpin mode on %s: %w", vethName, err)
	}
	if err := setUp(inst.h, port); err != nil {
		return err
	}
	if err := configureTaskIf(tc.h, eth0, addr); err != nil {
		return err
	}

	if err := applyECSTable(nft, tbl, want); err != nil {
		return fmt.Errorf("nftables table %s in %s: %w", ecsTableName, instNS, err)
	}
	return nil
}

// DetachBridgeTask removes the task's veth pair, its DNAT rules (and the
// conntrack entries they made, so no connection keeps reaching the task's
// address) and its namespace, killing what runs in it as DeleteHost does.
// Missing task, rules or instance is success. The bridge vs-dbr0 stays while the
// instance lives (DeleteHost of the instance removes it; the namespaces of its
// tasks then stay until they are detached or Reconcile removes them).
func (k *Kernel) DetachBridgeTask(ctx context.Context, instance, task string) error {
	if err := k.detachBridgeTask(ctx, instance, task); err != nil {
		return fmt.Errorf("detach bridge-mode task %s from %s: %w", task, instance, err)
	}
	return nil
}

// bridgeTaskNames are the namespaces of the instance and the task, and the name
// of the task's veth end in the instance.
func (k *Kernel) bridgeTaskNames(instance, task string) (instNS, taskNS, veth string, err error) {
	if instNS, err = k.nsName(instance); err != nil {
		return
	}
	if taskNS, err = k.nsName(task); err != nil {
		return
	}
	veth, err = taskVethName(task)
	return
}

func (k *Kernel) detachBridgeTask(ctx context.Context, instance, task string) error {
	instNS, taskNS, vethName, err := k.bridgeTaskNames(instance, task)
	if err != nil {
		return err
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	inst, err := k.connLocked(instNS)
	switch {
	case errors.Is(err, errNoNetns):
		// The rules and the veth end went with the instance's namespace.
	case err != nil:
		errs = append(errs, err)
	default:
		if err := k.removeTaskRulesLocked(inst, task); err != nil {
			errs = append(errs, err)
		}
		if err := deleteLinkByName(inst.h, vethName); err != nil {
			errs = append(errs, err)
		}
	}
	if err := k.removeNetnsLocked(ctx, taskNS); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeTaskRulesLocked deletes the task's rules from the instance's vs-ecs table
// in one transaction, then the conntrack entries of connections DNATed to it.
func (k *Kernel) removeTaskRulesLocked(inst *nsConn, task string) error {
	fd, err := openNetns(inst.path())
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", inst.name, err)
	}
	tbl, err := readECSTable(nft)
	if err != nil {
		return fmt.Errorf("read nftables table %s in %s: %w", ecsTableName, inst.name, err)
	}
	if !tbl.exists {
		return nil
	}
	var want []forward
	var gone []netip.Addr
	for _, f := range tbl.forwards {
		if f.task != task {
			want = append(want, f)
		} else if !slices.Contains(gone, f.addr) {
			gone = append(gone, f.addr)
		}
	}
	if err := applyECSTable(nft, tbl, want); err != nil {
		return fmt.Errorf("nftables table %s in %s: %w", ecsTableName, inst.name, err)
	}
	if len(gone) > 0 {
		// Best effort: the rules are what matters; a lingering entry only keeps
		// an established flow (UDP mostly) pointed at an address now unused.
		if err := deleteConntrackTo(fd, gone); err != nil {
			k.log.Warn("could not delete the conntrack entries of a detached task", "netns", inst.name, "task", task, "err", err)
		}
	}
	return nil
}

// ensureDockerBridgeLocked makes the instance's vs-dbr0, up, holding exactly
// 172.17.0.1/16, and sets the instance's sysctls: IPv4 forwarding; route_localnet
// on vs-dbr0 so that 127.0.0.1:HostPort can be DNATed to a container; and
// bridge-nf-call-iptables=0, since nothing here needs bridged frames in the IP
// hooks (the rules see only routed traffic; with it on, hairpin mode on the
// ports keeps everything working too). Safe to call again.
func (k *Kernel) ensureDockerBridgeLocked(inst *nsConn) (netlink.Link, error) {
	br, err := ensureBridge(inst.h, dockerBridgeName, macOf(dockerGateway))
	if err != nil {
		return nil, err
	}
	if err := reconcileAddrs(inst.h, br, []netip.Prefix{netip.PrefixFrom(dockerGateway, dockerNet.Bits())}); err != nil {
		return nil, err
	}
	if err := setUp(inst.h, br); err != nil {
		return nil, err
	}
	err = inNetns(inst.path(), func() error {
		if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
			return err
		}
		if err := writeSysctl("net/ipv4/conf/"+dockerBridgeName+"/route_localnet", "1"); err != nil {
			return err
		}
		if err := writeSysctl(bridgeNFSysctl, "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sysctls in %s: %w", inst.name, err)
	}
	return br, nil
}

// ensureTaskVeth returns the task's veth pair: port (vethName in the instance)
// and eth0 (in the task's namespace), making it if needed, with the task's end
// made directly inside the task's namespace. A vethName whose peer is not the
// task's eth0 is replaced; an eth0 of the task that is not paired with vethName
// (an ENI?) is refused.
func ensureTaskVeth(inst, tc *nsConn, vethName string, mac net.HardwareAddr) (port, eth0 netlink.Link, created bool, err error) {
	taskFd, err := openNetns(tc.path())
	if err != nil {
		return nil, nil, false, err
	}
	defer unix.Close(taskFd)

	port, err = inst.h.LinkByName(vethName)
	if err != nil && !isNotFound(err) {
		return nil, nil, false, fmt.Errorf("find %s: %w", vethName, err)
	}
	if err == nil {
		if eth0 := pairedEnd(inst, tc, taskFd, port); eth0 != nil {
			return port, eth0, false, nil
		}
		// Our name, but not the task's pair: start afresh.
		if err := inst.h.LinkDel(port); err != nil && !isNotFound(err) {
			return nil, nil, false, fmt.Errorf("delete stale %s: %w", vethName, err)
		}
	}
	if l, err := tc.h.LinkByName(taskIfName); err == nil {
		return nil, nil, false, fmt.Errorf("%s in %s is taken by a %s that is not the task's bridge veth", taskIfName, tc.name, l.Type())
	}

	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: vethName},
		PeerName:         taskIfName,
		PeerNamespace:    netlink.NsFd(taskFd),
		PeerHardwareAddr: mac,
	}
	if err := inst.h.LinkAdd(veth); err != nil {
		return nil, nil, false, fmt.Errorf("add veth %s/%s: %w", vethName, taskIfName, err)
	}
	if port, err = inst.h.LinkByName(vethName); err != nil {
		return nil, nil, false, fmt.Errorf("find new %s: %w", vethName, err)
	}
	if eth0, err = tc.h.LinkByName(taskIfName); err != nil {
		inst.h.LinkDel(port)
		return nil, nil, false, fmt.Errorf("find new %s in %s: %w", taskIfName, tc.name, err)
	}
	return port, eth0, true, nil
}

// pairedEnd returns the task's eth0 if it is the peer of port, else nil.
func pairedEnd(inst, tc *nsConn, taskFd int, port netlink.Link) netlink.Link {
	if _, ok := port.(*netlink.Veth); !ok {
		return nil
	}
	eth0, err := tc.h.LinkByName(taskIfName)
	if err != nil {
		return nil
	}
	if _, ok := eth0.(*netlink.Veth); !ok {
		return nil
	}
	nsid, err := inst.h.GetNetNsIdByFd(taskFd)
	if err != nil || nsid < 0 || port.Attrs().NetNsID != nsid {
		return nil
	}
	if port.Attrs().ParentIndex != eth0.Attrs().Index || eth0.Attrs().ParentIndex != port.Attrs().Index {
		return nil
	}
	return eth0
}

// configureTaskIf gives the task's eth0 its MAC, exactly addr/16, up, and the
// default route via 172.17.0.1.
func configureTaskIf(h *netlink.Handle, eth0 netlink.Link, addr netip.Addr) error {
	mac := macOf(addr)
	if !slices.Equal(eth0.Attrs().HardwareAddr, mac) {
		if err := setDown(h, eth0); err != nil {
			return err
		}
		if err := h.LinkSetHardwareAddr(eth0, mac); err != nil {
			return fmt.Errorf("set MAC of %s: %w", taskIfName, err)
		}
		if err := refresh(h, &eth0); err != nil {
			return err
		}
	}
	if err := reconcileAddrs(h, eth0, []netip.Prefix{netip.PrefixFrom(addr, dockerNet.Bits())}); err != nil {
		return err
	}
	if err := setUp(h, eth0); err != nil {
		return err
	}
	return ensureDefaultRoute(h, eth0, dockerGateway, true)
}

// macOf is the MAC docker gives an address on its bridge: 02:42 and the IPv4
// address. Stable across re-attachment, so neighbours' ARP caches stay right.
func macOf(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// deleteConntrackTo deletes the conntrack entries, in the namespace fd refers
// to, whose replies come from one of addrs (connections DNATed to them).
func deleteConntrackTo(fd int, addrs []netip.Addr) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_NETFILTER)
	if err != nil {
		return err
	}
	defer h.Close()
	var filters []netlink.CustomConntrackFilter
	for _, a := range addrs {
		f := &netlink.ConntrackFilter{}
		if err := f.AddIP(netlink.ConntrackReplySrcIP, net.IP(a.AsSlice())); err != nil {
			return err
		}
		filters = append(filters, f)
	}
	_, err = h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	return err
}

// forward is one DNAT of a task: what a rule's comment says.
type forward struct {
	task          string
	proto         string
	hostPort      uint16
	addr          netip.Addr
	containerPort uint16
}

// comment is the rule comment that names the task and says all the rule does:
// "task-… tcp 8080 172.17.0.2:80".
func (f forward) comment() string {
	return fmt.Sprintf("%s %s %d %s", f.task, f.proto, f.hostPort, netip.AddrPortFrom(f.addr, f.containerPort))
}

// parseForward reads what comment wrote; ok is false for anything else.
func parseForward(s string) (forward, bool) {
	fs := strings.Fields(s)
	if len(fs) != 4 {
		return forward{}, false
	}
	hp, err := strconv.ParseUint(fs[2], 10, 16)
	if err != nil {
		return forward{}, false
	}
	ap, err := netip.ParseAddrPort(fs[3])
	if err != nil {
		return forward{}, false
	}
	f := forward{task: fs[0], proto: fs[1], hostPort: uint16(hp), addr: ap.Addr(), containerPort: ap.Port()}
	if f.check() != nil || f.comment() != s {
		return forward{}, false
	}
	return f, true
}

func (f forward) check() error {
	if _, err := taskVethName(f.task); err != nil {
		return err
	}
	if f.proto != "tcp" && f.proto != "udp" {
		return fmt.Errorf("protocol %q: want tcp or udp", f.proto)
	}
	if f.hostPort == 0 || f.containerPort == 0 {
		return fmt.Errorf("port mapping %d->%d/%s: ports must not be 0", f.hostPort, f.containerPort, f.proto)
	}
	if !f.addr.Is4() || !dockerNet.Contains(f.addr) {
		return fmt.Errorf("address %v is not in %v", f.addr, dockerNet)
	}
	return nil
}

// exprs is the rule: meta l4proto P th dport HP fib daddr type local
// dnat to ADDR:CP.
func (f forward) exprs() []expr.Any {
	proto := byte(unix.IPPROTO_TCP)
	if f.proto == "udp" {
		proto = unix.IPPROTO_UDP
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(f.hostPort)},
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Immediate{Register: 1, Data: f.addr.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(f.containerPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

// masqRules are postrouting's rules, by comment.
var masqRules = []struct {
	comment string
	exprs   func() []expr.Any
}{
	// Containers reach the VPC as the instance.
	{"containers: ip saddr 172.17.0.0/16 oifname != vs-dbr0 masquerade", func() []expr.Any {
		return append(append(ipAddrIn(ipSaddrOffset, dockerNet), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, dockerBridgeName)...), &expr.Masq{})
	}},
	// A container's connection to a host port of its own instance, DNATed back
	// onto the bridge: the reply must come back through the instance to be
	// un-DNATed, not go straight to the container (hairpin NAT, as docker).
	{"hairpin: ip saddr 172.17.0.0/16 oifname vs-dbr0 ct status dnat masquerade", func() []expr.Any {
		e := append(ipAddrIn(ipSaddrOffset, dockerNet), ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, dockerBridgeName)...)
		e = append(e,
			&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		)
		return append(e, &expr.Masq{})
	}},
	// The instance's own 127.0.0.1:HostPort, DNATed in output (route_localnet
	// lets it leave through vs-dbr0; the container must not see 127.0.0.1).
	{"localhost: ip saddr 127.0.0.0/8 oifname vs-dbr0 masquerade", func() []expr.Any {
		e := append(ipAddrIn(ipSaddrOffset, netip.MustParsePrefix("127.0.0.0/8")), ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, dockerBridgeName)...)
		return append(e, &expr.Masq{})
	}},
}

// The table and its chains as they must be.
var (
	ecsTable  = &nftables.Table{Name: ecsTableName, Family: nftables.TableFamilyIPv4}
	ecsChains = []*nftables.Chain{
		{Name: "prerouting", Table: ecsTable, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest},
		{Name: "output", Table: ecsTable, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest},
		{Name: "postrouting", Table: ecsTable, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
	}
)

// ecsTableState is what readECSTable found.
type ecsTableState struct {
	exists   bool
	rebuild  bool                        // a chain is missing, extra, or not as it must be
	rules    map[string][]*nftables.Rule // chain name → rules
	forwards []forward                   // every forward some rule's comment names, once
}

// readECSTable reads the vs-ecs table of the namespace nft talks to.
func readECSTable(nft *nftables.Conn) (ecsTableState, error) {
	st := ecsTableState{rules: map[string][]*nftables.Rule{}}
	if _, err := nft.ListTableOfFamily(ecsTableName, nftables.TableFamilyIPv4); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return st, nil
		}
		return st, err
	}
	st.exists = true
	chains, err := nft.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return st, err
	}
	have := map[string]*nftables.Chain{}
	for _, c := range chains {
		if c.Table != nil && c.Table.Name == ecsTableName {
			have[c.Name] = c
		}
	}
	if len(have) != len(ecsChains) {
		st.rebuild = true
	}
	for _, want := range ecsChains {
		c := have[want.Name]
		if c == nil || c.Type != want.Type || c.Hooknum == nil || *c.Hooknum != *want.Hooknum ||
			c.Priority == nil || *c.Priority != *want.Priority || (c.Policy != nil && *c.Policy != nftables.ChainPolicyAccept) {
			st.rebuild = true
		}
	}
	seen := map[string]bool{}
	for name := range have {
		rules, err := nft.GetRules(ecsTable, &nftables.Chain{Name: name, Table: ecsTable})
		if err != nil {
			return st, fmt.Errorf("rules of %s: %w", name, err)
		}
		st.rules[name] = rules
		if name != "prerouting" && name != "output" {
			continue
		}
		for _, r := range rules {
			if f, ok := parseForward(ruleComment(r)); ok && !seen[f.comment()] {
				seen[f.comment()] = true
				st.forwards = append(st.forwards, f)
			}
		}
	}
	return st, nil
}

func ruleComment(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

// applyECSTable makes the table hold exactly the masquerade rules and the rules
// of want, in one transaction (one Flush): rules whose comment is not wanted, or
// repeats one, are deleted; wanted ones that are missing are added. A missing
// table is made; one whose chains are not as they must be is rebuilt whole. It
// sends nothing when the table is already right.
func applyECSTable(nft *nftables.Conn, st ecsTableState, want []forward) error {
	wanted := map[string][]struct {
		comment string
		exprs   []expr.Any
	}{}
	add := func(chain, comment string, exprs []expr.Any) {
		wanted[chain] = append(wanted[chain], struct {
			comment string
			exprs   []expr.Any
		}{comment, exprs})
	}
	for _, m := range masqRules {
		add("postrouting", m.comment, m.exprs())
	}
	for _, f := range want {
		add("prerouting", f.comment(), f.exprs())
		add("output", f.comment(), f.exprs())
	}

	changed := false
	have := st.rules
	if st.rebuild || !st.exists {
		if st.exists {
			nft.DelTable(ecsTable)
		}
		nft.AddTable(ecsTable)
		for _, c := range ecsChains {
			nft.AddChain(c)
		}
		have = nil
		changed = true
	}
	for _, c := range ecsChains {
		keep := map[string]bool{}
		for _, w := range wanted[c.Name] {
			keep[w.comment] = true
		}
		present := map[string]bool{}
		for _, r := range have[c.Name] {
			com := ruleComment(r)
			if keep[com] && !present[com] {
				present[com] = true
				continue
			}
			r.Table, r.Chain = ecsTable, c
			if err := nft.DelRule(r); err != nil {
				return err
			}
			changed = true
		}
		for _, w := range wanted[c.Name] {
			if present[w.comment] {
				continue
			}
			nft.AddRule(&nftables.Rule{
				Table:    ecsTable,
				Chain:    c,
				Exprs:    w.exprs,
				UserData: userdata.AppendString(nil, userdata.TypeComment, w.comment),
			})
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return nft.Flush()
}
