package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/pkg/cap"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

const mib = 1 << 20

// minCPUShares is what the ECS agent gives a container with fewer cpu units
// (Docker's floor: the kernel's minimum is 2).
const minCPUShares = 2

// containerSpec turns a container definition into OCI spec options on top of
// containerd's defaults, as the ECS agent turns it into a Docker create call;
// initBinary is the init of initProcessEnabled (see init.go). What comes from
// the task and the operator's settings (cgroup, confinement, systemControls,
// devices, pidMode, ipcMode) is taskSpec's (taskspec.go). Not applied yet:
// dnsServers/extraHosts (not allowed in awsvpc). healthCheck and dependsOn are
// not part of the spec: see health.go and deps.go; environment files and
// volumes are resolved for the whole task first: envfiles.go and volumes.go.
func containerSpec(run ecsapi.TaskRun, c ecsapi.ContainerRun, img containerd.Image, ic imageConfig, initBinary string) ([]oci.SpecOpts, error) {
	def := c.Def
	args := processArgs(def.EntryPoint, c.Command, ic.Entrypoint, ic.Cmd)
	if len(args) == 0 {
		return nil, errors.New("no command specified: the container definition and the image have neither an entryPoint nor a command")
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img), // env, working dir and user of the image
		oci.WithProcessArgs(args...),
		// Start put the environment files' variables first (envfiles.go).
		oci.WithEnv(environment(c.Environment)),
	}
	if initEnabled(def) {
		opts = append(opts, withInit(initBinary, args)...)
	}
	if wd := deref(def.WorkingDirectory); wd != "" {
		opts = append(opts, oci.WithProcessCwd(wd))
	}
	if u := deref(def.User); u != "" {
		opts = append(opts, oci.WithUser(u))
	}
	if deref(def.ReadonlyRootFilesystem) {
		opts = append(opts, oci.WithRootFSReadonly())
	}

	// Network: the containers join the task's namespace (awsvpc, bridge and
	// none: the task's own; host: its instance's), so they share its eth0 and
	// localhost. Never vpcsim's own: Start refuses a task without one
	// (checkNetns).
	if !deref(def.DisableNetworking) { // else the default spec's own empty namespace: only lo
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: run.NetnsPath}))
	}
	// Docker's --hostname, in the container's own UTS namespace; ECS refuses
	// it with awsvpc.
	if h := deref(def.Hostname); h != "" && run.NetworkMode != ecstypes.NetworkModeAwsvpc {
		opts = append(opts, oci.WithHostname(h))
	}

	// Resources: memory is the hard limit in MiB, memoryReservation the soft
	// one, cpu the relative CPU shares.
	if m := deref(def.Memory); m > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(m)*mib))
		if lp := def.LinuxParameters; lp != nil && lp.MaxSwap != nil {
			// The limit on memory+swap, as Docker's --memory-swap.
			opts = append(opts, oci.WithMemorySwap(int64(m)*mib+int64(*lp.MaxSwap)*mib))
		}
	}
	if r := deref(def.MemoryReservation); r > 0 {
		opts = append(opts, withMemoryReservation(int64(r)*mib))
	}
	opts = append(opts, oci.WithCPUShares(uint64(max(deref(def.Cpu), minCPUShares))))
	if len(def.Ulimits) > 0 {
		opts = append(opts, withUlimits(def.Ulimits))
	}

	privileged := deref(def.Privileged)
	if privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	}
	var capAdd, capDrop []string
	if lp := def.LinuxParameters; lp != nil {
		if lp.Swappiness != nil {
			opts = append(opts, withSwappiness(uint64(*lp.Swappiness)))
		}
		if caps := lp.Capabilities; caps != nil {
			capAdd, capDrop = caps.Add, caps.Drop
		}
		if lp.SharedMemorySize != nil {
			opts = append(opts, withShmSize(int64(*lp.SharedMemorySize)))
		}
		for _, t := range lp.Tmpfs {
			opts = append(opts, withTmpfs(deref(t.ContainerPath), int64(deref(t.Size)), t.MountOptions))
		}
	}
	// Last: the capabilities depend on the user, which WithUser resolved.
	opts = append(opts, withCapabilities(capAdd, capDrop, privileged))
	return opts, nil
}

// imageConfig is the part of an image's config that decides the command.
type imageConfig struct {
	Entrypoint, Cmd []string
}

// processArgs merges the definition's entryPoint and command with the image's
// ENTRYPOINT and CMD as Docker does: command replaces CMD; entryPoint replaces
// ENTRYPOINT and then CMD no longer applies (only command follows it).
func processArgs(entryPoint, command, imageEntrypoint, imageCmd []string) []string {
	if len(entryPoint) == 0 {
		entryPoint = imageEntrypoint
		if len(command) == 0 {
			command = imageCmd
		}
	}
	return append(append([]string{}, entryPoint...), command...)
}

// environment renders name=value pairs, the last value of a name winning
// (overrides come after the definition's), in first-seen order.
func environment(kv []ecstypes.KeyValuePair) []string {
	idx := map[string]int{}
	var out []string
	for _, p := range kv {
		name := deref(p.Name)
		if name == "" {
			continue
		}
		e := name + "=" + deref(p.Value)
		if i, ok := idx[name]; ok {
			out[i] = e
			continue
		}
		idx[name] = len(out)
		out = append(out, e)
	}
	return out
}

