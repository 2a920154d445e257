package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// Task definition volumes become bind mounts, as the ECS agent has Docker
// make them:
//
//   - host.sourcePath: that host path, only below a directory the operator
//     opened with --host-path (resolved beneath it without following a link;
//     missing directories are made, as Docker makes a bind's source);
//   - no host, or host without sourcePath, and dockerVolumeConfiguration
//     with the local driver and scope "task": a directory of the task's,
//     <data-dir>/volumes/<task ID>/<volume>, that its containers share and
//     that goes with the task;
//   - dockerVolumeConfiguration with scope "shared": <data-dir>/volumes/shared/<volume>,
//     kept after the task, made when autoprovision is true;
//   - efs, fsx and S3 Files volumes, and EBS volumes configured at launch,
//     cannot exist on this machine: the task fails to start, saying so.
//
// mountPoints mount a volume at containerPath (read-only with readOnly);
// volumesFrom gives a container every mount of another container of the
// task (read-only with readOnly). Unlike Docker, a new volume starts empty:
// the image's content at the mount point is not copied into it.

// volumesDir holds the task and shared volumes, below the data directory.
const volumesDir = "volumes"

// sharedVolumes is volumesDir's directory of shared-scope volumes (task IDs
// are 32 hex digits: it cannot be one).
const sharedVolumes = "shared"

// volumeMounts resolves the mounts of every container of the task, by
// container name, making the directories they need. Its errors are the
// task's stopped reason.
func (r *Runtime) volumeMounts(run ecsapi.TaskRun) (map[string][]specs.Mount, error) {
	vols := map[string]ecstypes.Volume{}
	for _, v := range run.Volumes {
		if err := unsupportedVolume(v); err != nil {
			return nil, fmt.Errorf("ResourceInitializationError: resource cannot be initialized for task %s: %w", run.TaskARN, err)
		}
		vols[deref(v.Name)] = v
	}
	defs := map[string]ecstypes.ContainerDefinition{}
	for _, c := range run.Containers {
		defs[deref(c.Def.Name)] = c.Def
	}
	sources := map[string]string{} // volume → host path, once resolved
	source := func(name string) (string, error) {
		if p, ok := sources[name]; ok {
			return p, nil
		}
		p, err := r.volumeSource(run, vols[name])
		if err != nil {
			return "", err
		}
		sources[name] = p
		return p, nil
	}
	out := map[string][]specs.Mount{}
	for _, c := range run.Containers {
		name := deref(c.Def.Name)
		points, err := mountPointsOf(defs, name, map[string]bool{})
		if err != nil {
			return nil, fmt.Errorf("CannotCreateContainerError: %w", err)
		}
		for _, mp := range points {
			vol, path := deref(mp.SourceVolume), deref(mp.ContainerPath)
			if _, ok := vols[vol]; !ok {
				return nil, fmt.Errorf("CannotCreateContainerError: Invalid volume referenced: %s", vol)
			}
			if !filepath.IsAbs(path) {
				return nil, fmt.Errorf("CannotCreateContainerError: Unable to resolve volume mounts; invalid path: %s %s; -> %s", name, vol, path)
			}
			src, err := source(vol)
			if err != nil {
				return nil, err
			}
			opt := "rw"
			if deref(mp.ReadOnly) {
				opt = "ro"
			}
			out[name] = append(out[name], specs.Mount{Destination: path, Type: "bind", Source: src, Options: []string{"rbind", "rprivate", opt}})
		}
	}
	return out, nil
}

// mountPointsOf is a container's mount points with those it takes from
// others through volumesFrom (read-only when that says so).
func mountPointsOf(defs map[string]ecstypes.ContainerDefinition, name string, seen map[string]bool) ([]ecstypes.MountPoint, error) {
	if seen[name] {
		return nil, nil // a cycle: each container's own are in already
	}
	seen[name] = true
	def := defs[name]
	points := append([]ecstypes.MountPoint(nil), def.MountPoints...)
	for _, vf := range def.VolumesFrom {
		from := deref(vf.SourceContainer)
		if _, ok := defs[from]; !ok {
			return nil, errors.New("Volume target not available: " + from)
		}
		theirs, err := mountPointsOf(defs, from, seen)
		if err != nil {
			return nil, err
		}
		for _, mp := range theirs {
			if deref(vf.ReadOnly) {
				mp.ReadOnly = ecstypes.Ptr(true)
			}
			points = append(points, mp)
		}
	}
	return points, nil
}

