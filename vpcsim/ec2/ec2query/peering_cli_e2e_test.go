package ec2query

import (
	"testing"
)

// TestPeeringWithCLIs drives a peering connection through both aws CLIs: the
// request, its route (a blackhole until accepted), acceptance, the CLI's
// own waiter, the options, and deletion, with EC2's refusals on the way.
func TestPeeringWithCLIs(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL
			vpcID := func(cidr string) string {
				out := c.ok(t, "ec2", "create-vpc", "--cidr-block", cidr)
				return out["Vpc"].(map[string]any)["VpcId"].(string)
			}
			a, b := vpcID("10.31.0.0/16"), vpcID("10.32.0.0/16")
			made := c.ok(t, "ec2", "create-vpc-peering-connection", "--vpc-id", a, "--peer-vpc-id", b)["VpcPeeringConnection"].(map[string]any)
			id := made["VpcPeeringConnectionId"].(string)
			if code := made["Status"].(map[string]any)["Code"]; code != "initiating-request" {
				t.Errorf("created: status %v", code)
			}
			rtb := c.ok(t, "ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+a)["RouteTables"].([]any)[0].(map[string]any)["RouteTableId"].(string)
			c.ok(t, "ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "10.32.0.0/16", "--vpc-peering-connection-id", id)
			if code := c.refused(t, "ec2", "modify-vpc-peering-connection-options", "--vpc-peering-connection-id", id,
				"--requester-peering-connection-options", "AllowDnsResolutionFromRemoteVpc=true"); code != "OperationNotPermitted" {
				t.Errorf("options of a pending connection: %s", code)
			}
			c.ok(t, "ec2", "accept-vpc-peering-connection", "--vpc-peering-connection-id", id)
			c.ok(t, "ec2", "wait", "vpc-peering-connection-exists", "--vpc-peering-connection-ids", id,
				"--filters", "Name=status-code,Values=active")
			opts := c.ok(t, "ec2", "modify-vpc-peering-connection-options", "--vpc-peering-connection-id", id,
				"--requester-peering-connection-options", "AllowDnsResolutionFromRemoteVpc=true")
			if v := opts["RequesterPeeringConnectionOptions"].(map[string]any)["AllowDnsResolutionFromRemoteVpc"]; v != true {
				t.Errorf("options: %v", opts)
			}
			routes := c.ok(t, "ec2", "describe-route-tables", "--route-table-ids", rtb)["RouteTables"].([]any)[0].(map[string]any)["Routes"].([]any)
			if st := routes[1].(map[string]any)["State"]; st != "active" {
				t.Errorf("the route over the active connection: %v", routes[1])
			}
			if code := c.refused(t, "ec2", "delete-vpc", "--vpc-id", b); code != "DependencyViolation" {
				t.Errorf("deleting a peered VPC: %s", code)
			}
			c.ok(t, "ec2", "delete-vpc-peering-connection", "--vpc-peering-connection-id", id)
			c.ok(t, "ec2", "wait", "vpc-peering-connection-deleted", "--vpc-peering-connection-ids", id)
			if code := c.refused(t, "ec2", "accept-vpc-peering-connection", "--vpc-peering-connection-id", id); code != "InvalidStateTransition" {
				t.Errorf("accepting a deleted connection: %s", code)
			}
			if code := c.refused(t, "ec2", "reject-vpc-peering-connection", "--vpc-peering-connection-id", "pcx-0123456789abcdef0"); code != "InvalidVpcPeeringConnectionID.NotFound" {
				t.Errorf("rejecting a connection that is not there: %s", code)
			}
			c.ok(t, "ec2", "delete-vpc", "--vpc-id", b)
		})
	}
}
