package ecsapi

import (
	"context"
	"slices"
	"testing"
)

// TestTaskDefinitionPrivileges: capability names are checked; Fargate refuses
// a privileged container, any added capability but SYS_PTRACE,
// dockerSecurityOptions, devices, pidMode host and ipcMode; a task definition
// with them is compatible with EC2 alone.
func TestTaskDefinitionPrivileges(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fargate := func(r *RegisterTaskDefinitionRequest) {
		r.RequiresCompatibilities = []Compatibility{CompatibilityFargate}
		r.Cpu, r.Memory = str("256"), str("512")
	}
	caps := func(add []string, drop ...string) func(*RegisterTaskDefinitionRequest) {
		return func(r *RegisterTaskDefinitionRequest) {
			r.ContainerDefinitions[0].LinuxParameters = &LinuxParameters{Capabilities: &KernelCapabilities{Add: add, Drop: drop}}
		}
	}
	privileged := func(r *RegisterTaskDefinitionRequest) { r.ContainerDefinitions[0].Privileged = Ptr(true) }
	securityOpts := func(r *RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions[0].DockerSecurityOptions = []string{"no-new-privileges"}
	}
	devices := func(r *RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions[0].LinuxParameters = &LinuxParameters{Devices: []Device{{HostPath: str("/dev/fuse")}}}
	}
	pidHost := func(r *RegisterTaskDefinitionRequest) { r.PidMode = PidModeHost }
	ipcTask := func(r *RegisterTaskDefinitionRequest) { r.IpcMode = IpcModeTask }
	for _, tt := range []struct {
		name    string
		changes []func(*RegisterTaskDefinitionRequest)
		msg     string // "": registered
		compat  []Compatibility
	}{
		{"no privileges on Fargate", []func(*RegisterTaskDefinitionRequest){fargate}, "", []Compatibility{CompatibilityEc2, CompatibilityFargate}},
		{"SYS_PTRACE on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, caps([]string{"SYS_PTRACE"})}, "", []Compatibility{CompatibilityEc2, CompatibilityFargate}},
		{"drops on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, caps(nil, "ALL")}, "", []Compatibility{CompatibilityEc2, CompatibilityFargate}},
		{"NET_ADMIN on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, caps([]string{"NET_ADMIN"})},
			"Tasks using the Fargate launch type only support adding the 'SYS_PTRACE' kernel capability, not 'NET_ADMIN' (container 'nginx').", nil},
		{"privileged on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, privileged},
			"Fargate requires that the 'privileged' setting be 'false' for container 'nginx'.", nil},
		{"dockerSecurityOptions on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, securityOpts},
			"Invalid setting for container 'nginx'. dockerSecurityOptions are not supported on Fargate.", nil},
		{"devices on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, devices},
			"Invalid setting for container 'nginx'. linuxParameters.devices are not supported on Fargate.", nil},
		{"pidMode host on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, pidHost}, "Fargate only supports the pidMode 'task'.", nil},
		{"ipcMode on Fargate", []func(*RegisterTaskDefinitionRequest){fargate, ipcTask}, "ipcMode is not supported on Fargate.", nil},
		{"dockerSecurityOptions on EC2", []func(*RegisterTaskDefinitionRequest){securityOpts}, "", []Compatibility{CompatibilityEc2}},
		{"pidMode host on EC2", []func(*RegisterTaskDefinitionRequest){pidHost}, "", []Compatibility{CompatibilityEc2}},
		{"NET_ADMIN on EC2", []func(*RegisterTaskDefinitionRequest){caps([]string{"NET_ADMIN"}, "ALL")}, "", []Compatibility{CompatibilityEc2}},
		{"privileged on EC2", []func(*RegisterTaskDefinitionRequest){privileged}, "", []Compatibility{CompatibilityEc2}},
		{"unknown name", []func(*RegisterTaskDefinitionRequest){caps([]string{"NET_ADMN"})},
			"Invalid setting for container 'nginx'. 'NET_ADMN' in linuxParameters.capabilities.add is not a Linux capability.", nil},
		{"kernel spelling", []func(*RegisterTaskDefinitionRequest){caps(nil, "CAP_CHOWN")},
			"Invalid setting for container 'nginx'. 'CAP_CHOWN' in linuxParameters.capabilities.drop is not a Linux capability.", nil},
	} {
		req := nginx("p", NetworkModeAwsvpc)
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
