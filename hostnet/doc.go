// Package hostnet is vpcsim's Linux dataplane: it makes the kernel hold what the
// EC2 model says, with real network namespaces, bridges, veth pairs, addresses and
// routes. It is the only package that talks netlink (and nftables).
//
// The layout (see DESIGN.md, "The dataplane"):
//
//	VPC     netns <prefix><vpc-id>, lo up, ip_forward=1, bridge-nf-call-iptables=1
//	subnet  bridge vs-b<11 hex of the subnet ID> in the VPC netns, up, holding .1/len
//	host    netns <prefix><instance-or-task>, lo up
//	ENI     veth pair: vs-e<11 hex of the ENI ID> is a port of the subnet's bridge;
//	        the other end carries the ENI's MAC and is either eth<N> in the host's
//	        netns (addresses, up, default route for eth0) or vs-p<11 hex>, down, in
//	        the VPC netns (parked). A retired pair, vs-x<random> (retire.go), is
//	        being deleted.
//	routing a table per subnet and family in the VPC netns, chosen by `iif
//	        vs-b… lookup 0x10000+ifindex` at priority 1000, an IPv4 rule and
//	        an IPv6 one of the same number (routetables.go, SetRouting)
//	internet bridge <prefix>inet in the host netns holding the machine's
//	        addresses on vpcsim's internet (198.18.0.1/15, 2001:2:0:1200::1/64),
//	        kept on the machine by host nftables table inet <prefix>internet
//	        (internet.go)
//	gateway veth pair vs-i<11 hex of the VPC ID> (host, a port of the internet
//	        bridge) / vs-g<11 hex> (VPC netns, holding the public addresses),
//	        and table ip vs-igw in the VPC netns: 1:1 NAT (igw.go); IPv6
//	        untranslated: table ip6 vs-igw6 in the VPC netns and the host's
//	        routes to the VPC's IPv6 blocks via vs-g's link-local (igw6.go)
//	NACLs   table inet vs-acl in the VPC netns: each subnet's network ACL on
//	        the forward hook, by its bridge, IPv4 and IPv6 entries each
//	        judging their own family (acl.go, SetRouting)
//	peering veth pair vs-l<11 hex of the pcx ID> between two VPC netns, the
//	        same name and MAC at both ends, NOARP, no addresses (peering.go,
//	        SetRouting)
//
// Every object vpcsim makes is named vs-…, so [Down] can remove all of them and
// nothing else. Routine netlink work uses a handle opened in the target namespace
// (netlink.NewHandleAt); a thread enters a namespace only to create it, to write its
// sysctls, or to exec a program in it.
package hostnet
