package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestTaskContainers runs real containers of the echo image (testdata/images/echo)
// and asks them, from another instance of the VPC, what they see: two awsvpc
// copies on one instance answer on port 80 each at its own IP with its own
// environment, the metadata endpoint answers inside a container with the ENI's
// facts, an essential container's exit stops its task with its exit code, the
// init of initProcessEnabled passes StopTask's SIGTERM on, and a bridge task
// answers at the instance's address on its static and dynamic host ports.
// The endpoint's /task/stats reports the container's real figures. Nothing is
// left in containerd or the kernel afterwards.
func TestTaskContainers(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)

	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.6.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.6.1.0/24"), AvailabilityZone: aws.String("us-west-2a")})
	if err != nil {
		t.Fatal(err)
	}
	subnet := aws.ToString(sub.Subnet.SubnetId)
	if _, err := es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ctr")}); err != nil {
		t.Fatal(err)
	}
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=ctr >> /etc/ecs/ecs.config\n"))
	host := launch(t, ctx, ec, subnet, ec2types.InstanceTypeM5Xlarge, &ud)
	client := launch(t, ctx, ec, subnet, ec2types.InstanceTypeT3Micro, nil)

	awsvpc := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}}}
	// The environment file is an object of the machine's S3, as a task
	// definition written for AWS names it.
	envFile := filepath.Join(s.dataDir, "s3", "echo-config", "echo.env")
	if err := os.MkdirAll(filepath.Dir(envFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envFile, []byte("# from a file\nFROMFILE=yes\nFOO=overridden-by-environment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	register(t, ctx, es, "echo", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(64), StopTimeout: aws.Int32(2),
		Environment:      []ecstypes.KeyValuePair{{Name: aws.String("FOO"), Value: aws.String("bar")}},
		EnvironmentFiles: []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::echo-config/echo.env")}},
		PortMappings:     []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}},
		// vpcsim's init as PID 1: the Go server, its child, dies of StopTask's SIGTERM.
		LinuxParameters: &ecstypes.LinuxParameters{InitProcessEnabled: aws.Bool(true)},
	})
	var tasks []string
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); { // until the container instance has registered
		run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ctr"), TaskDefinition: aws.String("echo"), Count: aws.Int32(2), NetworkConfiguration: awsvpc})
		if err == nil && len(run.Tasks) == 2 {
			tasks = []string{aws.ToString(run.Tasks[0].TaskArn), aws.ToString(run.Tasks[1].TaskArn)}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if tasks == nil {
		t.Fatal("the echo tasks were never placed")
	}
	running := ecs.NewTasksRunningWaiter(es, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := running.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: tasks}, 2*time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, tail(s.logText(), 30))
	}
	desc, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := aws.ToString(desc.Tasks[0].ContainerInstanceArn), aws.ToString(desc.Tasks[1].ContainerInstanceArn); a != b {
		t.Fatalf("the copies landed on two instances: %s %s", a, b)
	}
	for _, task := range desc.Tasks {
		ip := aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
		page := s.fetch(t, client, "http://"+ip+"/")
		for _, want := range []string{"addr " + ip + "/24", "env FOO=bar", "env FROMFILE=yes", "env ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/"} {
			if !strings.Contains(page, want) {
				t.Fatalf("task at %s answered without %q:\n%s", ip, want, page)
			}
		}
		var meta struct {
			TaskARN    string
			Containers []struct {
				Networks []struct {
					IPv4Addresses       []string
					IPv4SubnetCIDRBlock string
				}
			}
		}
		if err := json.Unmarshal([]byte(s.fetch(t, client, "http://"+ip+"/metadata?path=/task")), &meta); err != nil {
			t.Fatal(err)
		}
		if meta.TaskARN != aws.ToString(task.TaskArn) || meta.Containers[0].Networks[0].IPv4Addresses[0] != ip || meta.Containers[0].Networks[0].IPv4SubnetCIDRBlock != "10.6.1.0/24" {
			t.Fatalf("the metadata endpoint, seen from inside the container: %+v", meta)
		}
		checkTaskStats(t, s.fetch(t, client, "http://"+ip+"/metadata?path=/task/stats"), aws.ToString(task.Containers[0].RuntimeId))
	}

	// An essential container that exits stops its task with its exit code.
	register(t, ctx, es, "quitter", ecstypes.NetworkModeAwsvpc, ecstypes.ContainerDefinition{
		Name: aws.String("quit"), Image: aws.String("busybox"), Memory: aws.Int32(32),
		Command: []string{"/bin/sh", "-c", "echo bye; exit 3"},
	})
	run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ctr"), TaskDefinition: aws.String("quitter"), NetworkConfiguration: awsvpc})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("quitter: %v %+v", err, run)
	}
	quitter := aws.ToString(run.Tasks[0].TaskArn)
	stopped := ecs.NewTasksStoppedWaiter(es, func(o *ecs.TasksStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: []string{quitter}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	q, _ := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: []string{quitter}})
	if c := q.Tasks[0].Containers[0]; aws.ToInt32(c.ExitCode) != 3 || q.Tasks[0].StopCode != ecstypes.TaskStopCodeEssentialContainerExited ||
		aws.ToString(q.Tasks[0].StoppedReason) != "Essential container in task exited" {
		t.Fatalf("after the essential container exited 3: %+v %s %s", c, q.Tasks[0].StopCode, aws.ToString(q.Tasks[0].StoppedReason))
	}
	if out, err := s.vpcsim("logs", "--data-dir", s.dataDir, quitter); err != nil || !strings.Contains(string(out), "bye") {
		t.Fatalf("vpcsim logs: %v %s", err, out)
	}

	// Bridge mode: the instance's address, a static and a dynamic host port.
	register(t, ctx, es, "bridged", ecstypes.NetworkModeBridge, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(64), StopTimeout: aws.Int32(2),
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}},
	})
	register(t, ctx, es, "dynamic", ecstypes.NetworkModeBridge, ecstypes.ContainerDefinition{
		Name: aws.String("echo"), Image: aws.String("vpcsim/echo"), Memory: aws.Int32(64), StopTimeout: aws.Int32(2),
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}},
	})
	var bridged []string
	ports := map[string]int32{}
	for _, family := range []string{"bridged", "dynamic"} {
		run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ctr"), TaskDefinition: aws.String(family)})
		if err != nil || len(run.Tasks) != 1 {
			t.Fatalf("%s: %v %+v", family, err, run)
		}
		arn := aws.ToString(run.Tasks[0].TaskArn)
		bridged = append(bridged, arn)
		ports[arn] = aws.ToInt32(run.Tasks[0].Containers[0].NetworkBindings[0].HostPort)
	}
	if err := running.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: bridged}, time.Minute); err != nil {
		t.Fatal(err)
	}
	hostIP := aws.ToString(host.PrivateIpAddress)
	for _, arn := range bridged {
		page := s.fetch(t, client, "http://"+hostIP+":"+strconv.Itoa(int(ports[arn]))+"/")
		if !strings.Contains(page, "addr 172.17.0.") {
			t.Fatalf("the bridge task behind %s:%d answered:\n%s", hostIP, ports[arn], page)
		}
	}

	for _, arn := range append(tasks, bridged...) {
		if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("ctr"), Task: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: append(tasks, bridged...)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ended, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("ctr"), Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range ended.Tasks {
		if code := aws.ToInt32(task.Containers[0].ExitCode); code != 143 {
			t.Errorf("the echo server under vpcsim's init exited %d on StopTask, want 143 (SIGTERM)", code)
		}
	}
	rt := s.runtime(ctx)
	defer rt.Close()
	if left, err := rt.Running(ctx); err != nil || len(left) != 0 {
		t.Fatalf("containers left after every task stopped: %v %v", err, left)
	}
	for _, arn := range append(append(tasks, bridged...), quitter) {
		if out, err := s.vpcsim("exec", arn, "--", "true"); err == nil {
			t.Fatalf("the namespace of stopped task %s remains: %s", arn, out)
		}
	}
}

