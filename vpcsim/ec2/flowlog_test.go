package ec2

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

const flowRole = "arn:aws:iam::000000000000:role/flow-logs"

// toGroup is a CreateFlowLogs request to the log group "flows".
func toGroup(typ, traffic string, ids ...string) CreateFlowLogsInput {
	return CreateFlowLogsInput{ResourceType: typ, ResourceIDs: ids, TrafficType: traffic, LogGroupName: "flows", DeliverLogsPermissionArn: flowRole}
}

// toFile is a CreateFlowLogs request to a local file, in format ("" = the default).
func toFile(typ, traffic, path, format string, ids ...string) CreateFlowLogsInput {
	in := CreateFlowLogsInput{ResourceType: typ, ResourceIDs: ids, TrafficType: traffic, LogDestinationType: FlowDestFile, LogDestination: path}
	if format != "" {
		in.LogFormat = &format
	}
	return in
}

func flowLogIDs(fs []FlowLog) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

// flowNet is a VPC with one subnet and one ENI (10.0.1.4, secondary 10.0.1.5).
type flowNet struct {
	vpc VPC
	sub Subnet
	eni ENI
}

func (tc *testCloud) flowNet(t *testing.T) flowNet {
	t.Helper()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	e := must[ENI](t)(tc.CreateNetworkInterface(context.Background(), west, CreateNetworkInterfaceInput{SubnetID: sub.ID, SecondaryPrivateIPAddressCount: 1}))
	if e.PrivateIPs[0].Addr.String() != "10.0.1.4" || e.PrivateIPs[1].Addr.String() != "10.0.1.5" {
		t.Fatalf("ENI addresses %+v", e.PrivateIPs)
	}
	return flowNet{v, sub, e}
}

// createFlowLog makes one flow log and returns its ID.
func (tc *testCloud) createFlowLog(t *testing.T, in CreateFlowLogsInput) string {
	t.Helper()
	out := must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(context.Background(), west, in))
	if len(out.FlowLogIDs) != 1 || len(out.Unsuccessful) != 0 {
		t.Fatalf("CreateFlowLogs answered %+v", out)
	}
	return out.FlowLogIDs[0]
}

// sinks are the flow logs the dataplane was last told to capture an ENI for.
func (tc *testCloud) sinks(vpcID, eniID string) []netmodel.FlowLogSink {
	for _, e := range tc.dp.Firewall(vpcID).ENIs {
		if e.ID == eniID {
			return e.FlowLogs
		}
	}
	return nil
}

func sortedSinks(s ...netmodel.FlowLogSink) []netmodel.FlowLogSink {
	slices.SortFunc(s, func(a, b netmodel.FlowLogSink) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// TestFlowLogSinks: an ENI is captured for the flow logs of itself, its subnet
// and its VPC, each with its traffic type, and no longer once they are deleted.
func TestFlowLogSinks(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a, b := tc.subnet(t, v.ID, "10.0.1.0/24"), tc.subnet(t, v.ID, "10.0.2.0/24")
	ea := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: a.ID}))
	eb := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: b.ID}))
	if s := tc.sinks(v.ID, ea.ID); s != nil {
		t.Fatalf("sinks before any flow log: %+v", s)
	}
	ofVPC := tc.createFlowLog(t, toGroup(FlowLogVPC, "ALL", v.ID))
	ofSubnet := tc.createFlowLog(t, toGroup(FlowLogSubnet, "REJECT", a.ID))
	in := toGroup(FlowLogENI, "ACCEPT", eb.ID)
	in.LogGroupName = "other"
	ofENI := tc.createFlowLog(t, in)

	if got, want := tc.sinks(v.ID, ea.ID), sortedSinks(netmodel.FlowLogSink{ID: ofVPC, TrafficType: "ALL"}, netmodel.FlowLogSink{ID: ofSubnet, TrafficType: "REJECT"}); !slices.Equal(got, want) {
		t.Errorf("sinks of %s: %+v, want %+v", ea.ID, got, want)
	}
	if got, want := tc.sinks(v.ID, eb.ID), sortedSinks(netmodel.FlowLogSink{ID: ofVPC, TrafficType: "ALL"}, netmodel.FlowLogSink{ID: ofENI, TrafficType: "ACCEPT"}); !slices.Equal(got, want) {
		t.Errorf("sinks of %s: %+v, want %+v", eb.ID, got, want)
	}
	// Another VPC's ENIs are not captured.
	other := tc.vpc(t, "10.1.0.0/16")
	eo := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: tc.subnet(t, other.ID, "10.1.0.0/24").ID}))
	if s := tc.sinks(other.ID, eo.ID); s != nil {
		t.Errorf("an ENI of another VPC is captured: %+v", s)
	}

	un := must[[]UnsuccessfulItem](t)(tc.DeleteFlowLogs(ctx, west, []string{ofVPC, ofSubnet}))
	if len(un) != 0 {
		t.Fatalf("DeleteFlowLogs: %+v", un)
	}
	if s := tc.sinks(v.ID, ea.ID); s != nil {
		t.Errorf("sinks after delete: %+v", s)
	}
	if got := tc.sinks(v.ID, eb.ID); !slices.Equal(got, []netmodel.FlowLogSink{{ID: ofENI, TrafficType: "ACCEPT"}}) {
		t.Errorf("sinks of %s after delete: %+v", eb.ID, got)
	}
}

