package taskmeta_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstest"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/ecsapi/taskmeta"
	"github.com/vpcsim/vpcsim/vpcsim"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// A Fargate task's endpoint reports its ENI's real facts. The listener is on
// loopback here; in vpcsim serve it is inside the task's namespace.
func TestTaskMetadata(t *testing.T) {
	mt := startTask(t, []ecstypes.ContainerDefinition{{Name: ecstypes.Ptr("app"), Image: ecstypes.Ptr("app:1"),
		RestartPolicy: &ecstypes.ContainerRestartPolicy{Enabled: ecstypes.Ptr(true)}}})
	arn, m, addr := mt.arn, mt.meta, mt.addr
	var task map[string]any
	get(t, "http://"+addr+"/v4/"+m.ContainerIDs["app"]+"/task", &task)
	if task["TaskARN"] != arn || task["LaunchType"] != "FARGATE" || task["Family"] != "meta" || task["VPCID"] != mt.vpcID {
		t.Fatalf("task document %v", task)
	}
	nets := task["Containers"].([]any)[0].(map[string]any)["Networks"].([]any)[0].(map[string]any)
	want := map[string]any{
		"NetworkMode": "awsvpc", "IPv4SubnetCIDRBlock": "10.0.2.0/24", "SubnetGatewayIpv4Address": "10.0.2.1/24",
		"IPv4Addresses": []any{m.Network.IPv4Address}, "MACAddress": m.Network.MAC, "AttachmentIndex": float64(0),
		"PrivateDNSName": "ip-" + dashes(m.Network.IPv4Address) + ".eu-west-1.compute.internal",
	}
	for k, v := range want {
		if b1, _ := json.Marshal(nets[k]); string(b1) != mustJSON(v) {
			t.Errorf("Networks %s = %v, want %v", k, nets[k], v)
		}
	}
	var c map[string]any
	get(t, "http://"+addr+"/v4/"+m.ContainerIDs["app"], &c)
	if c["Name"] != "app" || c["KnownStatus"] != "RUNNING" || c["RestartCount"] != float64(0) {
		t.Fatalf("container document %v", c)
	}
	if resp, err := http.Get("http://" + addr + "/v4/nope/task"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown container ID: %v %v", err, resp)
	}
}

// metaTask is a running task of a fake runtime with its endpoint.
type metaTask struct {
	arn, addr, vpcID string
	meta             ecsapi.TaskMeta
	svc              *ecsapi.Service
	restart          func() (*ecsapi.Service, string) // a new service over the same store, and the task's new endpoint
}

// startTask runs a Fargate awsvpc task of family "meta" with these containers
// and waits until its endpoint knows it RUNNING.
func startTask(t *testing.T, defs []ecstypes.ContainerDefinition, opts ...ecsapi.Option) metaTask {
	t.Helper()
	ctx := context.Background()
	store := vpcsim.NewMemStore()
	cloud, err := ec2sim.New(ctx, store, netmodeltest.NewFakeDataplane())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	addrs := map[string]string{}
	listen := func(host string) (net.Listener, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			mu.Lock()
			addrs[host] = ln.Addr().String()
			mu.Unlock()
		}
		return ln, err
	}
	rt := ecstest.NewFakeRuntime()
	// start serves the service as vpcsim serve does; stop ends it as serve
	// does when it exits (its tasks go on running).
	var stop func()
	start := func() *ecsapi.Service {
		endpoints := taskmeta.NewEndpoints(listen, func(h http.Handler) http.Handler { return h }, slog.Default())
		svc, err := ecsapi.New(ctx, store, cloud, rt, append([]ecsapi.Option{endpoints.Option()}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		stop = func() { svc.Close(); endpoints.Close() }
		return svc
	}
	svc := start()
	t.Cleanup(func() { stop() })
	ec := ec2sim.Scope{Region: "eu-west-1"}
	sc := ecsapi.Scope{Region: "eu-west-1"}
	vpc, _ := cloud.CreateVpc(ctx, ec, ec2sim.CreateVpcInput{CIDRBlock: "10.0.0.0/16"})
	sub, err := cloud.CreateSubnet(ctx, ec, ec2sim.CreateSubnetInput{VPCID: vpc.ID, CIDR: "10.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateCluster(ctx, sc, &ecstypes.CreateClusterRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.RegisterTaskDefinition(ctx, sc, &ecstypes.RegisterTaskDefinitionRequest{
		Family: ecstypes.Ptr("meta"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: ecstypes.Ptr("256"), Memory: ecstypes.Ptr("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions:    defs,
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.RunTask(ctx, sc, &ecstypes.RunTaskRequest{LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: ecstypes.Ptr("meta"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{sub.ID}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run: %v %+v", err, run)
	}
	arn := *run.Tasks[0].TaskArn
	var m ecsapi.TaskMeta
	// A minute: only reached when the task never runs, and the race
	// detector on a busy machine is slow.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m, _ = svc.Metadata(arn); m.Network != nil && m.Task.LastStatus != nil && *m.Task.LastStatus == "RUNNING" {
			break
		}
	}
	endpoint := func() string {
		mu.Lock()
		defer mu.Unlock()
		addr := addrs["task-"+arn[len(arn)-32:]]
		if addr == "" {
			t.Fatalf("no endpoint opened in the task's namespace: %v", addrs)
		}
		delete(addrs, "task-"+arn[len(arn)-32:])
		return addr
	}
	restart := func() (*ecsapi.Service, string) {
		stop()
		again := start()
		return again, endpoint()
	}
	return metaTask{arn: arn, addr: endpoint(), vpcID: vpc.ID, meta: m, svc: svc, restart: restart}
}

// The endpoint follows its task: it is open again as soon as a restarted
// service is (the task runs on), and closed before the task is STOPPED.
func TestEndpointFollowsTask(t *testing.T) {
	mt := startTask(t, []ecstypes.ContainerDefinition{{Name: ecstypes.Ptr("app"), Image: ecstypes.Ptr("app:1")}})
	svc, addr := mt.restart()
	var task map[string]any
	get(t, "http://"+addr+"/v4/"+mt.meta.ContainerIDs["app"]+"/task", &task)
	if task["TaskARN"] != mt.arn {
		t.Fatalf("after a restart the endpoint answers %v", task)
	}
	if resp, err := http.Get("http://" + mt.addr + "/v4/" + mt.meta.ContainerIDs["app"]); err == nil {
		resp.Body.Close()
		t.Fatal("the endpoint of before the restart still answers")
	}
	ctx := context.Background()
	sc := ecsapi.Scope{Region: "eu-west-1"}
	if _, err := svc.StopTask(ctx, sc, &ecstypes.StopTaskRequest{Task: &mt.arn}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if m, _ := svc.Metadata(mt.arn); m.Task.LastStatus != nil && *m.Task.LastStatus == "STOPPED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the task never stopped")
		}
	}
	if resp, err := http.Get("http://" + addr + "/v4/" + mt.meta.ContainerIDs["app"]); err == nil {
		resp.Body.Close()
		t.Fatal("a STOPPED task's endpoint still answers")
	}
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func dashes(ip string) string {
	out := []byte(ip)
	for i := range out {
		if out[i] == '.' {
			out[i] = '-'
		}
	}
	return string(out)
}
