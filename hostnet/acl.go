package hostnet

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A VPC's network ACLs are one table in its namespace, made by SetRouting and
// replaced whole, in one transaction, only when it differs (nftspec.go):
//
//	table inet vs-acl {
//		map logged  { type ipv4_addr : verdict }  flow-logged ENI address → jump r-<eni-id>
//		map logged6 { type ipv6_addr : verdict }  the same, IPv6
//		chain r-<eni-id>  { log group 4566 snaplen 64 prefix "R <eni-id>" }
//		chain deny-out    { ip saddr vmap @logged; ip6 saddr vmap @logged6; drop }
//		chain deny-in     { ip daddr vmap @logged; ip6 daddr vmap @logged6; drop }
//		chain out-<subnet-id> {   the ACL's egress rules, by number
//			<match> ip daddr <CIDR> return | goto deny-out     an IPv4 entry
//			<match> ip6 daddr <CIDR> return | goto deny-out    an IPv6 entry
//			goto deny-out            the implicit "*" rule
//		}
//		chain in-<subnet-id>  {   the ingress rules, ip/ip6 saddr, deny-in
//		}
//		chain forward {
//			type filter hook forward priority filter - 1; policy accept;
//			iifname B oifname != B jump out-<subnet-id>     per subnet with an ACL
//			oifname B iifname != B jump in-<subnet-id>
//		}
//	}
//
// where B is the subnet's bridge. br_netfilter is on in the VPC namespace for
// both families, so the forward hook sees bridged traffic within a subnet
// with B as both interfaces (not judged, as on AWS), and routed traffic
// leaving or entering the subnet with B on one side only: from subnet A to
// subnet B a packet passes A's egress and B's ingress, which is why an allow
// returns and only a deny drops. Every packet is judged, established or not:
// ACLs are stateless. An entry judges the family of its CIDR only (meta
// nfproto; <match> is its protocol, by meta l4proto, and its ports or its
// ICMP or ICMPv6 type and code); protocol -1 is any protocol of that family.
// ARP never reaches an inet table, and neighbour discovery is never
// forwarded: between an ENI and its router it is the router's own traffic
// (input and output hooks), within a subnet it is bridged, so no ACL judges
// it, as on AWS. A dropped packet from (egress) or to (ingress) a
// flow-logged ENI is logged as its REJECT, with the prefix the security
// groups use (firewall.go), so the flow capture records it; accepted traffic
// is logged by the security groups, which judge it too. (Before IPv6 the
// table was ip vs-acl: one left by an older vpcsim goes.)
const aclTableName = "vs-acl"

// aclPriority puts the ACLs before the security groups (vs-sg, at filter):
// both must let a packet through, but a packet the ACL drops must not reach
// the groups' flow logging first, to be recorded as accepted as well.
var aclPriority = nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 1)

