package ec2query

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

func TestProtocolErrors(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name       string
		action     string
		kv         []string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{name: "not an EC2 action", action: "FlyToTheMoon", wantStatus: 400, wantCode: "InvalidAction", wantMsg: "The action FlyToTheMoon is not valid for this web service."},
		{name: "EC2 action vpcsim lacks", action: "CreateVpnGateway", kv: []string{"Type", "ipsec.1"}, wantStatus: 400, wantCode: "UnsupportedOperation", wantMsg: "The operation CreateVpnGateway is not supported by vpcsim yet."},
		{name: "unknown parameter", action: "DescribeVpcs", kv: []string{"Bogus", "1"}, wantStatus: 400, wantCode: "UnknownParameter", wantMsg: "The parameter Bogus is not recognized"},
		{name: "unknown nested parameter", action: "DescribeVpcs", kv: []string{"Filter.1.Bogus", "1"}, wantStatus: 400, wantCode: "UnknownParameter", wantMsg: "The parameter Filter.1.Bogus is not recognized"},
		{name: "model parameter vpcsim lacks", action: "CreateSubnet", kv: []string{"VpcId", "vpc-1", "Ipv6IpamPoolId", "ipam-pool-1"}, wantStatus: 400, wantCode: "UnsupportedOperation", wantMsg: "The parameter Ipv6IpamPoolId is not supported by vpcsim yet."},
		{name: "integer of the wrong type", action: "DescribeVpcs", kv: []string{"MaxResults", "many"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value (many) for parameter MaxResults is invalid. Expected: 'Integer'."},
		{name: "boolean of the wrong type", action: "DescribeVpcs", kv: []string{"DryRun", "perhaps"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value (perhaps) for parameter DryRun is invalid. Expected: 'Boolean'."},
		{name: "dry run", action: "CreateVpc", kv: []string{"CidrBlock", "10.9.0.0/16", "DryRun", "true"}, wantStatus: 412, wantCode: "DryRunOperation", wantMsg: "Request would have succeeded, but DryRun flag is set."},
		{name: "MaxResults below the range", action: "DescribeVpcs", kv: []string{"MaxResults", "4"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{name: "MaxResults above the range", action: "DescribeInstanceTypes", kv: []string{"MaxResults", "101"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value ( 101 ) for parameter maxResults is invalid. Expecting a value less than 100."},
		{name: "bad NextToken", action: "DescribeSubnets", kv: []string{"NextToken", "garbage"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value ( garbage ) for parameter NextToken is invalid. The token is invalid."},
		{name: "empty NextToken for DescribeVpcs", action: "DescribeVpcs", kv: []string{"NextToken", ""}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Value (  ) for parameter NextToken is invalid. The token is invalid."},
		{name: "another operation's NextToken", action: "DescribeSubnets", kv: []string{"NextToken", makeToken("DescribeVpcs", 5)}, wantStatus: 400, wantCode: "InvalidParameterValue"},
		{name: "instance IDs with MaxResults", action: "DescribeInstances", kv: []string{"InstanceId.1", "i-1", "MaxResults", "5"}, wantStatus: 400, wantCode: "InvalidParameterCombination", wantMsg: "The parameter instancesSet cannot be used with the parameter maxResults"},
		{name: "tag specification for another resource", action: "CreateVpc", kv: []string{"CidrBlock", "10.9.0.0/16", "TagSpecification.1.ResourceType", "subnet", "TagSpecification.1.Tag.1.Key", "k"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "'subnet' is not a valid taggable resource type for this operation."},
		{name: "tag specification without type", action: "CreateVpc", kv: []string{"CidrBlock", "10.9.0.0/16", "TagSpecification.1.Tag.1.Key", "k"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Tag specification resource type must have a value"},
		{name: "domain refusal passes through", action: "DeleteVpc", kv: []string{"VpcId", "vpc-0123456789abcdef0"}, wantStatus: 400, wantCode: "InvalidVpcID.NotFound", wantMsg: "The vpc ID 'vpc-0123456789abcdef0' does not exist"},
		{name: "unknown region filter", action: "DescribeRegions", kv: []string{"Filter.1.Name", "colour", "Filter.1.Value.1", "x"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "The filter 'colour' is invalid"},
		{name: "zone of another region", action: "DescribeAvailabilityZones", kv: []string{"ZoneName.1", "us-east-1a"}, wantStatus: 400, wantCode: "InvalidParameterValue", wantMsg: "Invalid availability zone: [us-east-1a]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := ts.fail(t, tt.action, tt.kv...)
			if status != tt.wantStatus || code != tt.wantCode || (tt.wantMsg != "" && msg != tt.wantMsg) {
				t.Errorf("got HTTP %d %s %q, want HTTP %d %s %q", status, code, msg, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
		})
	}
	// The dry run made nothing.
	var vpcs struct {
		CIDRs []string `xml:"vpcSet>item>cidrBlock"`
	}
	xml.Unmarshal(ts.call(t, "DescribeVpcs"), &vpcs)
	for _, c := range vpcs.CIDRs {
		if c == "10.9.0.0/16" {
			t.Error("a DryRun CreateVpc created a VPC")
		}
	}
}

func TestMissingAction(t *testing.T) {
	ts := newTestServer(t)
	status, body := ts.post(t, url.Values{"Version": {"2016-11-15"}})
	if status != 400 || !strings.Contains(string(body), "<Code>MissingAction</Code>") {
		t.Errorf("HTTP %d %s", status, body)
	}
}

func TestHTTPShapes(t *testing.T) {
	ts := newTestServer(t)
	t.Run("GET with a query string", func(t *testing.T) {
		resp, err := http.Get(ts.URL + "/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<regionName>eu-west-1</regionName>") || strings.Contains(string(body), "us-east-1") {
			t.Errorf("HTTP %d %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		req, _ := http.NewRequest("PUT", ts.URL+"/?Action=DescribeVpcs", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PUT: HTTP %d", resp.StatusCode)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		big := url.Values{"Action": {"DescribeVpcs"}, "Version": {"2016-11-15"}, "Filter.1.Name": {"tag:Name"}, "Filter.1.Value.1": {strings.Repeat("x", DefaultMaxBody)}}
		resp, err := http.Post(ts.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(big.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "<Code>RequestEntityTooLarge</Code>") {
			t.Errorf("HTTP %d %s", resp.StatusCode, body)
		}
	})
	t.Run("malformed form body", func(t *testing.T) {
		resp, err := http.Post(ts.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=DescribeVpcs&%zz"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>MalformedQueryString</Code>") {
			t.Errorf("HTTP %d %s", resp.StatusCode, body)
		}
	})
}

// TestRegionFromSignature: resources live in the region of the request's
// credential scope; an unsigned request uses the Cloud's default region.
func TestRegionFromSignature(t *testing.T) {
	ts := newTestServer(t)
	var created struct {
		VpcID string `xml:"vpc>vpcId"`
	}
	xml.Unmarshal(ts.call(t, "CreateVpc", "CidrBlock", "10.1.0.0/16"), &created)
	describe := func(auth string) string {
		req, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader(form("DescribeVpcs").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := describe(signed); !strings.Contains(got, created.VpcID) {
		t.Errorf("us-west-2 does not list its VPC: %s", got)
	}
	if got := describe(strings.Replace(signed, "us-west-2", "eu-west-1", 1)); strings.Contains(got, created.VpcID) {
		t.Errorf("eu-west-1 lists a us-west-2 VPC: %s", got)
	}
	if got := describe(""); strings.Contains(got, created.VpcID) || !strings.Contains(got, "<isDefault>true</isDefault>") {
		t.Errorf("an unsigned request (default region us-east-1) got: %s", got)
	}
	var sub struct {
		SubnetID string `xml:"subnet>subnetId"`
		Arn      string `xml:"subnet>subnetArn"`
	}
	xml.Unmarshal(ts.call(t, "CreateSubnet", "VpcId", created.VpcID, "CidrBlock", "10.1.2.0/24"), &sub)
	if want := "arn:aws:ec2:us-west-2:123456789012:subnet/" + sub.SubnetID; sub.Arn != want {
		t.Errorf("subnetArn %q, want %q", sub.Arn, want)
	}
}

func TestSTS(t *testing.T) {
	ts := newTestServer(t)
	status, body := ts.post(t, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	var r struct {
		XMLName   xml.Name
		Arn       string `xml:"GetCallerIdentityResult>Arn"`
		UserID    string `xml:"GetCallerIdentityResult>UserId"`
		Account   string `xml:"GetCallerIdentityResult>Account"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &r); err != nil || status != 200 {
		t.Fatalf("HTTP %d %v %s", status, err, body)
	}
	if r.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" || r.XMLName.Local != "GetCallerIdentityResponse" ||
		r.Arn != "arn:aws:iam::123456789012:root" || r.UserID != "123456789012" || r.Account != "123456789012" || r.RequestID == "" {
		t.Errorf("GetCallerIdentity: %+v", r)
	}
	status, body = ts.post(t, url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}})
	if status != 400 || !strings.Contains(string(body), "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidAction</Code>") {
		t.Errorf("AssumeRole: HTTP %d %s", status, body)
	}
}

func TestPaging(t *testing.T) {
	ts := newTestServer(t)
	for i := range 7 {
		ts.call(t, "CreateVpc", "CidrBlock", fmt.Sprintf("10.%d.0.0/16", 10+i))
	}
	type page struct {
		IDs  []string `xml:"vpcSet>item>vpcId"`
		Next string   `xml:"nextToken"`
	}
	var all page
	xml.Unmarshal(ts.call(t, "DescribeVpcs"), &all)
	if len(all.IDs) != 8 || all.Next != "" {
		t.Fatalf("DescribeVpcs without MaxResults: %d VPCs, token %q; want 8 (7 + default), none", len(all.IDs), all.Next)
	}
	var p1, p2 page
	xml.Unmarshal(ts.call(t, "DescribeVpcs", "MaxResults", "5"), &p1)
	if len(p1.IDs) != 5 || p1.Next == "" {
		t.Fatalf("first page: %d VPCs, token %q", len(p1.IDs), p1.Next)
	}
	xml.Unmarshal(ts.call(t, "DescribeVpcs", "MaxResults", "5", "NextToken", p1.Next), &p2)
	if len(p2.IDs) != 3 || p2.Next != "" {
		t.Fatalf("second page: %d VPCs, token %q", len(p2.IDs), p2.Next)
	}
	if got := strings.Join(append(p1.IDs, p2.IDs...), " "); got != strings.Join(all.IDs, " ") {
		t.Errorf("pages %s, want %s", got, strings.Join(all.IDs, " "))
	}
	// Elsewhere an empty token is no token.
	var groups struct {
		IDs []string `xml:"securityGroupInfo>item>groupId"`
	}
	xml.Unmarshal(ts.call(t, "DescribeSecurityGroups", "NextToken", ""), &groups)
	if len(groups.IDs) != 8 {
		t.Errorf("DescribeSecurityGroups with an empty NextToken: %d groups, want 8", len(groups.IDs))
	}
	// A token past the end (the list shrank) is an empty last page, not an error.
	var p3 page
	xml.Unmarshal(ts.call(t, "DescribeVpcs", "NextToken", makeToken("DescribeVpcs", 100)), &p3)
	if len(p3.IDs) != 0 || p3.Next != "" {
		t.Errorf("page past the end: %+v", p3)
	}
}

// TestInternalError: a fault below the protocol (here, the store refusing a
// write) is a 500 InternalError that tells the client nothing of its cause, and
// is logged with it.
func TestInternalError(t *testing.T) {
	ts := newTestServer(t)
	ts.call(t, "DescribeVpcs") // create the region's default VPC first
	ts.store.FailNext = errors.New("disk on fire")
	status, code, msg := ts.fail(t, "CreateVpc", "CidrBlock", "10.3.0.0/16")
	if status != 500 || code != "InternalError" || msg != "An internal error has occurred." {
		t.Errorf("got HTTP %d %s %q", status, code, msg)
	}
	if !strings.Contains(ts.logs.String(), "disk on fire") {
		t.Errorf("the cause was not logged:\n%s", ts.logs)
	}
}

type refuseAll struct{ seen *sigv4.Auth }

func (r refuseAll) Verify(_ *http.Request, _ []byte, a sigv4.Auth) error {
	*r.seen = a
	return errors.New("signature does not match")
}

func TestVerifierSeam(t *testing.T) {
	var seen sigv4.Auth
	ts := newTestServer(t, WithVerifier(refuseAll{&seen}))
	// A verifier's own error is a signature mismatch (see errAuth).
	status, code, _ := ts.fail(t, "DescribeVpcs")
	if status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("got HTTP %d %s", status, code)
	}
	if seen.Credential.Region != "us-west-2" || seen.Credential.AccessKey != "test" {
		t.Errorf("verifier saw %+v", seen)
	}
}

func TestToAPIError(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	tests := []struct {
		err        error
		wantStatus int
		wantCode   string
	}{
		{fmt.Errorf("store: %w", context.Canceled), 503, "ServiceUnavailable"},
		{fmt.Errorf("kernel: %w", context.DeadlineExceeded), 503, "ServiceUnavailable"},
		{fmt.Errorf("wrapped: %w", ec2sim.Errorf("InvalidSubnet.Conflict", "x")), 400, "InvalidSubnet.Conflict"},
		{errDryRun(), 412, "DryRunOperation"},
		{&decodeError{Key: "K", Value: "v", Expected: "Integer"}, 400, "InvalidParameterValue"},
		{errors.New("boom"), 500, "InternalError"},
		{fmt.Errorf("store: %w", &storage.FullError{Dir: "/data", Reason: "is full (no space left on device)"}), 500, "InternalError"},
	}
	for _, tt := range tests {
		got := toAPIError(ctx, log, "Op", tt.err)
		if got.Status != tt.wantStatus || got.Code != tt.wantCode {
			t.Errorf("toAPIError(%v) = %d %s, want %d %s", tt.err, got.Status, got.Code, tt.wantStatus, tt.wantCode)
		}
	}
	// A full data directory is named to the client; other faults are not.
	full := toAPIError(ctx, log, "Op", fmt.Errorf("store: %w", &storage.FullError{Dir: "/data", Reason: "is full (no space left on device)"}))
	if !strings.Contains(full.Message, "data directory /data is full") {
		t.Errorf("a full store answers %q", full.Message)
	}
	if toAPIError(ctx, log, "Op", nil) != nil {
		t.Error("toAPIError(nil) != nil")
	}
}