func TestCreateFlowLogsRefusals(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	for _, tt := range []struct {
		name   string
		change func(*CreateFlowLogsInput)
		code   string
		msg    string
	}{
		{"no resources", func(in *CreateFlowLogsInput) { in.ResourceIDs = nil }, "MissingParameter", ""},
		{"no resource type", func(in *CreateFlowLogsInput) { in.ResourceType = "" }, "MissingParameter", ""},
		{"unknown resource type", func(in *CreateFlowLogsInput) { in.ResourceType = "Instance" }, "InvalidParameterValue", ""},
		{"no traffic type", func(in *CreateFlowLogsInput) { in.TrafficType = "" }, "MissingParameter", ""},
		{"unknown traffic type", func(in *CreateFlowLogsInput) { in.TrafficType = "SOME" }, "InvalidParameterValue", ""},
		{"aggregation interval", func(in *CreateFlowLogsInput) { in.MaxAggregationInterval = num(120) }, "InvalidParameter", "Invalid Flow Log Max Aggregation Interval"},
		{"format with a trailing space", func(in *CreateFlowLogsInput) { in.LogFormat = str("${version} ") }, "InvalidParameterValue",
			"1 validation error detected: Value '${version} ' at 'logFormat' has an invalid format"},
		{"format with an unknown field", func(in *CreateFlowLogsInput) { in.LogFormat = str("${version} ${colour}") }, "InvalidParameterValue", ""},
		{"empty format", func(in *CreateFlowLogsInput) { in.LogFormat = str("") }, "InvalidParameterValue", ""},
		{"group and destination", func(in *CreateFlowLogsInput) { in.LogDestination = "arn:aws:logs:us-west-2:000000000000:log-group:x" }, "InvalidParameter",
			"Please only provide LogGroupName or only provide LogDestination."},
		{"group to s3", func(in *CreateFlowLogsInput) { in.LogDestinationType = FlowDestS3 }, "InvalidParameter",
			"LogDestination type must be cloud-watch-logs if LogGroupName is provided."},
		{"no destination", func(in *CreateFlowLogsInput) { in.LogGroupName = "" }, "InvalidParameter",
			"LogDestination can't be empty if LogGroupName is not provided."},
		{"cloud-watch-logs without a role", func(in *CreateFlowLogsInput) { in.DeliverLogsPermissionArn = "" }, "InvalidParameter",
			"DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs."},
		{"log group of another region", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestination = "", "arn:aws:logs:eu-west-1:000000000000:log-group:x:*"
		}, "InvalidParameter", "LogDestination must be in the same region as the API caller."},
		{"not a log group ARN", func(in *CreateFlowLogsInput) { in.LogGroupName, in.LogDestination = "", "arn:aws:s3:::b" }, "InvalidParameter", ""},
		{"bad log group name", func(in *CreateFlowLogsInput) { in.LogGroupName = "a b" }, "InvalidParameterValue", ""},
		{"not a bucket ARN", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestinationType, in.LogDestination = "", FlowDestS3, "arn:aws:s3:::B"
		}, "InvalidParameter", ""},
		{"AWSLogs prefix", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestinationType, in.LogDestination = "", FlowDestS3, "arn:aws:s3:::bucket/AWSLogs/x"
		}, "InvalidParameter", ""},
		{"firehose of another region", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestinationType, in.LogDestination = "", FlowDestFirehose, "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s"
		}, "InvalidParameter", "LogDestination must be in the same region as the API caller."},
		{"relative file", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestinationType, in.LogDestination = "", FlowDestFile, "flows.log"
		}, "InvalidParameter", ""},
		{"unknown destination type", func(in *CreateFlowLogsInput) {
			in.LogGroupName, in.LogDestinationType, in.LogDestination = "", "kafka", "x"
		}, "InvalidParameterValue", ""},
		{"reserved tag", func(in *CreateFlowLogsInput) { in.Tags = []Tag{{"aws:x", "y"}} }, "InvalidParameterValue", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := toGroup(FlowLogVPC, "ALL", v.ID)
			tt.change(&in)
			_, err := tc.CreateFlowLogs(ctx, west, in)
			wantCode(t, err, tt.code)
			if e, _ := AsAPIError(err); tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
	if got := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil)); len(got) != 0 {
		t.Fatalf("refused requests made flow logs: %+v", got)
	}
	// A filter that does not exist is refused with no flow log to match it.
	_, err := tc.DescribeFlowLogs(ctx, west, nil, []Filter{{"traffic-type", []string{"ALL"}}, {"colour", []string{"red"}}})
	wantCode(t, err, "InvalidParameterValue")
}

