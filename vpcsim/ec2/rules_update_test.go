package ec2

import (
	"context"
	"testing"
)

// Rules change in place: a description by permission or by rule ID, a
// whole rule by ModifySecurityGroupRules (keeping its ID); what names no
// rule, or would duplicate one, is refused and changes nothing.
func TestRulesChangeInPlace(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	port := func(p int32) *int32 { return &p }
	perm := func(from int32, cidr, desc string) Permission {
		return Permission{Protocol: "tcp", FromPort: port(from), ToPort: port(from), CIDRs: []Peer{{Value: cidr, Description: desc}}}
	}
	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{perm(80, "10.0.0.0/8", ""), perm(443, "10.0.0.0/8", "")}}))
	ref := GroupRef{ID: g.ID}

	if err := tc.UpdateRuleDescriptions(ctx, west, AuthorizeInput{Group: ref, Permissions: []Permission{perm(80, "10.0.0.0/8", "http")}}, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.UpdateRuleDescriptions(ctx, west, AuthorizeInput{Group: ref, Permissions: []Permission{perm(81, "10.0.0.0/8", "x")}}, nil), "InvalidPermission.NotFound")
	wantCode(t, tc.UpdateRuleDescriptions(ctx, west, AuthorizeInput{Group: ref}, map[string]string{"sgr-0123456789abcdef0": "x"}), "InvalidSecurityGroupRuleId.NotFound")
	wantCode(t, tc.UpdateRuleDescriptions(ctx, west, AuthorizeInput{Group: ref, Egress: true}, map[string]string{rules[1].ID: "x"}), "InvalidSecurityGroupRuleId.NotFound")

	// 443 becomes 8443 from one address; making it 80 from 10/8 would be
	// the other rule again.
	if err := tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rules[1].ID, Permission: perm(8443, "10.1.2.3/32", "alt")}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rules[1].ID, Permission: perm(80, "10.0.0.0/8", "")}}), "InvalidPermission.Duplicate")
	// With ModifySecurityGroupRules's own words, checked against AWS (moto's
	// AWS-verified test_modify_security_group_rules).
	for _, c := range []struct {
		p          Permission
		code, text string
	}{
		{Permission{Protocol: "tcp", FromPort: port(1), ToPort: port(1)}, "MissingParameter", "The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId"},
		{Permission{Protocol: "tcp", FromPort: port(1), ToPort: port(1), CIDRs: []Peer{{Value: "10.0.0.0/8"}, {Value: "10.1.0.0/16"}}}, "InvalidParameterCombination", "Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified"},
		{Permission{FromPort: port(1), ToPort: port(1), CIDRs: []Peer{{Value: "10.0.0.0/8"}}}, "InvalidParameterValue", "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly."},
		{Permission{Protocol: "tcp", ToPort: port(1), CIDRs: []Peer{{Value: "10.0.0.0/8"}}}, "InvalidParameterValue", "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."},
	} {
		err := tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rules[1].ID, Permission: c.p}})
		if ae, ok := AsAPIError(err); !ok || ae.Code != c.code || ae.Message != c.text {
			t.Errorf("ModifySecurityGroupRules %+v: %v, want %s: %s", c.p, err, c.code, c.text)
		}
	}
	wantCode(t, tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: "sgr-0123456789abcdef0", Permission: perm(1, "10.0.0.0/8", "")}}), "InvalidSecurityGroupRuleId.NotFound")
	wantCode(t, tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{Permission: perm(1, "10.0.0.0/8", "")}}), "MissingParameter")
	wantCode(t, tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rules[0].ID, Permission: perm(1, "10.0.0.0/8", "")}, {RuleID: rules[0].ID, Permission: perm(2, "10.0.0.0/8", "")}}), "InvalidParameterValue")
	got := must[[]Rule](t)(tc.DescribeSecurityGroupRules(ctx, west, []string{rules[0].ID, rules[1].ID}, nil))
	if len(got) != 2 || got[0].Description != "http" || got[1].FromPort != 8443 || got[1].CIDRv4 != "10.1.2.3/32" || got[1].Description != "alt" || got[1].ID != rules[1].ID {
		t.Fatalf("the rules after the changes: %+v", got)
	}
	// Two rules may swap in one call.
	if err := tc.ModifySecurityGroupRules(ctx, west, g.ID, []RuleChange{{RuleID: rules[0].ID, Permission: perm(8443, "10.1.2.3/32", "")}, {RuleID: rules[1].ID, Permission: perm(80, "10.0.0.0/8", "")}}); err != nil {
		t.Fatalf("a swap: %v", err)
	}

	groups := must[[]SecurityGroup](t)(tc.GetSecurityGroupsForVpc(ctx, west, v.ID, []Filter{{Name: "group-name", Values: []string{"web"}}}))
	if len(groups) != 1 || groups[0].ID != g.ID {
		t.Fatalf("GetSecurityGroupsForVpc: %+v", groups)
	}
	_, err := tc.GetSecurityGroupsForVpc(ctx, west, "vpc-0123456789abcdef0", nil)
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = tc.DescribeSecurityGroupReferences(ctx, west, []string{"sg-0123456789abcdef0"})
	wantCode(t, err, "InvalidGroup.NotFound")
}
