package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// taskSpec is what a container's spec takes from its task and from the
// operator's settings, beyond containerSpec (spec.go): its cgroup beneath the
// task's, its confinement (confine.go), systemControls, linuxParameters.devices
// and the task's pidMode and ipcMode. It comes last: seccomp depends on the
// capabilities containerSpec set.
func (r *Runtime) taskSpec(run ecsapi.TaskRun, c ecsapi.ContainerRun, id string) ([]oci.SpecOpts, error) {
	def := c.Def
	opts := []oci.SpecOpts{oci.WithCgroup(r.cgroups.containerPath(run.TaskID, id))}
	so, err := parseSecurityOptions(def.DockerSecurityOptions)
	if err != nil {
		return nil, err
	}
	so.credentialSpecs = append(so.credentialSpecs, def.CredentialSpecs...)
	confine, err := confinement(so, deref(def.Privileged), r.hostSec)
	if err != nil {
		return nil, err
	}
	opts = append(opts, confine...)
	if len(def.SystemControls) > 0 {
		sysctls, err := systemControls(def.SystemControls, run.NetworkMode, run.IpcMode)
		if err != nil {
			return nil, err
		}
		opts = append(opts, withSysctls(sysctls))
	}
	if lp := def.LinuxParameters; lp != nil && len(lp.Devices) > 0 {
		devs, err := r.devices(lp.Devices)
		if err != nil {
			return nil, err
		}
		opts = append(opts, devs...)
	}
	ns, err := r.sharedNamespaces(run)
	if err != nil {
		return nil, err
	}
	return append(opts, ns...), nil
}

// checkNetns fails unless path is a network namespace and not vpcsim's own
// (the machine's): a container never shares the network of the machine it
// runs on, whatever its task's network mode (host mode is its instance's
// namespace).
func checkNetns(path string) error {
	if path == "" {
		return errors.New("the task has no network namespace to join (a container never joins this machine's own network)")
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("the task's network namespace %s: %w", path, err)
	}
	if st.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("the task's network namespace %s is not a namespace", path)
	}
	ns, err := os.Stat(path)
	if err != nil {
		return err
	}
	own, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if os.SameFile(ns, own) {
		return fmt.Errorf("the task's network namespace %s is this machine's own network", path)
	}
	return nil
}

// namespacedSysctls are the kernel parameters a container may set, as Docker
// allows them (moby opts.ValidateSysctl): those of the IPC namespace, and of
// the network namespace (net.*, fs.mqueue.*).
var namespacedSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// systemControls checks a container's systemControls and answers them as
// sysctls. Only namespaced parameters are allowed, as Docker allows them; and
// as ECS says: not the network's in host mode (the instance's namespace is
// shared by every host-mode task on it), not the IPC namespace's with ipcMode
// host. In awsvpc and bridge mode a net.* one applies to every container of
// the task, which share one namespace.
func systemControls(controls []ecstypes.SystemControl, mode ecstypes.NetworkMode, ipc ecstypes.IpcMode) (map[string]string, error) {
	out := map[string]string{}
	for _, sc := range controls {
		name, value := deref(sc.Namespace), deref(sc.Value)
		isNet := strings.HasPrefix(name, "net.")
		isIPC := namespacedSysctls[name] || strings.HasPrefix(name, "fs.mqueue.")
		switch {
		case !isNet && !isIPC:
			return nil, fmt.Errorf("systemControls: %s is not a namespaced kernel parameter (only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.* are)", name)
		case isNet && mode == ecstypes.NetworkModeHost:
			return nil, fmt.Errorf("systemControls: %s: network parameters are not supported with the host network mode", name)
		case isIPC && ipc == ecstypes.IpcModeHost:
			return nil, fmt.Errorf("systemControls: %s: IPC parameters are not supported with ipcMode host", name)
		}
		out[name] = value
	}
	return out, nil
}

func withSysctls(sysctls map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for k, v := range sysctls {
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

// devices maps host devices into the container (Docker's --device), each
// only when the operator opened it (--host-device): a device of the machine
// is the machine's. A device the operator opened as a directory opens those
// beneath it.
func (r *Runtime) devices(devs []ecstypes.Device) ([]oci.SpecOpts, error) {
	var opts []oci.SpecOpts
	for _, d := range devs {
		host := filepath.Clean(deref(d.HostPath))
		if !r.hostDeviceOpen(host) {
			return nil, fmt.Errorf("linuxParameters.devices: %s is not a device the operator opened to tasks (vpcsim serve --host-device %s)", host, host)
		}
		perms := ""
		for _, p := range d.Permissions {
			perms += map[ecstypes.DeviceCgroupPermission]string{
				ecstypes.DeviceCgroupPermissionRead: "r", ecstypes.DeviceCgroupPermissionWrite: "w", ecstypes.DeviceCgroupPermissionMknod: "m",
			}[p]
		}
		if perms == "" {
			perms = "rwm" // Docker's default
		}
		opts = append(opts, oci.WithDevices(host, deref(d.ContainerPath), perms))
	}
	return opts, nil
}

func (r *Runtime) hostDeviceOpen(path string) bool {
	return slices.ContainsFunc(r.hostDevices, func(open string) bool {
		return path == open || strings.HasPrefix(path, open+"/")
	})
}

// sharedNamespaces applies the task's pidMode and ipcMode. pidMode task joins
// the PID namespace of the task's pause process (holder.go). host shares this
// machine's process or IPC namespace, which loosens the confinement of every
// container of the task (it sees, and with CAP_KILL signals, every process of
// the machine): only when the operator allowed it (--allow-host-namespaces).
// ipcMode none keeps a private IPC namespace without /dev/shm, as Docker's.
// ipcMode task (one IPC namespace and /dev/shm for the task) is not supported.
func (r *Runtime) sharedNamespaces(run ecsapi.TaskRun) ([]oci.SpecOpts, error) {
	var opts []oci.SpecOpts
	switch run.PidMode {
	case "":
	case ecstypes.PidModeTask:
		pid, ok := r.pausePID(run.TaskID)
		if !ok {
			return nil, errors.New("pidMode task: the task's pause process is gone")
		}
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace, Path: fmt.Sprintf("/proc/%d/ns/pid", pid)}))
	case ecstypes.PidModeHost:
		if !r.allowHostNamespaces {
			return nil, errors.New("pidMode host shares this machine's process namespace: vpcsim allows it only with `vpcsim serve --allow-host-namespaces`")
		}
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	default:
		return nil, fmt.Errorf("pidMode %s is not supported by vpcsim", run.PidMode)
	}
	switch run.IpcMode {
	case "":
	case ecstypes.IpcModeNone:
		opts = append(opts, withoutMount("/dev/shm"))
	case ecstypes.IpcModeHost:
		if !r.allowHostNamespaces {
			return nil, errors.New("ipcMode host shares this machine's IPC namespace: vpcsim allows it only with `vpcsim serve --allow-host-namespaces`")
		}
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace), withoutMount("/dev/shm"),
			oci.WithMounts([]specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rw"}}}))
	default:
		return nil, fmt.Errorf("ipcMode %s is not supported by vpcsim", run.IpcMode)
	}
	return opts, nil
}

// withoutMount drops the default spec's mount at dest.
func withoutMount(dest string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == dest })
		return nil
	}
}
