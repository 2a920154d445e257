package ec2query

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/awstest/badinput"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// badInputWorld is the EC2 handler in an httptest server over a Cloud with a few
// resources, whose IDs the corpus names as {{vpc}}, {{subnet}}, {{sg}}, {{eni}},
// {{eni-ip}} and {{instance}}.
type badInputWorld struct {
	srv   *httptest.Server
	cloud *ec2sim.Cloud
	dp    *netmodeltest.FakeDataplane
	store *badinput.CountingStore
	logs  *bytes.Buffer
	vars  map[string]string
}

func newBadInputWorld(t *testing.T) *badInputWorld {
	t.Helper()
	ctx := context.Background()
	w := &badInputWorld{dp: netmodeltest.NewFakeDataplane(), store: &badinput.CountingStore{Store: vpcsim.NewMemStore()}, logs: &bytes.Buffer{}}
	var err error
	if w.cloud, err = ec2sim.New(ctx, w.store, w.dp, ec2sim.WithAccount("123456789012")); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.srv = httptest.NewServer(NewHandler(w.cloud, log))
	t.Cleanup(func() {
		w.srv.Close()
		w.cloud.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", w.logs)
		}
	})
	s := ec2sim.Scope{Region: "us-west-2"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := w.cloud.CreateVpc(ctx, s, ec2sim.CreateVpcInput{CIDRBlock: "10.0.0.0/16", Tags: []ec2sim.Tag{{Key: "Name", Value: "corpus"}}})
	must(err)
	sub, err := w.cloud.CreateSubnet(ctx, s, ec2sim.CreateSubnetInput{VPCID: vpc.ID, CIDR: "10.0.1.0/24", AZ: "us-west-2a"})
	must(err)
	sg, err := w.cloud.CreateSecurityGroup(ctx, s, ec2sim.CreateSecurityGroupInput{VPCID: vpc.ID, Name: "web", Description: "web"})
	must(err)
	port := int32(22)
	_, err = w.cloud.AuthorizeSecurityGroup(ctx, s, ec2sim.AuthorizeInput{Group: ec2sim.GroupRef{ID: sg.ID},
		Permissions: []ec2sim.Permission{{Protocol: "tcp", FromPort: &port, ToPort: &port, CIDRs: []ec2sim.Peer{{Value: "192.0.2.0/24"}}}}})
	must(err)
	eni, err := w.cloud.CreateNetworkInterface(ctx, s, ec2sim.CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.1.10", Groups: []string{sg.ID}})
	must(err)
	insts, err := w.cloud.RunInstances(ctx, s, ec2sim.RunInstancesInput{ImageID: "ami-12345678", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: sub.ID})
	must(err)
	rts, err := w.cloud.DescribeRouteTables(ctx, s, nil, []ec2sim.Filter{{Name: "vpc-id", Values: []string{vpc.ID}}})
	must(err)
	w.cloud.Wait()
	w.vars = map[string]string{"vpc": vpc.ID, "subnet": sub.ID, "sg": sg.ID, "eni": eni.ID, "eni-ip": "10.0.1.10", "instance": insts[0].ID, "rtb": rts[0].ID}
	return w
}

// describeActions answer the whole state of the region between them.
var describeActions = []string{
	"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeSecurityGroupRules",
	"DescribeNetworkInterfaces", "DescribeInstances", "DescribeTags", "DescribeFlowLogs",
	"DescribeRouteTables", "DescribeVpcPeeringConnections",
}

var requestIDElem = regexp.MustCompile(`<requestId>[^<]*</requestId>`)

// snapshot is every Describe answer (without its request ID) and the kernel.
func (w *badInputWorld) snapshot(t *testing.T) string {
	t.Helper()
	w.cloud.Wait()
	var b strings.Builder
	ts := &testServer{Server: w.srv}
	for _, a := range describeActions {
		status, body := ts.post(t, url.Values{"Action": {a}})
		if status != 200 {
			t.Fatalf("%s: HTTP %d %s", a, status, body)
		}
		b.Write(requestIDElem.ReplaceAll(body, nil))
		b.WriteByte('\n')
	}
	fmt.Fprintln(&b, w.dp.Objects())
	return b.String()
}

// ec2Error is the error document every refusal must be, to the letter of
// AWS-SEMANTICS §7: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
type ec2Error struct {
	XMLName xml.Name `xml:"Response"`
	Errors  []struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Errors>Error"`
	RequestID string `xml:"RequestID"`
}

// check holds one answer to its case: status, error shape and code, message,
// and no trace of Go's internals.
func checkEC2Answer(t *testing.T, c badinput.Case, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != c.Status {
		t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, c.Status, body)
	}
	if leak := badinput.Leaks(body); leak != "" {
		t.Errorf("the answer shows %q: %s", leak, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if c.Code == "" {
		if !bytes.Contains(body, []byte(`xmlns="`+ec2Namespace+`"`)) || bytes.Contains(body, []byte("<Errors>")) {
			t.Errorf("want a success document: %s", body)
		}
		return
	}
	var e ec2Error
	if err := xml.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.RequestID == "" {
		t.Fatalf("not an EC2 error document (%v): %s", err, body)
	}
	if e.Errors[0].Code != c.Code {
		t.Errorf("code %s (%s), want %s", e.Errors[0].Code, e.Errors[0].Message, c.Code)
	}
	if c.HasMsg && e.Errors[0].Message != c.Message {
		t.Errorf("message\n got %q\nwant %q", e.Errors[0].Message, c.Message)
	}
}

// TestBadInput sends testdata/badinput/*.http, and requests too large for a file,
// to the EC2 handler: each gets the AWS error it names, as an EC2 error document,
// and the whole run changes nothing: not the Describe answers, not the store, not
// the kernel. Add a case by adding a file (see package badinput for the format).
func TestBadInput(t *testing.T) {
	w := newBadInputWorld(t)
	badinput.Runner{
		Addr: strings.TrimPrefix(w.srv.URL, "http://"), Vars: w.vars, Header: http.Header{"Authorization": {signed}},
		Check: checkEC2Answer, Snapshot: w.snapshot, Store: w.store,
		Kernel: func() int { return len(w.dp.Trace) }, // read after Snapshot has waited for the Cloud
		Log:    w.logs.String,
	}.Run(t, "testdata/badinput", generatedEC2Cases()...)
}

// generatedEC2Cases are the cases a text file cannot hold well: bodies at and
// over the limit.
func generatedEC2Cases() []badinput.Case {
	form := func(n int) []byte {
		// A valid request padded with a description up to n bytes in all (no
		// placeholder: its value would change the length).
		head := "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=big&GroupDescription="
		return []byte(head + strings.Repeat("x", n-len(head)))
	}
	post := "POST / HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\n"
	return []badinput.Case{
		{
			Name: "generated-body-over-the-limit", Status: 413, Code: "RequestEntityTooLarge",
			Message: "The request body exceeds the maximum allowed size of 1048576 bytes.", HasMsg: true,
			Raw: append([]byte(post), form(DefaultMaxBody+1)...),
		},
		{
			// At the limit the body is read; the description is then too long.
			Name: "generated-body-at-the-limit", Status: 400, Code: "InvalidParameterValue",
			Raw: append([]byte(post), form(DefaultMaxBody)...),
		},
		{
			// A body over the limit without a Content-Length: read until the limit.
			Name: "generated-chunked-body-over-the-limit", Status: 413, Code: "RequestEntityTooLarge",
			Raw: append([]byte("POST / HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\nTransfer-Encoding: chunked\n\n"),
				badinput.Chunked(form(DefaultMaxBody+10))...),
		},
	}
}