// aclSpec is the vs-acl table for r's ACLs, or nil when no subnet has one.
// What it cannot enforce as given it reports, joined, and fails closed: an
// invalid allow rule is left out, an invalid deny rule denies everything
// from its place on. A subnet whose ID names no bridge is left out (the
// routing reports it).
func aclSpec(r netmodel.Routing) (*nftSpec, error) {
	if !slices.ContainsFunc(r.Subnets, func(s netmodel.SubnetRouting) bool { return s.ACL != nil }) {
		return nil, nil
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: aclTableName}
	policy := nftables.ChainPolicyAccept
	chain := func(name string) *nftables.Chain { return &nftables.Chain{Name: name, Table: t} }

	jumps4, jumps6, made := map[netip.Addr]string{}, map[netip.Addr]string{}, map[string]bool{}
	var logChains []nftChain
	for _, a := range slices.SortedFunc(maps.Keys(r.Logged), netip.Addr.Compare) {
		eni := r.Logged[a]
		if eni == "" || !a.IsValid() || a.Is4In6() {
			continue
		}
		name := "r-" + eni
		if !made[name] { // one chain per ENI, whatever its addresses
			made[name] = true
			prefix := "R " + eni
			logChains = append(logChains, nftChain{chain: chain(name), rules: []nftRule{
				{fmt.Sprintf("log group %d snaplen %d prefix %q", flowLogGroup, flowLogSnaplen, prefix), func() []expr.Any {
					return []expr.Any{nflog(flowLogGroup, flowLogSnaplen, prefix)}
				}},
			}})
		}
		if a.Is4() {
			jumps4[a] = name
		} else {
			jumps6[a] = name
		}
	}
	logged := newJumpMap(t, "logged", jumps4)
	logged6 := newJumpMap(t, "logged6", jumps6)
	logged6.set.KeyType = nftables.TypeIP6Addr
	deny := func(name string, ingress bool) nftChain {
		field := "saddr" // egress: the logged ENI is the source
		if ingress {
			field = "daddr"
		}
		// The peer's offset on the other side is the ENI's own.
		return nftChain{chain: chain(name), rules: []nftRule{
			{"ip " + field + " vmap @logged", func() []expr.Any {
				return append(familyIs(true), addrVmap(aclPeerOffset(true, !ingress), logged.set)...)
			}},
			{"ip6 " + field + " vmap @logged6", func() []expr.Any {
				return append(familyIs(false), addrVmap(aclPeerOffset(false, !ingress), logged6.set)...)
			}},
			{"drop", func() []expr.Any { return []expr.Any{verdict(expr.VerdictDrop)} }},
		}}
	}

	var errs []error
	var forward []nftRule
	var aclChains []nftChain
	seen := map[string]bool{}
	for _, s := range r.Subnets {
		if s.ACL == nil || seen[s.SubnetID] {
			continue // a subnet given twice: its first ACL
		}
		seen[s.SubnetID] = true
		br, err := bridgeName(s.SubnetID)
		if err != nil {
			continue
		}
		out, in := "out-"+s.SubnetID, "in-"+s.SubnetID
		egress, err := aclChainRules(s.ACL.Egress, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("subnet %s: %s egress: %w", s.SubnetID, s.ACL.ID, err))
		}
		ingress, err := aclChainRules(s.ACL.Ingress, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("subnet %s: %s ingress: %w", s.SubnetID, s.ACL.ID, err))
		}
		aclChains = append(aclChains, nftChain{chain: chain(out), rules: egress}, nftChain{chain: chain(in), rules: ingress})
		forward = append(forward,
			nftRule{"iifname " + br + " oifname != " + br + " jump " + out, func() []expr.Any {
				return slices.Concat(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, br), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, br), []expr.Any{jump(out)})
			}},
			nftRule{"oifname " + br + " iifname != " + br + " jump " + in, func() []expr.Any {
				return slices.Concat(ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, br), ifname(expr.MetaKeyIIFNAME, expr.CmpOpNeq, br), []expr.Any{jump(in)})
			}})
	}

	// Chains before the rules that jump to them: the transaction adds them
	// in this order.
	chains := slices.Concat(logChains, []nftChain{deny("deny-out", false), deny("deny-in", true)}, aclChains)
	chains = append(chains, nftChain{
		chain: &nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: aclPriority, Policy: &policy},
		rules: forward,
	})
	return &nftSpec{table: t, maps: []*nftMap{logged, logged6}, chains: chains}, errors.Join(errs...)
}

// aclChainRules are the rules of a subnet's egress (by destination) or
// ingress (by source) chain: the ACL's rules by number, the first match
// deciding, then the implicit deny.
func aclChainRules(rules []netmodel.ACLRule, ingress bool) ([]nftRule, error) {
	deny := "deny-out"
	if ingress {
		deny = "deny-in"
	}
	rules = slices.Clone(rules)
	slices.SortStableFunc(rules, func(a, b netmodel.ACLRule) int { return cmp.Compare(a.Number, b.Number) })
	var out []nftRule
	var errs []error
	for _, r := range rules {
		match, desc, err := aclMatch(r, ingress)
		switch {
		case err != nil && r.Allow:
			errs = append(errs, fmt.Errorf("rule %d left out: %w", r.Number, err))
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("rule %d denies everything: %w", r.Number, err))
			out = append(out, nftRule{fmt.Sprintf("rule %d deny all (invalid) goto %s", r.Number, deny), func() []expr.Any {
				return []expr.Any{&expr.Verdict{Kind: expr.VerdictGoto, Chain: deny}}
			}})
			return out, errors.Join(errs...)
		}
		v := &expr.Verdict{Kind: expr.VerdictReturn}
		action := "allow"
		if !r.Allow {
			v, action = &expr.Verdict{Kind: expr.VerdictGoto, Chain: deny}, "deny"
		}
		comment := fmt.Sprintf("rule %d %s %s", r.Number, action, desc)
		if !r.Allow {
			comment += " goto " + deny
		}
		out = append(out, nftRule{comment, func() []expr.Any { return append(slices.Clip(match), v) }})
	}
	out = append(out, nftRule{"rule * deny all goto " + deny, func() []expr.Any {
		return []expr.Any{&expr.Verdict{Kind: expr.VerdictGoto, Chain: deny}}
	}})
	return out, errors.Join(errs...)
}

