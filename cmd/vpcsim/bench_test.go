package main

// The benchmarks of `make bench`: figures, never pass/fail. Each runs a real
// `vpcsim serve` (startServer), does its setup once and its samples in a
// b.Loop, so that -benchtime 20x means 20 samples and the setup runs once.
// bench_api_test.go: Describe calls against vpcsim and moto_server side by
// side; bench_tasks_test.go: RunTask/StopTask latency as tasks accumulate, and
// memory; bench_net_test.go: TCP between two tasks in awsvpc and bridge mode.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// reportPercentiles reports the given percentiles of samples as metrics
// named prefix+"p50-ms" and so on.
func reportPercentiles(b *testing.B, prefix string, samples []time.Duration, ps ...int) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	for _, p := range ps {
		at := samples[(p*(len(samples)-1)+50)/100]
		b.ReportMetric(float64(at.Microseconds())/1000, fmt.Sprintf("%sp%d-ms", prefix, p))
	}
}

// BenchmarkENICreateAttach measures CreateNetworkInterface + AttachNetworkInterface
// (a veth made, moved into a running instance as eth1 with its address) and the
// detach and delete that undo it.
func BenchmarkENICreateAttach(b *testing.B) {
	lab := newECSLab(b, benchServer(b), "", "10.9.0.0/16", "10.9.0.0/24", ec2types.InstanceTypeM5Large, 1)
	ctx, ec, sub, inst := context.Background(), lab.ec, &lab.subnet, lab.instances[0].InstanceId
	var attach, detach []time.Duration
	for b.Loop() {
		start := time.Now()
		eni, err := ec.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub})
		if err != nil {
			b.Fatal(err)
		}
		att, err := ec.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, InstanceId: inst, DeviceIndex: aws.Int32(1)})
		if err != nil {
			b.Fatal(err)
		}
		attach = append(attach, time.Since(start))
		start = time.Now()
		if _, err := ec.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId}); err != nil {
			b.Fatal(err)
		}
		if _, err := ec.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId}); err != nil {
			b.Fatal(err)
		}
		detach = append(detach, time.Since(start))
	}
	reportPercentiles(b, "create+attach-", attach, 50, 95)
	reportPercentiles(b, "detach+delete-", detach, 50, 95)
}

// ecsLab is a VPC with one subnet, and a cluster of instances in it.
type ecsLab struct {
	ec                 *ec2.Client
	es                 *ecs.Client
	cluster, subnet    string
	instances          []ec2types.Instance
	containerInstances []string // their ARNs
}

// newECSLab makes, in s, a VPC (vpcCIDR) with one subnet (subnetCIDR), and n
// running instances of typ in it that have registered in the ECS cluster
// (none when cluster is "").
func newECSLab(b *testing.B, s *server, cluster, vpcCIDR, subnetCIDR string, typ ec2types.InstanceType, n int32) *ecsLab {
	b.Helper()
	ctx := context.Background()
	cfg := sdkConfig(s, "us-west-2")
	lab := &ecsLab{ec: ec2.NewFromConfig(cfg), es: ecs.NewFromConfig(cfg), cluster: cluster}
	vpc, err := lab.ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: &vpcCIDR})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := lab.ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: &subnetCIDR, AvailabilityZone: aws.String("us-west-2a")})
	if err != nil {
		b.Fatal(err)
	}
	lab.subnet = aws.ToString(sub.Subnet.SubnetId)
	if cluster == "" {
		lab.instances = launchN(b, lab.ec, &lab.subnet, typ, n, nil)
		return lab
	}
	if _, err := lab.es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: &cluster}); err != nil {
		b.Fatal(err)
	}
	ud := base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=" + cluster))
	lab.instances = launchN(b, lab.ec, &lab.subnet, typ, n, &ud)
	lab.containerInstances = waitContainerInstances(b, lab.es, cluster, int(n))
	return lab
}

// launchN runs count instances of typ in subnet and waits until they run.
func launchN(b *testing.B, ec *ec2.Client, subnet *string, typ ec2types.InstanceType, count int32, userData *string) []ec2types.Instance {
	b.Helper()
	ctx := context.Background()
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: typ,
		MinCount: &count, MaxCount: &count, SubnetId: subnet, UserData: userData})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, i := range run.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	w := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	return run.Instances
}

// waitTasks polls DescribeTasks until every task of arns has lastStatus
// status, and fails the benchmark after timeout.
func waitTasks(b *testing.B, es *ecs.Client, cluster string, arns []string, status string, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for len(arns) > 0 {
		var pending []string
		for chunk := range slices.Chunk(arns, 100) {
			d, err := es.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: &cluster, Tasks: chunk})
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range d.Tasks {
				if aws.ToString(t.LastStatus) != status {
					pending = append(pending, aws.ToString(t.TaskArn))
				}
			}
			for _, f := range d.Failures {
				b.Fatalf("task %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
			}
		}
		if arns = pending; len(arns) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d tasks never reached %s in %s, e.g. %s", len(arns), status, timeout, arns[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchServer is a server for a benchmark, which needs what end-to-end tests need.
func benchServer(b *testing.B) *server {
	requireE2E(b)
	return startServer(b, ownContainerd()) // as users run it, and measured
}

// footprint is the memory (MiB, proportional set size: each shared page
// divided among the processes that map it, so that the sums of the 200 shims
// and tasks do not count their common binaries and libraries 200 times) of a
// server: vpcsim itself, its containerd, the containerd shims (one per
// container) and the tasks' processes (everything the shims started).
type footprint struct{ vpcsim, containerd, shims, tasks float64 }

func (s *server) footprint(b *testing.B) footprint {
	b.Helper()
	procs, err := processes()
	if err != nil {
		b.Fatal(err)
	}
	var f footprint
	f.vpcsim = procs[s.cmd.Process.Pid].pssMiB
	if raw, err := os.ReadFile(filepath.Join(s.dataDir, "containerd", "containerd.pid")); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		f.containerd = procs[pid].pssMiB
	}
	sock := []byte(filepath.Join(s.dataDir, "containerd", "containerd.sock"))
	shims := map[int]bool{}
	for pid, p := range procs {
		if strings.HasPrefix(p.comm, "containerd-shim") && bytes.Contains(p.cmdline, sock) {
			shims[pid] = true
			f.shims += p.pssMiB
		}
	}
	for pid, p := range procs {
		for up := p.ppid; up > 1; up = procs[up].ppid {
			if shims[up] {
				f.tasks += procs[pid].pssMiB
				break
			}
		}
	}
	return f
}

func (f footprint) report(b *testing.B) {
	b.ReportMetric(f.vpcsim, "vpcsim-MiB")
	b.ReportMetric(f.containerd, "containerd-MiB")
	b.ReportMetric(f.shims, "shims-MiB")
	b.ReportMetric(f.tasks, "tasks-MiB")
}

type process struct {
	ppid    int
	comm    string
	cmdline []byte
	pssMiB  float64
}

// processes reads every process's parent, name, command line and PSS from /proc.
func processes() (map[int]process, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[int]process{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue // gone meanwhile
		}
		var p process
		for line := range strings.Lines(string(status)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			f := strings.Fields(v)
			switch {
			case len(f) == 0:
			case k == "Name":
				p.comm = f[0]
			case k == "PPid":
				p.ppid, _ = strconv.Atoi(f[0])
			}
		}
		if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
			for line := range strings.Lines(string(rollup)) {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
					kb, _ := strconv.ParseFloat(f[1], 64)
					p.pssMiB = kb / 1024
				}
			}
		}
		p.cmdline, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out[pid] = p
	}
	return out, nil
}
