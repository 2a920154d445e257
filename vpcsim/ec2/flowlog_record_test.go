package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// flowNow is the clock of the recorder tests: it names the S3 files.
var flowNow = time.Date(2026, 11, 24, 16, 20, 5, 0, time.UTC)

// t0 is when the tests' packets start.
var t0 = time.Unix(1800000000, 0)

func newFlowCloud(t *testing.T, opts ...Option) *testCloud {
	t.Helper()
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	// A long window keeps the background writer out of the tests' way: they
	// end windows with FlushFlowLogs.
	opts = append([]Option{WithInPlaceCheck(), WithClock(func() time.Time { return flowNow }), WithFlowLogInterval(time.Hour)}, opts...)
	c, err := New(context.Background(), st, dp, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	return &testCloud{c, dp, st}
}

// newFlowTest is a Cloud (newFlowCloud) with a flowNet, and a directory for
// the test's files, opened to `file` flow logs as --host-path opens one.
func newFlowTest(t *testing.T, opts ...Option) (*testCloud, flowNet, string) {
	t.Helper()
	dir := t.TempDir()
	tc := newFlowCloud(t, append(opts, WithHostPaths([]hostpath.Root{mustRoot(t, dir)}))...)
	return tc, tc.flowNet(t), dir
}

func mustRoot(t *testing.T, dir string) hostpath.Root {
	t.Helper()
	r, err := hostpath.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// packet is one FlowPacket of the ENI, at t0 + sec seconds.
func packet(eni string, accept bool, src string, sport uint16, dst string, dport uint16, proto uint8, bytes, sec int) netmodel.FlowPacket {
	return netmodel.FlowPacket{ENI: eni, Accept: accept, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: sport, DstPort: dport, Proto: proto, Bytes: bytes, Time: t0.Add(time.Duration(sec) * time.Second)}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// unix is t0 + sec as records write it.
func unix(sec int) string { return strconv.FormatInt(t0.Unix()+int64(sec), 10) }

// TestFlowRecords feeds packets of one ENI to three flow logs (its own, to
// CloudWatch Logs; its subnet's, REJECT only, to S3; its VPC's, ACCEPT only,
// to a file in a custom format) and reads back exactly what each wrote.
func TestFlowRecords(t *testing.T) {
	dir := t.TempDir()
	tc := newFlowCloud(t, WithDataDir(dir))
	n := tc.flowNet(t)
	cwl := toGroup(FlowLogENI, "ALL", n.eni.ID)
	cwl.LogGroupName = "/aws/vpc/flows"
	tc.createFlowLog(t, cwl)
	s3ID := tc.createFlowLog(t, CreateFlowLogsInput{ResourceType: FlowLogSubnet, ResourceIDs: []string{n.sub.ID}, TrafficType: "REJECT",
		LogDestinationType: FlowDestS3, LogDestination: "arn:aws:s3:::flow-bucket/team/"})
	local := filepath.Join(dir, "flowlogs", "file", "local", "flows.log")
	format := "${version} ${interface-id} ${vpc-id} ${subnet-id} ${instance-id} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${srcaddr} ${dstaddr} " +
		"${flow-direction} ${traffic-path} ${tcp-flags} ${region} ${az-id} ${ecs-task-id} ${packets} ${bytes}"
	tc.createFlowLog(t, toFile(FlowLogVPC, "ACCEPT", local, format, n.vpc.ID))

	e := n.eni.ID
	for _, p := range []netmodel.FlowPacket{
		packet(e, true, "10.0.1.9", 40000, "10.0.1.4", 80, 6, 60, 0),
		packet(e, false, "10.0.1.9", 5353, "10.0.1.5", 53, 17, 100, 1), // to the secondary address
		packet(e, true, "10.0.1.9", 40000, "10.0.1.4", 80, 6, 52, 1),
		packet(e, true, "10.0.1.9", 40000, "10.0.1.4", 80, 6, 40, 2),
		packet(e, false, "10.0.1.9", 5353, "10.0.1.5", 53, 17, 100, 3),
		packet(e, true, "10.0.1.4", 0, "10.0.1.9", 0, 1, 84, 4),
	} {
		tc.RecordFlow(p)
	}
	tc.FlushFlowLogs()

	stream := filepath.Join(dir, "flowlogs", "cloud-watch-logs", "aws", "vpc", "flows", e+"-all.log")
	accepted := "2 000000000000 " + e + " 10.0.1.9 10.0.1.4 40000 80 6 3 152 " + unix(0) + " " + unix(2) + " ACCEPT OK"
	rejected := "2 000000000000 " + e + " 10.0.1.9 10.0.1.4 5353 53 17 2 200 " + unix(1) + " " + unix(3) + " REJECT OK"
	egress := "2 000000000000 " + e + " 10.0.1.4 10.0.1.9 0 0 1 1 84 " + unix(4) + " " + unix(4) + " ACCEPT OK"
	wantLines(t, "log stream", readLines(t, stream), accepted, rejected, egress)

	objects, _ := filepath.Glob(filepath.Join(dir, "s3", "flow-bucket", "team", "AWSLogs", "000000000000", "vpcflowlogs", "us-west-2", "2026", "11", "24", "*"))
	if len(objects) != 1 || !regexp.MustCompile(`/000000000000_vpcflowlogs_us-west-2_`+s3ID+`_20261124T1620Z_[0-9a-f]{8}\.log$`).MatchString(objects[0]) {
		t.Fatalf("S3 objects %v", objects)
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	wantLines(t, "S3 object", readLines(t, objects[0]), header, rejected)

	meta := e + " " + n.vpc.ID + " " + n.sub.ID + " - IPv4 "
	wantLines(t, "file", readLines(t, local),
		strings.NewReplacer("${", "", "}", "").Replace(format),
		"7 "+meta+"10.0.1.9 10.0.1.4 10.0.1.9 10.0.1.4 ingress - 0 us-west-2 "+n.sub.AZID+" - 3 152",
		"7 "+meta+"10.0.1.4 10.0.1.9 10.0.1.4 10.0.1.9 egress 1 0 us-west-2 "+n.sub.AZID+" - 1 84")

	// The next window appends to the stream and the file, without a second
	// header; S3 gets a new object only when there is a record for it.
	tc.RecordFlow(packet(e, true, "10.0.1.9", 40000, "10.0.1.4", 80, 6, 40, 10))
	tc.FlushFlowLogs()
	later := "2 000000000000 " + e + " 10.0.1.9 10.0.1.4 40000 80 6 1 40 " + unix(10) + " " + unix(10) + " ACCEPT OK"
	wantLines(t, "log stream", readLines(t, stream), accepted, rejected, egress, later)
	if got := readLines(t, local); len(got) != 4 || !strings.HasSuffix(got[3], " 1 40") {
		t.Errorf("file after the second window: %q", got)
	}
	if again, _ := filepath.Glob(filepath.Join(filepath.Dir(objects[0]), "*")); len(again) != 1 {
		t.Errorf("S3 objects after an ACCEPT-only window: %v", again)
	}
	tc.RecordFlow(packet(e, false, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 11))
	tc.FlushFlowLogs()
	if again, _ := filepath.Glob(filepath.Join(filepath.Dir(objects[0]), "*")); len(again) != 2 {
		t.Errorf("S3 objects after a REJECT: %v", again)
	}
}

// TestFlowRecordsOfAnInstance: a record names the instance its ENI is attached to.
func TestFlowRecordsOfAnInstance(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	ctx := context.Background()
	run := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetID: n.sub.ID}))
	tc.Wait()
	eni := run[0].ENIs[0]
	path := filepath.Join(dir, "i.log")
	tc.createFlowLog(t, toFile(FlowLogENI, "ALL", path, "${instance-id} ${interface-id}", eni.ID))
	tc.RecordFlow(packet(eni.ID, true, "10.0.1.9", 1, eni.PrimaryIP().String(), 2, 6, 40, 0))
	tc.FlushFlowLogs()
	wantLines(t, "file", readLines(t, path), "instance-id interface-id", run[0].ID+" "+eni.ID)
}

// TestFlowRecordsDropped: without a flow log directory only `file` flow logs
// are written, and packets of ENIs no flow log captures any more are dropped.
func TestFlowRecordsDropped(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	ctx := context.Background()
	tc.createFlowLog(t, toGroup(FlowLogVPC, "ALL", n.vpc.ID))
	kept := filepath.Join(dir, "kept.log")
	tc.createFlowLog(t, toFile(FlowLogENI, "ALL", kept, "", n.eni.ID))
	gone := filepath.Join(dir, "gone.log")
	goneID := tc.createFlowLog(t, toFile(FlowLogSubnet, "ALL", gone, "", n.sub.ID))
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	tc.RecordFlow(packet("eni-0123456789abcdef0", true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	must[[]UnsuccessfulItem](t)(tc.DeleteFlowLogs(ctx, west, []string{goneID}))
	tc.FlushFlowLogs()
	if got := readLines(t, kept); len(got) != 2 {
		t.Errorf("file flow log: %q", got)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("a deleted flow log was written: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("written without a flow log directory: %v", entries)
	}
}

// TestFlowLogDeliveryStatus: a flow log whose records cannot be written shows
// DeliverLogsStatus FAILED until a write succeeds again.
func TestFlowLogDeliveryStatus(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	ctx := context.Background()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	id := tc.createFlowLog(t, toFile(FlowLogVPC, "ALL", filepath.Join(blocker, "flows.log"), "", n.vpc.ID))
	status := func() (string, string) {
		fs := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, []string{id}, nil))
		return fs[0].DeliverLogsStatus(), fs[0].DeliverLogsError
	}
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	tc.FlushFlowLogs()
	if s, msg := status(); s != "FAILED" || msg != "Unknown error" {
		t.Fatalf("after a failed write: %s %q", s, msg)
	}
	if got := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, []Filter{{"deliver-log-status", []string{"FAILED"}}})); len(got) != 1 {
		t.Fatalf("deliver-log-status filter: %+v", got)
	}
	os.Remove(blocker)
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 1))
	tc.FlushFlowLogs()
	if s, msg := status(); s != "SUCCESS" || msg != "" {
		t.Fatalf("after a good write: %s %q", s, msg)
	}
}

