package runtime

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

const volTask = "0123456789abcdef0123456789abcdef"

func volRun(vols []ecstypes.Volume, defs ...ecstypes.ContainerDefinition) ecsapi.TaskRun {
	run := ecsapi.TaskRun{TaskID: volTask, TaskARN: "arn:aws:ecs:us-east-1:000000000000:task/c/" + volTask, Volumes: vols}
	for _, d := range defs {
		run.Containers = append(run.Containers, ecsapi.ContainerRun{Def: d})
	}
	return run
}

func mp(vol, path string, ro bool) ecstypes.MountPoint {
	return ecstypes.MountPoint{SourceVolume: ecstypes.Ptr(vol), ContainerPath: ecstypes.Ptr(path), ReadOnly: ecstypes.Ptr(ro)}
}

func mountsText(ms []specs.Mount) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Source+":"+m.Destination+":"+m.Options[2])
	}
	return strings.Join(out, " ")
}

// TestVolumeMounts: the kinds of volume a Linux container instance has, as
// bind mounts, with mountPoints and volumesFrom.
func TestVolumeMounts(t *testing.T) {
	r, data, opened, _ := envRuntime(t)
	write(t, filepath.Join(opened, "conf", "app.json"), "{}")
	run := volRun([]ecstypes.Volume{
		{Name: ecstypes.Ptr("scratch")},                                       // no host: the task's own
		{Name: ecstypes.Ptr("empty"), Host: &ecstypes.HostVolumeProperties{}}, // host without sourcePath: the same
		{Name: ecstypes.Ptr("conf"), Host: &ecstypes.HostVolumeProperties{SourcePath: ecstypes.Ptr(filepath.Join(opened, "conf"))}},
		{Name: ecstypes.Ptr("file"), Host: &ecstypes.HostVolumeProperties{SourcePath: ecstypes.Ptr(filepath.Join(opened, "conf", "app.json"))}},
		{Name: ecstypes.Ptr("made"), Host: &ecstypes.HostVolumeProperties{SourcePath: ecstypes.Ptr(filepath.Join(opened, "new", "dir"))}},
		{Name: ecstypes.Ptr("docker"), DockerVolumeConfiguration: &ecstypes.DockerVolumeConfiguration{Scope: ecstypes.ScopeTask, Driver: ecstypes.Ptr("local")}},
		{Name: ecstypes.Ptr("shared"), DockerVolumeConfiguration: &ecstypes.DockerVolumeConfiguration{Scope: ecstypes.ScopeShared, Autoprovision: ecstypes.Ptr(true)}},
		{Name: ecstypes.Ptr("unused"), Host: &ecstypes.HostVolumeProperties{SourcePath: ecstypes.Ptr("/etc")}}, // refused only if used
	},
		ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), MountPoints: []ecstypes.MountPoint{
			mp("scratch", "/scratch", false), mp("conf", "/conf", true), mp("file", "/etc/app.json", true),
			mp("made", "/made", false), mp("docker", "/docker", false), mp("shared", "/shared", false),
		}},
		ecstypes.ContainerDefinition{Name: ecstypes.Ptr("sidecar"), MountPoints: []ecstypes.MountPoint{mp("empty", "/empty", false)},
			VolumesFrom: []ecstypes.VolumeFrom{{SourceContainer: ecstypes.Ptr("app"), ReadOnly: ecstypes.Ptr(true)}}},
	)
	got, err := r.volumeMounts(run)
	if err != nil {
		t.Fatal(err)
	}
	task := filepath.Join(data, "volumes", volTask)
	want := strings.Join([]string{
		filepath.Join(task, "scratch") + ":/scratch:rw", filepath.Join(opened, "conf") + ":/conf:ro",
		filepath.Join(opened, "conf", "app.json") + ":/etc/app.json:ro", filepath.Join(opened, "new", "dir") + ":/made:rw",
		filepath.Join(task, "docker") + ":/docker:rw", filepath.Join(data, "volumes", "shared", "shared") + ":/shared:rw",
	}, " ")
	if mountsText(got["app"]) != want {
		t.Errorf("app's mounts:\n%s\nwant\n%s", mountsText(got["app"]), want)
	}
	// volumesFrom read-only: app's mounts, every one read-only.
	wantSide := filepath.Join(task, "empty") + ":/empty:rw " + strings.ReplaceAll(want, ":rw", ":ro")
	if mountsText(got["sidecar"]) != wantSide {
		t.Errorf("sidecar's mounts:\n%s\nwant\n%s", mountsText(got["sidecar"]), wantSide)
	}
	for _, d := range []string{filepath.Join(task, "scratch"), filepath.Join(opened, "new", "dir"), filepath.Join(data, "volumes", "shared", "shared")} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	// The task's volumes go with it; a link a container left in one is
	// removed, not followed; shared volumes stay.
	if err := os.Symlink(opened, filepath.Join(task, "scratch", "out")); err != nil {
		t.Fatal(err)
	}
	if err := r.removeTaskVolumes(volTask); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(task); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the task's volumes remain: %v", err)
	}
	if _, err := os.Stat(filepath.Join(opened, "conf", "app.json")); err != nil {
		t.Errorf("removing the task's volumes reached the opened directory: %v", err)
	}
	if err := r.removeAllTaskVolumes(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "volumes", "shared", "shared")); err != nil {
		t.Errorf("a shared volume went: %v", err)
	}
}