func TestCreateFlowLogsPerResource(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	out := must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, toGroup(FlowLogVPC, "ALL", v.ID, "vpc-0123456789abcdef0", "nope", v.ID)))
	if len(out.FlowLogIDs) != 1 || !strings.HasPrefix(out.FlowLogIDs[0], "fl-") || out.ClientToken == "" {
		t.Fatalf("CreateFlowLogs answered %+v", out)
	}
	want := []struct{ id, code, msg string }{
		{"vpc-0123456789abcdef0", "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist"},
		{"nope", "InvalidVpcID.Malformed", ""},
		{v.ID, "FlowLogAlreadyExists", "Error. There is an existing Flow Log with the same configuration and log destination."},
	}
	if len(out.Unsuccessful) != len(want) {
		t.Fatalf("unsuccessful %+v", out.Unsuccessful)
	}
	for i, w := range want {
		u := out.Unsuccessful[i]
		if u.ResourceID != w.id || u.Error.Code != w.code || (w.msg != "" && u.Error.Message != w.msg) {
			t.Errorf("unsuccessful[%d] = %s %+v, want %+v", i, u.ResourceID, u.Error, w)
		}
	}
	// A subnet, an ENI, and resources vpcsim never has.
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	e := must[ENI](t)(tc.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID}))
	tc.createFlowLog(t, toGroup(FlowLogSubnet, "ACCEPT", sub.ID))
	tc.createFlowLog(t, toGroup(FlowLogENI, "REJECT", e.ID))
	out = must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, toGroup(FlowLogENI, "ALL", "eni-0123456789abcdef0")))
	if len(out.Unsuccessful) != 1 || out.Unsuccessful[0].Error.Code != "InvalidNetworkInterfaceID.NotFound" {
		t.Fatalf("unknown ENI: %+v", out.Unsuccessful)
	}
	out = must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, CreateFlowLogsInput{
		ResourceType: "TransitGateway", ResourceIDs: []string{"tgw-0123456789abcdef0"}, LogDestinationType: FlowDestS3, LogDestination: "arn:aws:s3:::bucket",
	}))
	if len(out.FlowLogIDs) != 0 || len(out.Unsuccessful) != 1 || out.Unsuccessful[0].Error.Code != "InvalidTransitGatewayID.NotFound" {
		t.Fatalf("transit gateway: %+v", out)
	}
	// Another region does not see the VPC.
	out = must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, Scope{Region: "us-east-1"}, toGroup(FlowLogVPC, "ALL", v.ID)))
	if len(out.Unsuccessful) != 1 || out.Unsuccessful[0].Error.Code != "InvalidVpcID.NotFound" {
		t.Fatalf("VPC of another region: %+v", out)
	}
}

func TestCreateFlowLogsClientToken(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	in := toGroup(FlowLogVPC, "ALL", v.ID)
	in.ClientToken = "token-1"
	first := must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, in))
	again := must[CreateFlowLogsResult](t)(tc.CreateFlowLogs(ctx, west, in))
	if first.ClientToken != "token-1" || len(first.FlowLogIDs) != 1 || !slices.Equal(again.FlowLogIDs, first.FlowLogIDs) || len(again.Unsuccessful) != 0 {
		t.Fatalf("retry answered %+v, first %+v", again, first)
	}
	if all := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil)); len(all) != 1 {
		t.Fatalf("a retry made another flow log: %+v", all)
	}
	in.TrafficType = "REJECT"
	_, err := tc.CreateFlowLogs(ctx, west, in)
	wantCode(t, err, "IdempotentParameterMismatch")
}

