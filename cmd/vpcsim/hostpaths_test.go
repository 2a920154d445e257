package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sys/unix"
)

// What the API may touch on the host, driven as the repro drives it:
// a `file` flow log, an environment file and a host volume may name host
// paths only below the data directory's own trees or a directory the
// operator opened with --host-path, and a link planted in those trees is
// never followed.

// TestFileFlowLogOutside: CreateFlowLogs refuses a `file` destination outside
// <data>/flowlogs/file and the opened directories (root would have appended
// to /etc/cron.d) and makes nothing; inside them it is taken.
func TestFileFlowLogOutside(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	data, opened, outside := t.TempDir(), t.TempDir(), t.TempDir()
	s := startServer(t, apiOnly(), inDataDir(data), withServeArgs("--host-path", opened))
	ctx := testContext(t)
	ec := ec2.NewFromConfig(sdkConfig(s, "us-east-1"))
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	create := func(dest string) error {
		_, err := ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{ResourceType: ec2types.FlowLogsResourceTypeVpc,
			ResourceIds: []string{aws.ToString(vpc.Vpc.VpcId)}, TrafficType: ec2types.TrafficTypeAll,
			LogDestinationType: "file", LogDestination: aws.String(dest)})
		return err
	}
	cron := "/etc/cron.d/vpcsim-e2e-" + randHex(8)
	// (Joined by hand: filepath.Join would clean the ".." away.)
	for _, dest := range []string{cron, filepath.Join(outside, "cron.d", "x"), filepath.Join(data, "vpcsim.db"),
		data + "/flowlogs/file/../../vpcsim.db", opened + "/../" + filepath.Base(outside) + "/y.log"} {
		err := create(dest)
		var ae smithy.APIError
		want := "Invalid LogDestination: " + dest + ". A file destination must lie beneath " + filepath.Join(data, "flowlogs", "file") +
			" or beneath a directory opened with vpcsim serve --host-path."
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameter" || ae.ErrorMessage() != want {
			t.Errorf("CreateFlowLogs to %s: %v, want InvalidParameter %q", dest, err, want)
		}
	}
	for _, dest := range []string{filepath.Join(data, "flowlogs", "file", "vpc.log"), filepath.Join(opened, "logs", "vpc.log")} {
		if err := create(dest); err != nil {
			t.Errorf("CreateFlowLogs to %s: %v", dest, err)
		}
	}
	fls, err := ec.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{})
	if err != nil || len(fls.FlowLogs) != 2 {
		t.Errorf("flow logs after the refusals: %v %+v", err, fls)
	}
	if _, err := os.Lstat(cron); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v", cron, err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("made outside: %v", entries)
	}
}

