package ec2

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Every VPC has a default ACL allowing everything, which every new subnet is
// associated with (and which the kernel need not enforce); a custom ACL
// denies until given rules; rules and associations follow EC2's rules, and
// the kernel gets each subnet's rules in number order.
func TestNetworkACLRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	defaults := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}, {Name: "default", Values: []string{"true"}}}))
	if len(defaults) != 1 || len(defaults[0].Assocs) != 1 || defaults[0].Assocs[0].SubnetID != sub.ID || len(defaults[0].Entries) != 4 {
		t.Fatalf("the VPC's default ACL: %+v", defaults)
	}
	def := defaults[0]
	subRouting := func() netmodel.SubnetRouting {
		t.Helper()
		for _, s := range tc.dp.Routing(v.ID).Subnets {
			if s.SubnetID == sub.ID {
				return s
			}
		}
		t.Fatal("no routing of the subnet")
		return netmodel.SubnetRouting{}
	}
	if acl := subRouting().ACL; acl != nil {
		t.Fatalf("the kernel enforces the allow-all default ACL: %+v", acl)
	}

	acl := must[NetworkACL](t)(tc.CreateNetworkAcl(ctx, west, v.ID, []Tag{{Key: "Name", Value: "private"}}))
	if len(acl.Entries) != 2 || acl.Entries[0].Number != 32767 || acl.Entries[0].Allow {
		t.Fatalf("a new ACL: %+v", acl.Entries)
	}
	in := ACLEntryInput{ACLID: acl.ID, Number: 100, Protocol: "6", RuleAction: "allow", CIDR: "10.0.0.0/16", Ports: &[2]int{80, 80}}
	if err := tc.CreateNetworkAclEntry(ctx, west, in); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   ACLEntryInput
		code string
	}{
		{"the same number", in, "NetworkAclEntryAlreadyExists"},
		{"tcp without ports", ACLEntryInput{ACLID: acl.ID, Number: 110, Protocol: "6", RuleAction: "allow", CIDR: "0.0.0.0/0"}, "MissingParameter"},
		{"icmp without type", ACLEntryInput{ACLID: acl.ID, Number: 110, Protocol: "1", RuleAction: "allow", CIDR: "0.0.0.0/0"}, "MissingParameter"},
		{"rule 32767", ACLEntryInput{ACLID: acl.ID, Number: 32767, Protocol: "-1", RuleAction: "allow", CIDR: "0.0.0.0/0"}, "InvalidParameterValue"},
		{"a bad action", ACLEntryInput{ACLID: acl.ID, Number: 110, Protocol: "-1", RuleAction: "maybe", CIDR: "0.0.0.0/0"}, "InvalidParameterValue"},
		{"a bad CIDR", ACLEntryInput{ACLID: acl.ID, Number: 110, Protocol: "-1", RuleAction: "allow", CIDR: "10.0.0.300/8"}, "InvalidParameterValue"},
		{"no such ACL", ACLEntryInput{ACLID: "acl-0123456789abcdef0", Number: 110, Protocol: "-1", RuleAction: "allow", CIDR: "0.0.0.0/0"}, "InvalidNetworkAclID.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) { wantCode(t, tc.CreateNetworkAclEntry(ctx, west, c.in), c.code) })
	}
	if err := tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 50, Egress: true, Protocol: "-1", RuleAction: "deny", CIDR: "10.0.9.0/24"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.ReplaceNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 51, Egress: true, Protocol: "-1", RuleAction: "deny", CIDR: "10.0.9.0/24"}), "InvalidNetworkAclEntry.NotFound")
	wantCode(t, tc.DeleteNetworkAclEntry(ctx, west, acl.ID, 100, true), "InvalidNetworkAclEntry.NotFound")

	// The subnet moves to the new ACL: the kernel enforces it.
	newAssoc := must[string](t)(tc.ReplaceNetworkAclAssociation(ctx, west, def.Assocs[0].ID, acl.ID))
	_, err := tc.ReplaceNetworkAclAssociation(ctx, west, def.Assocs[0].ID, acl.ID)
	wantCode(t, err, "InvalidAssociationID.NotFound")
	got := subRouting().ACL
	if got == nil || got.ID != acl.ID || len(got.Ingress) != 1 || got.Ingress[0].Proto != 6 || got.Ingress[0].From != 80 ||
		len(got.Egress) != 1 || got.Egress[0].Allow || got.Egress[0].CIDR.String() != "10.0.9.0/24" {
		t.Fatalf("the kernel's ACL of the subnet: %+v", got)
	}
	wantCode(t, tc.DeleteNetworkAcl(ctx, west, acl.ID), "DependencyViolation")
	wantCode(t, tc.DeleteNetworkAcl(ctx, west, def.ID), "InvalidParameterValue")
	found := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "association.subnet-id", Values: []string{sub.ID}}, {Name: "entry.port-range.from", Values: []string{"80"}}}))
	if len(found) != 1 || found[0].ID != acl.ID || found[0].Entries[0].Number != 50 {
		t.Fatalf("the ACL of the subnet with a rule from port 80: %+v", found)
	}

	// Back to the default, the custom ACL can go; a new subnet gets the
	// default; a restart keeps them.
	must[string](t)(tc.ReplaceNetworkAclAssociation(ctx, west, newAssoc, def.ID))
	if acl := subRouting().ACL; acl != nil {
		t.Fatalf("back to the default ACL, the kernel still enforces %+v", acl)
	}
	if err := tc.DeleteNetworkAclEntry(ctx, west, acl.ID, 100, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.DeleteVpc(ctx, west, v.ID), "DependencyViolation")
	if err := tc.DeleteNetworkAcl(ctx, west, acl.ID); err != nil {
		t.Fatal(err)
	}
	other := tc.subnet(t, v.ID, "10.0.2.0/24")
	tc = tc.reopen(t)
	if a := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, []string{def.ID}, nil)); len(a[0].Assocs) != 2 || a[0].Assocs[1].SubnetID != other.ID {
		t.Fatalf("the default ACL after a restart: %+v", a[0].Assocs)
	}
}

