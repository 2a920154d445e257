package ec2

import (
	"fmt"
	"net/netip"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// ephemeralPort stands for the port a client's replies go to: Linux picks
// them from 32768 up, and a network ACL, stateless, must let them back.
const ephemeralPort = 32768

// explainACLs says whether the network ACLs at the boundaries a packet
// crosses let a connection through, both ways (they are stateless): the
// sending subnet's egress and the receiving subnet's ingress for the
// request, the other two for the reply. A subnet is "" for an address
// outside the VPC's subnets (the machine, the internet).
func explainACLs(r netmodel.Routing, fromSubnet, toSubnet string, from, to netip.Addr, proto, port int) (bool, []string) {
	if fromSubnet == toSubnet {
		return true, []string{"network ACLs: the sender is in the same subnet, no ACL judges it"}
	}
	acls := map[string]*netmodel.NetworkACL{}
	for _, s := range r.Subnets {
		acls[s.SubnetID] = s.ACL
	}
	replyPort := ephemeralPort
	if proto != netmodel.ProtoTCP && proto != netmodel.ProtoUDP {
		replyPort = port
	}
	steps := []struct {
		subnet string
		egress bool
		peer   netip.Addr
		port   int
		what   string
	}{
		{fromSubnet, true, to, port, "the request leaving " + fromSubnet},
		{toSubnet, false, from, port, "the request entering " + toSubnet},
		{toSubnet, true, from, replyPort, "the reply leaving " + toSubnet},
		{fromSubnet, false, to, replyPort, "the reply entering " + fromSubnet},
	}
	var lines []string
	for _, st := range steps {
		if st.subnet == "" {
			continue
		}
		acl := acls[st.subnet]
		if acl == nil {
			continue // allows everything
		}
		rules := acl.Ingress
		if st.egress {
			rules = acl.Egress
		}
		rule, ok := aclFirstMatch(rules, st.peer, proto, st.port)
		switch {
		case !ok:
			return false, append(lines, fmt.Sprintf("DENIED by network ACL %s: no rule matches %s (the last rule, *, denies)", acl.ID, st.what))
		case !rule.Allow:
			return false, append(lines, fmt.Sprintf("DENIED by network ACL %s: rule %d denies %s", acl.ID, rule.Number, st.what))
		}
		lines = append(lines, fmt.Sprintf("network ACL %s: rule %d allows %s", acl.ID, rule.Number, st.what))
	}
	if len(lines) == 0 {
		lines = append(lines, "network ACLs: the subnets' ACLs allow everything")
	}
	return true, lines
}

// aclFirstMatch is the first rule matching a packet with the given peer,
// protocol and destination port (ICMP: type, code 0), as the kernel matches.
func aclFirstMatch(rules []netmodel.ACLRule, peer netip.Addr, proto, port int) (netmodel.ACLRule, bool) {
	for _, r := range rules {
		if !r.CIDR.Contains(peer) {
			continue
		}
		switch {
		case r.Proto == -1:
		case r.Proto != proto:
			continue
		case proto == netmodel.ProtoTCP || proto == netmodel.ProtoUDP:
			if r.From != -1 && (port < r.From || port > r.To) {
				continue
			}
		case isICMP(proto):
			if (r.From != -1 && r.From != port) || (r.To != -1 && r.To != 0) {
				continue
			}
		}
		return r, true
	}
	return netmodel.ACLRule{}, false
}