// aclMatch is what an ACL rule matches: its CIDR's family, the peer (the
// source for ingress, the destination for egress), the protocol and its
// ports (TCP, UDP; any when -1) or type and code (ICMP, ICMPv6; any when
// -1). It describes it too ("tcp 80-80 from 10.0.0.0/16").
func aclMatch(r netmodel.ACLRule, ingress bool) ([]expr.Any, string, error) {
	if !r.CIDR.IsValid() || r.CIDR.Addr().Is4In6() {
		return nil, "", fmt.Errorf("no CIDR")
	}
	peer := r.CIDR.Masked()
	is4 := peer.Addr().Is4()
	e := append(familyIs(is4), addrIn(aclPeerOffset(is4, ingress), peer)...)
	var what string
	switch r.Proto {
	case -1:
		what = "all"
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP:
		from, to := r.From, r.To
		if from < 0 {
			from = 0
		}
		if to < 0 {
			to = 65535
		}
		if from > to || to > 65535 {
			return nil, "", fmt.Errorf("port range %d-%d", r.From, r.To)
		}
		e = append(e, l4protoIs(byte(r.Proto))...)
		if from > 0 || to < 65535 {
			e = append(e, dportIn(uint16(from), uint16(to))...)
		}
		what = fmt.Sprintf("%s %d-%d", map[int]string{unix.IPPROTO_TCP: "tcp", unix.IPPROTO_UDP: "udp"}[r.Proto], from, to)
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		if r.From < -1 || r.From > 255 || r.To < -1 || r.To > 255 {
			return nil, "", fmt.Errorf("ICMP type %d code %d", r.From, r.To)
		}
		e = append(e, l4protoIs(byte(r.Proto))...)
		if r.From >= 0 {
			e = append(e, transportByteIs(0, byte(r.From))...)
		}
		if r.To >= 0 {
			e = append(e, transportByteIs(1, byte(r.To))...)
		}
		what = map[int]string{unix.IPPROTO_ICMP: "icmp", unix.IPPROTO_ICMPV6: "icmpv6"}[r.Proto] + " type " + anyOr(r.From) + " code " + anyOr(r.To)
	default:
		if r.Proto < 0 || r.Proto > 255 {
			return nil, "", fmt.Errorf("protocol %d", r.Proto)
		}
		e = append(e, l4protoIs(byte(r.Proto))...)
		what = "proto " + strconv.Itoa(r.Proto)
	}
	dir := "to"
	if ingress {
		dir = "from"
	}
	return e, what + " " + dir + " " + peer.String(), nil
}

func anyOr(n int) string {
	if n < 0 {
		return "any"
	}
	return strconv.Itoa(n)
}

// setACLsLocked makes the VPC namespace's vs-acl table what r's ACLs say:
// replaced whole when it differs, removed when no subnet has an ACL.
func setACLsLocked(c *nsConn, r netmodel.Routing) error {
	spec, specErr := aclSpec(r)
	// An older vpcsim's IPv4-only table goes, after the table that takes
	// its place is in.
	gone := []*nftables.Table{{Family: nftables.TableFamilyIPv4, Name: aclTableName}}
	if spec == nil {
		gone = append(gone, &nftables.Table{Family: nftables.TableFamilyINet, Name: aclTableName})
	} else if err := applyNFTSpec(c, spec, nftables.WithSockOptions(bigSendBuffer)); err != nil {
		// A big send buffer, as for security groups: a VPC's ACLs may
		// have thousands of rules and logged addresses.
		return errors.Join(specErr, err)
	}
	return errors.Join(specErr, deleteNFTTablesIn(c, gone...))
}