// sg explain judges the network ACLs of the subnets a connection crosses,
// both ways, as the kernel does: stateless, so the reply needs a rule too.
func TestExplainNetworkACLs(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a := tc.subnet(t, v.ID, "10.0.1.0/24")
	b := tc.subnet(t, v.ID, "10.0.2.0/24")
	client := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: a.ID}))
	server := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: b.ID}))
	explain := func() Explanation {
		t.Helper()
		return must[Explanation](t)(tc.ExplainSecurityGroups(server.ID, client.PrivateIPs[0].Addr, 6, 80))
	}
	if x := explain(); !x.Admitted {
		t.Fatalf("with the default ACLs: %v", x.Lines)
	}
	acl := must[NetworkACL](t)(tc.CreateNetworkAcl(ctx, west, v.ID, nil))
	if err := tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 100, Protocol: "tcp", RuleAction: "allow", CIDR: "10.0.1.0/24", Ports: &[2]int{80, 80}}); err != nil {
		t.Fatal(err)
	}
	defs := must[[]NetworkACL](t)(tc.DescribeNetworkAcls(ctx, west, nil, []Filter{{Name: "association.subnet-id", Values: []string{b.ID}}}))
	assoc := defs[0].Assocs[slices.IndexFunc(defs[0].Assocs, func(as ACLAssoc) bool { return as.SubnetID == b.ID })].ID
	must[string](t)(tc.ReplaceNetworkAclAssociation(ctx, west, assoc, acl.ID))
	if x := explain(); x.Admitted || !strings.Contains(strings.Join(x.Lines, "\n"), "the reply leaving "+b.ID) {
		t.Fatalf("no egress rule for the reply: %v", x.Lines)
	}
	if err := tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 100, Egress: true, Protocol: "tcp", RuleAction: "allow", CIDR: "10.0.1.0/24", Ports: &[2]int{1024, 65535}}); err != nil {
		t.Fatal(err)
	}
	if x := explain(); !x.Admitted {
		t.Fatalf("with the reply allowed: %v", x.Lines)
	}
	if err := tc.CreateNetworkAclEntry(ctx, west, ACLEntryInput{ACLID: acl.ID, Number: 50, Protocol: "-1", RuleAction: "deny", CIDR: "10.0.1.4/32"}); err != nil {
		t.Fatal(err)
	}
	if x := explain(); x.Admitted || !strings.Contains(strings.Join(x.Lines, "\n"), "rule 50 denies") {
		t.Fatalf("a deny numbered first: %v", x.Lines)
	}
}
