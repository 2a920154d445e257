package ec2query

import "testing"

// TestRebootAndEnhancedNetworkingWithCLI reboots an instance and changes
// its enhanced networking attributes through both aws CLIs, their flags
// (--ena-support, --no-ena-support, --sriov-net-support) as users write
// them.
func TestRebootAndEnhancedNetworkingWithCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	eachCLI(t, func(t *testing.T, c cli, ts *testServer) {
		expect := expecter(t)
		run := c.ok(t, "ec2", "run-instances", "--image-id", "ami-12345678", "--instance-type", "t3.micro", "--count", "1")
		id := str(run, "Instances", 0, "InstanceId")
		ts.cloud.Wait()
		c.ok(t, "ec2", "reboot-instances", "--instance-ids", id)
		ts.cloud.Wait()
		desc := c.ok(t, "ec2", "describe-instances", "--instance-ids", id)
		expect("State after reboot-instances", str(desc, "Reservations", 0, "Instances", 0, "State", "Name"), "running")
		expect("EnaSupport", path(desc, "Reservations", 0, "Instances", 0, "EnaSupport"), true)
		if code := c.refused(t, "ec2", "modify-instance-attribute", "--instance-id", id, "--no-ena-support"); code != "IncorrectInstanceState" {
			t.Errorf("--no-ena-support on a running instance: %s", code)
		}

		c.ok(t, "ec2", "stop-instances", "--instance-ids", id)
		ts.cloud.Wait()
		if code := c.refused(t, "ec2", "reboot-instances", "--instance-ids", id); code != "IncorrectInstanceState" {
			t.Errorf("reboot-instances of a stopped instance: %s", code)
		}
		c.ok(t, "ec2", "modify-instance-attribute", "--instance-id", id, "--no-ena-support")
		c.ok(t, "ec2", "modify-instance-attribute", "--instance-id", id, "--sriov-net-support", "simple")
		ena := c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "enaSupport")
		expect("enaSupport", path(ena, "EnaSupport", "Value"), false)
		sriov := c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "sriovNetSupport")
		expect("sriovNetSupport", str(sriov, "SriovNetSupport", "Value"), "simple")
		desc = c.ok(t, "ec2", "describe-instances", "--instance-ids", id)
		expect("SriovNetSupport", str(desc, "Reservations", 0, "Instances", 0, "SriovNetSupport"), "simple")
		c.ok(t, "ec2", "modify-instance-attribute", "--instance-id", id, "--ena-support")
		ena = c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "enaSupport")
		expect("enaSupport after --ena-support", path(ena, "EnaSupport", "Value"), true)
	})
}
