package hostnet

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// SetRouting makes the VPC's routing exactly r (see routetables.go and
// igw.go): one table per subnet and family (IPv4; IPv6 while r.IPv6 has a
// block) chosen by policy routing on its bridge, and, with r.Internet, the
// VPC's link to vpcsim's internet with its 1:1 NAT (made, with the
// machine's side, as needed); the link carries the VPC's IPv6 too while
// some subnet routes IPv6 to an internet or egress-only gateway (igw6.go);
// with neither, no link and no NAT.
// The VPC and its subnets' bridges must exist. It changes only what differs
// from r, routes before the rules that use them, so traffic that r does not
// move is never disturbed, and calling it again with the same r changes
// nothing. With r.Peerings, the links to the peer VPCs (peering.go), made
// as needed; a link of the namespace that r does not list goes. The
// subnets' network ACLs are enforced by a table of the VPC's
// namespace (acl.go), flow-logging what they drop for r.Logged. Routes
// whose target cannot carry them (no internet link, no bridge) are
// blackholes; what it could not do is returned, joined, after doing the
// rest.
func (k *Kernel) SetRouting(ctx context.Context, r netmodel.Routing) error {
	if err := k.setRouting(ctx, r); err != nil {
		return fmt.Errorf("set routing of %s: %w", r.VPCID, err)
	}
	return nil
}

func (k *Kernel) setRouting(ctx context.Context, r netmodel.Routing) error {
	vpcNS, err := k.nsName(r.VPCID)
	if err != nil {
		return err
	}
	// Checked before anything changes: without the local route, every
	// subnet table would be wrong.
	if err := checkLocalBlocks(r); err != nil {
		return err
	}
	if r.Internet != nil {
		if err := checkNAT(k.internet, k.InternetAddr(), r.Internet.NAT); err != nil {
			return err
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := k.connLocked(vpcNS)
	if err != nil {
		return err
	}
	var errs []error
	// The ACLs first: what r newly restricts is in force before any path
	// it newly opens (the gateway, routes).
	if err := setACLsLocked(c, r); err != nil {
		errs = append(errs, fmt.Errorf("network ACLs: %w", err))
	}
	env := routingEnv{machine: k.InternetAddr(), internet: k.internet, machine6: k.InternetAddr6()}
	use6 := internet6Used(r)
	if r.Internet != nil || use6 {
		var nat []netmodel.PublicMapping
		if r.Internet != nil {
			nat = r.Internet.NAT
		}
		link, err := k.ensureGatewayLocked(c, r.VPCID, nat)
		if err != nil {
			// The routes through it become blackholes: fail closed.
			errs = append(errs, fmt.Errorf("internet gateway: %w", err))
		} else {
			if r.Internet != nil {
				env.link = link.Attrs().Index
			}
			if err := k.ensureGateway6Locked(c, r, link, use6); err != nil {
				errs = append(errs, fmt.Errorf("IPv6 through the internet gateway: %w", err))
			} else if use6 {
				env.link6 = link.Attrs().Index
			}
		}
	}
	env.peerings, err = k.ensurePeeringsLocked(c, r)
	if err != nil {
		errs = append(errs, err)
	}
	if env.bridges, env.ipv6Only, err = bridgeIndexes(c.h, r); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if err := applyRouting(c.h, r, env); err != nil {
		errs = append(errs, err)
	}
	if r.Internet == nil && !use6 {
		if err := k.removeGatewayLocked(c, r.VPCID); err != nil {
			errs = append(errs, fmt.Errorf("remove the internet gateway: %w", err))
		}
	}
	if err := removeStrayPeeringsLocked(c, r); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bridgeIndexes returns the ifindex of the bridge of every subnet r names,
// as a subnet or as a next hop's, and which of them hold no IPv4 address
// (IPv6-only subnets); subnets without a bridge are left out.
func bridgeIndexes(h *netlink.Handle, r netmodel.Routing) (map[string]int, map[string]bool, error) {
	links, err := linkList(h)
	if err != nil {
		return nil, nil, fmt.Errorf("list links: %w", err)
	}
	addrs, err := addrList(h, nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, nil, fmt.Errorf("list IPv4 addresses: %w", err)
	}
	hasIPv4 := map[int]bool{}
	for _, a := range addrs {
		hasIPv4[a.LinkIndex] = true
	}
	byName := map[string]netlink.Link{}
	for _, l := range links {
		byName[l.Attrs().Name] = l
	}
	out, ipv6Only := map[string]int{}, map[string]bool{}
	add := func(subnetID string) {
		name, err := bridgeName(subnetID)
		if err != nil {
			return // wantRouting reports it
		}
		if l := byName[name]; l != nil && l.Type() == "bridge" {
			out[subnetID] = l.Attrs().Index
			if !hasIPv4[l.Attrs().Index] {
				ipv6Only[subnetID] = true
			}
		}
	}
	for _, s := range r.Subnets {
		add(s.SubnetID)
		for _, rt := range s.Routes {
			if rt.Target == netmodel.RouteENI {
				add(rt.ViaSubnet)
			}
		}
	}
	return out, ipv6Only, nil
}

// applyRouting makes the namespace's subnet rules and tables what r and env
// want, changing only what differs.
func applyRouting(h *netlink.Handle, r netmodel.Routing, env routingEnv) error {
	wantRules, wantRoutes, wantErr := wantRouting(r, env)
	haveRules, haveRoutes, err := readRouting(h)
	if err != nil {
		return errors.Join(wantErr, err)
	}
	errs := []error{wantErr}
	ch := diffRouting(haveRules, haveRoutes, wantRules, wantRoutes)
	for _, rt := range ch.putRoutes {
		if err := h.RouteReplace(rt.netlink()); err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", rt, err))
		}
	}
	for _, ru := range ch.addRules {
		if err := h.RuleAdd(ru.netlink()); err != nil && !isExist(err) {
			errs = append(errs, fmt.Errorf("rule %s: %w", ru, err))
		}
	}
	for _, ru := range ch.delRules {
		if err := h.RuleDel(ru.netlink()); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete rule %s: %w", ru, err))
		}
	}
	for _, rt := range ch.delRoutes {
		if err := h.RouteDel(rt.netlink()); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete route %s: %w", rt, err))
		}
	}
	return errors.Join(errs...)
}

// readRouting reads vpcsim's rules and subnet-table routes of the
// namespace, of both families.
func readRouting(h *netlink.Handle) ([]subnetRule, []tableRoute, error) {
	var (
		haveRules  []subnetRule
		haveRoutes []tableRoute
	)
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, err := retryDump(func() ([]netlink.Rule, error) { return h.RuleList(family) })
		if err != nil {
			return nil, nil, fmt.Errorf("list rules: %w", err)
		}
		for _, r := range rules {
			if r.Priority == subnetRulePriority {
				haveRules = append(haveRules, parseSubnetRule(r))
			}
		}
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list routes: %w", err)
		}
		for _, r := range routes {
			if r.Table >= subnetTableBase {
				haveRoutes = append(haveRoutes, parseTableRoute(r))
			}
		}
	}
	return haveRules, haveRoutes, nil
}
