package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type processorInfoXML struct {
	SupportedArchitectures   set[string] `xml:"supportedArchitectures"`
	SustainedClockSpeedInGhz float64     `xml:"sustainedClockSpeedInGhz,omitempty"`
	Manufacturer             string      `xml:"manufacturer"`
}

type vCPUInfoXML struct {
	DefaultVCpus          int `xml:"defaultVCpus"`
	DefaultCores          int `xml:"defaultCores"`
	DefaultThreadsPerCore int `xml:"defaultThreadsPerCore"`
}

type memoryInfoXML struct {
	SizeInMiB int64 `xml:"sizeInMiB"`
}

type ebsInfoXML struct {
	EbsOptimizedSupport string `xml:"ebsOptimizedSupport"`
	EncryptionSupport   string `xml:"encryptionSupport"`
	NvmeSupport         string `xml:"nvmeSupport"`
}

type networkCardInfoXML struct {
	NetworkCardIndex         int    `xml:"networkCardIndex"`
	NetworkPerformance       string `xml:"networkPerformance"`
	MaximumNetworkInterfaces int    `xml:"maximumNetworkInterfaces"`
}

type networkInfoXML struct {
	NetworkPerformance           string                  `xml:"networkPerformance"`
	MaximumNetworkInterfaces     int                     `xml:"maximumNetworkInterfaces"`
	MaximumNetworkCards          int                     `xml:"maximumNetworkCards"`
	DefaultNetworkCardIndex      int                     `xml:"defaultNetworkCardIndex"`
	NetworkCards                 set[networkCardInfoXML] `xml:"networkCards"`
	Ipv4AddressesPerInterface    int                     `xml:"ipv4AddressesPerInterface"`
	Ipv6AddressesPerInterface    int                     `xml:"ipv6AddressesPerInterface"`
	Ipv6Supported                bool                    `xml:"ipv6Supported"`
	EnaSupport                   string                  `xml:"enaSupport"`
	EfaSupported                 bool                    `xml:"efaSupported"`
	EncryptionInTransitSupported bool                    `xml:"encryptionInTransitSupported"`
	EnaSrdSupported              bool                    `xml:"enaSrdSupported"`
}

type placementGroupInfoXML struct {
	SupportedStrategies set[string] `xml:"supportedStrategies"`
}

// instanceTypeInfoXML is the model's InstanceTypeInfo, with what vpcsim's table knows.
type instanceTypeInfoXML struct {
	InstanceType                  string                `xml:"instanceType"`
	CurrentGeneration             bool                  `xml:"currentGeneration"`
	FreeTierEligible              bool                  `xml:"freeTierEligible"`
	SupportedUsageClasses         set[string]           `xml:"supportedUsageClasses"`
	SupportedRootDeviceTypes      set[string]           `xml:"supportedRootDeviceTypes"`
	SupportedVirtualizationTypes  set[string]           `xml:"supportedVirtualizationTypes"`
	BareMetal                     bool                  `xml:"bareMetal"`
	Hypervisor                    string                `xml:"hypervisor"`
	ProcessorInfo                 processorInfoXML      `xml:"processorInfo"`
	VCPUInfo                      vCPUInfoXML           `xml:"vCpuInfo"`
	MemoryInfo                    memoryInfoXML         `xml:"memoryInfo"`
	InstanceStorageSupported      bool                  `xml:"instanceStorageSupported"`
	EbsInfo                       ebsInfoXML            `xml:"ebsInfo"`
	NetworkInfo                   networkInfoXML        `xml:"networkInfo"`
	PlacementGroupInfo            placementGroupInfoXML `xml:"placementGroupInfo"`
	HibernationSupported          bool                  `xml:"hibernationSupported"`
	BurstablePerformanceSupported bool                  `xml:"burstablePerformanceSupported"`
	DedicatedHostsSupported       bool                  `xml:"dedicatedHostsSupported"`
	AutoRecoverySupported         bool                  `xml:"autoRecoverySupported"`
	SupportedBootModes            set[string]           `xml:"supportedBootModes"`
	NitroEnclavesSupport          string                `xml:"nitroEnclavesSupport"`
	NitroTpmSupport               string                `xml:"nitroTpmSupport"`
	PhcSupport                    string                `xml:"phcSupport"`
}

func toInstanceTypeXML(t ec2sim.InstanceType) instanceTypeInfoXML {
	manufacturer := "Intel"
	return instanceTypeInfoXML{
		InstanceType: t.Name, CurrentGeneration: t.CurrentGen, FreeTierEligible: t.FreeTier,
		SupportedUsageClasses:        set[string]{"on-demand", "spot"},
		SupportedRootDeviceTypes:     set[string]{"ebs"},
		SupportedVirtualizationTypes: set[string]{"hvm"},
		Hypervisor:                   "nitro",
		ProcessorInfo:                processorInfoXML{SupportedArchitectures: set[string](t.Architectures), SustainedClockSpeedInGhz: t.ClockGHz, Manufacturer: manufacturer},
		VCPUInfo:                     vCPUInfoXML{DefaultVCpus: t.VCPUs, DefaultCores: t.DefaultCores, DefaultThreadsPerCore: t.CoresPerCPU},
		MemoryInfo:                   memoryInfoXML{SizeInMiB: t.MemoryMiB},
		EbsInfo:                      ebsInfoXML{EbsOptimizedSupport: "default", EncryptionSupport: "supported", NvmeSupport: "required"},
		NetworkInfo: networkInfoXML{
			NetworkPerformance: t.Network, MaximumNetworkInterfaces: t.MaxENIs, MaximumNetworkCards: 1,
			NetworkCards:              set[networkCardInfoXML]{{NetworkPerformance: t.Network, MaximumNetworkInterfaces: t.MaxENIs}},
			Ipv4AddressesPerInterface: t.IPv4PerENI, Ipv6AddressesPerInterface: t.IPv6PerENI, Ipv6Supported: true,
			EnaSupport: "required",
		},
		PlacementGroupInfo:            placementGroupInfoXML{SupportedStrategies: set[string]{"partition", "spread"}},
		BurstablePerformanceSupported: t.BurstableCPU,
		AutoRecoverySupported:         true,
		SupportedBootModes:            set[string]{"legacy-bios", "uefi"},
		NitroEnclavesSupport:          "unsupported",
		NitroTpmSupport:               "supported",
		PhcSupport:                    "unsupported",
	}
}

// DescribeInstanceTypes

type describeInstanceTypesRequest struct {
	dryRunParam
	pageParams
	InstanceTypes []string      `query:"InstanceType"`
	Filters       []filterParam `query:"Filter"`
}

type describeInstanceTypesResponse struct {
	responseMeta
	InstanceTypes set[instanceTypeInfoXML] `xml:"instanceTypeSet"`
	NextToken     string                   `xml:"nextToken,omitempty"`
}

func (h *Handler) describeInstanceTypes(ctx context.Context, s ec2sim.Scope, req *describeInstanceTypesRequest) (*describeInstanceTypesResponse, error) {
	types, err := h.cloud.DescribeInstanceTypes(ctx, req.InstanceTypes, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	types, next := page("DescribeInstanceTypes", types, &req.pageParams)
	resp := &describeInstanceTypesResponse{InstanceTypes: make(set[instanceTypeInfoXML], 0, len(types)), NextToken: next}
	for _, t := range types {
		resp.InstanceTypes = append(resp.InstanceTypes, toInstanceTypeXML(t))
	}
	return resp, nil
}
