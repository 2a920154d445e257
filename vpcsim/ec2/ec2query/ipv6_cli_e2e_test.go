package ec2query

import (
	"net/netip"
	"testing"
)

// TestIPv6WithCLI drives dual stack through both aws CLIs: a VPC with an
// Amazon-provided /56, a subnet with a /64 of it that assigns addresses on
// creation, an ENI that gets one, an egress-only gateway with a ::/0 route,
// and the security group's ::/0 egress (moto's AWS-verified
// test_create_two_security_groups_in_vpc_with_ipv6_enabled).
func TestIPv6WithCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL
			str := func(m map[string]any, keys ...string) string {
				var v any = m
				for _, k := range keys {
					switch x := v.(type) {
					case map[string]any:
						v = x[k]
					case []any:
						if len(x) == 0 {
							return ""
						}
						v = x[0].(map[string]any)[k]
					}
				}
				s, _ := v.(string)
				return s
			}
			vpc := c.ok(t, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--amazon-provided-ipv6-cidr-block")
			vpcID := str(vpc, "Vpc", "VpcId")
			desc := c.ok(t, "ec2", "describe-vpcs", "--vpc-ids", vpcID)
			block, err := netip.ParsePrefix(str(desc, "Vpcs", "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock"))
			if err != nil || block.Bits() != 56 || str(desc, "Vpcs", "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlockState", "State") != "associated" ||
				str(desc, "Vpcs", "Ipv6CidrBlockAssociationSet", "Ipv6Pool") != "Amazon" {
				t.Fatalf("describe-vpcs: %v", desc)
			}
			if code := c.refused(t, "ec2", "associate-vpc-cidr-block", "--vpc-id", vpcID, "--amazon-provided-ipv6-cidr-block"); code != "CidrLimitExceeded" {
				t.Errorf("a second block: %s", code)
			}
			r64 := netip.PrefixFrom(block.Addr(), 64)
			sub := c.ok(t, "ec2", "create-subnet", "--vpc-id", vpcID, "--cidr-block", "10.0.1.0/24", "--ipv6-cidr-block", r64.String())
			subID := str(sub, "Subnet", "SubnetId")
			if got := str(sub, "Subnet", "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock"); got != r64.String() {
				t.Errorf("subnet range %q, want %s", got, r64)
			}
			c.ok(t, "ec2", "modify-subnet-attribute", "--subnet-id", subID, "--assign-ipv6-address-on-creation")
			eni := c.ok(t, "ec2", "create-network-interface", "--subnet-id", subID)
			if a, err := netip.ParseAddr(str(eni, "NetworkInterface", "Ipv6Addresses", "Ipv6Address")); err != nil || !r64.Contains(a) {
				t.Errorf("the ENI's IPv6 address: %v", eni)
			}
			eigw := c.ok(t, "ec2", "create-egress-only-internet-gateway", "--vpc-id", vpcID)
			eigwID := str(eigw, "EgressOnlyInternetGateway", "EgressOnlyInternetGatewayId")
			rtb := str(c.ok(t, "ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+vpcID), "RouteTables", "RouteTableId")
			c.ok(t, "ec2", "create-route", "--route-table-id", rtb, "--destination-ipv6-cidr-block", "::/0", "--egress-only-internet-gateway-id", eigwID)
			routes := c.ok(t, "ec2", "describe-route-tables", "--filters", "Name=route.egress-only-internet-gateway-id,Values="+eigwID)
			if str(routes, "RouteTables", "RouteTableId") != rtb {
				t.Errorf("tables routing to %s: %v", eigwID, routes)
			}
			sg := c.ok(t, "ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpcID)
			groups := c.ok(t, "ec2", "describe-security-groups", "--group-ids", str(sg, "GroupId"))
			if str(groups, "SecurityGroups", "IpPermissionsEgress", "Ipv6Ranges", "CidrIpv6") != "::/0" ||
				str(groups, "SecurityGroups", "IpPermissionsEgress", "IpRanges", "CidrIp") != "0.0.0.0/0" {
				t.Errorf("the group's egress: %v", groups)
			}
			c.ok(t, "ec2", "delete-route", "--route-table-id", rtb, "--destination-ipv6-cidr-block", "::/0")
			c.ok(t, "ec2", "delete-egress-only-internet-gateway", "--egress-only-internet-gateway-id", eigwID)
			c.ok(t, "ec2", "delete-network-interface", "--network-interface-id", str(eni, "NetworkInterface", "NetworkInterfaceId"))
			c.ok(t, "ec2", "delete-subnet", "--subnet-id", subID)
			c.ok(t, "ec2", "disassociate-vpc-cidr-block", "--association-id", str(desc, "Vpcs", "Ipv6CidrBlockAssociationSet", "AssociationId"))
		})
	}
}