// TestFlowRecordsSkipData: flows beyond a window's capacity are written as one
// SKIPDATA record of the ENI, as AWS writes them.
func TestFlowRecordsSkipData(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	path := filepath.Join(dir, "flows.log")
	tc.createFlowLog(t, toFile(FlowLogENI, "REJECT", path, "", n.eni.ID))
	for i := range maxPendingFlows + 2 {
		src := fmt.Sprintf("10.0.%d.%d", 2+i/65536, 1+i%250)
		tc.RecordFlow(packet(n.eni.ID, false, src, uint16(i/250), "10.0.1.4", 22, 6, 40, i/maxPendingFlows*7))
	}
	tc.FlushFlowLogs()
	got := readLines(t, path)
	if len(got) != 1+maxPendingFlows+1 {
		t.Fatalf("%d lines, want %d", len(got), 1+maxPendingFlows+1)
	}
	wantLines(t, "last record", got[len(got)-1:], "2 000000000000 "+n.eni.ID+" - - - - - - - "+unix(7)+" "+unix(7)+" - SKIPDATA")
}

// TestRecordFlowConcurrently is for the race detector: packets come from many
// goroutines while flow logs are made and deleted and windows are flushed,
// and not one packet of the flow log that stays is lost.
func TestRecordFlowConcurrently(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	ctx := context.Background()
	path := filepath.Join(dir, "flows.log")
	tc.createFlowLog(t, toFile(FlowLogENI, "ALL", path, "${packets}", n.eni.ID))
	const senders, each = 8, 500
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				tc.RecordFlow(packet(n.eni.ID, i%3 != 0, "10.0.1.9", uint16(g), "10.0.1.4", 80, 6, 40, i%5))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			out, err := tc.CreateFlowLogs(ctx, west, toGroup(FlowLogSubnet, "ALL", n.sub.ID))
			tc.FlushFlowLogs()
			if err == nil {
				_, err = tc.DeleteFlowLogs(ctx, west, out.FlowLogIDs)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	tc.FlushFlowLogs()
	total := 0
	for _, l := range readLines(t, path)[1:] {
		k, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("record %q", l)
		}
		total += k
	}
	if total != senders*each {
		t.Fatalf("%d packets written, want %d", total, senders*each)
	}
}

