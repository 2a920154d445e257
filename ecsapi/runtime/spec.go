package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
)

const mib = 1 << 20

// minCPUShares is what the ECS agent gives a container with fewer cpu units
// (Docker's floor: the kernel's minimum is 2).
const minCPUShares = 2

// containerSpec turns a container definition into OCI spec options on top of
// containerd's defaults, as the ECS agent turns it into a Docker create call;
// initBinary is the init of initProcessEnabled (see init.go). Not applied yet:
// devices, and dnsServers/extraHosts (not allowed in awsvpc). healthCheck and
// dependsOn are not part of the spec: see health.go and deps.go.
func containerSpec(run ecsapi.TaskRun, c ecsapi.ContainerRun, img containerd.Image, ic imageConfig, initBinary string) ([]oci.SpecOpts, error) {
	def := c.Def
	args := processArgs(def.EntryPoint, c.Command, ic.Entrypoint, ic.Cmd)
	if len(args) == 0 {
		return nil, errors.New("no command specified: the container definition and the image have neither an entryPoint nor a command")
	}
	fileEnv, err := envFiles(def.EnvironmentFiles)
	if err != nil {
		return nil, err
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img), // env, working dir and user of the image
		oci.WithProcessArgs(args...),
		oci.WithEnv(environment(append(fileEnv, c.Environment...))),
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

	// Network: awsvpc containers join the task's namespace, so they share its
	// eth0 and localhost; without one (bridge and host modes are still to
	// come) they use the host's, as host mode does.
	switch {
	case deref(def.DisableNetworking):
		// The default spec's own empty namespace: only lo.
	case run.NetnsPath != "":
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: run.NetnsPath}))
	default:
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostHostsFile, oci.WithHostResolvconf)
	}
	// ECS refuses hostname with awsvpc; elsewhere it is Docker's --hostname.
	if h := deref(def.Hostname); h != "" && run.NetnsPath == "" {
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

	if deref(def.Privileged) {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	}
	if lp := def.LinuxParameters; lp != nil {
		if lp.Swappiness != nil {
			opts = append(opts, withSwappiness(uint64(*lp.Swappiness)))
		}
		if caps := lp.Capabilities; caps != nil {
			opts = append(opts, capabilityOpts(caps.Add, caps.Drop)...)
		}
		if lp.SharedMemorySize != nil {
			opts = append(opts, withShmSize(int64(*lp.SharedMemorySize)))
		}
		for _, t := range lp.Tmpfs {
			opts = append(opts, withTmpfs(deref(t.ContainerPath), int64(deref(t.Size)), t.MountOptions))
		}
	}
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
func environment(kv []ecsapi.KeyValuePair) []string {
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
func withUlimits(ulimits []ecsapi.Ulimit) oci.SpecOpts {
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

// capabilityOpts adds and drops capabilities named as ECS names them
// ("NET_ADMIN", or "ALL").
func capabilityOpts(add, drop []string) []oci.SpecOpts {
	var opts []oci.SpecOpts
	capName := func(c string) string {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		return c
	}
	var adds, drops []string
	for _, c := range add {
		if strings.EqualFold(c, "ALL") {
			opts = append(opts, oci.WithAllKnownCapabilities)
			continue
		}
		adds = append(adds, capName(c))
	}
	for _, c := range drop {
		if strings.EqualFold(c, "ALL") {
			opts = append(opts, oci.WithCapabilities(nil))
			continue
		}
		drops = append(drops, capName(c))
	}
	// Docker applies drops before adds, so "drop ALL, add X" leaves X.
	if len(drops) > 0 {
		opts = append(opts, oci.WithDroppedCapabilities(drops))
	}
	if len(adds) > 0 {
		opts = append(opts, oci.WithAddedCapabilities(adds))
	}
	return opts
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
