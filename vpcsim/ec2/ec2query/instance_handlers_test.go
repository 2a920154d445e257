package ec2query

import (
	"encoding/xml"
	"testing"
)

// launch runs n t3.micro instances in the default VPC and waits for them.
func (ts *testServer) launch(t *testing.T, n string) []string {
	t.Helper()
	var run struct {
		IDs []string `xml:"instancesSet>item>instanceId"`
	}
	body := ts.call(t, "RunInstances", "ImageId", "ami-12345678", "InstanceType", "t3.micro", "MinCount", n, "MaxCount", n)
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

// The enhanced networking attributes over the wire: refused while the
// instance runs, changed (each form) once it is stopped, answered by
// DescribeInstanceAttribute and DescribeInstances.
func TestEnhancedNetworkingOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	id := ts.launch(t, "1")[0]
	type attrs struct {
		Ena   string `xml:"enaSupport>value"`
		Sriov string `xml:"sriovNetSupport>value"`
	}
	attribute := func(name string) attrs {
		t.Helper()
		var a attrs
		if err := xml.Unmarshal(ts.call(t, "DescribeInstanceAttribute", "InstanceId", id, "Attribute", name), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	described := func() attrs {
		t.Helper()
		var d struct {
			Ena   string `xml:"reservationSet>item>instancesSet>item>enaSupport"`
			Sriov string `xml:"reservationSet>item>instancesSet>item>sriovNetSupport"`
		}
		if err := xml.Unmarshal(ts.call(t, "DescribeInstances", "InstanceId.1", id), &d); err != nil {
			t.Fatal(err)
		}
		return attrs{d.Ena, d.Sriov}
	}
	if a, b, d := attribute("enaSupport"), attribute("sriovNetSupport"), described(); a.Ena != "true" || b.Sriov != "" || d != (attrs{"true", ""}) {
		t.Fatalf("at launch: %+v %+v %+v", a, b, d)
	}
	for _, tt := range []struct {
		kv   []string
		code string
	}{
		{[]string{"EnaSupport.Value", "false"}, "IncorrectInstanceState"},
		{[]string{"SriovNetSupport.Value", "simple"}, "IncorrectInstanceState"},
		{[]string{"EnaSupport.Value", "false", "SriovNetSupport.Value", "simple"}, "InvalidParameterCombination"},
		{[]string{"Attribute", "enaSupport", "Value", "maybe"}, "InvalidParameterValue"},
	} {
		if _, code, msg := ts.fail(t, "ModifyInstanceAttribute", append([]string{"InstanceId", id}, tt.kv...)...); code != tt.code {
			t.Errorf("ModifyInstanceAttribute %v: %s %q, want %s", tt.kv, code, msg, tt.code)
		}
	}
	ts.call(t, "StopInstances", "InstanceId.1", id)
	ts.cloud.Wait()
	if _, code, _ := ts.fail(t, "ModifyInstanceAttribute", "InstanceId", id, "SriovNetSupport.Value", "off"); code != "InvalidParameterValue" {
		t.Errorf("SR-IOV off: %s", code)
	}
	ts.call(t, "ModifyInstanceAttribute", "InstanceId", id, "EnaSupport.Value", "false")
	ts.call(t, "ModifyInstanceAttribute", "InstanceId", id, "SriovNetSupport.Value", "simple")
	if a, b, d := attribute("enaSupport"), attribute("sriovNetSupport"), described(); a.Ena != "false" || b.Sriov != "simple" || d != (attrs{"false", "simple"}) {
		t.Fatalf("after the changes: %+v %+v %+v", a, b, d)
	}
	ts.call(t, "ModifyInstanceAttribute", "InstanceId", id, "Attribute", "enaSupport", "Value", "true")
	if a := attribute("enaSupport"); a.Ena != "true" {
		t.Fatalf("by name: %+v", a)
	}
}
