package runtime

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/ecsapi/runtime/initproc"
)

// initMount is where a container with initProcessEnabled finds vpcsim's init
// (Docker's is /sbin/docker-init). /dev is the container's own tmpfs, so the
// image's root filesystem, perhaps read-only, is left alone; podman puts its
// init there too.
const initMount = "/dev/init"

// initEnabled reports whether the container runs under an init process.
func initEnabled(def ecstypes.ContainerDefinition) bool {
	return def.LinuxParameters != nil && deref(def.LinuxParameters.InitProcessEnabled)
}

// withInit bind-mounts binary, vpcsim itself, read-only at initMount and runs
// args as the child of its init subcommand, which becomes the container's PID 1.
func withInit(binary string, args []string) []oci.SpecOpts {
	return []oci.SpecOpts{
		oci.WithMounts([]specs.Mount{{Destination: initMount, Type: "bind", Source: binary, Options: []string{"bind", "ro"}}}),
		oci.WithProcessArgs(append([]string{initMount, initproc.Command, "--"}, args...)...),
	}
}

// checkInitBinary fails unless binary is an ELF executable that needs no
// dynamic loader: it runs inside images that have none, or another libc.
func checkInitBinary(binary string) error {
	if binary == "" {
		return errors.New("initProcessEnabled: vpcsim was started without an init binary (runtime.WithInitBinary)")
	}
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("initProcessEnabled: the init binary: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("initProcessEnabled: the init binary %s is dynamically linked, so it cannot run inside a container: build vpcsim with CGO_ENABLED=0 (make build does)", binary)
		}
	}
	return nil
}
