package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The API benchmark's data set, made the same way in vpcsim and in moto: one
// VPC, apiSubnets subnets, apiENIs ENIs spread over them, one instance
// registered as a container instance, apiTasks bridge-mode tasks on it (moto's
// RunTask cannot place awsvpc tasks).
const (
	apiSubnets = 20
	apiENIs    = 50
	apiTasks   = 10
	apiWorkers = 4  // concurrent clients
	apiBatch   = 25 // requests each client makes per b.Loop iteration
)

// BenchmarkAPI measures DescribeSubnets, DescribeNetworkInterfaces (both
// filtered by the VPC) and DescribeTasks (the apiTasks tasks) against vpcsim
// and, in the same run, moto_server (when it is installed): requests per
// second and p50/p99 latency of apiWorkers aws-sdk-go-v2 clients on loopback,
// each iteration apiWorkers×apiBatch requests, no retries.
func BenchmarkAPI(b *testing.B) {
	s := benchServer(b)
	targets := []*apiTarget{{name: "vpcsim", endpoint: s.endpoint}}
	moto, err := startMoto(b)
	if err != nil {
		b.Logf("moto_server: %v; the moto rows are skipped", err)
	} else {
		targets = append(targets, &apiTarget{name: "moto", endpoint: moto})
	}
	for _, t := range targets {
		t.setUp(b)
	}
	for _, call := range []string{"DescribeSubnets", "DescribeNetworkInterfaces", "DescribeTasks"} {
		for _, t := range []string{"vpcsim", "moto"} {
			b.Run(call+"/"+t, func(b *testing.B) {
				i := 0
				for i < len(targets) && targets[i].name != t {
					i++
				}
				if i == len(targets) {
					b.Skip("moto_server is not installed (pip install 'moto[server]')")
				}
				targets[i].measure(b, call)
			})
		}
	}
}

// apiTarget is one server and the data set made in it.
type apiTarget struct {
	name, endpoint string
	ec             *ec2.Client
	es             *ecs.Client
	vpc            string
	tasks          []string
	retried        atomic.Int64
}

func (t *apiTarget) setUp(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(t.endpoint)}
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	// The measured calls are made once each, by clients that do not retry.
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	t.ec, t.es = ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	must := func(err error) {
		if err != nil {
			b.Fatalf("%s: %v", t.name, err)
		}
	}
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.30.0.0/16")})
	must(err)
	t.vpc = aws.ToString(vpc.Vpc.VpcId)
	var subnets []string
	for i := range apiSubnets {
		sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &t.vpc, CidrBlock: aws.String(fmt.Sprintf("10.30.%d.0/24", i)), AvailabilityZone: aws.String("us-west-2a")})
		must(err)
		subnets = append(subnets, aws.ToString(sub.Subnet.SubnetId))
	}
	for i := range apiENIs {
		_, err := ec.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subnets[i%apiSubnets], Description: aws.String(fmt.Sprintf("bench %d", i))})
		must(err)
	}
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("api")})
	must(err)
	inst := launchN(b, ec, &subnets[0], ec2types.InstanceTypeM524xlarge, 1, nil)[0]
	doc := fmt.Sprintf(`{"instanceId": %q, "region": "us-west-2", "instanceType": "m5.24xlarge"}`, aws.ToString(inst.InstanceId))
	_, err = es.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("api"), InstanceIdentityDocument: &doc})
	must(err)
	_, err = es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(32), StopTimeout: aws.Int32(2)}}})
	must(err)
	run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("api"), TaskDefinition: aws.String("api"), Count: aws.Int32(apiTasks)},
		func(o *ecs.Options) { o.APIOptions = append(o.APIOptions, readAnswer(taskARNs)) })
	must(err)
	for _, task := range run.Tasks {
		t.tasks = append(t.tasks, aws.ToString(task.TaskArn))
	}
	if len(t.tasks) != apiTasks {
		b.Fatalf("%s placed %d of %d tasks: %+v", t.name, len(t.tasks), apiTasks, run.Failures)
	}
	if t.name == "vpcsim" { // real containers; moto's tasks have no process to wait for
		b.Cleanup(func() { stopTasks(b, es, "api", t.tasks) })
		waitTasks(b, es, "api", t.tasks, "RUNNING", time.Minute)
	}
	// The same answers from both, or the comparison is not fair.
	subs, _ := ec.DescribeSubnets(ctx, t.describeSubnets())
	enis, _ := ec.DescribeNetworkInterfaces(ctx, t.describeENIs())
	if subs == nil || enis == nil || len(subs.Subnets) != apiSubnets || len(enis.NetworkInterfaces) != apiENIs+1 {
		b.Fatalf("%s answers a data set of another size: %+v %+v", t.name, subs, enis)
	}
}

func (t *apiTarget) describeSubnets() *ec2.DescribeSubnetsInput {
	return &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{t.vpc}}}}
}

func (t *apiTarget) describeENIs() *ec2.DescribeNetworkInterfacesInput {
	return &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{t.vpc}}}}
}