// TestFlowLogWindow: without FlushFlowLogs, records are written when the
// capture window ends, and the writer stops once packets stop.
func TestFlowLogWindow(t *testing.T) {
	tc, n, dir := newFlowTest(t, WithFlowLogInterval(20*time.Millisecond))
	path := filepath.Join(dir, "flows.log")
	tc.createFlowLog(t, toFile(FlowLogENI, "ALL", path, "", n.eni.ID))
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	r := &tc.flowLogs.rec
	deadline := time.Now().Add(time.Minute) // only reached when it never ends
	for {
		r.mu.Lock()
		running := r.running
		r.mu.Unlock()
		if _, err := os.Stat(path); err == nil && !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window did not end in a minute (writer running: %v)", running)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := readLines(t, path); len(got) != 2 {
		t.Fatalf("records %q", got)
	}
	if w := (&flowRecorder{interval: time.Hour}).window(); w != maxFlowLogInterval {
		t.Errorf("a window of an hour is %v", w)
	}
}

// TestFlowLogFileDestinations: a `file` flow log may name a file below the
// data directory's flowlogs/file or below a directory the operator opened,
// and nothing else: CreateFlowLogs refuses the rest with InvalidParameter and
// makes nothing.
func TestFlowLogFileDestinations(t *testing.T) {
	data, opened, other := t.TempDir(), t.TempDir(), t.TempDir()
	tc := newFlowCloud(t, WithDataDir(data), WithHostPaths([]hostpath.Root{mustRoot(t, opened)}))
	n := tc.flowNet(t)
	ctx := context.Background()
	for _, path := range []string{
		filepath.Join(data, "flowlogs", "file", "a.log"),
		filepath.Join(data, "flowlogs", "file", "deep", "b.log"),
		filepath.Join(opened, "c.log"),
		filepath.Join(opened, "x", "..", "d.log"),
	} {
		tc.createFlowLog(t, toFile(FlowLogVPC, "ALL", path, "", n.vpc.ID))
	}
	for _, path := range []string{
		"/etc/cron.d/vpcsim",
		filepath.Join(data, "vpcsim.db"),
		filepath.Join(data, "flowlogs", "file", "..", "..", "vpcsim.db"),
		filepath.Join(data, "flowlogs", "file"),
		filepath.Join(data, "flowlogs", "cloud-watch-logs", "x.log"),
		filepath.Join(opened, "..", filepath.Base(other), "e.log"),
		filepath.Join(other, "e.log"),
		opened,
	} {
		_, err := tc.CreateFlowLogs(ctx, west, toFile(FlowLogVPC, "ALL", path, "", n.vpc.ID))
		wantCode(t, err, "InvalidParameter")
		want := "Invalid LogDestination: " + path + ". A file destination must lie beneath " + filepath.Join(data, "flowlogs", "file") +
			" or beneath a directory opened with vpcsim serve --host-path."
		if e, _ := AsAPIError(err); e == nil || e.Message != want {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if got := must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, nil, nil)); len(got) != 4 {
		t.Errorf("%d flow logs, want the 4 allowed", len(got))
	}
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	tc.FlushFlowLogs()
	for _, path := range []string{filepath.Join(data, "flowlogs", "file", "deep", "b.log"), filepath.Join(opened, "d.log")} {
		if got := readLines(t, path); len(got) != 2 {
			t.Errorf("%s: %q", path, got)
		}
	}
}

