package ecsapi

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/bus"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// The seed: two copies of an awsvpc task on one c5.large, each with its own ENI;
// a third does not fit (three ENIs, one of them the primary).
func TestRunTaskAwsvpc(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "demo")
	inst := w.instance(t, "c5.large", "demo")
	cis := must(w.ListContainerInstances(ctx, west, &ecstypes.ListContainerInstancesRequest{Cluster: str("demo")}))(t)
	if len(cis.ContainerInstanceArns) != 1 {
		t.Fatalf("the instance did not register: %+v", cis)
	}
	ci := must(w.DescribeContainerInstances(ctx, west, &ecstypes.DescribeContainerInstancesRequest{Cluster: str("demo"), ContainerInstances: cis.ContainerInstanceArns}))(t).ContainerInstances[0]
	if deref(ci.Ec2InstanceId) != inst.ID || valueOf(ci.RegisteredResources[0]) != 2048 || valueOf(ci.RegisteredResources[1]) != 4096 {
		t.Fatalf("container instance %+v", ci)
	}
	w.register(t, nginx("nginx-awsvpc", ecstypes.NetworkModeAwsvpc))

	_, err := w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc")})
	wantErr(t, err, "InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	_, err = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-0123456789abcdef0"}}}})
	wantErr(t, err, "InvalidParameterException", "Error retrieving subnet information for [subnet-0123456789abcdef0]: The subnet ID 'subnet-0123456789abcdef0' does not exist (ErrorCode: InvalidSubnetID.NotFound)")
	_, err = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"), NetworkConfiguration: w.awsvpc("sg-0123456789abcdef0")})
	wantErr(t, err, "InvalidParameterException", "Error retrieving security group information for [sg-0123456789abcdef0]: The security group 'sg-0123456789abcdef0' does not exist (ErrorCode: InvalidGroup.NotFound)")

	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	if len(run.Tasks) != 1 || len(run.Failures) != 0 {
		t.Fatalf("run %+v", run)
	}
	first := run.Tasks[0]
	if deref(first.LastStatus) != "PROVISIONING" || deref(first.DesiredStatus) != "RUNNING" || deref(first.Attachments[0].Status) != "PRECREATED" ||
		len(first.Attachments[0].Details) != 1 || deref(first.Containers[0].LastStatus) != "PENDING" || deref(first.Group) != "family:nginx-awsvpc" {
		t.Fatalf("RunTask's answer %+v", first)
	}
	w.settle2(t, "demo", *first.TaskArn, "RUNNING")
	got := w.describe(t, "demo", *first.TaskArn)
	ip := deref(got.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
	if deref(got.Attachments[0].Status) != "ATTACHED" || detail(got, "privateIPv4Address") != ip || detail(got, "subnetId") != w.sub.ID ||
		!strings.HasPrefix(detail(got, "macAddress"), "0a:") || got.StartedAt == nil || got.PullStartedAt == nil {
		t.Fatalf("running task %+v", got)
	}
	eniID := detail(got, "networkInterfaceId")
	eni := must(w.ec2.DescribeNetworkInterfaces(ctx, ec2West, []string{eniID}, nil))(t)[0]
	if eni.Status != "in-use" || !eni.RequesterManaged || eni.Groups[0] != w.sg.ID || eni.Attachment.InstanceID != inst.ID ||
		eni.Attachment.DeviceIndex != 1 || !strings.HasPrefix(eni.Description, "arn:aws:ecs:us-west-2:000000000000:attachment/") {
		t.Fatalf("the task's ENI in EC2 %+v", eni)
	}
	taskID := (*first.TaskArn)[strings.LastIndexByte(*first.TaskArn, '/')+1:]
	if k := w.dp.ENIs[eniID]; k.Host != "task-"+taskID || k.Device != 0 {
		t.Fatalf("the ENI must be eth0 of the task's own namespace: %+v", k)
	}

	second := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	if len(second.Tasks) != 1 || deref(second.Tasks[0].ContainerInstanceArn) != deref(first.ContainerInstanceArn) {
		t.Fatalf("second copy %+v", second)
	}
	third := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	if len(third.Tasks) != 0 || len(third.Failures) != 1 || deref(third.Failures[0].Reason) != "RESOURCE:ENI" {
		t.Fatalf("third copy on a c5.large: %+v", third)
	}

	stop := must(w.StopTask(ctx, west, &ecstypes.StopTaskRequest{Cluster: str("demo"), Task: first.TaskArn, Reason: str("done")}))(t)
	if deref(stop.Task.DesiredStatus) != "STOPPED" || stop.Task.StopCode != ecstypes.TaskStopCodeUserInitiated || deref(stop.Task.StoppedReason) != "done" {
		t.Fatalf("StopTask's answer %+v", stop.Task)
	}
	w.settle2(t, "demo", *first.TaskArn, "STOPPED")
	got = w.describe(t, "demo", *first.TaskArn)
	if deref(got.Attachments[0].Status) != "DELETED" || got.StoppedAt == nil || deref(got.Containers[0].LastStatus) != "STOPPED" {
		t.Fatalf("stopped task %+v", got)
	}
	_, err = w.ec2.DescribeNetworkInterfaces(ctx, ec2West, []string{eniID}, nil)
	if e, ok := ec2sim.AsAPIError(err); !ok || e.Code != "InvalidNetworkInterfaceID.NotFound" {
		t.Fatalf("the stopped task's ENI must be gone: %v", err)
	}
	if w.dp.Hosts["task-"+taskID] || w.rt.Running(taskID) {
		t.Fatal("the stopped task's namespace or containers remain")
	}
	// Its slot is free again.
	again := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("nginx-awsvpc"), NetworkConfiguration: w.awsvpc(w.sg.ID)}))(t)
	if len(again.Tasks) != 1 {
		t.Fatalf("after a stop: %+v", again.Failures)
	}
	running := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo")}))(t)
	stopped := must(w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("demo"), DesiredStatus: ecstypes.DesiredStatusStopped}))(t)
	if len(running.TaskArns) != 2 || len(stopped.TaskArns) != 1 {
		t.Fatalf("list: running %v stopped %v", running.TaskArns, stopped.TaskArns)
	}
}