// TestVolumeRefusals: what cannot be mounted fails the task with the
// agent's reason, and makes nothing outside the allowed directories.
func TestVolumeRefusals(t *testing.T) {
	r, _, opened, outside := envRuntime(t)
	if err := os.Symlink(outside, filepath.Join(opened, "out")); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:ecs:us-east-1:000000000000:task/c/" + volTask
	uses := func(v ecstypes.Volume) ecsapi.TaskRun {
		return volRun([]ecstypes.Volume{v}, ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), MountPoints: []ecstypes.MountPoint{mp(deref(v.Name), "/v", false)}})
	}
	host := func(p string) ecstypes.Volume {
		return ecstypes.Volume{Name: ecstypes.Ptr("v"), Host: &ecstypes.HostVolumeProperties{SourcePath: ecstypes.Ptr(p)}}
	}
	for _, tc := range []struct {
		name string
		run  ecsapi.TaskRun
		want string
	}{
		{"host path outside", uses(host("/etc")),
			`CannotCreateContainerError: Error response from daemon: invalid mount config for type "bind": bind source path /etc is not below a directory opened with --host-path`},
		{"climbing out", uses(host(filepath.Join(opened, "..", filepath.Base(outside)))),
			`CannotCreateContainerError: Error response from daemon: invalid mount config for type "bind": bind source path ` + filepath.Join(opened, "..", filepath.Base(outside)) + ` is not below a directory opened with --host-path`},
		{"through a link", uses(host(filepath.Join(opened, "out", "sub"))),
			`CannotCreateContainerError: Error response from daemon: invalid mount config for type "bind": bind source path ` + filepath.Join(opened, "out", "sub") + `: it is, or its path passes through, a symbolic link, which vpcsim does not follow`},
		{"efs", uses(ecstypes.Volume{Name: ecstypes.Ptr("v"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{FileSystemId: ecstypes.Ptr("fs-1")}}),
			"ResourceInitializationError: resource cannot be initialized for task " + arn + ": volume v: vpcsim cannot mount Amazon EFS file systems (no EFS is reachable from this machine)"},
		{"fsx", uses(ecstypes.Volume{Name: ecstypes.Ptr("v"), FsxWindowsFileServerVolumeConfiguration: &ecstypes.FSxWindowsFileServerVolumeConfiguration{FileSystemId: ecstypes.Ptr("fs-1")}}),
			"ResourceInitializationError: resource cannot be initialized for task " + arn + ": volume v: vpcsim cannot mount FSx for Windows File Server file systems"},
		{"ebs at launch", uses(ecstypes.Volume{Name: ecstypes.Ptr("v"), ConfiguredAtLaunch: ecstypes.Ptr(true)}),
			"ResourceInitializationError: resource cannot be initialized for task " + arn + ": volume v: vpcsim cannot attach Amazon EBS volumes configured at launch"},
		{"other driver", uses(ecstypes.Volume{Name: ecstypes.Ptr("v"), DockerVolumeConfiguration: &ecstypes.DockerVolumeConfiguration{Driver: ecstypes.Ptr("rexray/ebs")}}),
			`ResourceInitializationError: resource cannot be initialized for task ` + arn + `: volume v: vpcsim has only the local volume driver, not "rexray/ebs"`},
		{"shared, not provisioned", uses(ecstypes.Volume{Name: ecstypes.Ptr("v"), DockerVolumeConfiguration: &ecstypes.DockerVolumeConfiguration{Scope: ecstypes.ScopeShared}}),
			"ResourceInitializationError: resource cannot be initialized for task " + arn + ": initialize volume: volume detection failed, volume 'v' does not exist and autoprovision is set to false"},
		{"unknown volume", volRun(nil, ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), MountPoints: []ecstypes.MountPoint{mp("nope", "/v", false)}}),
			"CannotCreateContainerError: Invalid volume referenced: nope"},
		{"relative containerPath", volRun([]ecstypes.Volume{{Name: ecstypes.Ptr("v")}}, ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), MountPoints: []ecstypes.MountPoint{mp("v", "rel", false)}}),
			"CannotCreateContainerError: Unable to resolve volume mounts; invalid path: app v; -> rel"},
		{"volumesFrom nobody", volRun(nil, ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), VolumesFrom: []ecstypes.VolumeFrom{{SourceContainer: ecstypes.Ptr("ghost")}}}),
			"CannotCreateContainerError: Volume target not available: ghost"},
	} {
		_, err := r.volumeMounts(tc.run)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("made outside: %v", entries)
	}
}
