package ec2

import (
	"context"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
)

// DHCP options sets: the region's default set (its domain and Amazon's DNS)
// is every new VPC's; sets are checked as EC2 checks them, associated, and
// deleted only once no VPC has them; a deleted default set leaves new VPCs
// with none, and a restart keeps it all.
func TestDHCPOptionsRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	def := must[[]DHCPOptions](t)(tc.DescribeDhcpOptions(ctx, west, []string{v.DHCPOptionsID}, nil))
	if len(def) != 1 || def[0].Configs[0].Values[0] != "us-west-2.compute.internal" || def[0].Configs[1].Values[0] != "AmazonProvidedDNS" {
		t.Fatalf("the region's default set: %+v", def)
	}
	for _, c := range []struct {
		name    string
		configs []DHCPConfig
		code    string
	}{
		{"none", nil, "MissingParameter"},
		{"an unknown option", []DHCPConfig{{Key: "routers", Values: []string{"10.0.0.1"}}}, "InvalidParameterValue"},
		{"an option twice", []DHCPConfig{{Key: "domain-name", Values: []string{"a"}}, {Key: "domain-name", Values: []string{"b"}}}, "InvalidParameterValue"},
		{"five DNS servers", []DHCPConfig{{Key: "domain-name-servers", Values: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}}, "InvalidParameterValue"},
		{"a DNS server that is no address", []DHCPConfig{{Key: "domain-name-servers", Values: []string{"dns.example"}}}, "InvalidParameterValue"},
		{"a NetBIOS node type", []DHCPConfig{{Key: "netbios-node-type", Values: []string{"3"}}}, "InvalidParameterValue"},
		{"a short lease", []DHCPConfig{{Key: "ipv6-address-preferred-lease-time", Values: []string{"60"}}}, "InvalidParameterValue"},
		{"no value", []DHCPConfig{{Key: "domain-name"}}, "MissingParameter"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.CreateDhcpOptions(ctx, west, c.configs, nil)
			wantCode(t, err, c.code)
		})
	}
	d := must[DHCPOptions](t)(tc.CreateDhcpOptions(ctx, west, []DHCPConfig{{Key: "domain-name", Values: []string{"corp.example"}}, {Key: "ntp-servers", Values: []string{"10.0.0.9"}}}, nil))
	if err := tc.AssociateDhcpOptions(ctx, west, d.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.AssociateDhcpOptions(ctx, west, "dopt-0123456789abcdef0", v.ID), "InvalidDhcpOptionID.NotFound")
	wantCode(t, tc.DeleteDhcpOptions(ctx, west, d.ID), "DependencyViolation")
	if got := must[[]DHCPOptions](t)(tc.DescribeDhcpOptions(ctx, west, nil, []Filter{{Name: "value", Values: []string{"corp.*"}}})); len(got) != 1 || got[0].ID != d.ID {
		t.Fatalf("by value: %+v", got)
	}

	// Without the default set, a new VPC has none.
	if err := tc.AssociateDhcpOptions(ctx, west, noDHCPOptions, v.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.DeleteDhcpOptions(ctx, west, def[0].ID), "DependencyViolation") // the default VPC has it
	dv := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, nil, []Filter{{Name: "is-default", Values: []string{"true"}}}))
	if err := tc.AssociateDhcpOptions(ctx, west, noDHCPOptions, dv[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteDhcpOptions(ctx, west, def[0].ID); err != nil {
		t.Fatal(err)
	}
	if w := tc.vpc(t, "10.1.0.0/16"); w.DHCPOptionsID != noDHCPOptions {
		t.Fatalf("a new VPC without the region's default set has %q", w.DHCPOptionsID)
	}
	again := tc.reopen(t)
	got := must[[]VPC](t)(again.DescribeVpcs(ctx, west, []string{v.ID}, nil))
	sets := must[[]DHCPOptions](t)(again.DescribeDhcpOptions(ctx, west, nil, nil))
	if got[0].DHCPOptionsID != noDHCPOptions || len(sets) != 1 || sets[0].ID != d.ID {
		t.Fatalf("after a restart: the VPC's set %q, sets %+v", got[0].DHCPOptionsID, sets)
	}

	// A database from before DHCP options sets were kept gets each region's
	// default set at its first start.
	again.Wait()
	if err := tc.store.Apply([]storage.Change{{Kind: markerKind.Name, ID: markerDHCPOptions}}); err != nil {
		t.Fatal(err)
	}
	upgraded := tc.reopen(t)
	if got := must[[]DHCPOptions](t)(upgraded.DescribeDhcpOptions(ctx, west, []string{def[0].ID}, nil)); len(got) != 1 {
		t.Fatalf("after the upgrade, the default set: %+v", got)
	}
}