// settle2 waits for background work and checks the task reached a status.
func (w *world) settle2(t *testing.T, cluster, arn, status string) {
	t.Helper()
	w.settleTasks()
	if got := deref(w.describe(t, cluster, arn).LastStatus); got != status {
		t.Fatalf("task is %s, want %s", got, status)
	}
}

// settleTasks waits until no task is between states (lifecycles that wait for a
// stop keep running, so Wait alone would block): it looks again at every
// stored change of a task.
func (w *world) settleTasks() {
	changed := make(chan struct{}, 1)
	sub := bus.On(w.Events(), func(TaskChanged) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer sub.Cancel()
	// A minute: only reached when a task never settles (the caller's check
	// then fails), and the race detector on a busy machine is slow.
	deadline := time.After(time.Minute)
	for w.tasksBetweenStates() {
		select {
		case <-changed:
		case <-deadline:
			return
		}
	}
}

func (w *world) tasksBetweenStates() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for t := range w.tasks.All() {
		last, desired := t.status(), t.desired()
		if (desired == ecstypes.DesiredStatusRunning && last != TaskStatusRunning) || (desired == ecstypes.DesiredStatusStopped && last != TaskStatusStopped) {
			return true
		}
	}
	return false
}

func TestEssentialContainerExit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "c")
	w.instance(t, "m5.xlarge", "c")
	req := nginx("two", ecstypes.NetworkModeAwsvpc)
	side := req.ContainerDefinitions[0]
	side.Name, side.Essential = str("sidecar"), ecstypes.Ptr(false)
	req.ContainerDefinitions = append(req.ContainerDefinitions, side)
	w.register(t, req)
	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("c"), TaskDefinition: str("two"), NetworkConfiguration: w.awsvpc()}))(t).Tasks[0].TaskArn
	w.settle2(t, "c", arn, "RUNNING")
	id := arn[strings.LastIndexByte(arn, '/')+1:]

	if err := w.rt.Exit(id, "sidecar", 3); err != nil {
		t.Fatal(err)
	}
	w.settleTasks()
	got := w.describe(t, "c", arn)
	if deref(got.LastStatus) != "RUNNING" || deref(got.Containers[1].ExitCode) != 3 || deref(got.Containers[1].LastStatus) != "STOPPED" {
		t.Fatalf("a non-essential exit must not stop the task: %+v", got)
	}
	if err := w.rt.Exit(id, "nginx", 1); err != nil {
		t.Fatal(err)
	}
	w.settle2(t, "c", arn, "STOPPED")
	got = w.describe(t, "c", arn)
	if got.StopCode != ecstypes.TaskStopCodeEssentialContainerExited || deref(got.StoppedReason) != "Essential container in task exited" || deref(got.Containers[0].ExitCode) != 1 {
		t.Fatalf("after the essential container exited: %+v", got)
	}
}

