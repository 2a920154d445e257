package ecsapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// The rules RegisterTaskDefinition applies, worded as ECS words them.

var familyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// checkTaskDefinition validates a registration and returns the task-level cpu and
// memory normalised to CPU units and MiB (0 when not given).
func checkTaskDefinition(in *ecstypes.RegisterTaskDefinitionRequest) (cpu, mem int, err error) {
	if !familyRE.MatchString(deref(in.Family)) {
		return 0, 0, clientErr("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return 0, 0, clientErr("Container list cannot be empty.")
	}
	if in.Cpu != nil {
		if cpu, err = parseCPU(*in.Cpu); err != nil {
			return 0, 0, err
		}
	}
	if in.Memory != nil {
		if mem, err = parseMemory(*in.Memory); err != nil {
			return 0, 0, err
		}
	}
	mode := in.NetworkMode
	fargate := false
	for _, c := range in.RequiresCompatibilities {
		fargate = fargate || c == ecstypes.CompatibilityFargate
	}
	if fargate {
		if mode != ecstypes.NetworkModeAwsvpc {
			return 0, 0, clientErr("Fargate only supports network mode ‘awsvpc’.")
		}
		if cpu == 0 || mem == 0 {
			return 0, 0, clientErr("Fargate requires that 'cpu' and 'memory' be defined at the task level.")
		}
		if !fargateFits(cpu, mem) {
			return 0, 0, clientErr("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", cpu, mem)
		}
		if err := checkFargateNamespaces(in.PidMode, in.IpcMode); err != nil {
			return 0, 0, err
		}
	}
	seen := map[string]bool{}
	for i := range in.ContainerDefinitions {
		c := &in.ContainerDefinitions[i]
		name := deref(c.Name)
		switch {
		case name == "":
			return 0, 0, clientErr("Container.name should not be null or empty.")
		case deref(c.Image) == "":
			return 0, 0, clientErr("Container.image should not be null or empty.")
		case seen[name]:
			return 0, 0, clientErr("Duplicate container names are not allowed: '%s'.", name)
		}
		seen[name] = true
		if err := checkContainerMemory(c, mem); err != nil {
			return 0, 0, err
		}
		if err := checkNetworkMode(c, mode); err != nil {
			return 0, 0, err
		}
		if err := checkPrivileges(c, fargate); err != nil {
			return 0, 0, err
		}
		if err := checkRestartPolicy(c.RestartPolicy); err != nil {
			return 0, 0, err
		}
	}
	for i := range in.ContainerDefinitions {
		for _, d := range in.ContainerDefinitions[i].DependsOn {
			if !seen[deref(d.ContainerName)] {
				return 0, 0, clientErr("Container '%s' depends on container '%s', which is not defined.", deref(in.ContainerDefinitions[i].Name), deref(d.ContainerName))
			}
		}
	}
	return cpu, mem, nil
}

func checkContainerMemory(c *ecstypes.ContainerDefinition, taskMem int) error {
	name := deref(c.Name)
	if taskMem == 0 && c.Memory == nil && c.MemoryReservation == nil {
		return clientErr("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", name)
	}
	if c.Memory != nil && *c.Memory < 6 {
		return clientErr("Invalid 'memory' setting for container '%s'. Minimum memory is 6 MiB.", name)
	}
	if c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
		return clientErr("Invalid setting for container '%s'. 'memory' must be greater than or equal to 'memoryReservation'.", name)
	}
	if c.Cpu != nil && (*c.Cpu < 0 || *c.Cpu > 10240) {
		return clientErr("Invalid 'cpu' setting for container '%s'.", name)
	}
	return nil
}

// linuxCapabilities are the names linuxParameters.capabilities takes: the
// "Valid values" of KernelCapabilities in the ECS API reference (botocore's
// model documents them; its shape has no enum). "ALL" stands for all of them.
var linuxCapabilities = map[string]bool{
	"ALL": true, "AUDIT_CONTROL": true, "AUDIT_WRITE": true, "BLOCK_SUSPEND": true, "CHOWN": true,
	"DAC_OVERRIDE": true, "DAC_READ_SEARCH": true, "FOWNER": true, "FSETID": true, "IPC_LOCK": true,
	"IPC_OWNER": true, "KILL": true, "LEASE": true, "LINUX_IMMUTABLE": true, "MAC_ADMIN": true,
	"MAC_OVERRIDE": true, "MKNOD": true, "NET_ADMIN": true, "NET_BIND_SERVICE": true, "NET_BROADCAST": true,
	"NET_RAW": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true, "SETUID": true,
	"SYS_ADMIN": true, "SYS_BOOT": true, "SYS_CHROOT": true, "SYS_MODULE": true, "SYS_NICE": true,
	"SYS_PACCT": true, "SYS_PTRACE": true, "SYS_RAWIO": true, "SYS_RESOURCE": true, "SYS_TIME": true,
	"SYS_TTY_CONFIG": true, "SYSLOG": true, "WAKE_ALARM": true,
}

// fargateCapability is the one capability Fargate lets a container add.
const fargateCapability = "SYS_PTRACE"

