package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcsim/vpcsim/hostnet"
)

// TestShutdown: SIGTERM leaves tasks running, as an ECS agent restart does, and
// the next server adopts them; with --stop-tasks-on-exit, SIGTERM stops them
// and leaves nothing of theirs; `vpcsim down` then removes everything else,
// down to the last process and mount.
func TestShutdown(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t, ownContainerd()) // `vpcsim down` stops it
	ctx := testContext(t)
	ew := newEchoWorld(t, ctx, s, "10.8.0.0/16", "10.8.1.0/24", "down", ec2types.InstanceTypeM5Xlarge, 1)
	ec, es, client := ew.ec, ew.es, ew.client
	runOne := func() string {
		t.Helper()
		arn, err := ew.runEcho(ctx, es)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	arn := runOne()
	w := settle(t, ctx, ec, es)
	ip := taskIPIn(t, ctx, es, "down", arn)

	// SIGTERM: the server ends cleanly and the task goes on answering.
	s.stopCleanly(t)
	if out := s.fetch(t, client, "http://"+ip+"/"); !strings.Contains(out, ip) {
		t.Fatalf("after SIGTERM the task does not answer: %q", out)
	}
	s.start()
	w = settle(t, ctx, ec, es)
	checkAgree(t, s, w)
	answers(t, s, w, client)
	if got := describeOne(t, ctx, es, "down", arn); aws.ToString(got.LastStatus) != "RUNNING" {
		t.Fatalf("after a restart the task is %s", aws.ToString(got.LastStatus))
	}

	// --stop-tasks-on-exit: SIGTERM stops it, namespace, ENI and containers.
	s.stopCleanly(t)
	s.serveEnv = []string{"VPCSIM_STOP_TASKS_ON_EXIT=1"}
	s.start()
	s.stopCleanly(t)
	s.serveEnv = nil
	taskNS := filepath.Join("/run/netns", s.prefix+"task-"+arn[strings.LastIndexByte(arn, '/')+1:])
	if _, err := os.Stat(taskNS); err == nil {
		t.Errorf("--stop-tasks-on-exit left the task's namespace %s", taskNS)
	}
	s.start()
	got := describeOne(t, ctx, es, "down", arn)
	if aws.ToString(got.LastStatus) != "STOPPED" || got.StopCode != ecstypes.TaskStopCodeUserInitiated || !strings.Contains(aws.ToString(got.StoppedReason), "--stop-tasks-on-exit") {
		t.Fatalf("after --stop-tasks-on-exit the task is %s (%s: %q)", aws.ToString(got.LastStatus), got.StopCode, aws.ToString(got.StoppedReason))
	}
	w = settle(t, ctx, ec, es)
	checkAgree(t, s, w)

	// `vpcsim down` after a plain SIGTERM, with a task still running in it:
	// no namespace, link, table, container process or mount remains.
	runOne()
	settle(t, ctx, ec, es)
	s.stopCleanly(t)
	if out, err := s.vpcsim("down", "--data-dir", s.dataDir); err != nil {
		t.Fatalf("vpcsim down: %v %s", err, out)
	}
	if left, err := hostnet.LeftoversWithPrefix(s.prefix); err != nil || len(left) > 0 {
		t.Errorf("after vpcsim down: %v %v", left, err)
	}
	if left := usingDir(t, s.dataDir); len(left) > 0 {
		t.Errorf("after vpcsim down, still using %s: %v", s.dataDir, left)
	}
}

// stopCleanly sends SIGTERM and checks that the server exits 0.
func (s *server) stopCleanly(t *testing.T) {
	t.Helper()
	cmd := s.cmd
	s.stop(syscall.SIGTERM)
	if !cmd.ProcessState.Success() {
		t.Fatalf("vpcsim serve ended with %v on SIGTERM:\n%s", cmd.ProcessState, tail(s.logText(), 3000))
	}
}

func describeOne(t *testing.T, ctx context.Context, es *ecs.Client, cluster, arn string) ecstypes.Task {
	t.Helper()
	got, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &cluster, Tasks: []string{arn}})
	if err != nil || len(got.Tasks) != 1 {
		t.Fatalf("describe %s: %v %+v", arn, err, got)
	}
	return got.Tasks[0]
}

func taskIPIn(t *testing.T, ctx context.Context, es *ecs.Client, cluster, arn string) string {
	t.Helper()
	task := describeOne(t, ctx, es, cluster, arn)
	if len(task.Containers) == 0 || len(task.Containers[0].NetworkInterfaces) == 0 {
		t.Fatalf("task %s has no address: %+v", arn, task)
	}
	return aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
}