func TestDescribeFlowLogs(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	toVPC := toGroup(FlowLogVPC, "ALL", v.ID)
	toVPC.Tags = []Tag{{"team", "net"}}
	ofVPC := tc.createFlowLog(t, toVPC)
	format := "${interface-id} ${srcaddr} ${tcp-flags} ${action}"
	interval := 60
	ofSubnet := tc.createFlowLog(t, CreateFlowLogsInput{
		ResourceType: FlowLogSubnet, ResourceIDs: []string{sub.ID}, TrafficType: "REJECT",
		LogDestinationType: FlowDestS3, LogDestination: "arn:aws:s3:::flow-bucket/logs", LogFormat: &format, MaxAggregationInterval: &interval,
	})
	byARN := toGroup(FlowLogVPC, "ACCEPT", v.ID)
	byARN.LogGroupName, byARN.LogDestination = "", "arn:aws:logs:us-west-2:000000000000:log-group:other:*"
	ofARN := tc.createFlowLog(t, byARN)

	all := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil))
	if len(all) != 3 || all[0].ID != ofVPC || all[1].ID != ofSubnet || all[2].ID != ofARN {
		t.Fatalf("all flow logs: %+v", all)
	}
	f := all[0]
	if f.LogFormat != DefaultFlowLogFormat || f.MaxAggregationInterval != 600 || f.LogDestinationType != FlowDestCloudWatch ||
		f.LogGroupName != "flows" || f.LogDestination != "arn:aws:logs:us-west-2:000000000000:log-group:flows" ||
		f.DeliverLogsPermissionArn != flowRole || f.DeliverLogsStatus() != "SUCCESS" || f.CreationTime.IsZero() || f.ResourceID != v.ID {
		t.Errorf("cloud-watch-logs flow log %+v", f)
	}
	if s := all[1]; s.LogFormat != format || s.MaxAggregationInterval != 60 || s.LogGroupName != "" || s.LogDestination != "arn:aws:s3:::flow-bucket/logs" {
		t.Errorf("s3 flow log %+v", s)
	}
	if a := all[2]; a.LogGroupName != "other" || a.LogDestination != byARN.LogDestination {
		t.Errorf("flow log to a log group ARN %+v", a)
	}
	for _, tt := range []struct {
		ids  []string
		f    Filter
		want []string
	}{
		{nil, Filter{"resource-id", []string{sub.ID}}, []string{ofSubnet}},
		{nil, Filter{"traffic-type", []string{"ACCEPT", "REJECT"}}, []string{ofSubnet, ofARN}},
		{nil, Filter{"log-destination-type", []string{"s3"}}, []string{ofSubnet}},
		{nil, Filter{"log-group-name", []string{"oth*"}}, []string{ofARN}},
		{nil, Filter{"flow-log-id", []string{ofVPC}}, []string{ofVPC}},
		{nil, Filter{"deliver-log-status", []string{"FAILED"}}, nil},
		{nil, Filter{"tag:team", []string{"net"}}, []string{ofVPC}},
		{nil, Filter{"tag-key", []string{"team"}}, []string{ofVPC}},
		{[]string{ofARN, "fl-0123456789abcdef0"}, Filter{"deliver-log-status", []string{"SUCCESS"}}, []string{ofARN}},
	} {
		ids := flowLogIDs(must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, tt.ids, []Filter{tt.f})))
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%v %+v: %v, want %v", tt.ids, tt.f, ids, tt.want)
		}
	}
	_, err := tc.DescribeFlowLogs(ctx, west, nil, []Filter{{"vpc-id", []string{v.ID}}})
	wantCode(t, err, "InvalidParameterValue")
	if got := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, Scope{Region: "us-east-1"}, nil, nil)); len(got) != 0 {
		t.Errorf("another region sees %+v", got)
	}
}

