package hostnet

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// metadataTable is the nftables table (family ip) ListenIn keeps in a namespace.
const metadataTable = "vs-meta"

// ListenIn opens a TCP listener inside the network namespace at netnsPath that
// answers connections to addr made from inside it, without taking addr's port
// from the namespace's own programs: the socket listens on addr's IP at port
// via, and an nftables rule of the namespace (table ip vs-meta, output hook)
// DNATs addr to it. Loopback gets addr's IP as a /32. This is how the task
// metadata endpoint, 169.254.170.2:80, is served in each task while the task's
// containers may still bind 0.0.0.0:80; the ECS agent does the same with DNAT
// to its own port. Safe to call again; closing the listener is up to the caller,
// and everything goes with the namespace.
func ListenIn(netnsPath string, addr netip.AddrPort, via uint16) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(netnsPath, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: prefixToIPNet(netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen()))}
		if err := netlink.AddrReplace(lo, a); err != nil {
			return fmt.Errorf("add %s to lo: %w", addr.Addr(), err)
		}
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr.Addr(), via).String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s in %s: %w", addr, netnsPath, err)
	}
	if err := redirectIn(netnsPath, addr, via); err != nil {
		ln.Close()
		return nil, fmt.Errorf("redirect %s in %s: %w", addr, netnsPath, err)
	}
	return ln, nil
}

// redirectIn replaces the namespace's vs-meta table with one rule:
// ip daddr ADDR tcp dport PORT dnat to ADDR:VIA, for locally made connections.
func redirectIn(netnsPath string, addr netip.AddrPort, via uint16) error {
	fd, err := openNetns(netnsPath)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	nft, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return err
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metadataTable}
	// Adding then deleting makes the delete succeed whether or not it existed,
	// and the new table comes in the same transaction.
	nft.AddTable(table)
	nft.DelTable(table)
	nft.AddTable(table)
	chain := nft.AddChain(&nftables.Chain{
		Name: "output", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest,
	})
	ip := addr.Addr().As4()
	nft.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip[:]},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(addr.Port())},
		&expr.Immediate{Register: 1, Data: ip[:]},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(via)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}})
	return nft.Flush()
}