// checkPrivileges refuses capability names ECS does not know, and on Fargate
// a privileged container or one adding any capability but SYS_PTRACE (the
// API reference: "Tasks launched on Fargate only support adding the
// SYS_PTRACE kernel capability"; privileged "is not supported" there).
// (unverified: the wording of these three refusals; AWS's was not found, so
// they follow its other "Invalid setting for container" and Fargate ones.)
func checkPrivileges(c *ecstypes.ContainerDefinition, fargate bool) error {
	name := deref(c.Name)
	if fargate && deref(c.Privileged) {
		return clientErr("Fargate requires that the 'privileged' setting be 'false' for container '%s'.", name)
	}
	// The API reference: dockerSecurityOptions "isn't valid for containers in
	// tasks using the Fargate launch type", nor are linuxParameters.devices
	// and sharedMemorySize. (unverified: the wording of these refusals.)
	if fargate && len(c.DockerSecurityOptions) > 0 {
		return clientErr("Invalid setting for container '%s'. dockerSecurityOptions are not supported on Fargate.", name)
	}
	lp := c.LinuxParameters
	if fargate && lp != nil && len(lp.Devices) > 0 {
		return clientErr("Invalid setting for container '%s'. linuxParameters.devices are not supported on Fargate.", name)
	}
	if fargate && lp != nil && lp.SharedMemorySize != nil {
		return clientErr("Invalid setting for container '%s'. linuxParameters.sharedMemorySize is not supported on Fargate.", name)
	}
	if lp == nil || lp.Capabilities == nil {
		return nil
	}
	for _, list := range []struct {
		field string
		names []string
	}{{"add", lp.Capabilities.Add}, {"drop", lp.Capabilities.Drop}} {
		for _, n := range list.names {
			if !linuxCapabilities[n] {
				return clientErr("Invalid setting for container '%s'. '%s' in linuxParameters.capabilities.%s is not a Linux capability.", name, n, list.field)
			}
		}
	}
	if fargate {
		for _, n := range lp.Capabilities.Add {
			if n != fargateCapability {
				return clientErr("Tasks using the Fargate launch type only support adding the 'SYS_PTRACE' kernel capability, not '%s' (container '%s').", n, name)
			}
		}
	}
	return nil
}

// checkFargateNamespaces applies the API reference's pidMode and ipcMode
// rules for Fargate: "the only valid value is task" (pidMode); ipcMode "is not
// supported for ... tasks run on Fargate". (unverified: the wording.)
func checkFargateNamespaces(pid ecstypes.PidMode, ipc ecstypes.IpcMode) error {
	if pid != "" && pid != ecstypes.PidModeTask {
		return clientErr("Fargate only supports the pidMode 'task'.")
	}
	if ipc != "" {
		return clientErr("ipcMode is not supported on Fargate.")
	}
	return nil
}

// fargateCompatible reports whether containers can run on Fargate as far as
// their privileges go: none privileged, none adding a capability but
// SYS_PTRACE, none with dockerSecurityOptions, devices or sharedMemorySize.
func fargateCompatible(defs []ecstypes.ContainerDefinition) bool {
	for i := range defs {
		if checkPrivileges(&defs[i], true) != nil {
			return false
		}
	}
	return true
}

// checkNetworkMode applies what awsvpc and host mode forbid or require.
func checkNetworkMode(c *ecstypes.ContainerDefinition, mode ecstypes.NetworkMode) error {
	if mode == ecstypes.NetworkModeAwsvpc || mode == ecstypes.NetworkModeHost {
		for _, p := range c.PortMappings {
			if p.HostPort != nil && p.ContainerPort != nil && *p.HostPort != *p.ContainerPort {
				return clientErr("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
			}
		}
	}
	if mode != ecstypes.NetworkModeAwsvpc {
		return nil
	}
	switch {
	case len(c.Links) > 0:
		return clientErr("Links are not supported when networkMode=awsvpc.")
	case c.Hostname != nil:
		return clientErr("Hostname is not supported when networkMode=awsvpc.")
	case len(c.DnsServers) > 0:
		return clientErr("DNS servers are not supported when networkMode=awsvpc.")
	case len(c.DnsSearchDomains) > 0:
		return clientErr("DNS search domains are not supported when networkMode=awsvpc.")
	case len(c.ExtraHosts) > 0:
		return clientErr("Extra hosts are not supported when networkMode=awsvpc.")
	case c.DisableNetworking != nil:
		return clientErr("Disable networking is not supported when networkMode=awsvpc.")
	}
	return nil
}

// parseCPU reads task-level cpu: CPU units ("256") or vCPUs ("0.25 vCPU", "1 vcpu").
func parseCPU(s string) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if v, ok := strings.CutSuffix(t, "vcpu"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 {
			return 0, clientErr("Invalid 'cpu' setting for task.")
		}
		return int(f * 1024), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 128 || n > 196608 {
		return 0, clientErr("Invalid 'cpu' setting for task.")
	}
	return n, nil
}

// parseMemory reads task-level memory: MiB ("512") or GB ("0.5 GB", "1GB").
func parseMemory(s string) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if v, ok := strings.CutSuffix(t, "gb"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 {
			return 0, clientErr("Invalid 'memory' setting for task.")
		}
		return int(f * 1024), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 6 {
		return 0, clientErr("Invalid 'memory' setting for task.")
	}
	return n, nil
}

// fargateSizes are the CPU units Fargate offers with their memory range (MiB)
// and step.
var fargateSizes = []struct{ cpu, min, max, step int }{
	{256, 512, 2048, 0}, // 512, 1024, 2048
	{512, 1024, 4096, 1024},
	{1024, 2048, 8192, 1024},
	{2048, 4096, 16384, 1024},
	{4096, 8192, 30720, 1024},
	{8192, 16384, 61440, 4096},
	{16384, 32768, 122880, 8192},
}

func fargateFits(cpu, mem int) bool {
	for _, f := range fargateSizes {
		if f.cpu != cpu {
			continue
		}
		if f.step == 0 {
			return mem == 512 || mem == 1024 || mem == 2048
		}
		return mem >= f.min && mem <= f.max && (mem-f.min)%f.step == 0
	}
	return false
}

func itoa(n int) string { return fmt.Sprint(n) }
