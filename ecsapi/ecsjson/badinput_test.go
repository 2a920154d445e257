package ecsjson

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstest"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/awstest/badinput"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// ecsWorld is the ECS handler in an httptest server over the real domain (a
// Cloud with the fake dataplane, the fake runtime), holding a cluster with a
// container instance, a task definition and a RUNNING awsvpc task. The corpus
// names them {{cluster}}, {{family}}, {{taskdef}}, {{task}}, {{instance}},
// {{subnet}} and {{sg}}.
type ecsWorld struct {
	srv   *httptest.Server
	cloud *ec2sim.Cloud
	dp    *netmodeltest.FakeDataplane
	rt    *ecstest.FakeRuntime
	store *badinput.CountingStore
	logs  *syncBuffer
	vars  map[string]string
}

func newECSWorld(t *testing.T) *ecsWorld {
	t.Helper()
	ctx := context.Background()
	w := &ecsWorld{dp: netmodeltest.NewFakeDataplane(), rt: ecstest.NewFakeRuntime(),
		store: &badinput.CountingStore{Store: vpcsim.NewMemStore()}, logs: &syncBuffer{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.cloud, err = ec2sim.New(ctx, w.store, w.dp)
	must(err)
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := ecsapi.New(ctx, w.store, w.cloud, w.rt, ecsapi.WithLogger(log))
	must(err)
	w.srv = httptest.NewServer(NewHandler(svc, log, "us-west-2"))
	t.Cleanup(func() {
		w.srv.Close()
		w.cloud.Wait()
		svc.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", w.logs)
		}
	})

	s, es := ec2sim.Scope{Region: "us-west-2"}, ecsapi.Scope{Region: "us-west-2"}
	vpc, err := w.cloud.CreateVpc(ctx, s, ec2sim.CreateVpcInput{CIDRBlock: "10.0.0.0/16"})
	must(err)
	sub, err := w.cloud.CreateSubnet(ctx, s, ec2sim.CreateSubnetInput{VPCID: vpc.ID, CIDR: "10.0.1.0/24", AZ: "us-west-2a"})
	must(err)
	sg, err := w.cloud.CreateSecurityGroup(ctx, s, ec2sim.CreateSecurityGroupInput{VPCID: vpc.ID, Name: "web", Description: "web"})
	must(err)
	_, err = svc.CreateCluster(ctx, es, &ecstypes.CreateClusterRequest{ClusterName: ecstypes.Ptr("corpus"),
		Tags: []ecstypes.Tag{{Key: ecstypes.Ptr("team"), Value: ecstypes.Ptr("net")}}})
	must(err)
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=corpus >> /etc/ecs/ecs.config\n"))
	insts, err := w.cloud.RunInstances(ctx, s, ec2sim.RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large",
		MinCount: 1, MaxCount: 1, SubnetID: sub.ID, UserData: ud})
	must(err)
	w.cloud.Wait()           // the instance is running,
	w.cloud.Events().Drain() // and ECS registered it from the event
	td, err := svc.RegisterTaskDefinition(ctx, es, &ecstypes.RegisterTaskDefinitionRequest{
		Family: ecstypes.Ptr("web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: ecstypes.Ptr("app"), Image: ecstypes.Ptr("nginx:latest"), Memory: ecstypes.Ptr(int32(256))}},
	})
	must(err)
	run, err := svc.RunTask(ctx, es, &ecstypes.RunTaskRequest{Cluster: ecstypes.Ptr("corpus"), TaskDefinition: ecstypes.Ptr("web"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{sub.ID}, SecurityGroups: []string{sg.ID}}}})
	must(err)
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v", run.Failures)
	}
	task := *run.Tasks[0].TaskArn
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		out, err := svc.DescribeTasks(ctx, es, &ecstypes.DescribeTasksRequest{Cluster: ecstypes.Ptr("corpus"), Tasks: []string{task}})
		must(err)
		if *out.Tasks[0].LastStatus == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seed task is %s", *out.Tasks[0].LastStatus)
		}
	}
	w.vars = map[string]string{"cluster": "corpus", "family": "web", "taskdef": *td.TaskDefinition.TaskDefinitionArn,
		"task": task, "instance": insts[0].ID, "subnet": sub.ID, "sg": sg.ID}
	return w
}

// snapshotCalls answer the whole ECS state of the world between them.
var snapshotCalls = [][2]string{
	{"ListClusters", `{}`},
	{"DescribeClusters", `{"clusters":["{{cluster}}"],"include":["TAGS","SETTINGS","STATISTICS","CONFIGURATIONS"]}`},
	{"ListTaskDefinitions", `{}`},
	{"ListTaskDefinitionFamilies", `{}`},
	{"DescribeTaskDefinition", `{"taskDefinition":"{{family}}","include":["TAGS"]}`},
	{"ListContainerInstances", `{"cluster":"{{cluster}}"}`},
	{"ListTasks", `{"cluster":"{{cluster}}"}`},
	{"DescribeTasks", `{"cluster":"{{cluster}}","tasks":["{{task}}"],"include":["TAGS"]}`},
	{"ListTagsForResource", `{"resourceArn":"arn:aws:ecs:us-west-2:000000000000:cluster/{{cluster}}"}`},
}