func TestRunTaskFargateAndFailures(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "f")
	req := nginx("fg", ecstypes.NetworkModeAwsvpc)
	req.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
	req.Cpu, req.Memory = str("256"), str("512")
	w.register(t, req)
	w.register(t, nginx("ec2only", ecstypes.NetworkModeBridge))

	_, err := w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), TaskDefinition: str("ec2only")})
	wantErr(t, err, "InvalidParameterException", "No Container Instances were found in your cluster.")
	_, err = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("ec2only")})
	wantErr(t, err, "InvalidParameterException", "Task definition does not support launch_type FARGATE.")
	_, err = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), TaskDefinition: str("ec2only"), NetworkConfiguration: w.awsvpc()})
	wantErr(t, err, "InvalidParameterException", "Network Configuration is not valid for the given networkMode of this task definition.")

	run := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("fg"), Count: ecstypes.Ptr(int32(3)), NetworkConfiguration: w.awsvpc()}))(t)
	if len(run.Tasks) != 3 || deref(run.Tasks[0].PlatformVersion) != "1.4.0" || run.Tasks[0].ContainerInstanceArn != nil {
		t.Fatalf("fargate run %+v", run)
	}
	w.settleTasks()
	ips := map[string]bool{}
	for _, tk := range run.Tasks {
		got := w.describe(t, "f", *tk.TaskArn)
		ips[detail(got, "privateIPv4Address")] = true
		eni := must(w.ec2.DescribeNetworkInterfaces(ctx, ec2West, []string{detail(got, "networkInterfaceId")}, nil))(t)[0]
		if eni.Attachment.InstanceID != "" || eni.Groups[0] == w.sg.ID {
			t.Fatalf("a Fargate ENI with the VPC's default group, on no instance: %+v", eni)
		}
	}
	if len(ips) != 3 {
		t.Fatalf("three tasks, addresses %v", ips)
	}
	_, err = w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("fg"), Count: ecstypes.Ptr(int32(11)), NetworkConfiguration: w.awsvpc()})
	wantErr(t, err, "InvalidParameterException", "")

	// A task whose containers cannot start stops with TaskFailedToStart and gives its ENI back.
	w.rt.FailStart = errTest("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref nginx:latest")
	bad := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("f"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("fg"), NetworkConfiguration: w.awsvpc()}))(t)
	w.settle2(t, "f", *bad.Tasks[0].TaskArn, "STOPPED")
	got := w.describe(t, "f", *bad.Tasks[0].TaskArn)
	if got.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(deref(got.StoppedReason), "CannotPullContainerError") {
		t.Fatalf("failed start %+v", got)
	}
	subs := must(w.ec2.DescribeSubnets(ctx, ec2West, []string{w.sub.ID}, nil))(t)
	if subs[0].AvailableIPs != 251-3 {
		t.Fatalf("subnet shows %d free, want %d", subs[0].AvailableIPs, 251-3)
	}
}

func TestBridgePorts(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "b")
	w.instance(t, "m5.xlarge", "b")
	static := nginx("static", ecstypes.NetworkModeBridge)
	static.ContainerDefinitions[0].PortMappings[0].HostPort = ecstypes.Ptr(int32(8080))
	w.register(t, static)
	w.register(t, nginx("dynamic", ecstypes.NetworkModeBridge))
	first := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("b"), TaskDefinition: str("static")}))(t)
	if b := first.Tasks[0].Containers[0].NetworkBindings; len(b) != 1 || deref(b[0].HostPort) != 8080 {
		t.Fatalf("static binding %+v", b)
	}
	clash := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("b"), TaskDefinition: str("static")}))(t)
	if len(clash.Failures) != 1 || deref(clash.Failures[0].Reason) != "RESOURCE:PORTS" {
		t.Fatalf("a second static 8080: %+v", clash)
	}
	d1 := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("b"), TaskDefinition: str("dynamic"), Count: ecstypes.Ptr(int32(2))}))(t)
	p1, p2 := deref(d1.Tasks[0].Containers[0].NetworkBindings[0].HostPort), deref(d1.Tasks[1].Containers[0].NetworkBindings[0].HostPort)
	if p1 < dynamicPortLow || p2 < dynamicPortLow || p1 == p2 {
		t.Fatalf("dynamic ports %d %d", p1, p2)
	}
	ci := must(w.DescribeContainerInstances(ctx, west, &ecstypes.DescribeContainerInstancesRequest{Cluster: str("b"), ContainerInstances: []string{deref(first.Tasks[0].ContainerInstanceArn)}}))(t).ContainerInstances[0]
	if got := valueOf(ci.RemainingResources[0]); got != 4096-300 {
		t.Fatalf("remaining CPU %d, want %d", got, 4096-300)
	}
	if ports := ci.RemainingResources[2].StringSetValue; len(ports) != len(reservedPorts)+3 {
		t.Fatalf("ports held: %v", ports)
	}
}

