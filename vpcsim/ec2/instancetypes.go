package ec2

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// InstanceType is what DescribeInstanceTypes says of a type, and what ECS needs:
// CPU and memory to offer tasks, and how many ENIs it can hold.
type InstanceType struct {
	Name          string
	VCPUs         int
	CoresPerCPU   int // threads per core
	DefaultCores  int
	MemoryMiB     int64
	MaxENIs       int
	IPv4PerENI    int
	IPv6PerENI    int
	Network       string // NetworkPerformance
	ClockGHz      float64
	FreeTier      bool
	CurrentGen    bool
	BurstableCPU  bool
	Architectures []string
}

// instanceTypes is a table of common types with their real figures.
var instanceTypes = []InstanceType{
	{Name: "m1.small", VCPUs: 1, DefaultCores: 1, CoresPerCPU: 1, MemoryMiB: 1740, MaxENIs: 2, IPv4PerENI: 4, Network: "Low", ClockGHz: 2.0},
	{Name: "t3.nano", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 512, MaxENIs: 2, IPv4PerENI: 2, IPv6PerENI: 2, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true},
	{Name: "t3.micro", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 1024, MaxENIs: 2, IPv4PerENI: 2, IPv6PerENI: 2, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true, FreeTier: true},
	{Name: "t3.small", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 2048, MaxENIs: 3, IPv4PerENI: 4, IPv6PerENI: 4, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true},
	{Name: "t3.medium", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 6, IPv6PerENI: 6, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true},
	{Name: "t3.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 3, IPv4PerENI: 12, IPv6PerENI: 12, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true},
	{Name: "c5.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 10 Gigabit", ClockGHz: 3.4},
	{Name: "c5.xlarge", VCPUs: 4, DefaultCores: 2, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 10 Gigabit", ClockGHz: 3.4},
	{Name: "c5.2xlarge", VCPUs: 8, DefaultCores: 4, CoresPerCPU: 2, MemoryMiB: 16384, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 10 Gigabit", ClockGHz: 3.4},
	{Name: "c5.4xlarge", VCPUs: 16, DefaultCores: 8, CoresPerCPU: 2, MemoryMiB: 32768, MaxENIs: 8, IPv4PerENI: 30, IPv6PerENI: 30, Network: "Up to 10 Gigabit", ClockGHz: 3.4},
	{Name: "m5.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 10 Gigabit", ClockGHz: 3.1},
	{Name: "m5.xlarge", VCPUs: 4, DefaultCores: 2, CoresPerCPU: 2, MemoryMiB: 16384, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 10 Gigabit", ClockGHz: 3.1},
	{Name: "m5.2xlarge", VCPUs: 8, DefaultCores: 4, CoresPerCPU: 2, MemoryMiB: 32768, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 10 Gigabit", ClockGHz: 3.1},
	{Name: "m5.4xlarge", VCPUs: 16, DefaultCores: 8, CoresPerCPU: 2, MemoryMiB: 65536, MaxENIs: 8, IPv4PerENI: 30, IPv6PerENI: 30, Network: "Up to 10 Gigabit", ClockGHz: 3.1},
	{Name: "m5.24xlarge", VCPUs: 96, DefaultCores: 48, CoresPerCPU: 2, MemoryMiB: 393216, MaxENIs: 15, IPv4PerENI: 50, IPv6PerENI: 50, Network: "25 Gigabit", ClockGHz: 3.1},
	{Name: "t2.micro", VCPUs: 1, DefaultCores: 1, CoresPerCPU: 1, MemoryMiB: 1024, MaxENIs: 2, IPv4PerENI: 2, IPv6PerENI: 2, Network: "Low to Moderate", ClockGHz: 2.5, BurstableCPU: true, FreeTier: true},
	{Name: "t2.small", VCPUs: 1, DefaultCores: 1, CoresPerCPU: 1, MemoryMiB: 2048, MaxENIs: 3, IPv4PerENI: 4, IPv6PerENI: 4, Network: "Low to Moderate", ClockGHz: 2.5, BurstableCPU: true},
	{Name: "t2.medium", VCPUs: 2, DefaultCores: 2, CoresPerCPU: 1, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 6, IPv6PerENI: 6, Network: "Low to Moderate", ClockGHz: 2.3, BurstableCPU: true},
	{Name: "t3a.micro", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 1024, MaxENIs: 2, IPv4PerENI: 2, IPv6PerENI: 2, Network: "Up to 5 Gigabit", ClockGHz: 2.2, BurstableCPU: true},
	{Name: "t3a.small", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 2048, MaxENIs: 2, IPv4PerENI: 4, IPv6PerENI: 4, Network: "Up to 5 Gigabit", ClockGHz: 2.2, BurstableCPU: true},
	{Name: "t3a.medium", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 6, IPv6PerENI: 6, Network: "Up to 5 Gigabit", ClockGHz: 2.2, BurstableCPU: true},
	{Name: "t3a.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 3, IPv4PerENI: 12, IPv6PerENI: 12, Network: "Up to 5 Gigabit", ClockGHz: 2.2, BurstableCPU: true},
	{Name: "m6i.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "m6i.xlarge", VCPUs: 4, DefaultCores: 2, CoresPerCPU: 2, MemoryMiB: 16384, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "m6i.2xlarge", VCPUs: 8, DefaultCores: 4, CoresPerCPU: 2, MemoryMiB: 32768, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "m6i.4xlarge", VCPUs: 16, DefaultCores: 8, CoresPerCPU: 2, MemoryMiB: 65536, MaxENIs: 8, IPv4PerENI: 30, IPv6PerENI: 30, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "c6i.large", VCPUs: 2, DefaultCores: 1, CoresPerCPU: 2, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "c6i.xlarge", VCPUs: 4, DefaultCores: 2, CoresPerCPU: 2, MemoryMiB: 8192, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "c6i.2xlarge", VCPUs: 8, DefaultCores: 4, CoresPerCPU: 2, MemoryMiB: 16384, MaxENIs: 4, IPv4PerENI: 15, IPv6PerENI: 15, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	{Name: "c6i.4xlarge", VCPUs: 16, DefaultCores: 8, CoresPerCPU: 2, MemoryMiB: 32768, MaxENIs: 8, IPv4PerENI: 30, IPv6PerENI: 30, Network: "Up to 12.5 Gigabit", ClockGHz: 3.5},
	// Graviton (arm64): described, but not launched on an amd64 machine.
	{Name: "t4g.micro", VCPUs: 2, DefaultCores: 2, CoresPerCPU: 1, MemoryMiB: 1024, MaxENIs: 2, IPv4PerENI: 2, IPv6PerENI: 2, Network: "Up to 5 Gigabit", ClockGHz: 2.5, BurstableCPU: true, Architectures: []string{"arm64"}},
	{Name: "m7g.large", VCPUs: 2, DefaultCores: 2, CoresPerCPU: 1, MemoryMiB: 8192, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 12.5 Gigabit", ClockGHz: 2.6, Architectures: []string{"arm64"}},
	{Name: "c7g.large", VCPUs: 2, DefaultCores: 2, CoresPerCPU: 1, MemoryMiB: 4096, MaxENIs: 3, IPv4PerENI: 10, IPv6PerENI: 10, Network: "Up to 12.5 Gigabit", ClockGHz: 2.6, Architectures: []string{"arm64"}},
}

func init() {
	for i := range instanceTypes {
		t := &instanceTypes[i]
		t.CurrentGen = !strings.HasPrefix(t.Name, "m1.")
		if t.Architectures == nil {
			t.Architectures = []string{"x86_64"}
		}
	}
}

// imageArchitecture is the architecture of every image vpcsim launches: an
// instance runs on this machine's kernel, amd64.
const imageArchitecture = "x86_64"

// checkArchitecture refuses a type whose architecture is not the images',
// in EC2's words for a type and an AMI that do not match.
func checkArchitecture(t InstanceType) error {
	if slices.Contains(t.Architectures, imageArchitecture) {
		return nil
	}
	return invalidValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.",
		t.Architectures[0], imageArchitecture)
}

// LookupInstanceType returns the figures of a type.
func LookupInstanceType(name string) (InstanceType, bool) {
	for _, t := range instanceTypes {
		if t.Name == name {
			return t, true
		}
	}
	return InstanceType{}, false
}

// DescribeInstanceTypes lists the types asked for (all when none), filtered.
func (c *Cloud) DescribeInstanceTypes(ctx context.Context, types []string, f []Filter) ([]InstanceType, error) {
	var out []InstanceType
	for _, name := range types {
		if _, ok := LookupInstanceType(name); !ok {
			return nil, Errorf("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", name)
		}
	}
	q, err := newQuery(f, func(name string) ([]string, bool) { return instanceTypeFilter(&InstanceType{}, name) })
	if err != nil {
		return nil, err
	}
	for _, t := range instanceTypes {
		if len(types) > 0 && !slices.Contains(types, t.Name) {
			continue
		}
		if q.matches(q.capture(nil, func(name string) ([]string, bool) { return instanceTypeFilter(&t, name) })) {
			out = append(out, t)
		}
	}
	return out, nil
}

func instanceTypeFilter(t *InstanceType, name string) ([]string, bool) {
	switch name {
	case "instance-type":
		return []string{t.Name}, true
	case "vcpu-info.default-vcpus":
		return []string{strconv.Itoa(t.VCPUs)}, true
	case "memory-info.size-in-mib":
		return []string{strconv.FormatInt(t.MemoryMiB, 10)}, true
	case "network-info.maximum-network-interfaces":
		return []string{strconv.Itoa(t.MaxENIs)}, true
	case "network-info.ipv4-addresses-per-interface":
		return []string{strconv.Itoa(t.IPv4PerENI)}, true
	case "current-generation":
		return []string{strconv.FormatBool(t.CurrentGen)}, true
	case "burstable-performance-supported":
		return []string{strconv.FormatBool(t.BurstableCPU)}, true
	case "free-tier-eligible":
		return []string{strconv.FormatBool(t.FreeTier)}, true
	case "processor-info.supported-architecture":
		return t.Architectures, true
	}
	return nil, false
}
