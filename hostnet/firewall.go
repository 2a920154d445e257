package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC's security groups live in its namespace, where every packet between two
// ENIs passes (bridged ones too: bridge-nf-call-iptables is on there), and where
// no task can reach them. Two tables, always changed together in one transaction:
//
//	table inet vs-sg        stateful filtering of the forward hook:
//	  set g-<sg-id>         addresses of a referenced group's members
//	  map from-eni          ENI address → jump o-<eni-id>
//	  map to-eni            ENI address → jump i-<eni-id>; the connected host → accept
//	  map logged            flow-logged ENI address → jump l-<eni-id>
//	  chain forward         ct state established,related ip saddr vmap @logged;
//	                        ct state established,related ip daddr vmap @logged;
//	                        ct state established,related accept;
//	                        ip saddr vmap @from-eni; ip daddr vmap @to-eni;
//	                        ip saddr @from-eni ip daddr != <VPC CIDR> accept;
//	                        drop
//	  chain o-<eni-id>      the ENI's egress rules: a match returns, else drop
//	  chain i-<eni-id>      the ENI's ingress rules: a match accepts, else drop
//	  chain l-<eni-id>      log (flow log "A <eni-id>") and return
//	table bridge vs-spoof   stateless anti-spoofing on each ENI's bridge port:
//	  map port              iifname → jump p-<eni-id>
//	  set a-<eni-id>        the ENI's addresses
//	  chain p-<eni-id>      only the ENI's MAC; ARP and (with source/dest check)
//	                        IPv4 only from its addresses; nothing else
//
// Everything of one ENI hangs off map elements keyed by its addresses (and
// its port): SetFirewall builds the tables whole (start-up, repair);
// ChangeFirewall adds, flushes and deletes only the chains, sets and elements
// of the ENIs and groups a change names, so its cost does not grow with the
// VPC. An address of the VPC that no ENI has is dropped (fail closed), so an
// ENI whose rules are not in yet cannot be reached. What an ENI's egress rules
// let out to an address outside the VPC (the internet gateway, a route through
// an ENI) goes: no ENI's ingress rules are there to judge it. Established
// flows live in conntrack, not in the tables: changing the tables does not
// disturb them.
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
// flow-logged ENIs: all of it, or on an error nothing.
func (k *Kernel) SetFirewall(ctx context.Context, fw netmodel.Firewall) error {
	return k.applyFirewall(ctx, fw.VPCID, flowLogged(fw), func(nft *nftables.Conn) error {
		if err := addSGTable(nft, fw); err != nil {
			return fmt.Errorf("security groups of %s: %w", fw.VPCID, err)
		}
		if err := addSpoofTable(nft, fw); err != nil {
			return fmt.Errorf("anti-spoofing of %s: %w", fw.VPCID, err)
		}
		return nil
	})
}

// ChangeFirewall applies a change to the VPC's tables in one nftables
// transaction, touching only the ENIs and groups it names, and starts or
// stops the VPC's flow capture as ch.FlowLogged says: all of it, or on an
// error nothing. The tables must hold ch's old side (what the last
// SetFirewall or ChangeFirewall made); the result is what SetFirewall of the
// new firewall would make.
func (k *Kernel) ChangeFirewall(ctx context.Context, ch netmodel.FirewallChange) error {
	return k.applyFirewall(ctx, ch.VPCID, ch.FlowLogged, func(nft *nftables.Conn) error {
		if err := changeSGTable(nft, ch); err != nil {
			return fmt.Errorf("security groups of %s: %w", ch.VPCID, err)
		}
		if err := changeSpoofTable(nft, ch); err != nil {
			return fmt.Errorf("anti-spoofing of %s: %w", ch.VPCID, err)
		}
		return nil
	})
}

// applyFirewall sends what build queues as one transaction in the VPC's
// namespace, with the flow capture following logged. A capture that has to
// start starts first, and stops again if the transaction fails; one that has
// to stop stops after it (which cannot fail): so the two change together.
func (k *Kernel) applyFirewall(ctx context.Context, vpcID string, logged bool, build func(*nftables.Conn) error) error {
	name, err := k.nsName(vpcID)
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
		return fmt.Errorf("security groups of %s: %w", vpcID, err)
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd), nftables.WithSockOptions(bigSendBuffer))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", name, err)
	}
	defer nft.CloseLasting()
	if err := build(nft); err != nil {
		return err
	}
	started, err := k.captureFlowsLocked(name, logged)
	if err != nil {
		return err
	}
	if err := nft.Flush(); err != nil {
		if started {
			k.stopCaptureLocked(name)
		}
		return fmt.Errorf("security groups of %s: nftables: %w", vpcID, err)
	}
	if !logged {
		k.stopCaptureLocked(name)
	}
	return nil
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

// ruleExprs is one security group rule: its match (ruleMatch), then the
// verdict.
func ruleExprs(r netmodel.FirewallRule, peerOffset uint32, groups func(string) *nftables.Set, logged bool, eni string, v expr.VerdictKind) []expr.Any {
	return append(ruleMatch(r, peerOffset, groups), verdictExprs(logged, "A", eni, v)...)
}

// ruleMatch matches what a rule admits: IPv4, the peer (ip saddr for
// ingress, ip daddr for egress), the protocol and ports (0-65535 is any port;
// an ICMP type or code of -1 is any). Network ACL rules match alike (acl.go).
func ruleMatch(r netmodel.FirewallRule, peerOffset uint32, groups func(string) *nftables.Set) []expr.Any {
	e := isIPv4()
	if r.PeerGroup != "" {
		e = append(e, ipAddrInSet(peerOffset, groups(r.PeerGroup))...)
	} else {
		e = append(e, ipAddrIn(peerOffset, r.CIDR)...)
	}
	switch r.Proto {
	case -1:
	case netmodel.ProtoTCP, netmodel.ProtoUDP:
		e = append(e, l4protoIs(byte(r.Proto))...)
		if r.From > 0 || r.To < 65535 {
			e = append(e, dportIn(uint16(r.From), uint16(r.To))...)
		}
	case netmodel.ProtoICMP:
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
	return e
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
func flowLogged(fw netmodel.Firewall) bool {
	return slices.ContainsFunc(fw.ENIs, func(e netmodel.FirewallENI) bool { return len(e.FlowLogs) > 0 })
}