// checkTaskStats checks a /task/stats document for the real figures of the
// container with runtime ID id: its cgroup's CPU and memory, its task's eth0
// (which has carried the test's requests), in Docker's stats shape.
func checkTaskStats(t *testing.T, doc, id string) {
	t.Helper()
	var stats map[string]struct {
		ID       string `json:"id"`
		CPUStats struct {
			CPUUsage struct {
				TotalUsage uint64 `json:"total_usage"`
			} `json:"cpu_usage"`
			SystemUsage uint64 `json:"system_cpu_usage"`
		} `json:"cpu_stats"`
		MemoryStats struct {
			Usage uint64 `json:"usage"`
			Limit uint64 `json:"limit"`
		} `json:"memory_stats"`
		PidsStats struct {
			Current uint64 `json:"current"`
		} `json:"pids_stats"`
		Networks map[string]struct {
			RxBytes uint64 `json:"rx_bytes"`
			TxBytes uint64 `json:"tx_bytes"`
		} `json:"networks"`
		NetworkRateStats *struct{} `json:"network_rate_stats"`
	}
	if err := json.Unmarshal([]byte(doc), &stats); err != nil {
		t.Fatalf("/task/stats: %v\n%s", err, doc)
	}
	st, ok := stats[id]
	if !ok || st.ID != id {
		t.Fatalf("/task/stats has no reading of %s:\n%s", id, doc)
	}
	eth0 := st.Networks["eth0"]
	_, lo := st.Networks["lo"] // loopback is left out, as the agent leaves it
	if lo || st.CPUStats.CPUUsage.TotalUsage == 0 || st.CPUStats.SystemUsage == 0 || st.MemoryStats.Usage == 0 ||
		st.MemoryStats.Limit != 64<<20 || st.PidsStats.Current == 0 || eth0.RxBytes == 0 || eth0.TxBytes == 0 || st.NetworkRateStats == nil {
		t.Fatalf("/task/stats of %s, seen from inside the container:\n%s", id, doc)
	}
}

