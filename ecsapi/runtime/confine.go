package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/apparmor"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	"github.com/opencontainers/selinux/go-selinux/label"
	"golang.org/x/sys/unix"
)

// What confines a container beyond its capabilities (spec.go) and its task's
// cgroup (taskcgroup.go), as Docker confines one for the ECS agent: Docker's
// default seccomp profile, a default AppArmor profile where the kernel has
// AppArmor, SELinux labels where it has SELinux, and no_new_privs on request.
// dockerSecurityOptions and privileged change them as they change Docker's.

// appArmorDefaultProfile is the name vpcsim loads containerd's default
// AppArmor profile under (Docker's is docker-default).
const appArmorDefaultProfile = "vpcsim-default"

// securityOptions is what a container's dockerSecurityOptions ask for, read
// as dockerd reads --security-opt (daemon/create.go parseSecurityOpt): "KEY=V"
// or, deprecated but still what ECS documents, "KEY:V".
type securityOptions struct {
	noNewPrivileges bool
	seccomp         string   // "" or "builtin": Docker's default profile; "unconfined": none
	appArmor        string   // "": the default profile; "unconfined"; or a loaded profile's name
	labels          []string // SELinux: disable, user:U, role:R, type:T, level:L, filetype:T
	credentialSpecs []string // gMSA credential specs (Active Directory)
}

// parseSecurityOptions reads dockerSecurityOptions; an option dockerd would
// refuse is refused with its words ("invalid --security-opt").
func parseSecurityOptions(opts []string) (securityOptions, error) {
	var so securityOptions
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges":
			so.noNewPrivileges = true
			continue
		case "disable":
			so.labels = append(so.labels, "disable")
			continue
		}
		sep := "="
		if !strings.Contains(opt, "=") {
			sep = ":"
		}
		k, v, ok := strings.Cut(opt, sep)
		if !ok {
			return so, fmt.Errorf("invalid --security-opt 1: %q", opt)
		}
		switch k {
		case "label":
			so.labels = append(so.labels, v)
		case "apparmor":
			so.appArmor = v
		case "seccomp":
			if v != "unconfined" && v != "builtin" {
				// dockerd reads any other value as a profile's JSON, which the
				// docker CLI reads from a file of the client's; ECS has no way
				// to pass one, and a host path is not the caller's to name.
				return so, fmt.Errorf("invalid --security-opt seccomp=%s: only seccomp=unconfined and seccomp=builtin (Docker's default profile) are supported", v)
			}
			so.seccomp = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, fmt.Errorf("invalid --security-opt 2: %q", opt)
			}
			so.noNewPrivileges = b
		case "credentialspec":
			so.credentialSpecs = append(so.credentialSpecs, v)
		default:
			return so, fmt.Errorf("invalid --security-opt 2: %q", opt)
		}
	}
	return so, nil
}

// hostSecurity is what this machine's kernel offers to confine containers.
type hostSecurity struct {
	appArmor       bool // the kernel has AppArmor, enabled
	appArmorParser bool // apparmor_parser is on PATH, to load the default profile
	// loadAppArmor loads the default profile under a name if it is not loaded
	// (contrib/apparmor.LoadDefaultProfile); tests replace it.
	loadAppArmor func(name string) error
}

// probeHostSecurity reads what the kernel has, and says in the log what
// containers will get.
func probeHostSecurity(log *slog.Logger) hostSecurity {
	h := hostSecurity{loadAppArmor: apparmor.LoadDefaultProfile}
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.HasPrefix(string(b), "Y") {
		h.appArmor = true
	}
	if _, err := exec.LookPath("apparmor_parser"); err == nil {
		h.appArmorParser = true
	}
	switch {
	case !h.appArmor:
		log.Info("this kernel has no AppArmor: containers get no AppArmor profile (seccomp and capabilities still confine them)")
	case !h.appArmorParser:
		log.Warn("the kernel has AppArmor but apparmor_parser is not installed: containers run without the default AppArmor profile (install the apparmor package)")
	}
	if !kernelHasSeccomp() {
		log.Warn("this kernel has no seccomp support: containers with Docker's default seccomp profile will fail to start")
	}
	return h
}

// kernelHasSeccomp reports whether the kernel filters system calls
// (CONFIG_SECCOMP_FILTER): PR_GET_SECCOMP answers EINVAL without it.
func kernelHasSeccomp() bool {
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return !errors.Is(err, unix.EINVAL)
}

// confinement turns a container's security options and privileged flag into
// spec options, as dockerd does for the ECS agent. It must come after the
// capabilities (withCapabilities): Docker's seccomp profile allows some calls
// only to holders of some capabilities.
//
//   - seccomp: Docker's default profile (containerd's contrib/seccomp, the
//     same list), unless privileged or seccomp=unconfined.
//   - AppArmor, where the kernel has it: apparmor=PROFILE, else "unconfined"
//     when privileged, else the default profile (containerd's
//     contrib/apparmor, loaded as vpcsim-default), which is skipped with a
//     warning at start-up when apparmor_parser is missing.
//   - SELinux, where the kernel has it: the label options (dockerd's
//     label.InitLabels); privileged containers get none, as under Docker.
//     Without SELinux they change nothing, as under Docker.
//   - no-new-privileges: the OCI process's noNewPrivileges, off otherwise (as
//     under Docker; containerd's own default is on).
//
// credentialspec (gMSA, Active Directory) cannot be had here: the container
// fails to be created rather than run without it.
func confinement(so securityOptions, privileged bool, host hostSecurity) ([]oci.SpecOpts, error) {
	if len(so.credentialSpecs) > 0 {
		return nil, fmt.Errorf("dockerSecurityOptions credentialspec:%s: gMSA credential specs need Active Directory, which vpcsim does not provide", so.credentialSpecs[0])
	}
	// containerd's default spec sets no_new_privs; Docker sets it only when
	// asked, and setuid programs (su, sudo, ping in some images) need it off.
	opts := []oci.SpecOpts{oci.WithNewPrivileges}
	if so.noNewPrivileges {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	if !privileged && so.seccomp != "unconfined" {
		opts = append(opts, seccomp.WithDefaultProfile())
	}
	if host.appArmor {
		profile := so.appArmor
		switch {
		case profile == "" && privileged:
			profile = "unconfined"
		case profile == "" && !host.appArmorParser:
			// Warned about at start-up.
		case profile == "":
			opts = append(opts, withLoadedAppArmor(host.loadAppArmor, appArmorDefaultProfile))
		}
		if profile != "" {
			opts = append(opts, apparmor.WithProfile(profile))
		}
	}
	if !privileged && len(so.labels) > 0 {
		processLabel, mountLabel, err := label.InitLabels(so.labels)
		if err != nil {
			return nil, fmt.Errorf("dockerSecurityOptions: %w", err)
		}
		opts = append(opts, withSELinuxLabels(processLabel, mountLabel))
	}
	return opts, nil
}

// withLoadedAppArmor loads the default profile (if it is not loaded yet: an
// unattended upgrade may have unloaded it, so it is checked each time, as
// dockerd checks) and sets it.
func withLoadedAppArmor(load func(string) error, name string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if err := load(name); err != nil {
			return fmt.Errorf("load the default AppArmor profile %s: %w", name, err)
		}
		s.Process.ApparmorProfile = name
		return nil
	}
}

func withSELinuxLabels(process, mount string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		s.Process.SelinuxLabel = process
		if s.Linux != nil {
			s.Linux.MountLabel = mount
		}
		return nil
	}
}
