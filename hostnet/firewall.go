package hostnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim"
)

// A VPC's security groups live in its namespace, where every packet between two
// ENIs passes (bridged ones too: bridge-nf-call-iptables is on there), and where
// no task can reach them. Two tables, replaced together in one transaction:
//
//	table inet vs-sg        stateful filtering of the forward hook:
//	  set g-<sg-id>         addresses of a referenced group's members
//	  map from-eni          ENI address → jump o-<eni-id>
//	  map to-eni            ENI address → jump i-<eni-id>; the connected host → accept
//	  chain forward         ct state established,related accept;
//	                        ip saddr vmap @from-eni; ip daddr vmap @to-eni; drop
//	  chain o-<eni-id>      the ENI's egress rules: a match returns, else drop
//	  chain i-<eni-id>      the ENI's ingress rules: a match accepts, else drop
//	table bridge vs-spoof   stateless anti-spoofing on each ENI's bridge port:
//	  map port              iifname → jump p-<eni-id>
//	  chain p-<eni-id>      only the ENI's MAC; ARP and (with source/dest check)
//	                        IPv4 only from its addresses; nothing else
//
// An address no ENI has is dropped (fail closed), so an ENI whose rules are not
// in yet cannot be reached. Established flows live in conntrack, not in the
// tables: replacing the tables does not disturb them.
const (
	sgTableName    = "vs-sg"
	spoofTableName = "vs-spoof"

	// flowLogGroup is the NFLOG group of flow-log captures in a VPC namespace;
	// flowLogSnaplen copies the IPv4 header and the ports, enough for a record.
	flowLogGroup   = 4566
	flowLogSnaplen = 64
)

// SetFirewall replaces the VPC's security-group and anti-spoofing tables with
// what fw says, in one nftables transaction, and captures the packets of
// flow-logged ENIs.
func (k *Kernel) SetFirewall(ctx context.Context, fw vpcsim.Firewall) error {
	name, err := k.nsName(fw.VPCID)
	if err != nil {
		return fmt.Errorf("security groups: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	path := filepath.Join(netnsDir, name)
	fd, err := openNetns(path)
	if err != nil {
		return fmt.Errorf("security groups of %s: %w", fw.VPCID, err)
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd), nftables.WithSockOptions(bigSendBuffer))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", name, err)
	}
	defer nft.CloseLasting()
	if err := addSGTable(nft, fw); err != nil {
		return fmt.Errorf("security groups of %s: %w", fw.VPCID, err)
	}
	if err := addSpoofTable(nft, fw); err != nil {
		return fmt.Errorf("anti-spoofing of %s: %w", fw.VPCID, err)
	}
	if err := nft.Flush(); err != nil {
		return fmt.Errorf("security groups of %s: nftables: %w", fw.VPCID, err)
	}
	return k.captureFlowsLocked(name, flowLogged(fw))
}

// bigSendBuffer lets one transaction carry a large ruleset: the kernel refuses
// a netlink message bigger than the socket's send buffer (212 KB by default,
// about 1,000 rules), and drops acknowledgements beyond the receive buffer, so
// root forces bigger ones.
func bigSendBuffer(c *netlink.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = errors.Join(
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 64<<20),
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20))
	}); err != nil {
		return err
	}
	return serr
}

// replaceTable starts a transaction's new table: adding, deleting and adding
// again makes the delete succeed whether or not the table existed.
func replaceTable(nft *nftables.Conn, t *nftables.Table) {
	nft.AddTable(t)
	nft.DelTable(t)
	nft.AddTable(t)
}

const ctEstablishedRelated = expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED

func addSGTable(nft *nftables.Conn, fw vpcsim.Firewall) error {
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: sgTableName}
	replaceTable(nft, t)

	groups := map[string]*nftables.Set{}
	for _, gid := range slices.Sorted(maps.Keys(fw.Members)) {
		s := &nftables.Set{Table: t, Name: "g-" + gid, KeyType: nftables.TypeIPAddr}
		if err := addSet(nft, s, addrElements(fw.Members[gid])); err != nil {
			return err
		}
		groups[gid] = s
	}

	var from, to []nftables.SetElement
	for _, e := range fw.ENIs {
		out := nft.AddChain(&nftables.Chain{Name: "o-" + e.ID, Table: t})
		in := nft.AddChain(&nftables.Chain{Name: "i-" + e.ID, Table: t})
		logged := len(e.FlowLogs) > 0
		for _, r := range e.Egress {
			nft.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: ruleExprs(r, ipDaddrOffset, groups, logged, e.ID, expr.VerdictReturn)})
		}
		nft.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: verdictExprs(logged, "R", e.ID, expr.VerdictDrop)})
		for _, r := range e.Ingress {
			nft.AddRule(&nftables.Rule{Table: t, Chain: in, Exprs: ruleExprs(r, ipSaddrOffset, groups, logged, e.ID, expr.VerdictAccept)})
		}
		nft.AddRule(&nftables.Rule{Table: t, Chain: in, Exprs: verdictExprs(logged, "R", e.ID, expr.VerdictDrop)})
		for _, a := range e.Addrs {
			from = append(from, nftables.SetElement{Key: a.AsSlice(), VerdictData: jump(out.Name)})
			to = append(to, nftables.SetElement{Key: a.AsSlice(), VerdictData: jump(in.Name)})
		}
	}
	if fw.Host.IsValid() {
		to = append(to, nftables.SetElement{Key: fw.Host.AsSlice(), VerdictData: verdict(expr.VerdictAccept)})
	}
	fromMap := &nftables.Set{Table: t, Name: "from-eni", IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeVerdict}
	toMap := &nftables.Set{Table: t, Name: "to-eni", IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeVerdict}
	if err := addSet(nft, fromMap, from); err != nil {
		return err
	}
	if err := addSet(nft, toMap, to); err != nil {
		return err
	}

	accept := nftables.ChainPolicyAccept
	fwd := nft.AddChain(&nftables.Chain{
		Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	add := func(exprs ...[]expr.Any) {
		nft.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: slices.Concat(exprs...)})
	}
	// Packets of admitted connections: counted into the flow logs of the ENIs
	// that send or receive them, then let through without another look.
	for _, e := range fw.ENIs {
		if len(e.FlowLogs) == 0 {
			continue
		}
		for _, a := range e.Addrs {
			add(ctStateIn(ctEstablishedRelated), isIPv4(), ipAddrIs(ipSaddrOffset, a), []expr.Any{nflog(flowLogGroup, flowLogSnaplen, "A "+e.ID)})
			add(ctStateIn(ctEstablishedRelated), isIPv4(), ipAddrIs(ipDaddrOffset, a), []expr.Any{nflog(flowLogGroup, flowLogSnaplen, "A "+e.ID)})
		}
	}
	add(ctStateIn(ctEstablishedRelated), []expr.Any{verdict(expr.VerdictAccept)})
	add(isIPv4(), ipAddrInSet(ipSaddrOffset, fromMap))
	add(isIPv4(), ipAddrInSet(ipDaddrOffset, toMap))
	add([]expr.Any{verdict(expr.VerdictDrop)})
	return nil
}

// ruleExprs is one security group rule: the peer (ip saddr for ingress, ip
// daddr for egress), the protocol and ports, then the verdict.
func ruleExprs(r vpcsim.FirewallRule, peerOffset uint32, groups map[string]*nftables.Set, logged bool, eni string, v expr.VerdictKind) []expr.Any {
	e := isIPv4()
	if r.PeerGroup != "" {
		e = append(e, ipAddrInSet(peerOffset, groups[r.PeerGroup])...)
	} else {
		e = append(e, ipAddrIn(peerOffset, r.CIDR)...)
	}
	switch r.Proto {
	case -1:
	case vpcsim.ProtoTCP, vpcsim.ProtoUDP:
		e = append(e, l4protoIs(byte(r.Proto))...)
		if r.From > 0 || r.To < 65535 {
			e = append(e, dportIn(uint16(r.From), uint16(r.To))...)
		}
	case vpcsim.ProtoICMP:
		e = append(e, l4protoIs(unix.IPPROTO_ICMP)...)
		if r.From >= 0 {
			e = append(e, transportByteIs(0, byte(r.From))...)
		}
		if r.To >= 0 {
			e = append(e, transportByteIs(1, byte(r.To))...)
		}
	default:
		e = append(e, l4protoIs(byte(r.Proto))...)
	}
	return append(e, verdictExprs(logged, "A", eni, v)...)
}

// verdictExprs ends a rule: the flow-log capture when the ENI is logged, then v.
func verdictExprs(logged bool, action, eni string, v expr.VerdictKind) []expr.Any {
	if logged {
		return []expr.Any{nflog(flowLogGroup, flowLogSnaplen, action+" "+eni), verdict(v)}
	}
	return []expr.Any{verdict(v)}
}

func addrElements(addrs []netip.Addr) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, nftables.SetElement{Key: a.AsSlice()})
	}
	return out
}

// flowLogged reports whether any ENI of the firewall has a flow log.
func flowLogged(fw vpcsim.Firewall) bool {
	return slices.ContainsFunc(fw.ENIs, func(e vpcsim.FirewallENI) bool { return len(e.FlowLogs) > 0 })
}
