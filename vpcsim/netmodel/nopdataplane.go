package netmodel

import "context"

// NopDataplane is the dataplane of `--dataplane none`: the API alone, no kernel
// objects, for machines where vpcsim cannot have root.
type NopDataplane struct{}

var _ Dataplane = NopDataplane{}

func (NopDataplane) EnsureVPC(context.Context, NetVPC) error              { return nil }
func (NopDataplane) DeleteVPC(context.Context, string) error              { return nil }
func (NopDataplane) EnsureSubnet(context.Context, NetSubnet) error        { return nil }
func (NopDataplane) DeleteSubnet(context.Context, NetSubnet) error        { return nil }
func (NopDataplane) EnsureHost(context.Context, string) error             { return nil }
func (NopDataplane) DeleteHost(context.Context, string) error             { return nil }
func (NopDataplane) EnsureENI(context.Context, NetENI) error              { return nil }
func (NopDataplane) DeleteENI(context.Context, NetENI) error              { return nil }
func (NopDataplane) SetFirewall(context.Context, Firewall) error          { return nil }
func (NopDataplane) ChangeFirewall(context.Context, FirewallChange) error { return nil }
func (NopDataplane) SetRouting(context.Context, Routing) error            { return nil }
func (NopDataplane) EnsureNAT(context.Context, string) error              { return nil }
func (NopDataplane) Reconcile(context.Context, Topology) error            { return nil }
