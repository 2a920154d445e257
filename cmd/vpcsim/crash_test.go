package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vpcsim/vpcsim/vpcsim/fault"
)

var (
	faultOnce sync.Once
	faultBin  string
	faultErr  error
)

// faultBinary builds vpcsim with -tags faultinject, once: the only build
// whose VPCSIM_FAULT kills it at a fault point. It is also built with the race
// detector (which needs cgo; the harness fails a test whose server log shows
// a race), so the crash and load tests run the server under it. Tasks of
// these tests do not use initProcessEnabled, for which vpcsim must be static.
func faultBinary(t *testing.T) string {
	t.Helper()
	faultOnce.Do(func() {
		faultBin = filepath.Join(filepath.Dir(binary), "vpcsim-fault")
		build := exec.Command("go", "build", "-race", "-tags", "faultinject", "-o", faultBin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := build.CombinedOutput(); err != nil {
			faultErr = fmt.Errorf("build vpcsim with -tags faultinject: %v %s", err, out)
		}
	})
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	return faultBin
}

// crashStep is an operation that passes the fault point.
type crashStep struct {
	point string
	op    func()
}

// crashAt restarts the server so that it kills itself at point, runs op, and
// waits for the kill; then it starts the server again as a user would after a
// crash.
func (s *server) crashAt(t *testing.T, point string, op func()) {
	t.Helper()
	s.stop(syscall.SIGTERM)
	s.serveEnv = []string{"VPCSIM_FAULT=" + point}
	s.start()
	cmd := s.cmd
	op()
	select {
	case <-s.exited:
	case <-time.After(patience):
		t.Fatalf("vpcsim never reached fault point %s:\n%s", point, tail(s.logText(), 3000))
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("at %s vpcsim ended with %v, not by its fault point's SIGKILL:\n%s", point, cmd.ProcessState, tail(s.logText(), 3000))
	}
	s.cmd = nil
	s.log.Close()
	s.serveEnv = nil
	s.start()
}

// TestCrashSafety kills vpcsim with SIGKILL at every fault point of
// CreateSubnet, AttachNetworkInterface, every EC2 commit, RunTask and StopTask
// (vpcsim/fault), restarts it each time, and checks that the API and the
// kernel and containerd agree (checkAgree): half-made namespaces, links,
// nftables entries and containers are gone or finished, no address is lost or
// handed out twice, and the tasks that were running are adopted again and
// still answer at their addresses.
func TestCrashSafety(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	s.bin = faultBinary(t)
	ctx := testContext(t)
	ew := newEchoWorld(t, ctx, s, "10.7.0.0/16", "10.7.1.0/24", "crash", ec2types.InstanceTypeM524xlarge, 1) // 14 task ENIs
	ec, es, vpcID, subnet := ew.ec, ew.es, ew.vpcID, ew.subnet
	// The calls a crash cuts off: not retried into the next server, and
	// their errors are expected.
	once := sdkConfig(s, "us-west-2")
	once.RetryMaxAttempts = 1
	ec1, es1 := ec2.NewFromConfig(once), ecs.NewFromConfig(once)
	runTask := func() {
		var placement placementError
		if _, err := ew.runEcho(ctx, es1); errors.As(err, &placement) {
			t.Fatal(err)
		}
	}
	if _, err := ew.runEcho(ctx, es); err != nil { // one that runs through every crash
		t.Fatal(err)
	}
	w := settle(t, ctx, ec, es)
	checkAgree(t, s, w)

	// stopOne stops a running task, the oldest.
	stopOne := func() {
		for _, task := range w.tasks {
			if aws.ToString(task.LastStatus) == "RUNNING" {
				es1.StopTask(ctx, &ecs.StopTaskInput{Cluster: &ew.cluster, Task: task.TaskArn})
				return
			}
		}
		t.Fatal("no running task to stop")
	}
	steps := []crashStep{
		{fault.SubnetBridgeMade, func() {
			ec1.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.7.2.0/24"), AvailabilityZone: aws.String("us-west-2a")})
		}},
		{fault.FirewallBeforeStore, func() {
			ec1.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subnet})
		}},
		{fault.ENIAttachMoved, func() {
			e, err := ec.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subnet})
			if err != nil {
				t.Fatal(err)
			}
			ec1.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: e.NetworkInterface.NetworkInterfaceId,
				InstanceId: ew.client.InstanceId, DeviceIndex: aws.Int32(1)})
		}},
		{fault.TaskENICreated, runTask},
		{fault.TaskENIAttached, runTask},
		{fault.ContainerCreated, runTask},
		{fault.TaskStarted, runTask},
		{fault.TaskContainersStopped, stopOne},
		{fault.TaskENIDeleted, stopOne},
	}
	for _, p := range fault.Points { // a new point must get a step here
		if !slices.ContainsFunc(steps, func(s crashStep) bool { return s.point == p }) {
			t.Errorf("fault point %s has no step in this test", p)
		}
	}
	for _, step := range steps {
		t.Logf("SIGKILL at %s", step.point)
		s.crashAt(t, step.point, step.op)
		w = settle(t, ctx, ec, es)
		checkAgree(t, s, w)
		answers(t, s, w, ew.client)
		if t.Failed() {
			t.Fatalf("after the crash at %s, the API and the machine disagree (above); server log:\n%s", step.point, tail(s.logText(), 4000))
		}
	}
}