// TestFlowLogsFollowNoLink: a symbolic link planted in any tree that records
// are written to is never written through: the flow log's delivery fails
// (DeliverLogsStatus FAILED, "Access error") and the link's target is
// untouched.
func TestFlowLogsFollowNoLink(t *testing.T) {
	data, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "target")
	if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := newFlowCloud(t, WithDataDir(data))
	n := tc.flowNet(t)
	ctx := context.Background()
	plant := func(link, to string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
	}
	// The file itself, a directory on the way to a log stream, an S3 bucket.
	plant(filepath.Join(data, "flowlogs", "file", "planted.log"), target)
	plant(filepath.Join(data, "flowlogs", "cloud-watch-logs", "grp"), outside)
	plant(filepath.Join(data, "s3", "bucket"), outside)
	ids := []string{
		tc.createFlowLog(t, toFile(FlowLogVPC, "ALL", filepath.Join(data, "flowlogs", "file", "planted.log"), "", n.vpc.ID)),
		tc.createFlowLog(t, CreateFlowLogsInput{ResourceType: FlowLogVPC, ResourceIDs: []string{n.vpc.ID}, TrafficType: "ALL",
			LogGroupName: "grp", DeliverLogsPermissionArn: flowRole}),
		tc.createFlowLog(t, CreateFlowLogsInput{ResourceType: FlowLogVPC, ResourceIDs: []string{n.vpc.ID}, TrafficType: "ALL",
			LogDestinationType: FlowDestS3, LogDestination: "arn:aws:s3:::bucket"}),
	}
	tc.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	tc.FlushFlowLogs()
	for _, f := range must[[]FlowLog](t)(tc.DescribeFlowLogs(ctx, west, ids, nil)) {
		if f.DeliverLogsStatus() != "FAILED" || f.DeliverLogsError != "Access error" {
			t.Errorf("%s (%s): %s %q", f.ID, f.LogDestinationType, f.DeliverLogsStatus(), f.DeliverLogsError)
		}
	}
	entries, _ := os.ReadDir(outside)
	if b, _ := os.ReadFile(target); string(b) != "keep\n" || len(entries) != 1 {
		t.Errorf("written through a link: target %q, %d entries in its directory", b, len(entries))
	}
}