func withMemoryReservation(bytes int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		mem := linuxMemory(s)
		mem.Reservation = &bytes
		return nil
	}
}

func withSwappiness(v uint64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		linuxMemory(s).Swappiness = &v
		return nil
	}
}

func linuxMemory(s *oci.Spec) *specs.LinuxMemory {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	if s.Linux.Resources.Memory == nil {
		s.Linux.Resources.Memory = &specs.LinuxMemory{}
	}
	return s.Linux.Resources.Memory
}

// withUlimits sets rlimits (ECS names them as Docker does: "nofile" is
// RLIMIT_NOFILE), replacing the defaults of the same type.
func withUlimits(ulimits []ecstypes.Ulimit) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		for _, u := range ulimits {
			typ := "RLIMIT_" + strings.ToUpper(string(u.Name))
			rl := specs.POSIXRlimit{Type: typ, Soft: uint64(deref(u.SoftLimit)), Hard: uint64(deref(u.HardLimit))}
			replaced := false
			for i := range s.Process.Rlimits {
				if s.Process.Rlimits[i].Type == typ {
					s.Process.Rlimits[i], replaced = rl, true
				}
			}
			if !replaced {
				s.Process.Rlimits = append(s.Process.Rlimits, rl)
			}
		}
		return nil
	}
}

// dockerDefaultCapabilities is the set Docker gives a container that asks for
// nothing (moby oci/caps.DefaultCapabilities), and what containerd's default
// spec has too: containers get these and no more unless the task definition
// adds some or is privileged.
var dockerDefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// dockerCapabilities is the capability set Docker computes for a container,
// which is what the ECS agent asks it for (moby oci/caps.TweakCapabilities):
// privileged → all, add and drop ignored; add ALL → all but those dropped;
// drop ALL → those added alone; otherwise the defaults less those dropped,
// plus those added. add and drop name capabilities as ECS does ("NET_ADMIN",
// "ALL"; RegisterTaskDefinition checks them); the result as the kernel does
// ("CAP_NET_ADMIN"). all is every capability the host has.
func dockerCapabilities(defaults, all, add, drop []string, privileged bool) []string {
	kernelNames := func(names []string) (caps []string, hasAll bool) {
		for _, n := range names {
			n = strings.ToUpper(strings.TrimSpace(n))
			if n == "ALL" {
				hasAll = true
				continue
			}
			if !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			caps = append(caps, n)
		}
		return caps, hasAll
	}
	adds, addAll := kernelNames(add)
	drops, dropAll := kernelNames(drop)
	var out []string
	switch {
	case privileged:
		out = slices.Clone(all)
	case addAll:
		for _, c := range all {
			if !slices.Contains(drops, c) {
				out = append(out, c)
			}
		}
	case dropAll:
		out = adds
	default:
		for _, c := range defaults {
			if !slices.Contains(drops, c) {
				out = append(out, c)
			}
		}
		out = append(out, adds...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// withCapabilities sets the process's capabilities as Docker does (see
// dockerCapabilities), in the bounding, effective and permitted sets of a root
// process; a process of another user gets the bounding set only, as execve
// would leave it (moby oci.SetCapabilities). Never inheritable or ambient.
func withCapabilities(add, drop []string, privileged bool) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		var all []string
		if privileged || slices.ContainsFunc(add, func(c string) bool { return strings.EqualFold(strings.TrimSpace(c), "ALL") }) {
			// Every capability this host's kernel has: vpcsim runs as root
			// and holds them all.
			var err error
			if all, err = cap.Current(); err != nil {
				return fmt.Errorf("read this process's capabilities: %w", err)
			}
		}
		set := dockerCapabilities(dockerDefaultCapabilities, all, add, drop, privileged)
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		c := &specs.LinuxCapabilities{Bounding: set}
		if s.Process.User.UID == 0 {
			c.Effective, c.Permitted = set, set
		}
		s.Process.Capabilities = c
		return nil
	}
}

// withShmSize resizes the default /dev/shm (64 MiB) to sizeMiB.
func withShmSize(sizeMiB int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		for i, m := range s.Mounts {
			if m.Destination != "/dev/shm" {
				continue
			}
			var o []string
			for _, opt := range m.Options {
				if !strings.HasPrefix(opt, "size=") {
					o = append(o, opt)
				}
			}
			s.Mounts[i].Options = append(o, fmt.Sprintf("size=%dm", sizeMiB))
		}
		return nil
	}
}

// withTmpfs mounts a tmpfs of sizeMiB; without options it gets Docker's
// defaults for --tmpfs.
func withTmpfs(path string, sizeMiB int64, options []string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if path == "" {
			return errors.New("tmpfs without a containerPath")
		}
		opts := append([]string{}, options...)
		if len(opts) == 0 {
			opts = []string{"nosuid", "nodev", "noexec"}
		}
		if sizeMiB > 0 {
			opts = append(opts, fmt.Sprintf("size=%dm", sizeMiB))
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: path, Type: "tmpfs", Source: "tmpfs", Options: opts})
		return nil
	}
}
