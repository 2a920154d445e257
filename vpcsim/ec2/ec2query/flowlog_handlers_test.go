package ec2query

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

func TestFlowLogsXML(t *testing.T) {
	ts := newTestServer(t)
	var vpc struct {
		ID string `xml:"vpc>vpcId"`
	}
	xml.Unmarshal(ts.call(t, "CreateVpc", "CidrBlock", "10.0.0.0/16"), &vpc)

	body := string(ts.call(t, "CreateFlowLogs", "ResourceType", "VPC", "ResourceId.1", vpc.ID, "ResourceId.2", "vpc-0123456789abcdef0",
		"TrafficType", "REJECT", "LogGroupName", "flows", "DeliverLogsPermissionArn", "arn:aws:iam::123456789012:role/fl",
		"MaxAggregationInterval", "60", "ClientToken", "tok-1",
		"TagSpecification.1.ResourceType", "vpc-flow-log", "TagSpecification.1.Tag.1.Key", "Name", "TagSpecification.1.Tag.1.Value", "mine"))
	created := regexp.MustCompile(`<clientToken>tok-1</clientToken><flowLogIdSet><item>(fl-[0-9a-f]{17})</item></flowLogIdSet>` +
		`<unsuccessful><item><error><code>InvalidVpcID.NotFound</code><message>The vpc ID &#39;vpc-0123456789abcdef0&#39; does not exist</message></error>` +
		`<resourceId>vpc-0123456789abcdef0</resourceId></item></unsuccessful></CreateFlowLogsResponse>`).FindStringSubmatch(body)
	if created == nil {
		t.Fatalf("CreateFlowLogs answered %s", body)
	}
	id := created[1]

	body = string(ts.call(t, "DescribeFlowLogs", "Filter.1.Name", "resource-id", "Filter.1.Value.1", vpc.ID))
	item := regexp.MustCompile(`<flowLogSet><item><creationTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</creationTime>(.*)</item></flowLogSet>`).FindStringSubmatch(body)
	want := `<deliverLogsPermissionArn>arn:aws:iam::123456789012:role/fl</deliverLogsPermissionArn><deliverLogsStatus>SUCCESS</deliverLogsStatus>` +
		`<flowLogId>` + id + `</flowLogId><flowLogStatus>ACTIVE</flowLogStatus><logGroupName>flows</logGroupName><resourceId>` + vpc.ID + `</resourceId>` +
		`<trafficType>REJECT</trafficType><logDestinationType>cloud-watch-logs</logDestinationType>` +
		`<logDestination>arn:aws:logs:us-west-2:123456789012:log-group:flows</logDestination>` +
		`<logFormat>${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}</logFormat>` +
		`<tagSet><item><key>Name</key><value>mine</value></item></tagSet><maxAggregationInterval>60</maxAggregationInterval>`
	if item == nil || item[1] != want {
		t.Fatalf("DescribeFlowLogs answered %s\nwant the item to hold %s", body, want)
	}

	body = string(ts.call(t, "DeleteFlowLogs", "FlowLogId.1", id, "FlowLogId.2", "fl-0123456789abcdef0"))
	if !strings.Contains(body, `<unsuccessful><item><error><code>InvalidFlowLogId.NotFound</code><message>The flow log ID &#39;fl-0123456789abcdef0&#39; does not exist</message></error>`+
		`<resourceId>fl-0123456789abcdef0</resourceId></item></unsuccessful>`) {
		t.Fatalf("DeleteFlowLogs answered %s", body)
	}
	// All went well: an empty unsuccessful set, which clients read as [].
	id2 := regexp.MustCompile(`fl-[0-9a-f]{17}`).FindString(string(ts.call(t, "CreateFlowLogs", "ResourceType", "VPC", "ResourceId.1", vpc.ID,
		"TrafficType", "ALL", "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::bucket")))
	if body = string(ts.call(t, "DeleteFlowLogs", "FlowLogId.1", id2)); !strings.Contains(body, "<unsuccessful></unsuccessful>") {
		t.Fatalf("DeleteFlowLogs answered %s", body)
	}
}

func TestFlowLogsErrors(t *testing.T) {
	ts := newTestServer(t)
	create := []string{"ResourceType", "VPC", "ResourceId.1", "vpc-0123456789abcdef0", "TrafficType", "ALL"}
	for _, tt := range []struct {
		name, action string
		kv           []string
		status       int
		code, msg    string
	}{
		{"group and destination", "CreateFlowLogs", append(create, "LogGroupName", "g", "LogDestination", "arn:aws:s3:::b"), 400,
			"InvalidParameter", "Please only provide LogGroupName or only provide LogDestination."},
		{"no destination", "CreateFlowLogs", create, 400, "InvalidParameter", "LogDestination can't be empty if LogGroupName is not provided."},
		{"interval not a number", "CreateFlowLogs", append(create, "MaxAggregationInterval", "often"), 400,
			"InvalidParameterValue", "Value (often) for parameter MaxAggregationInterval is invalid. Expected: 'Integer'."},
		{"destination options", "CreateFlowLogs", append(create, "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b", "DestinationOptions.FileFormat", "parquet"), 400,
			"UnsupportedOperation", "The parameter DestinationOptions.FileFormat is not supported by vpcsim yet."},
		{"tags for another resource type", "CreateFlowLogs", append(create, "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b",
			"TagSpecification.1.ResourceType", "vpc", "TagSpecification.1.Tag.1.Key", "k"), 400,
			"InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation."},
		{"dry run", "CreateFlowLogs", append(create, "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b", "DryRun", "true"), 412,
			"DryRunOperation", "Request would have succeeded, but DryRun flag is set."},
		{"delete nothing", "DeleteFlowLogs", nil, 400, "InvalidParameterValue", "1 validation error detected: Value null at 'flowLogId' has an invalid format"},
		{"unknown filter", "DescribeFlowLogs", []string{"Filter.1.Name", "vpc-id", "Filter.1.Value.1", "x"}, 400, "InvalidParameterValue", "The filter 'vpc-id' is invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := ts.fail(t, tt.action, tt.kv...)
			if status != tt.status || code != tt.code || msg != tt.msg {
				t.Errorf("got HTTP %d %s %q, want HTTP %d %s %q", status, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}

func TestDescribeFlowLogsPaging(t *testing.T) {
	ts := newTestServer(t)
	for _, cidr := range []string{"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"} {
		var vpc struct {
			ID string `xml:"vpc>vpcId"`
		}
		xml.Unmarshal(ts.call(t, "CreateVpc", "CidrBlock", cidr), &vpc)
		ts.call(t, "CreateFlowLogs", "ResourceType", "VPC", "ResourceId.1", vpc.ID, "TrafficType", "ALL",
			"LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::bucket")
	}
	var page struct {
		IDs  []string `xml:"flowLogSet>item>flowLogId"`
		Next string   `xml:"nextToken"`
	}
	xml.Unmarshal(ts.call(t, "DescribeFlowLogs", "MaxResults", "2"), &page)
	first, next := page.IDs, page.Next
	if len(first) != 2 || next == "" {
		t.Fatalf("first page %+v", page)
	}
	page.IDs, page.Next = nil, ""
	xml.Unmarshal(ts.call(t, "DescribeFlowLogs", "MaxResults", "2", "NextToken", next), &page)
	if len(page.IDs) != 1 || page.Next != "" || page.IDs[0] == first[0] || page.IDs[0] == first[1] {
		t.Fatalf("second page %+v after %v", page, first)
	}
}