func TestDeleteFlowLogs(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	id := tc.createFlowLog(t, toGroup(FlowLogVPC, "ALL", v.ID))
	un := must[[]UnsuccessfulItem](t)(tc.DeleteFlowLogs(ctx, west, []string{"fl-0123456789abcdef0", id}))
	if len(un) != 1 || un[0].ResourceID != "fl-0123456789abcdef0" || un[0].Error.Code != "InvalidFlowLogId.NotFound" {
		t.Fatalf("unsuccessful %+v", un)
	}
	if got := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil)); len(got) != 0 {
		t.Fatalf("still there: %+v", got)
	}
	un = must[[]UnsuccessfulItem](t)(tc.DeleteFlowLogs(ctx, west, []string{id}))
	if len(un) != 1 || un[0].Error.Code != "InvalidFlowLogId.NotFound" {
		t.Fatalf("deleted twice: %+v", un)
	}
	_, err := tc.DeleteFlowLogs(ctx, west, nil)
	wantCode(t, err, "InvalidParameterValue")
}

// TestFlowLogsGoWithTheirResource: deleting an ENI, a subnet or a VPC deletes
// its flow logs, as in AWS.
func TestFlowLogsGoWithTheirResource(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	n := tc.flowNet(t)
	tc.createFlowLog(t, toGroup(FlowLogENI, "ALL", n.eni.ID))
	ofSubnet := tc.createFlowLog(t, toGroup(FlowLogSubnet, "ALL", n.sub.ID))
	ofVPC := tc.createFlowLog(t, toGroup(FlowLogVPC, "ALL", n.vpc.ID))
	left := func() []string { return flowLogIDs(must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil))) }
	if err := tc.DeleteNetworkInterface(ctx, west, n.eni.ID); err != nil {
		t.Fatal(err)
	}
	if got := left(); !slices.Equal(got, []string{ofSubnet, ofVPC}) {
		t.Fatalf("after deleting the ENI: %v", got)
	}
	if err := tc.DeleteSubnet(ctx, west, n.sub.ID); err != nil {
		t.Fatal(err)
	}
	if got := left(); !slices.Equal(got, []string{ofVPC}) {
		t.Fatalf("after deleting the subnet: %v", got)
	}
	if err := tc.DeleteVpc(ctx, west, n.vpc.ID); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 0 {
		t.Fatalf("after deleting the VPC: %v", got)
	}
	if docs, _ := tc.store.Load(kindFlowLog); len(docs) != 0 {
		t.Fatalf("the store keeps %d flow logs", len(docs))
	}
}

// TestFlowLogsPersist: flow logs, their tags and their capture survive a
// restart, and a failed write leaves neither a flow log nor a capture behind.
func TestFlowLogsPersist(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	n := tc.flowNet(t)
	v, e := n.vpc, n.eni
	id := tc.createFlowLog(t, toGroup(FlowLogVPC, "REJECT", v.ID))
	if err := tc.CreateTags(ctx, west, []string{id}, []Tag{{"k", "v"}}); err != nil {
		t.Fatal(err)
	}
	tags := must[[]TagDescription](t)(tc.DescribeTags(ctx, west, []Filter{{"resource-type", []string{"vpc-flow-log"}}}))
	if len(tags) != 1 || tags[0].ResourceID != id || tags[0].Key != "k" {
		t.Fatalf("DescribeTags: %+v", tags)
	}
	wantCode(t, tc.CreateTags(ctx, west, []string{"fl-0123456789abcdef0"}, []Tag{{"k", "v"}}), "InvalidFlowLogId.NotFound")

	tc.store.FailNext = errors.New("disk full")
	if _, err := tc.CreateFlowLogs(ctx, west, toGroup(FlowLogENI, "ALL", e.ID)); err == nil {
		t.Fatal("CreateFlowLogs succeeded with a failing store")
	}
	if got := tc.sinks(v.ID, e.ID); !slices.Equal(got, []netmodel.FlowLogSink{{ID: id, TrafficType: "REJECT"}}) {
		t.Fatalf("capture after a failed write: %+v", got)
	}

	re := tc.reopen(t)
	got := must[[]FlowLog](t)(re.DescribeFlowLogs(ctx, west, nil, nil))
	if len(got) != 1 || got[0].ID != id || got[0].TrafficType != "REJECT" || len(got[0].Tags) != 1 || got[0].CreationTime.IsZero() {
		t.Fatalf("after a restart: %+v", got)
	}
	if got := re.sinks(v.ID, e.ID); !slices.Equal(got, []netmodel.FlowLogSink{{ID: id, TrafficType: "REJECT"}}) {
		t.Fatalf("capture after a restart: %+v", got)
	}
}