func TestHealthRollsUp(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "h")
	req := nginx("hc", ecstypes.NetworkModeAwsvpc)
	req.ContainerDefinitions[0].HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "true"}}
	side := req.ContainerDefinitions[0]
	side.Name, side.Essential, side.HealthCheck = str("side"), ecstypes.Ptr(false), &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "false"}}
	req.ContainerDefinitions = append(req.ContainerDefinitions, side)
	req.RequiresCompatibilities, req.Cpu, req.Memory = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, str("512"), str("2048")
	w.register(t, req)
	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("h"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("hc"), NetworkConfiguration: w.awsvpc()}))(t).Tasks[0].TaskArn
	w.settle2(t, "h", arn, "RUNNING")
	id := arn[len(arn)-32:]
	run, _ := w.rt.Run(id)
	run.Health("side", ecstypes.HealthStatusUnhealthy)
	if got := w.describe(t, "h", arn); got.HealthStatus != ecstypes.HealthStatusUnknown || got.Containers[1].HealthStatus != ecstypes.HealthStatusUnhealthy {
		t.Fatalf("a non-essential container's health does not make the task's: %s %+v", got.HealthStatus, got.Containers[1])
	}
	run.Health("nginx", ecstypes.HealthStatusHealthy)
	if got := w.describe(t, "h", arn); got.HealthStatus != ecstypes.HealthStatusHealthy {
		t.Fatalf("task health %s, want HEALTHY", got.HealthStatus)
	}
	run.Health("nginx", ecstypes.HealthStatusUnhealthy)
	if got := w.describe(t, "h", arn); got.HealthStatus != ecstypes.HealthStatusUnhealthy {
		t.Fatalf("task health %s, want UNHEALTHY", got.HealthStatus)
	}
}

// TestTaskRunLimitsAndOverrides: what the runtime is given carries the
// task-level limits (with RunTask's task overrides), the network, pid and ipc
// modes, and each container's overrides, without changing the task
// definition.
func TestTaskRunLimitsAndOverrides(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.cluster(t, "o")
	req := nginx("sized", ecstypes.NetworkModeAwsvpc)
	req.RequiresCompatibilities, req.Cpu, req.Memory = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, str("512"), str("2048")
	req.PidMode = ecstypes.PidModeTask
	req.ContainerDefinitions[0].EnvironmentFiles = []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: str("arn:aws:s3:::b/def.env")}}
	w.register(t, req)
	co := ecstypes.ContainerOverride{
		Name: str("nginx"), Command: []string{"sleep", "1"}, Cpu: ecstypes.Ptr(int32(64)), Memory: ecstypes.Ptr(int32(256)), MemoryReservation: ecstypes.Ptr(int32(128)),
		Environment:      []ecstypes.KeyValuePair{{Name: str("A"), Value: str("1")}},
		EnvironmentFiles: []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: str("arn:aws:s3:::b/override.env")}},
	}
	out := must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{
		Cluster: str("o"), LaunchType: ecstypes.LaunchTypeFargate, TaskDefinition: str("sized"), NetworkConfiguration: w.awsvpc(),
		Overrides: &ecstypes.TaskOverride{Memory: str("1024"), ContainerOverrides: []ecstypes.ContainerOverride{co}},
	}))(t)
	arn := *out.Tasks[0].TaskArn
	w.settle2(t, "o", arn, "RUNNING")
	run, _ := w.rt.Run(arn[len(arn)-32:])
	if run.CPU != 512 || run.Memory != 1024 || run.NetworkMode != ecstypes.NetworkModeAwsvpc || run.PidMode != ecstypes.PidModeTask || run.IpcMode != "" {
		t.Errorf("run: cpu %d, memory %d, modes %q %q %q; want 512, 1024 (overridden), awsvpc, task, none", run.CPU, run.Memory, run.NetworkMode, run.PidMode, run.IpcMode)
	}
	c := run.Containers[0]
	if deref(c.Def.Cpu) != 64 || deref(c.Def.Memory) != 256 || deref(c.Def.MemoryReservation) != 128 ||
		len(c.Def.EnvironmentFiles) != 1 || deref(c.Def.EnvironmentFiles[0].Value) != "arn:aws:s3:::b/override.env" ||
		!slices.Equal(c.Command, []string{"sleep", "1"}) || deref(c.Environment[len(c.Environment)-1].Name) != "A" {
		t.Errorf("container run %+v: the overrides are not applied", c)
	}
	td := must(w.DescribeTaskDefinition(ctx, west, &ecstypes.DescribeTaskDefinitionRequest{TaskDefinition: str("sized")}))(t).TaskDefinition
	if d := td.ContainerDefinitions[0]; deref(d.Memory) != 512 || deref(d.EnvironmentFiles[0].Value) != "arn:aws:s3:::b/def.env" {
		t.Errorf("the task definition changed: %+v", d)
	}

	// Without task-level figures there is no task limit (the containers'
	// own apply), whatever placement reserved.
	w.register(t, nginx("unsized", ecstypes.NetworkModeAwsvpc))
	w.instance(t, "c5.large", "o")
	arn = *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("o"), TaskDefinition: str("unsized"), NetworkConfiguration: w.awsvpc()}))(t).Tasks[0].TaskArn
	w.settle2(t, "o", arn, "RUNNING")
	if run, _ := w.rt.Run(arn[len(arn)-32:]); run.CPU != 0 || run.Memory != 0 {
		t.Errorf("run of a task without task-level cpu and memory: %d, %d", run.CPU, run.Memory)
	}
}

