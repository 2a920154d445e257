package ec2query

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// TestPrefixListsWithAWSCLI drives prefix lists through both aws CLIs: what
// they parse of every answer, and that a list named by a security group
// rule and by a route reaches the firewall and the routing the dataplane
// gets, and follows the list's modifications. It includes what moto's
// AWS-verified test_describe_managed_prefix_lists checks of a customer list
// (its owner-AWS lists aside: vpcsim describes none) and the prefix-list
// part of its AWS-verified security group rules test.
func TestPrefixListsWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	eachCLI(t, prefixListFlow)
}

func prefixListFlow(t *testing.T, c cli, ts *testServer) {
	expect := expecter(t)
	made := c.ok(t, "ec2", "create-managed-prefix-list", "--prefix-list-name", "offices", "--address-family", "IPv4", "--max-entries", "5",
		"--entries", "Cidr=10.1.0.0/16,Description=hq", "Cidr=192.168.5.0/24,Description=branch",
		"--tag-specifications", "ResourceType=prefix-list,Tags=[{Key=team,Value=net}]")
	pl := str(made, "PrefixList", "PrefixListId")
	expect("State", str(made, "PrefixList", "State"), "create-complete")
	expect("Version", path(made, "PrefixList", "Version"), 1.0)
	expect("MaxEntries", path(made, "PrefixList", "MaxEntries"), 5.0)
	expect("AddressFamily", str(made, "PrefixList", "AddressFamily"), "IPv4")
	expect("OwnerId", str(made, "PrefixList", "OwnerId"), "123456789012")
	expect("PrefixListArn", str(made, "PrefixList", "PrefixListArn"), "arn:aws:ec2:us-west-2:123456789012:prefix-list/"+pl)
	expect("Tag", str(made, "PrefixList", "Tags", 0, "Value"), "net")

	// moto's test_describe_managed_prefix_lists (AWS-verified): the list is
	// described, and no list shows a StateMessage.
	all := c.ok(t, "ec2", "describe-managed-prefix-lists")
	ids := []string{}
	for _, l := range list(all, "PrefixLists") {
		ids = append(ids, str(l, "PrefixListId"))
		if _, has := l.(map[string]any)["StateMessage"]; has {
			t.Errorf("a list with a StateMessage: %v", l)
		}
	}
	if !slices.Contains(ids, pl) {
		t.Errorf("describe-managed-prefix-lists: %v lacks %s", ids, pl)
	}
	named := c.ok(t, "ec2", "describe-managed-prefix-lists", "--filters", "Name=prefix-list-name,Values=off*")
	expect("by name", len(list(named, "PrefixLists")), 1)

	// A rule and a route that name it: the dataplane gets the entries.
	vpc := str(c.ok(t, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	sub := str(c.ok(t, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24"), "Subnet", "SubnetId")
	sg := str(c.ok(t, "ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	auth := c.ok(t, "ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
		"IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId="+pl+",Description=offices}]")
	expect("rule PrefixListId", str(auth, "SecurityGroupRules", 0, "PrefixListId"), pl)
	expect("rule Description", str(auth, "SecurityGroupRules", 0, "Description"), "offices")
	groups := c.ok(t, "ec2", "describe-security-groups", "--group-ids", sg)
	expect("IpPermissions PrefixListId", str(groups, "SecurityGroups", 0, "IpPermissions", 0, "PrefixListIds", 0, "PrefixListId"), pl)
	eni := str(c.ok(t, "ec2", "create-network-interface", "--subnet-id", sub, "--groups", sg), "NetworkInterface", "NetworkInterfaceId")
	igw := str(c.ok(t, "ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	c.ok(t, "ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
	rt := str(c.ok(t, "ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	c.ok(t, "ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", sub)
	c.ok(t, "ec2", "create-route", "--route-table-id", rt, "--destination-prefix-list-id", pl, "--gateway-id", igw)
	tables := c.ok(t, "ec2", "describe-route-tables", "--route-table-ids", rt)
	expect("DestinationPrefixListId", str(tables, "RouteTables", 0, "Routes", 1, "DestinationPrefixListId"), pl)
	expect("route State", str(tables, "RouteTables", 0, "Routes", 1, "State"), "active")

	kernel := func() (rules, routes []string) {
		t.Helper()
		fw := ts.dp.Firewall(vpc)
		for _, e := range fw.ENIs {
			if e.ID != eni {
				continue
			}
			for _, r := range e.Ingress {
				if r.PrefixList == pl {
					rules = append(rules, r.CIDR.String())
				}
			}
		}
		for _, s := range ts.dp.Routing(vpc).Subnets {
			for _, r := range s.Routes {
				if s.SubnetID == sub && r.Target == netmodel.RouteInternet {
					routes = append(routes, r.Dest.String())
				}
			}
		}
		return rules, routes
	}
	want := []string{"10.1.0.0/16", "192.168.5.0/24"}
	if rules, routes := kernel(); !slices.Equal(rules, want) || !slices.Equal(routes, want) {
		t.Fatalf("the kernel's rules %v and routes %v, want %v", rules, routes, want)
	}

	// Modified, then version 1 restored: the kernel follows.
	if code := c.refused(t, "ec2", "modify-managed-prefix-list", "--prefix-list-id", pl, "--current-version", "3", "--add-entries", "Cidr=172.16.0.0/12"); code != "PrefixListVersionMismatch" {
		t.Errorf("a stale version: %s", code)
	}
	mod := c.ok(t, "ec2", "modify-managed-prefix-list", "--prefix-list-id", pl, "--current-version", "1",
		"--add-entries", "Cidr=172.16.0.0/12", "--remove-entries", "Cidr=192.168.5.0/24")
	expect("modified State", str(mod, "PrefixList", "State"), "modify-complete")
	expect("modified Version", path(mod, "PrefixList", "Version"), 2.0)
	want = []string{"10.1.0.0/16", "172.16.0.0/12"}
	if rules, routes := kernel(); !slices.Equal(rules, want) || !slices.Equal(routes, want) {
		t.Fatalf("after the modification: the kernel's rules %v and routes %v, want %v", rules, routes, want)
	}
	old := c.ok(t, "ec2", "get-managed-prefix-list-entries", "--prefix-list-id", pl, "--target-version", "1")
	expect("version 1's entries", len(list(old, "Entries")), 2)
	expect("version 1's second", str(old, "Entries", 1, "Cidr"), "192.168.5.0/24")
	expect("its description", str(old, "Entries", 1, "Description"), "branch")
	restored := c.ok(t, "ec2", "restore-managed-prefix-list-version", "--prefix-list-id", pl, "--previous-version", "1", "--current-version", "2")
	expect("restored State", str(restored, "PrefixList", "State"), "restore-complete")
	want = []string{"10.1.0.0/16", "192.168.5.0/24"}
	if rules, routes := kernel(); !slices.Equal(rules, want) || !slices.Equal(routes, want) {
		t.Fatalf("after the restore: the kernel's rules %v and routes %v, want %v", rules, routes, want)
	}

	// In use: associations, and a delete that fails.
	assocs := c.ok(t, "ec2", "get-managed-prefix-list-associations", "--prefix-list-id", pl)
	expect("associations", len(list(assocs, "PrefixListAssociations")), 2)
	expect("first association", str(assocs, "PrefixListAssociations", 0, "ResourceId"), sg)
	expect("second association", str(assocs, "PrefixListAssociations", 1, "ResourceId"), rt)
	failed := c.ok(t, "ec2", "delete-managed-prefix-list", "--prefix-list-id", pl)
	expect("delete State", str(failed, "PrefixList", "State"), "delete-failed")
	if msg := str(failed, "PrefixList", "StateMessage"); !strings.Contains(msg, sg) || !strings.Contains(msg, rt) {
		t.Errorf("StateMessage %q names not the users", msg)
	}

	// moto's AWS-verified test_authorize_security_group_rules_with_different_ipranges_or_prefixes,
	// its prefix-list part: rules of a list share a permission with others
	// of their port in DescribeSecurityGroups, show PrefixListId alone in
	// DescribeSecurityGroupRules, and a delete of the list they use does not
	// fail the call.
	one := str(c.ok(t, "ec2", "create-managed-prefix-list", "--prefix-list-name", "one", "--address-family", "IPv4", "--max-entries", "1"), "PrefixList", "PrefixListId")
	for _, perm := range []string{
		"IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/24}]",
		"IpProtocol=tcp,FromPort=22,ToPort=22,PrefixListIds=[{PrefixListId=" + one + "}]",
		"IpProtocol=tcp,FromPort=8080,ToPort=8080,PrefixListIds=[{PrefixListId=" + one + "}]",
	} {
		c.ok(t, "ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm)
	}
	var described []map[string]any
	for _, r := range list(c.ok(t, "ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values="+sg), "SecurityGroupRules") {
		m := r.(map[string]any)
		for _, k := range []string{"GroupOwnerId", "Tags", "SecurityGroupRuleArn", "SecurityGroupRuleId", "GroupId"} {
			delete(m, k)
		}
		described = append(described, m)
	}
	for _, port := range []float64{22, 8080} {
		want := map[string]any{"FromPort": port, "IpProtocol": "tcp", "IsEgress": false, "PrefixListId": one, "ToPort": port}
		if !slices.ContainsFunc(described, func(m map[string]any) bool { return reflect.DeepEqual(m, want) }) {
			t.Errorf("describe-security-group-rules lacks %v: %v", want, described)
		}
	}
	perms := list(c.ok(t, "ec2", "describe-security-groups", "--group-ids", sg), "SecurityGroups", 0, "IpPermissions")
	nonEmpty := func(p any) map[string]any {
		out := map[string]any{}
		for k, v := range p.(map[string]any) {
			if l, isList := v.([]any); !isList || len(l) > 0 {
				out[k] = v
			}
		}
		return out
	}
	for _, want := range []map[string]any{
		{"FromPort": 8080.0, "IpProtocol": "tcp", "ToPort": 8080.0, "PrefixListIds": []any{map[string]any{"PrefixListId": one}}},
		{"FromPort": 22.0, "IpProtocol": "tcp", "ToPort": 22.0, "IpRanges": []any{map[string]any{"CidrIp": "10.0.0.0/24"}},
			"PrefixListIds": []any{map[string]any{"PrefixListId": one}}},
	} {
		if !slices.ContainsFunc(perms, func(p any) bool { return reflect.DeepEqual(nonEmpty(p), want) }) {
			t.Errorf("describe-security-groups lacks %v: %v", want, perms)
		}
	}
	c.ok(t, "ec2", "delete-managed-prefix-list", "--prefix-list-id", one)
	c.ok(t, "ec2", "revoke-security-group-ingress", "--group-id", sg, "--ip-permissions",
		"IpProtocol=tcp,FromPort=22,ToPort=22,PrefixListIds=[{PrefixListId="+one+"}]",
		"IpProtocol=tcp,FromPort=8080,ToPort=8080,PrefixListIds=[{PrefixListId="+one+"}]")

	// Released, it goes.
	c.ok(t, "ec2", "delete-route", "--route-table-id", rt, "--destination-prefix-list-id", pl)
	c.ok(t, "ec2", "revoke-security-group-ingress", "--group-id", sg, "--ip-permissions",
		"IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId="+pl+"}]")
	if rules, routes := kernel(); len(rules)+len(routes) != 0 {
		t.Fatalf("released, the kernel still has rules %v and routes %v", rules, routes)
	}
	gone := c.ok(t, "ec2", "delete-managed-prefix-list", "--prefix-list-id", pl)
	expect("deleted State", str(gone, "PrefixList", "State"), "delete-complete")
	if code := c.refused(t, "ec2", "get-managed-prefix-list-entries", "--prefix-list-id", pl); code != "InvalidPrefixListID.NotFound" {
		t.Errorf("a deleted list's entries: %s", code)
	}
	aws := c.ok(t, "ec2", "describe-prefix-lists")
	if l, ok := path(aws, "PrefixLists").([]any); !ok || len(l) != 0 {
		t.Errorf("describe-prefix-lists: %v", aws)
	}
}
