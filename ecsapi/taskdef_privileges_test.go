package ecsapi

import (
	"context"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// TestTaskDefinitionPrivileges: capability names are checked; Fargate refuses
// a privileged container, any added capability but SYS_PTRACE,
// dockerSecurityOptions, devices, pidMode host and ipcMode; a task definition
// with them is compatible with EC2 alone.
func TestTaskDefinitionPrivileges(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fargate := func(r *ecstypes.RegisterTaskDefinitionRequest) {
		r.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}
		r.Cpu, r.Memory = str("256"), str("512")
	}
	caps := func(add []string, drop ...string) func(*ecstypes.RegisterTaskDefinitionRequest) {
		return func(r *ecstypes.RegisterTaskDefinitionRequest) {
			r.ContainerDefinitions[0].LinuxParameters = &ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Add: add, Drop: drop}}
		}
	}
	privileged := func(r *ecstypes.RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions[0].Privileged = ecstypes.Ptr(true)
	}
	securityOpts := func(r *ecstypes.RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions[0].DockerSecurityOptions = []string{"no-new-privileges"}
	}
	devices := func(r *ecstypes.RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions[0].LinuxParameters = &ecstypes.LinuxParameters{Devices: []ecstypes.Device{{HostPath: str("/dev/fuse")}}}
	}
	pidHost := func(r *ecstypes.RegisterTaskDefinitionRequest) { r.PidMode = ecstypes.PidModeHost }
	ipcTask := func(r *ecstypes.RegisterTaskDefinitionRequest) { r.IpcMode = ecstypes.IpcModeTask }
	for _, tt := range []struct {
		name    string
		changes []func(*ecstypes.RegisterTaskDefinitionRequest)
		msg     string // "": registered
		compat  []ecstypes.Compatibility
	}{
		{"no privileges on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2, ecstypes.CompatibilityFargate}},
		{"SYS_PTRACE on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, caps([]string{"SYS_PTRACE"})}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2, ecstypes.CompatibilityFargate}},
		{"drops on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, caps(nil, "ALL")}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2, ecstypes.CompatibilityFargate}},
		{"NET_ADMIN on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, caps([]string{"NET_ADMIN"})},
			"Tasks using the Fargate launch type only support adding the 'SYS_PTRACE' kernel capability, not 'NET_ADMIN' (container 'nginx').", nil},
		{"privileged on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, privileged},
			"Fargate requires that the 'privileged' setting be 'false' for container 'nginx'.", nil},
		{"dockerSecurityOptions on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, securityOpts},
			"Invalid setting for container 'nginx'. dockerSecurityOptions are not supported on Fargate.", nil},
		{"devices on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, devices},
			"Invalid setting for container 'nginx'. linuxParameters.devices are not supported on Fargate.", nil},
		{"pidMode host on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, pidHost}, "Fargate only supports the pidMode 'task'.", nil},
		{"ipcMode on Fargate", []func(*ecstypes.RegisterTaskDefinitionRequest){fargate, ipcTask}, "ipcMode is not supported on Fargate.", nil},
		{"dockerSecurityOptions on EC2", []func(*ecstypes.RegisterTaskDefinitionRequest){securityOpts}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2}},
		{"pidMode host on EC2", []func(*ecstypes.RegisterTaskDefinitionRequest){pidHost}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2}},
		{"NET_ADMIN on EC2", []func(*ecstypes.RegisterTaskDefinitionRequest){caps([]string{"NET_ADMIN"}, "ALL")}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2}},
		{"privileged on EC2", []func(*ecstypes.RegisterTaskDefinitionRequest){privileged}, "", []ecstypes.Compatibility{ecstypes.CompatibilityEc2}},
		{"unknown name", []func(*ecstypes.RegisterTaskDefinitionRequest){caps([]string{"NET_ADMN"})},
			"Invalid setting for container 'nginx'. 'NET_ADMN' in linuxParameters.capabilities.add is not a Linux capability.", nil},
		{"kernel spelling", []func(*ecstypes.RegisterTaskDefinitionRequest){caps(nil, "CAP_CHOWN")},
			"Invalid setting for container 'nginx'. 'CAP_CHOWN' in linuxParameters.capabilities.drop is not a Linux capability.", nil},
	} {
		req := nginx("p", ecstypes.NetworkModeAwsvpc)
		// cpu and memory that fit Fargate, so only privileges decide.
		req.Cpu, req.Memory = str("256"), str("512")
		for _, c := range tt.changes {
			c(&req)
		}
		out, err := w.RegisterTaskDefinition(ctx, west, &req)
		if tt.msg != "" {
			wantErr(t, err, "ClientException", tt.msg)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := out.TaskDefinition.Compatibilities; !slices.Equal(got, tt.compat) {
			t.Errorf("%s: compatibilities %v, want %v", tt.name, got, tt.compat)
		}
	}
}