// A container restart policy starts an essential container that ends by
// itself again, in place: the task stays RUNNING; an exit code the policy
// ignores, or an exit within restartAttemptPeriod of the last restart, ends
// the task as usual.
func TestContainerRestartPolicy(t *testing.T) {
	clock := newTestClock()
	advance := clock.advance
	w := newWorld(t, WithClock(clock.now))
	ctx := context.Background()
	w.demo(t, "m5.xlarge")
	td := nginx("restarts", ecstypes.NetworkModeAwsvpc)
	td.ContainerDefinitions[0].RestartPolicy = &ecstypes.ContainerRestartPolicy{Enabled: ecstypes.Ptr(true), IgnoredExitCodes: []int32{0}, RestartAttemptPeriod: ecstypes.Ptr(int32(60))}
	w.register(t, td)
	bad := nginx("bad", ecstypes.NetworkModeAwsvpc)
	bad.ContainerDefinitions[0].RestartPolicy = &ecstypes.ContainerRestartPolicy{Enabled: ecstypes.Ptr(true), RestartAttemptPeriod: ecstypes.Ptr(int32(30))}
	_, err := w.RegisterTaskDefinition(ctx, west, &bad)
	wantErr(t, err, "InvalidParameterException", "The restartAttemptPeriod of a container restart policy must be between 60 and 1800 seconds.")

	arn := *must(w.RunTask(ctx, west, &ecstypes.RunTaskRequest{Cluster: str("demo"), TaskDefinition: str("restarts"), NetworkConfiguration: w.awsvpc()}))(t).Tasks[0].TaskArn
	w.settle2(t, "demo", arn, "RUNNING")
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	exit := func(code int) {
		t.Helper()
		if err := w.rt.Exit(id, "nginx", code); err != nil {
			t.Fatal(err)
		}
		w.settleTasks()
	}
	// A minute after the start: restarted, and the task does not see it.
	advance(2 * time.Minute)
	exit(137)
	got := w.describe(t, "demo", arn)
	w.mu.Lock()
	rec, _ := w.tasks.Get(arn)
	restarts := rec.Restarts["nginx"].Count
	w.mu.Unlock()
	if deref(got.LastStatus) != "RUNNING" || deref(got.Containers[0].LastStatus) != "RUNNING" || restarts != 1 {
		t.Fatalf("after a restart: task %s, container %s, %d restarts", deref(got.LastStatus), deref(got.Containers[0].LastStatus), restarts)
	}
	// Again within 60 s of that restart: the task ends.
	advance(10 * time.Second)
	exit(137)
	w.settle2(t, "demo", arn, "STOPPED")
	if got := w.describe(t, "demo", arn); deref(got.Containers[0].ExitCode) != 137 || got.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Fatalf("a second exit within the period: %+v %s", got.Containers[0], got.StopCode)
	}
}
