package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

func port(n int32) *int32 { return &n }

func tcp(p int32, cidr string) Permission {
	return Permission{Protocol: "tcp", FromPort: port(p), ToPort: port(p), CIDRs: []Peer{{Value: cidr}}}
}

func TestSecurityGroupRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	if len(g.Rules) != 1 || !g.Rules[0].Egress || g.Rules[0].Protocol != "-1" || g.Rules[0].CIDRv4 != "0.0.0.0/0" {
		t.Fatalf("a new group allows all egress, got %+v", g.Rules)
	}
	_, err := tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "again"})
	wantCode(t, err, "InvalidGroup.Duplicate")
	if !strings.Contains(err.Error(), "The security group 'web' already exists for VPC '"+v.ID+"'") {
		t.Fatalf("message: %v", err)
	}

	rules := must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(80, "0.0.0.0/0")}}))
	if len(rules) != 1 || !strings.HasPrefix(rules[0].ID, "sgr-") {
		t.Fatalf("authorize answered %+v", rules)
	}
	_, err = tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(80, "0.0.0.0/0")}})
	wantCode(t, err, "InvalidPermission.Duplicate")
	if !strings.Contains(err.Error(), `the specified rule "peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW" already exists`) {
		t.Fatalf("message: %v", err)
	}
	// One request with a new rule and a duplicate adds nothing.
	_, err = tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(443, "0.0.0.0/0"), tcp(80, "0.0.0.0/0")}})
	wantCode(t, err, "InvalidPermission.Duplicate")
	if got := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, []string{g.ID}, nil, nil)); len(got[0].Rules) != 2 {
		t.Fatalf("half-applied authorize: %+v", got[0].Rules)
	}
	for _, p := range []Permission{
		{Protocol: "tcp", CIDRs: []Peer{{Value: "0.0.0.0/0"}}},
		{Protocol: "tcp", FromPort: port(90), ToPort: port(80), CIDRs: []Peer{{Value: "0.0.0.0/0"}}},
		{Protocol: "bogus", CIDRs: []Peer{{Value: "0.0.0.0/0"}}},
		tcp(22, "10.0.0.0/33"),
	} {
		_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{p}})
		wantCode(t, err, "InvalidParameterValue")
	}
	_, err = tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{{Protocol: "tcp", FromPort: port(1), ToPort: port(2), Groups: []Peer{{Value: "sg-0123456789abcdef0"}}}}})
	wantCode(t, err, "InvalidGroup.NotFound")

	// A group reference, and ICMP with -1 type/code; protocol 6 is stored as tcp.
	other := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "client", Description: "c"}))
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{
		{Protocol: "6", FromPort: port(8080), ToPort: port(8080), Groups: []Peer{{Value: other.ID}}},
		{Protocol: "icmp", FromPort: port(-1), ToPort: port(-1), CIDRs: []Peer{{Value: "10.0.0.0/16"}}},
	}}))
	wantCode(t, tc.DeleteSecurityGroup(ctx, west, GroupRef{ID: other.ID}), "DependencyViolation")
	rs := must[[]Rule](t)(tc.DescribeSecurityGroupRules(ctx, west, nil, []Filter{{Name: "group-id", Values: []string{g.ID}}}))
	_, err = tc.DescribeSecurityGroupRules(ctx, west, nil, []Filter{{Name: "group-id", Values: []string{"foobar"}}})
	wantAPIError(t, "rules of group foobar", err, "InvalidGroupId.Malformed", "The security group ID 'foobar' is malformed")
	if len(rs) != 4 {
		t.Fatalf("rules of the group: %+v", rs)
	}
	if rs[2].Protocol != "tcp" || rs[2].PeerGroupID != other.ID {
		t.Fatalf("group reference rule %+v", rs[2])
	}

	// Revoke by permission, then by rule ID; a missing one is NotFound.
	must[[]Rule](t)(tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{{Protocol: "tcp", FromPort: port(8080), ToPort: port(8080), Groups: []Peer{{Value: other.ID}}}}}))
	_, err = tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(8080, "1.2.3.4/32")}})
	wantCode(t, err, "InvalidPermission.NotFound")
	must[[]Rule](t)(tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, RuleIDs: []string{rules[0].ID}}))
	if err := tc.DeleteSecurityGroup(ctx, west, GroupRef{ID: other.ID}); err != nil {
		t.Fatal(err)
	}
	// Egress: revoke the default all-traffic rule.
	must[[]Rule](t)(tc.RevokeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Egress: true, Permissions: []Permission{{Protocol: "-1", CIDRs: []Peer{{Value: "0.0.0.0/0"}}}}}))

	var dflt SecurityGroup
	for _, x := range must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, nil, []Filter{{Name: "vpc-id", Values: []string{v.ID}}, {Name: "group-name", Values: []string{"default"}}})) {
		dflt = x
	}
	wantCode(t, tc.DeleteSecurityGroup(ctx, west, GroupRef{ID: dflt.ID}), "CannotDelete")
	if dflt.Rules[0].PeerGroupID != dflt.ID {
		t.Fatalf("the default group admits itself: %+v", dflt.Rules)
	}
}

func TestRuleLimit(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "many", Description: "m"}))
	var perms []Permission
	for p := int32(1); p <= int32(tc.Quotas().Of(quota.RulesPerSecurityGroup)); p++ {
		perms = append(perms, tcp(p, "0.0.0.0/0"))
	}
	must[[]Rule](t)(tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: perms}))
	_, err := tc.AuthorizeSecurityGroup(ctx, west, AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{tcp(999, "0.0.0.0/0")}})
	wantCode(t, err, "RulesPerSecurityGroupLimitExceeded")
}