func launch(t *testing.T, ctx context.Context, ec *ec2.Client, subnet string, typ ec2types.InstanceType, userData *string) ec2types.Instance {
	t.Helper()
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: typ,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &subnet, UserData: userData})
	if err != nil {
		t.Fatal(err)
	}
	w := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(run.Instances[0].InstanceId)}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return run.Instances[0]
}

func register(t *testing.T, ctx context.Context, es *ecs.Client, family string, mode ecstypes.NetworkMode, def ecstypes.ContainerDefinition) {
	t.Helper()
	if _, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: &family, NetworkMode: mode, ContainerDefinitions: []ecstypes.ContainerDefinition{def}}); err != nil {
		t.Fatal(err)
	}
}

// fetch GETs url from inside an instance (curl in its namespace): traffic that
// stays in the VPC's namespaces. The URL must answer: a try that fails (a
// SYN lost while ARP resolves on a busy machine) is tried again, within
// patience.
func (s *server) fetch(t *testing.T, from ec2types.Instance, url string) string {
	t.Helper()
	return s.fetchIn(t, aws.ToString(from.InstanceId), url)
}

// fetchIn is fetch from the namespace of an instance or task, by its ID or
// ARN.
func (s *server) fetchIn(t *testing.T, from, url string) string {
	t.Helper()
	out, err := s.tryFetch(from, url, func(string) bool { return true })
	if err != nil {
		t.Fatalf("curl %s from %s: %v %s", url, from, err, out)
	}
	return out
}

// tryFetch GETs url from inside an instance or task until the answer is ok,
// or patience runs out, and returns the last answer.
func (s *server) tryFetch(from, url string, ok func(string) bool) (string, error) {
	for deadline := time.Now().Add(patience); ; {
		out, err := s.vpcsim("exec", from, "--", "curl", "-s", "-f", "-m", "5", url)
		if err == nil && ok(string(out)) || time.Now().After(deadline) {
			return string(out), err
		}
	}
}