// TestFlowLogLinkInDataDir: links planted in the data directory's flow log
// trees (the file itself, a log group's directory) are not written through:
// those flow logs show DeliverLogsStatus FAILED and the links' targets stay
// as they were, while a plain file of the same VPC gets its records.
func TestFlowLogLinkInDataDir(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	w := newEchoWorld(t, ctx, s, "10.11.0.0/16", "10.11.1.0/24", "links", ec2types.InstanceTypeM5Xlarge, 1)
	outside := t.TempDir()
	target := filepath.Join(outside, "crontab")
	if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(s.dataDir, "flowlogs", "file")
	groups := filepath.Join(s.dataDir, "flowlogs", "cloud-watch-logs")
	for _, d := range []string{files, groups} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, filepath.Join(files, "planted.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(groups, "planted")); err != nil {
		t.Fatal(err)
	}
	flowLog := func(in ec2.CreateFlowLogsInput) string {
		in.ResourceType, in.ResourceIds, in.TrafficType = ec2types.FlowLogsResourceTypeVpc, []string{w.vpcID}, ec2types.TrafficTypeAll
		out, err := w.ec.CreateFlowLogs(ctx, &in)
		if err != nil || len(out.FlowLogIds) != 1 {
			t.Fatalf("CreateFlowLogs: %v %+v", err, out)
		}
		return out.FlowLogIds[0]
	}
	good := filepath.Join(files, "good.log")
	flowLog(ec2.CreateFlowLogsInput{LogDestinationType: "file", LogDestination: aws.String(good)})
	planted := []string{
		flowLog(ec2.CreateFlowLogsInput{LogDestinationType: "file", LogDestination: aws.String(filepath.Join(files, "planted.log"))}),
		flowLog(ec2.CreateFlowLogsInput{LogGroupName: aws.String("planted"), DeliverLogsPermissionArn: aws.String("arn:aws:iam::000000000000:role/x")}),
	}
	// Traffic: the client's connection attempt to the host reaches its ENI.
	hostIP := aws.ToString(w.hosts[0].PrivateIpAddress)
	s.vpcsim("exec", aws.ToString(w.client.InstanceId), "--", "curl", "-s", "-m", "1", "http://"+hostIP+":9/")
	// The records are written at the end of the capture window: wait for
	// the plain file to have them, and for the planted ones to have failed.
	for {
		b, _ := os.ReadFile(good)
		fls, err := w.ec.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{FlowLogIds: planted})
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, f := range fls.FlowLogs {
			if aws.ToString(f.DeliverLogsStatus) == "FAILED" {
				failed++
			}
		}
		changed, _ := os.ReadFile(target)
		entries, _ := os.ReadDir(outside)
		if string(changed) != "keep\n" || len(entries) != 1 {
			t.Fatalf("written through a planted link: %s holds %q; %s holds %d entries", target, changed, outside, len(entries))
		}
		if strings.Contains(string(b), hostIP) && failed == len(planted) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("records in %s: %q; %d of %d planted flow logs FAILED", good, b, failed, len(planted))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestTaskHostFiles: environment files and volumes of tasks. A host file
// outside the opened directories reads as one that does not exist (the
// stopped reasons are the same words) and never reaches a container; a FIFO
// does not hang the task's start; an S3-shaped file is read from
// <data>/s3; volumes bind what they may (a host directory below --host-path,
// a task volume shared through volumesFrom, read-only where asked), refuse
// what they may not, and the task's volume goes with it.
func TestTaskHostFiles(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	opened, outside := t.TempDir(), t.TempDir()
	s := startServer(t, withServeEnv("VPCSIM_HOST_PATHS="+opened))
	ctx := testContext(t)
	w := newEchoWorld(t, ctx, s, "10.12.0.0/16", "10.12.1.0/24", "files", ec2types.InstanceTypeM5Xlarge, 1)

	secret := filepath.Join(outside, "credentials.env")
	if err := os.WriteFile(secret, []byte("AWS_SECRET_ACCESS_KEY=do-not-leak\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(outside, "pipe.env"), filepath.Join(opened, "pipe.env")} {
		if err := unix.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s3 := filepath.Join(s.dataDir, "s3", "app-config", "prod")
	if err := os.MkdirAll(s3, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s3, "app.env"), []byte("FROMS3=from-the-bucket\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	sh := func(name, script string, extra func(*ecstypes.ContainerDefinition)) ecstypes.ContainerDefinition {
		d := ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String("busybox"), Memory: aws.Int32(16),
			StopTimeout: aws.Int32(1), Command: []string{"/bin/sh", "-c", script}}
		if extra != nil {
			extra(&d)
		}
		return d
	}
	withEnvFile := func(v string) func(*ecstypes.ContainerDefinition) {
		return func(d *ecstypes.ContainerDefinition) {
			d.EnvironmentFiles = []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String(v)}}
		}
	}
	run := func(family string, vols []ecstypes.Volume, defs ...ecstypes.ContainerDefinition) string {
		t.Helper()
		if _, err := w.es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			NetworkMode: ecstypes.NetworkModeAwsvpc, ContainerDefinitions: defs, Volumes: vols}); err != nil {
			t.Fatal(err)
		}
		out, err := w.es.RunTask(ctx, &ecs.RunTaskInput{Cluster: &w.cluster, TaskDefinition: aws.String(family), NetworkConfiguration: w.network()})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask %s: %v %+v", family, err, out)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	stoppedTask := func(arn string) ecstypes.Task {
		t.Helper()
		waiter := ecs.NewTasksStoppedWaiter(w.es, func(o *ecs.TasksStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
		if err := waiter.Wait(ctx, &ecs.DescribeTasksInput{Cluster: &w.cluster, Tasks: []string{arn}}, 2*time.Minute); err != nil {
			t.Fatalf("task %s never stopped: %v\n%s", arn, err, tail(s.logText(), 30))
		}
		d, err := w.es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &w.cluster, Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		return d.Tasks[0]
	}
	const prefix = "ResourceInitializationError: failed to download env files: "
	notFound := func(v string) string {
		return prefix + "unable to read env file " + v + ": no such file below a directory opened with --host-path"
	}
	leak := sh("app", "env; sleep 600", withEnvFile("file://"+secret))
	for _, tc := range []struct {
		family string
		defs   []ecstypes.ContainerDefinition
		vols   []ecstypes.Volume
		reason string
	}{
		{"secret", []ecstypes.ContainerDefinition{leak}, nil, notFound("file://" + secret)},
		{"missing", []ecstypes.ContainerDefinition{sh("app", "env; sleep 600", withEnvFile("file://"+filepath.Join(outside, "missing.env")))},
			nil, notFound("file://" + filepath.Join(outside, "missing.env"))},
		{"fifo-outside", []ecstypes.ContainerDefinition{sh("app", "sleep 600", withEnvFile(filepath.Join(outside, "pipe.env")))},
			nil, notFound(filepath.Join(outside, "pipe.env"))},
		{"fifo-opened", []ecstypes.ContainerDefinition{sh("app", "sleep 600", withEnvFile(filepath.Join(opened, "pipe.env")))},
			nil, prefix + "unable to read env file " + filepath.Join(opened, "pipe.env") + ": not a regular file"},
		{"host-etc", []ecstypes.ContainerDefinition{sh("app", "sleep 600", func(d *ecstypes.ContainerDefinition) {
			d.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("etc"), ContainerPath: aws.String("/host-etc")}}
		})}, []ecstypes.Volume{{Name: aws.String("etc"), Host: &ecstypes.HostVolumeProperties{SourcePath: aws.String("/etc")}}},
			`CannotCreateContainerError: Error response from daemon: invalid mount config for type "bind": bind source path /etc is not below a directory opened with --host-path`},
		{"efs", []ecstypes.ContainerDefinition{sh("app", "sleep 600", nil)},
			[]ecstypes.Volume{{Name: aws.String("shared"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678")}}},
			"volume shared: vpcsim cannot mount Amazon EFS file systems (no EFS is reachable from this machine)"},
	} {
		arn := run(tc.family, tc.vols, tc.defs...)
		task := stoppedTask(arn)
		reason := aws.ToString(task.StoppedReason)
		if task.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasSuffix(reason, tc.reason) {
			t.Errorf("%s: stopped %s %q, want TaskFailedToStart %q", tc.family, task.StopCode, reason, tc.reason)
		}
		if out, err := s.vpcsim("logs", "--data-dir", s.dataDir, arn); err == nil && strings.Contains(string(out), "do-not-leak") {
			t.Errorf("%s: the secret reached a container:\n%s", tc.family, out)
		}
	}

	// The S3 file, a host directory, read-only, and a task volume shared
	// through volumesFrom: the writer (not essential) writes, the reader
	// waits for what the writer put in the task volume.
	vol := filepath.Join(opened, "vol")
	writer := sh("writer", `echo "$FROMS3" > /host/env.txt
if touch /ro/x 2>/dev/null; then echo writable > /host/ro.txt; else echo read-only > /host/ro.txt; fi
echo shared > /scratch/x`, func(d *ecstypes.ContainerDefinition) {
		d.Essential = aws.Bool(false)
		d.EnvironmentFiles = []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::app-config/prod/app.env")}}
		d.MountPoints = []ecstypes.MountPoint{
			{SourceVolume: aws.String("host"), ContainerPath: aws.String("/host")},
			{SourceVolume: aws.String("host"), ContainerPath: aws.String("/ro"), ReadOnly: aws.Bool(true)},
			{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")},
		}
	})
	reader := sh("reader", "while [ ! -f /scratch/x ]; do sleep 0.1; done; cat /scratch/x > /host/seen.txt; sleep 600", func(d *ecstypes.ContainerDefinition) {
		d.VolumesFrom = []ecstypes.VolumeFrom{{SourceContainer: aws.String("writer")}}
	})
	arn := run("volumes", []ecstypes.Volume{
		{Name: aws.String("host"), Host: &ecstypes.HostVolumeProperties{SourcePath: aws.String(vol)}},
		{Name: aws.String("scratch")},
	}, writer, reader)
	seen := filepath.Join(vol, "seen.txt")
	for {
		if b, _ := os.ReadFile(seen); string(b) == "shared\n" {
			break
		}
		d, err := w.es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &w.cluster, Tasks: []string{arn}})
		if err != nil || aws.ToString(d.Tasks[0].LastStatus) == "STOPPED" {
			t.Fatalf("the volumes task: %v %+v\n%s", err, d, tail(s.logText(), 30))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the reader never saw the writer's file in the task volume\n%s", tail(s.logText(), 30))
		case <-time.After(200 * time.Millisecond):
		}
	}
	for file, want := range map[string]string{"env.txt": "from-the-bucket\n", "ro.txt": "read-only\n"} {
		if b, err := os.ReadFile(filepath.Join(vol, file)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", file, b, err, want)
		}
	}
	taskVols := filepath.Join(s.dataDir, "volumes", arn[strings.LastIndexByte(arn, '/')+1:])
	if _, err := os.Stat(filepath.Join(taskVols, "scratch", "x")); err != nil {
		t.Errorf("the task volume: %v", err)
	}
	if _, err := w.es.StopTask(ctx, &ecs.StopTaskInput{Cluster: &w.cluster, Task: &arn}); err != nil {
		t.Fatal(err)
	}
	stoppedTask(arn)
	if _, err := os.Stat(taskVols); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the task's volumes outlived it: %v", err)
	}
	if _, err := os.Stat(seen); err != nil {
		t.Errorf("the host directory lost what the task wrote: %v", err)
	}
}
