package hostnet

import (
	"context"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// A NAT gateway is a namespace of its own (a host, like an instance's) whose
// ENI, eth0, sits in a public subnet: it forwards what private subnets route
// to it and masquerades it behind eth0's address, which the VPC's internet
// gateway then translates to the NAT gateway's Elastic IP. Replies come back
// through conntrack. It sends no ICMP redirects: what it forwards leaves by the
// link it came in on, and the senders must keep routing through it.
const natTableName = "vs-natgw"

// natSpec is the NAT gateway's table: masquerade what leaves eth0.
func natSpec() *nftSpec {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: natTableName}
	post := &nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource}
	return &nftSpec{table: t, chains: []nftChain{{chain: post, rules: []nftRule{
		{"oifname eth0 masquerade", func() []expr.Any {
			return append(ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, "eth0"), &expr.Masq{})
		}},
	}}}}
}

// EnsureNAT makes the namespace of host (EnsureHost first) a NAT gateway:
// forwarding on, redirects off, masquerade out of eth0. Safe to call again.
func (k *Kernel) EnsureNAT(ctx context.Context, host string) error {
	name, err := k.nsName(host)
	if err != nil {
		return fmt.Errorf("ensure NAT gateway: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := k.connLocked(name)
	if err != nil {
		return fmt.Errorf("NAT gateway %s (EnsureHost first): %w", host, err)
	}
	err = inNetns(c.path(), func() error {
		for _, key := range []string{"net/ipv4/conf/all/send_redirects", "net/ipv4/conf/default/send_redirects", "net/ipv4/conf/eth0/send_redirects"} {
			if err := writeSysctl(key, "0"); err != nil {
				return err
			}
		}
		return writeSysctl("net/ipv4/ip_forward", "1")
	})
	if err != nil {
		return fmt.Errorf("NAT gateway %s (its ENI first): %w", host, err)
	}
	if err := applyNFTSpec(c, natSpec()); err != nil {
		return fmt.Errorf("NAT gateway %s: %w", host, err)
	}
	return nil
}