// TestFileFlowLogClosedDirectory: a `file` flow log whose directory is no
// longer opened (a restart without that --host-path) writes nothing there and
// shows its delivery failed.
func TestFileFlowLogClosedDirectory(t *testing.T) {
	tc, n, dir := newFlowTest(t)
	path := filepath.Join(dir, "flows.log")
	id := tc.createFlowLog(t, toFile(FlowLogVPC, "ALL", path, "", n.vpc.ID))
	tc.Wait()
	c, err := New(context.Background(), tc.store, tc.dp, WithClock(func() time.Time { return flowNow }), WithFlowLogInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	c.RecordFlow(packet(n.eni.ID, true, "10.0.1.9", 1, "10.0.1.4", 2, 6, 40, 0))
	c.FlushFlowLogs()
	fls := must[[]FlowLog](t)(c.DescribeFlowLogs(context.Background(), west, []string{id}, nil))
	if fls[0].DeliverLogsStatus() != "FAILED" || fls[0].DeliverLogsError != "Access error" {
		t.Errorf("after the restart: %s %q", fls[0].DeliverLogsStatus(), fls[0].DeliverLogsError)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("written in a directory no longer opened: %v", err)
	}
}

// TestFlowRecordsIPv6: IPv6 packets of a dual-stack ENI are its own (ingress
// to any of its IPv6 addresses), keep their addresses in srcaddr and
// dstaddr, and egress within the VPC's IPv6 block is traffic-path 1.
func TestFlowRecordsIPv6(t *testing.T) {
	dir := t.TempDir()
	tc := newFlowCloud(t, WithDataDir(dir))
	v, block := tc.dualStackVPC(t, "10.0.0.0/16")
	sub := tc.dualStackSubnet(t, v.ID, "10.0.1.0/24", subnet64(block, 1))
	e := must[ENI](t)(tc.CreateNetworkInterface(context.Background(), west, CreateNetworkInterfaceInput{SubnetID: sub.ID, IPv6Count: 1}))
	local := filepath.Join(dir, "flowlogs", "file", "local", "flows.log")
	format := "${type} ${pkt-srcaddr} ${pkt-dstaddr} ${srcaddr} ${dstaddr} ${flow-direction} ${traffic-path}"
	tc.createFlowLog(t, toFile(FlowLogENI, "ALL", local, format, e.ID))

	me, peer := e.IPv6[0].String(), subnet64(block, 1).Addr().String()+"99"
	tc.RecordFlow(packet(e.ID, true, peer, 40000, me, 443, 6, 80, 0))
	tc.RecordFlow(packet(e.ID, true, me, 40001, peer, 443, 6, 80, 1))
	tc.RecordFlow(packet(e.ID, true, me, 40002, "2001:db8::1", 443, 6, 80, 2))
	tc.FlushFlowLogs()
	wantLines(t, "file", readLines(t, local),
		strings.NewReplacer("${", "", "}", "").Replace(format),
		"IPv6 "+peer+" "+me+" "+peer+" "+me+" ingress -",
		"IPv6 "+me+" "+peer+" "+me+" "+peer+" egress 1",
		"IPv6 "+me+" 2001:db8::1 "+me+" 2001:db8::1 egress -")
}