// unsupportedVolume says why a volume cannot exist on this machine.
func unsupportedVolume(v ecstypes.Volume) error {
	name := deref(v.Name)
	switch {
	case v.EfsVolumeConfiguration != nil:
		return fmt.Errorf("volume %s: vpcsim cannot mount Amazon EFS file systems (no EFS is reachable from this machine)", name)
	case v.FsxWindowsFileServerVolumeConfiguration != nil:
		return fmt.Errorf("volume %s: vpcsim cannot mount FSx for Windows File Server file systems", name)
	case v.S3filesVolumeConfiguration != nil:
		return fmt.Errorf("volume %s: vpcsim cannot mount S3 Files volumes", name)
	case deref(v.ConfiguredAtLaunch):
		return fmt.Errorf("volume %s: vpcsim cannot attach Amazon EBS volumes configured at launch", name)
	}
	if dc := v.DockerVolumeConfiguration; dc != nil {
		if d := deref(dc.Driver); d != "" && d != "local" {
			return fmt.Errorf("volume %s: vpcsim has only the local volume driver, not %q", name, d)
		}
		if len(dc.DriverOpts) > 0 {
			return fmt.Errorf("volume %s: vpcsim's local volumes take no driverOpts", name)
		}
	}
	return nil
}

// volumeSource is the host path a volume binds, made or checked now.
func (r *Runtime) volumeSource(run ecsapi.TaskRun, v ecstypes.Volume) (string, error) {
	name := deref(v.Name)
	if h := v.Host; h != nil && deref(h.SourcePath) != "" {
		return r.hostVolume(deref(h.SourcePath))
	}
	if r.data.Dir() == "" {
		return "", errors.New("CannotCreateContainerError: vpcsim has no data directory for volumes")
	}
	if dc := v.DockerVolumeConfiguration; dc != nil && dc.Scope == ecstypes.ScopeShared {
		rel := filepath.Join(volumesDir, sharedVolumes, safeName(name))
		if _, err := r.data.OpenDir(rel); errors.Is(err, fs.ErrNotExist) && !deref(dc.Autoprovision) {
			return "", fmt.Errorf("ResourceInitializationError: resource cannot be initialized for task %s: initialize volume: volume detection failed, volume '%s' does not exist and autoprovision is set to false", run.TaskARN, name)
		}
		return r.dataDirVolume(rel)
	}
	return r.dataDirVolume(filepath.Join(volumesDir, safeName(run.TaskID), safeName(name)))
}

// dataDirVolume makes a volume's directory below the data directory.
func (r *Runtime) dataDirVolume(rel string) (string, error) {
	if err := r.data.MkdirAll(rel, 0o755); err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: create the volume's directory: %w", err)
	}
	return filepath.Join(r.data.Dir(), rel), nil
}

// hostVolume checks a host.sourcePath: below an opened directory, reached
// without a link; a directory that does not exist yet is made there.
func (r *Runtime) hostVolume(path string) (string, error) {
	refused := fmt.Errorf("CannotCreateContainerError: Error response from daemon: invalid mount config for type \"bind\": bind source path %s is not below a directory opened with --host-path", path)
	root, rel, ok := hostpath.Find(r.hostPaths, path)
	if !ok {
		return "", refused
	}
	// A file binds as a file; anything else must be (or become) a directory.
	f, err := root.OpenFile(rel, os.O_RDONLY, 0)
	if err == nil {
		f.Close()
		return filepath.Join(root.Dir(), rel), nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = root.MkdirAll(rel, 0o755)
	}
	if err == nil || errors.Is(err, hostpath.ErrNotRegular) {
		var d *os.File
		if d, err = root.OpenDir(rel); err == nil {
			d.Close()
			return filepath.Join(root.Dir(), rel), nil
		}
	}
	return "", fmt.Errorf("CannotCreateContainerError: Error response from daemon: invalid mount config for type \"bind\": bind source path %s: %s", path, refusal(err))
}

// removeTaskVolumes removes the task's own volumes, once its containers are
// gone; a link a container left in one is removed, not followed.
func (r *Runtime) removeTaskVolumes(taskID string) error {
	if r.data.Dir() == "" {
		return nil
	}
	return r.data.RemoveAll(filepath.Join(volumesDir, safeName(taskID)))
}

// removeAllTaskVolumes removes every task's volumes (shared ones stay, as
// Docker keeps named volumes), for `vpcsim down`.
func (r *Runtime) removeAllTaskVolumes() error {
	if r.data.Dir() == "" {
		return nil
	}
	d, err := r.data.OpenDir(volumesDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	d.Close()
	entries, err := os.ReadDir(filepath.Join(r.data.Dir(), volumesDir))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Name() != sharedVolumes {
			errs = append(errs, r.data.RemoveAll(filepath.Join(volumesDir, e.Name())))
		}
	}
	return errors.Join(errs...)
}
