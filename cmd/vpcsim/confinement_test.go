package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sys/unix"
)

// TestContainersConfined registers a task definition and runs it as a user
// would, then looks at its containers from this machine, as the kernel sees
// them: Docker's seccomp profile (mode 2) unless privileged, no_new_privs
// where dockerSecurityOptions ask for it, the task's cgroup with the
// task-level memory and cpu and the operator's pids limit, which holds a
// fork bomb; the cgroup goes with the task. A task that asks for this
// machine's IPC namespace without the operator's leave stops, and says why.
func TestContainersConfined(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t, withServeEnv("VPCSIM_TASK_PIDS_LIMIT=64"))
	ctx := testContext(t)
	w := newEchoWorld(t, ctx, s, "10.7.0.0/16", "10.7.1.0/24", "jail", ec2types.InstanceTypeM5Xlarge, 1)
	es := w.es

	sleeper := func(name string) ecstypes.ContainerDefinition {
		return ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String("busybox"), Essential: aws.Bool(false),
			Command: []string{"sleep", "600"}, StopTimeout: aws.Int32(1)}
	}
	plain, nnp, priv := sleeper("plain"), sleeper("nnp"), sleeper("priv")
	plain.Essential = aws.Bool(true)
	nnp.DockerSecurityOptions = []string{"no-new-privileges"}
	priv.Privileged = aws.Bool(true)
	bomb := sleeper("bomb")
	bomb.Command = []string{"sh", "-c", `(i=0; while [ $i -lt 200 ]; do sleep 600 & i=$((i+1)); done) 2>&1; echo spawned; sleep 600`}
	if _, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("confined"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("512"), Memory: aws.String("256"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{plain, nnp, priv, bomb},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("jail"), TaskDefinition: aws.String("confined"), NetworkConfiguration: w.network()})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	running := ecs.NewTasksRunningWaiter(es, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := running.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("jail"), Tasks: []string{task}}, 2*time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, tail(s.logText(), 30))
	}

	rt := s.runtime(ctx)
	defer rt.Close()
	all, err := rt.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, c := range all[task[strings.LastIndexByte(task, '/')+1:]] {
		pids[c.Name] = int(c.Pid)
	}
	if len(pids) != 4 {
		t.Fatalf("the task's containers: %v", all)
	}
	for name, want := range map[string][2]string{"plain": {"2", "0"}, "nnp": {"2", "1"}, "priv": {"0", "0"}} {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids[name]))
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{procStatus(string(status), "Seccomp"), procStatus(string(status), "NoNewPrivs")}; got != want {
			t.Errorf("container %s: Seccomp %s, NoNewPrivs %s; want %s, %s", name, got[0], got[1], want[0], want[1])
		}
	}

	// Every container sits in the task's cgroup, which holds its limits.
	taskCgroup := ""
	for name, pid := range pids {
		cg := filepath.Dir(cgroupOf(t, pid))
		if taskCgroup == "" {
			taskCgroup = cg
		}
		if cg != taskCgroup || cg == "/" {
			t.Fatalf("container %s is beneath %s, want the task's cgroup (%s)", name, cg, taskCgroup)
		}
	}
	limits := map[string]string{"memory/memory.limit_in_bytes": "268435456", "cpu/cpu.cfs_quota_us": "50000", "pids/pids.max": "64"}
	if unified() {
		limits = map[string]string{"memory.max": "268435456", "cpu.max": "50000 100000", "pids.max": "64"}
	}
	for file, want := range limits {
		if got := cgroupValue(t, taskCgroup, file); got != want {
			t.Errorf("the task cgroup's %s is %q, want %q", file, got, want)
		}
	}
	// The bomb forks 200 processes; the task holds 64 at most.
	for deadline := time.Now().Add(patience); ; time.Sleep(200 * time.Millisecond) {
		out, _ := s.vpcsim("logs", "--data-dir", s.dataDir, task, "bomb")
		if strings.Contains(string(out), "spawned") {
			if !strings.Contains(string(out), "can't fork") {
				t.Errorf("no fork of the bomb was refused:\n%s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bomb did not finish:\n%s", out)
		}
	}
	current := "pids/pids.current"
	if unified() {
		current = "pids.current"
	}
	if n, err := strconv.Atoi(cgroupValue(t, taskCgroup, current)); err != nil || n > 64 || n < 32 {
		t.Errorf("the task holds %d processes (%v), want at most 64 (and most of them)", n, err)
	}

	if _, err := es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("jail"), Task: aws.String(task)}); err != nil {
		t.Fatal(err)
	}
	stopped := ecs.NewTasksStoppedWaiter(es, func(o *ecs.TasksStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("jail"), Tasks: []string{task}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, root := range cgroupRoots() {
		if _, err := os.Stat(filepath.Join(root, taskCgroup)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the task cgroup %s outlives the task: %v", filepath.Join(root, taskCgroup), err)
		}
	}

	// What vpcsim does not apply is not silent: the task stops and says why.
	if _, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("hostipc"), NetworkMode: ecstypes.NetworkModeAwsvpc, Memory: aws.String("64"), IpcMode: ecstypes.IpcModeHost,
		ContainerDefinitions: []ecstypes.ContainerDefinition{plain},
	}); err != nil {
		t.Fatal(err)
	}
	run, err = es.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("jail"), TaskDefinition: aws.String("hostipc"), NetworkConfiguration: w.network()})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("hostipc: %v %+v", err, run)
	}
	hostipc := aws.ToString(run.Tasks[0].TaskArn)
	if err := stopped.Wait(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("jail"), Tasks: []string{hostipc}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("jail"), Tasks: []string{hostipc}})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Tasks[0]; got.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(got.StoppedReason), "--allow-host-namespaces") {
		t.Errorf("a task with ipcMode host stopped with %s %q, want TaskFailedToStart naming --allow-host-namespaces", got.StopCode, aws.ToString(got.StoppedReason))
	}
}

// procStatus is a field of /proc/PID/status.
func procStatus(status, field string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// unified reports whether this machine runs cgroup v2 alone.
func unified() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// cgroupOf is a process's cgroup: its memory controller's on v1, its only
// one on v2.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (!unified() && parts[1] == "memory" || unified() && parts[0] == "0") {
			return parts[2]
		}
	}
	t.Fatalf("no cgroup in %s", b)
	return ""
}

// cgroupValue reads a cgroup file: file is "controller/name" on v1.
func cgroupValue(t *testing.T, cgroup, file string) string {
	t.Helper()
	path := filepath.Join("/sys/fs/cgroup", cgroup, file)
	if ctrl, name, ok := strings.Cut(file, "/"); ok {
		path = filepath.Join("/sys/fs/cgroup", ctrl, cgroup, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("the task cgroup: %v", err)
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cgroupRoots are the hierarchies a cgroup may be in.
func cgroupRoots() []string {
	if unified() {
		return []string{"/sys/fs/cgroup"}
	}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	return roots
}