// request makes one call of the benchmark. A call whose answer is cut by the
// client's own transport closing the connection (aws-sdk-go-v2's known race,
// aws/aws-sdk-go-v2#2737, whatever the server: the SDK's retryer retries it)
// is made again at once, and counted.
func (t *apiTarget) request(ctx context.Context, call string) error {
	for {
		err := t.requestOnce(ctx, call)
		if !errors.Is(err, net.ErrClosed) {
			return err
		}
		t.retried.Add(1)
	}
}

func (t *apiTarget) requestOnce(ctx context.Context, call string) error {
	var n int
	var err error
	switch call {
	case "DescribeSubnets":
		_, err = t.ec.DescribeSubnets(ctx, t.describeSubnets(), func(o *ec2.Options) {
			o.APIOptions = append(o.APIOptions, readAnswer(counting(&ec2.DescribeSubnetsOutput{}, "<subnetId>", &n)))
		})
		if err == nil && n != apiSubnets {
			err = fmt.Errorf("%d subnets described, want %d", n, apiSubnets)
		}
	case "DescribeNetworkInterfaces":
		_, err = t.ec.DescribeNetworkInterfaces(ctx, t.describeENIs(), func(o *ec2.Options) {
			o.APIOptions = append(o.APIOptions, readAnswer(counting(&ec2.DescribeNetworkInterfacesOutput{}, "<networkInterfaceId>", &n)))
		})
		if err == nil && n != apiENIs+1 {
			err = fmt.Errorf("%d ENIs described, want %d", n, apiENIs+1)
		}
	case "DescribeTasks":
		_, err = t.es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("api"), Tasks: t.tasks}, func(o *ecs.Options) {
			o.APIOptions = append(o.APIOptions, readAnswer(counting(&ecs.DescribeTasksOutput{}, `"taskDefinitionArn"`, &n)))
		})
		if err == nil && n != apiTasks {
			err = fmt.Errorf("%d tasks described, want %d", n, apiTasks)
		}
	}
	return err
}

// readAnswer replaces the decoder of a call, for both servers, by one that
// reads the whole answer, checks its status and hands it to decode, which
// makes the call's result. The figures are so the servers', not the SDK's
// decoding (the client shares the machine's two cores); and the ECS calls can
// be made at all: moto 5.2.1 answers the containers' cpu and memory as JSON
// numbers where the API has strings, which aws-sdk-go-v2 refuses to decode.
func readAnswer(decode func(body []byte) (any, error)) func(*middleware.Stack) error {
	read := func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		if err != nil {
			return out, md, err
		}
		resp := out.RawResponse.(*smithyhttp.Response)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
		}
		if err == nil {
			out.Result, err = decode(body)
		}
		return out, md, err
	}
	return func(stack *middleware.Stack) error {
		_, err := stack.Deserialize.Swap("OperationDeserializer", middleware.DeserializeMiddlewareFunc("OperationDeserializer", read))
		return err
	}
}

// counting is a decode of readAnswer: it counts the occurrences of item in
// the answer into n, and answers result.
func counting(result any, item string, n *int) func([]byte) (any, error) {
	return func(body []byte) (any, error) {
		*n = bytes.Count(body, []byte(item))
		return result, nil
	}
}

// taskARNs is a decode of readAnswer for RunTask: the tasks with their ARNs alone.
func taskARNs(body []byte) (any, error) {
	var doc struct{ Tasks []struct{ TaskArn *string } }
	err := json.Unmarshal(body, &doc)
	out := &ecs.RunTaskOutput{}
	for _, t := range doc.Tasks {
		out.Tasks = append(out.Tasks, ecstypes.Task{TaskArn: t.TaskArn})
	}
	return out, err
}

// measure drives call from apiWorkers clients at once.
func (t *apiTarget) measure(b *testing.B, call string) {
	ctx := context.Background()
	batch := func(n int) []time.Duration {
		var mu sync.Mutex
		var lat []time.Duration
		var errs []error
		var wg sync.WaitGroup
		for range apiWorkers {
			wg.Go(func() {
				for range n {
					start := time.Now()
					err := t.request(ctx, call)
					d := time.Since(start)
					mu.Lock()
					lat, errs = append(lat, d), append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatalf("%s %s: %v", t.name, call, err)
		}
		return lat
	}
	batch(5) // connections made, caches warm
	var lat []time.Duration
	for b.Loop() {
		lat = append(lat, batch(apiBatch)...)
	}
	if n := t.retried.Swap(0); n > 0 {
		b.Logf("%d of %d requests made again after the client closed their connection", n, len(lat))
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
	reportPercentiles(b, "", lat, 50, 99)
}

// startMoto starts moto_server on a free loopback port and returns its
// endpoint; the benchmark's cleanup stops it.
func startMoto(b *testing.B) (string, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		home, _ := os.UserHomeDir()
		if bin = filepath.Join(home, ".pyenv", "shims", "moto_server"); !executable(bin) {
			return "", err
		}
	}
	addr := freePort(b)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	log, err := os.Create(filepath.Join(b.TempDir(), "moto.log"))
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	b.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		log.Close()
	})
	for range 300 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not listen on %s", bin, addr)
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}
