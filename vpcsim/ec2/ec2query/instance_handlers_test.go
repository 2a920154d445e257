package ec2query

import (
	"encoding/xml"
	"testing"
)

// launch runs n t3.micro instances in the default VPC and waits for them.
func (ts *testServer) launch(t *testing.T, n string, kv ...string) []string {
	t.Helper()
	var run struct {
		IDs []string `xml:"instancesSet>item>instanceId"`
	}
	body := ts.call(t, "RunInstances", append([]string{"ImageId", "ami-12345678", "InstanceType", "t3.micro", "MinCount", n, "MaxCount", n}, kv...)...)
	if err := xml.Unmarshal(body, &run); err != nil || len(run.IDs) == 0 {
		t.Fatalf("RunInstances: %v %s", err, body)
	}
	ts.cloud.Wait()
	return run.IDs
}

// RebootInstances over the wire: true for running instances (and ignored
// terminated ones), EC2's errors for the rest; the instance stays running.
func TestRebootInstancesOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	ids := ts.launch(t, "3")
	run, stopped, gone := ids[0], ids[1], ids[2]
	ts.call(t, "StopInstances", "InstanceId.1", stopped)
	ts.call(t, "TerminateInstances", "InstanceId.1", gone)
	ts.cloud.Wait()

	for _, tt := range []struct {
		kv         []string
		status     int
		code, text string
	}{
		{[]string{"InstanceId.1", run, "DryRun", "true"}, 412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."},
		{nil, 400, "MissingParameter", ""},
		{[]string{"InstanceId.1", "i-0123456789abcdef0"}, 400, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist"},
		{[]string{"InstanceId.1", "i-0123456789abcdef0", "InstanceId.2", "i-0123456789abcdef1"}, 400, "InvalidInstanceID.NotFound",
			"The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist"},
		{[]string{"InstanceId.1", run, "InstanceId.2", stopped}, 400, "IncorrectInstanceState", "The instance '" + stopped + "' is not in a state from which it can be rebooted."},
	} {
		status, code, text := ts.fail(t, "RebootInstances", tt.kv...)
		if status != tt.status || code != tt.code || (tt.text != "" && text != tt.text) {
			t.Errorf("RebootInstances %v: HTTP %d %s %q, want %d %s %q", tt.kv, status, code, text, tt.status, tt.code, tt.text)
		}
	}
	var ok struct {
		Return bool `xml:"return"`
	}
	if err := xml.Unmarshal(ts.call(t, "RebootInstances", "InstanceId.1", run, "InstanceId.2", gone), &ok); err != nil || !ok.Return {
		t.Fatalf("RebootInstances answered %v %v", ok, err)
	}
	ts.cloud.Wait()
	var desc struct {
		States []string `xml:"reservationSet>item>instancesSet>item>instanceState>name"`
	}
	if err := xml.Unmarshal(ts.call(t, "DescribeInstances", "InstanceId.1", run, "InstanceId.2", gone), &desc); err != nil ||
		len(desc.States) != 2 || desc.States[0] != "running" || desc.States[1] != "terminated" {
		t.Fatalf("after a reboot: %v %v", desc.States, err)
	}
}