// snapshot is every snapshot call's answer, the EC2 ENIs, the kernel and the
// runtime's running tasks.
func (w *ecsWorld) snapshot(t *testing.T) string {
	t.Helper()
	w.cloud.Wait()
	w.cloud.Events().Drain()
	var b strings.Builder
	ts := &testServer{Server: w.srv}
	for _, c := range snapshotCalls {
		body := c[1]
		for k, v := range w.vars {
			body = strings.ReplaceAll(body, "{{"+k+"}}", v)
		}
		resp := ts.post(t, c[0], body)
		out := readBody(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d %s", c[0], resp.StatusCode, out)
		}
		fmt.Fprintf(&b, "%s %s\n", c[0], out)
	}
	enis, err := w.cloud.DescribeNetworkInterfaces(context.Background(), ec2sim.Scope{Region: "us-west-2"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range enis {
		fmt.Fprintf(&b, "eni %s %s %v\n", e.ID, e.Status, e.PrivateIPs)
	}
	fmt.Fprintln(&b, w.dp.Objects())
	task := w.vars["task"]
	fmt.Fprintln(&b, "running:", w.rt.Running(task[strings.LastIndexByte(task, '/')+1:]))
	return b.String()
}

// checkECSAnswer holds one answer to its case: status, the JSON 1.1 error shape
// and __type, the message (sent as "message", or "Message" for Coral's own
// exceptions), and no trace of Go's internals.
func checkECSAnswer(t *testing.T, c badinput.Case, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != c.Status {
		t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, c.Status, body)
	}
	if leak := badinput.Leaks(body); leak != "" {
		t.Errorf("the answer shows %q: %s", leak, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("no x-amzn-RequestId")
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the answer is not JSON (%v): %s", err, body)
	}
	if c.Code == "" {
		if _, isErr := doc["__type"]; isErr {
			t.Errorf("want a success: %s", body)
		}
		return
	}
	for k := range doc {
		if k != "__type" && k != "message" && k != "Message" {
			t.Errorf("error member %q: %s", k, body)
		}
	}
	if doc["__type"] != c.Code {
		t.Errorf("__type %v, want %s: %s", doc["__type"], c.Code, body)
	}
	if c.HasMsg {
		msg, ok := doc["message"]
		if !ok {
			msg, ok = doc["Message"]
		}
		if c.Message == "" && ok || c.Message != "" && msg != c.Message {
			t.Errorf("message\n got %v\nwant %q", msg, c.Message)
		}
	}
}

// TestBadInput sends testdata/badinput/*.http, and requests too large or too deep
// for a file, to the ECS handler: each gets the AWS error it names, in the JSON
// 1.1 error shape, and the whole run changes nothing: not the answers of the
// List/Describe calls, not the store, not EC2's ENIs, the kernel or the runtime.
// Add a case by adding a file (see package badinput for the format).
func TestBadInput(t *testing.T) {
	w := newECSWorld(t)
	badinput.Runner{
		Addr: strings.TrimPrefix(w.srv.URL, "http://"), Vars: w.vars, Header: http.Header{"Authorization": {signed}},
		Check: checkECSAnswer, Snapshot: w.snapshot, Store: w.store,
		Kernel: func() int { return len(w.dp.Trace) }, // read after Snapshot has waited for the Cloud
		Log:    w.logs.String,
	}.Run(t, "testdata/badinput", generatedECSCases()...)
}

var runTaskHead = "POST / HTTP/1.1\nContent-Type: application/x-amz-json-1.1\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.RunTask\n\n"

// generatedECSCases are the cases a text file cannot hold well: bodies over the
// limit and nesting deeper than any decoder should follow.
func generatedECSCases() []badinput.Case {
	pad := func(n int) []byte {
		// A RunTask padded with an unknown member up to n bytes in all.
		head, tail := `{"cluster":"corpus","taskDefinition":"web","x":"`, `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	deep := func(n int) []byte {
		return []byte(`{"cluster":"corpus","taskDefinition":"web","overrides":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}")
	}
	tooLarge := "Request body exceeds the maximum allowed size of 1048576 bytes."
	return []badinput.Case{
		{Name: "generated-body-over-the-limit", Status: 413, Code: coralNS + "RequestEntityTooLargeException", Message: tooLarge, HasMsg: true,
			Raw: append([]byte(runTaskHead), pad(DefaultMaxBody+1)...)},
		{Name: "generated-chunked-body-over-the-limit", Status: 413, Code: coralNS + "RequestEntityTooLargeException", Message: tooLarge, HasMsg: true,
			Raw: append([]byte(strings.Replace(runTaskHead, "\n\n", "\nTransfer-Encoding: chunked\n\n", 1)), badinput.Chunked(pad(DefaultMaxBody+100))...)},
		// Nesting past what the JSON reader follows (10,000 levels) is not JSON
		// to it; nesting within it is only a list where a structure goes.
		{Name: "generated-nesting-100000", Status: 400, Code: coralNS + "SerializationException",
			Raw: append([]byte(runTaskHead), deep(100000)...)},
		{Name: "generated-nesting-5000", Status: 400, Code: coralNS + "SerializationException",
			Message: "Unrecognized collection type class com.amazonaws.ecs.v20141113.TaskOverride", HasMsg: true,
			Raw: append([]byte(runTaskHead), deep(5000)...)},
	}
}
