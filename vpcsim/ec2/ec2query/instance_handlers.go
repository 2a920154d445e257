package ec2query

import (
	"context"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"slices"
)

type instanceStateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateOf(name string) instanceStateXML {
	return instanceStateXML{Code: ec2sim.StateCode(name), Name: name}
}

type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type placementXML struct {
	AvailabilityZone   string `xml:"availabilityZone"`
	AvailabilityZoneID string `xml:"availabilityZoneId,omitempty"`
	GroupName          string `xml:"groupName"`
	Tenancy            string `xml:"tenancy"`
}

type iamInstanceProfileXML struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type instanceBlockDeviceXML struct {
	DeviceName string                 `xml:"deviceName"`
	Ebs        instanceBlockDeviceEBS `xml:"ebs"`
}

type instanceBlockDeviceEBS struct {
	VolumeID            string    `xml:"volumeId"`
	Status              string    `xml:"status"`
	AttachTime          timestamp `xml:"attachTime"`
	DeleteOnTermination bool      `xml:"deleteOnTermination"`
}

// blockDevices are an instance's volumes as its block device mapping: none
// while it is pending, as EC2 answers RunInstances, before they attach.
func blockDevices(in ec2sim.Instance) set[instanceBlockDeviceXML] {
	out := set[instanceBlockDeviceXML]{}
	if in.State == ec2sim.StatePending {
		return out
	}
	for _, v := range in.Volumes {
		out = append(out, instanceBlockDeviceXML{DeviceName: v.Device, Ebs: instanceBlockDeviceEBS{
			VolumeID: v.ID, Status: "attached", AttachTime: timestamp(in.LaunchTime), DeleteOnTermination: v.DeleteOnTermination}})
	}
	return out
}

type monitoringXML struct {
	State string `xml:"state"`
}

type cpuOptionsXML struct {
	CoreCount      int `xml:"coreCount"`
	ThreadsPerCore int `xml:"threadsPerCore"`
}

type capacityReservationSpecXML struct {
	Preference string `xml:"capacityReservationPreference"`
}

type hibernationOptionsXML struct {
	Configured bool `xml:"configured"`
}

type metadataOptionsXML struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type enclaveOptionsXML struct {
	Enabled bool `xml:"enabled"`
}

type maintenanceOptionsXML struct {
	AutoRecovery    string `xml:"autoRecovery"`
	RebootMigration string `xml:"rebootMigration"`
}

type networkPerformanceOptionsXML struct {
	BandwidthWeighting string `xml:"bandwidthWeighting"`
}

type instanceENIAttachmentXML struct {
	AttachTime          timestamp `xml:"attachTime"`
	AttachmentID        string    `xml:"attachmentId"`
	DeleteOnTermination bool      `xml:"deleteOnTermination"`
	DeviceIndex         int       `xml:"deviceIndex"`
	Status              string    `xml:"status"`
	NetworkCardIndex    int       `xml:"networkCardIndex"`
}

// instanceNetworkInterfaceXML is the model's InstanceNetworkInterface.
type instanceNetworkInterfaceXML struct {
	NetworkInterfaceID string                    `xml:"networkInterfaceId"`
	SubnetID           string                    `xml:"subnetId"`
	VpcID              string                    `xml:"vpcId"`
	Description        string                    `xml:"description"`
	OwnerID            string                    `xml:"ownerId"`
	Status             string                    `xml:"status"`
	MacAddress         string                    `xml:"macAddress"`
	PrivateIPAddress   string                    `xml:"privateIpAddress"`
	PrivateDNSName     string                    `xml:"privateDnsName"`
	SourceDestCheck    bool                      `xml:"sourceDestCheck"`
	Groups             set[groupIdentifierXML]   `xml:"groupSet"`
	Attachment         *instanceENIAttachmentXML `xml:"attachment,omitempty"`
	Association        *ipAssociationXML         `xml:"association,omitempty"`
	PrivateIPAddresses set[privateIPXML]         `xml:"privateIpAddressesSet"`
	Ipv6Addresses      set[ipv6AddressXML]       `xml:"ipv6AddressesSet"`
	InterfaceType      string                    `xml:"interfaceType"`
	Operator           operatorXML               `xml:"operator"`
}

// instanceXML is the model's Instance, with every member vpcsim can fill. The
// constant ones (architecture, hypervisor, …) are what EC2 answers for an EBS-backed
// HVM Linux instance, which is what every vpcsim instance resembles.
type instanceXML struct {
	InstanceID                string                           `xml:"instanceId"`
	ImageID                   string                           `xml:"imageId"`
	State                     instanceStateXML                 `xml:"instanceState"`
	PrivateDNSName            string                           `xml:"privateDnsName"`
	PublicDNSName             string                           `xml:"dnsName"`
	StateTransitionReason     string                           `xml:"reason"`
	KeyName                   string                           `xml:"keyName,omitempty"`
	AmiLaunchIndex            int                              `xml:"amiLaunchIndex"`
	ProductCodes              set[struct{}]                    `xml:"productCodes"`
	InstanceType              string                           `xml:"instanceType"`
	LaunchTime                timestamp                        `xml:"launchTime"`
	Placement                 placementXML                     `xml:"placement"`
	Monitoring                monitoringXML                    `xml:"monitoring"`
	SubnetID                  string                           `xml:"subnetId,omitempty"`
	VpcID                     string                           `xml:"vpcId,omitempty"`
	PrivateIPAddress          string                           `xml:"privateIpAddress,omitempty"`
	PublicIPAddress           string                           `xml:"ipAddress,omitempty"`
	Ipv6Address               string                           `xml:"ipv6Address,omitempty"`
	SourceDestCheck           *bool                            `xml:"sourceDestCheck,omitempty"`
	Groups                    set[groupIdentifierXML]          `xml:"groupSet"`
	StateReason               *stateReasonXML                  `xml:"stateReason,omitempty"`
	Architecture              string                           `xml:"architecture"`
	RootDeviceType            string                           `xml:"rootDeviceType"`
	RootDeviceName            string                           `xml:"rootDeviceName"`
	BlockDeviceMappings       set[instanceBlockDeviceXML]      `xml:"blockDeviceMapping"`
	VirtualizationType        string                           `xml:"virtualizationType"`
	ClientToken               string                           `xml:"clientToken"`
	Tags                      set[tagXML]                      `xml:"tagSet,omitempty"`
	Hypervisor                string                           `xml:"hypervisor"`
	NetworkInterfaces         set[instanceNetworkInterfaceXML] `xml:"networkInterfaceSet"`
	IamInstanceProfile        *iamInstanceProfileXML           `xml:"iamInstanceProfile,omitempty"`
	EbsOptimized              bool                             `xml:"ebsOptimized"`
	EnaSupport                bool                             `xml:"enaSupport"`
	SriovNetSupport           string                           `xml:"sriovNetSupport,omitempty"`
	CPUOptions                *cpuOptionsXML                   `xml:"cpuOptions,omitempty"`
	CapacityReservationSpec   capacityReservationSpecXML       `xml:"capacityReservationSpecification"`
	HibernationOptions        hibernationOptionsXML            `xml:"hibernationOptions"`
	MetadataOptions           metadataOptionsXML               `xml:"metadataOptions"`
	EnclaveOptions            enclaveOptionsXML                `xml:"enclaveOptions"`
	PlatformDetails           string                           `xml:"platformDetails"`
	UsageOperation            string                           `xml:"usageOperation"`
	UsageOperationUpdateTime  timestamp                        `xml:"usageOperationUpdateTime"`
	PrivateDNSNameOptions     *privateDNSNameOptionsXML        `xml:"privateDnsNameOptions"`
	MaintenanceOptions        maintenanceOptionsXML            `xml:"maintenanceOptions"`
	CurrentInstanceBootMode   string                           `xml:"currentInstanceBootMode"`
	NetworkPerformanceOptions networkPerformanceOptionsXML     `xml:"networkPerformanceOptions"`
	Operator                  operatorXML                      `xml:"operator"`
}

func toInstanceXML(s ec2sim.Scope, in ec2sim.Instance, names names) instanceXML {
	st := in.Described()
	monitoring := "disabled"
	if st.Monitoring {
		monitoring = "enabled"
	}
	x := instanceXML{
		InstanceID: in.ID, ImageID: in.ImageID, State: stateOf(in.State),
		StateTransitionReason: in.StateTransitionReason, KeyName: in.KeyName, AmiLaunchIndex: in.LaunchIndex,
		ProductCodes: set[struct{}]{}, InstanceType: in.Type, LaunchTime: timestamp(in.LaunchTime),
		Placement:  placementXML{AvailabilityZone: in.AZ, AvailabilityZoneID: zoneID(s.Region, in.AZ), Tenancy: st.Tenancy},
		Monitoring: monitoringXML{State: monitoring},
		SubnetID:   in.SubnetID, VpcID: in.VPCID,
		Groups:       set[groupIdentifierXML]{},
		Architecture: "x86_64", RootDeviceType: "ebs", RootDeviceName: ec2sim.RootDevice,
		BlockDeviceMappings: blockDevices(in), VirtualizationType: "hvm", ClientToken: in.ClientToken,
		EbsOptimized: st.EbsOptimized, HibernationOptions: hibernationOptionsXML{Configured: st.Hibernation},
		Tags: tagSet(in.Tags), Hypervisor: "xen", NetworkInterfaces: set[instanceNetworkInterfaceXML]{},
		EnaSupport: st.EnaSupport(), SriovNetSupport: st.SriovNetSupport,
		CapacityReservationSpec: capacityReservationSpecXML{Preference: st.Reservations},
		MetadataOptions: metadataOptionsXML{State: "applied", HTTPTokens: st.Metadata.HTTPTokens, HTTPPutResponseHopLimit: st.Metadata.HopLimit,
			HTTPEndpoint: st.Metadata.HTTPEndpoint, HTTPProtocolIpv6: st.Metadata.HTTPProtocolIPv6, InstanceMetadataTags: st.Metadata.Tags},
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", UsageOperationUpdateTime: timestamp(in.LaunchTime),
		PrivateDNSNameOptions:     ipNameOptions(),
		MaintenanceOptions:        maintenanceOptionsXML{AutoRecovery: st.AutoRecovery, RebootMigration: "default"},
		CurrentInstanceBootMode:   "legacy-bios",
		NetworkPerformanceOptions: networkPerformanceOptionsXML{BandwidthWeighting: "default"},
	}
	if in.State == ec2sim.StatePending {
		x.MetadataOptions.State = "pending"
	}
	if st.IAMProfileARN != "" {
		x.IamInstanceProfile = &iamInstanceProfileXML{Arn: st.IAMProfileARN, ID: st.IAMProfileID}
	}
	if t, ok := ec2sim.LookupInstanceType(in.Type); ok {
		x.CPUOptions = &cpuOptionsXML{CoreCount: t.DefaultCores, ThreadsPerCore: t.CoresPerCPU}
		if st.CoreCount != 0 {
			x.CPUOptions.CoreCount = st.CoreCount
		}
		if st.ThreadsPerCore != 0 {
			x.CPUOptions.ThreadsPerCore = st.ThreadsPerCore
		}
	}
	switch {
	case in.StateReasonCode != "":
		x.StateReason = &stateReasonXML{Code: in.StateReasonCode, Message: in.StateReasonMessage}
	case in.State == ec2sim.StatePending:
		x.StateReason = &stateReasonXML{Code: "pending", Message: "pending"} // as EC2 words a launch in progress
	}
	enis := slices.Clone(in.ENIs)
	slices.SortFunc(enis, func(a, b ec2sim.ENI) int { return deviceIndex(a) - deviceIndex(b) })
	for i, e := range enis {
		if i == 0 {
			// The instance's own address, name, groups and check are its primary ENI's.
			primary := e.PrimaryIP()
			x.PrivateIPAddress, x.PrivateDNSName = addrString(primary), dnsName(s.Region, primary)
			x.Groups = groupSet(e.Groups, names)
			sdc := e.SourceDestCheck
			x.SourceDestCheck = &sdc
			if a := primaryAssociation(s.Region, e, names); a != nil {
				x.PublicIPAddress, x.PublicDNSName = a.PublicIP, a.PublicDNSName
			}
			if len(e.IPv6) > 0 { // (unverified) the primary ENI's first IPv6 address
				x.Ipv6Address = e.IPv6[0].String()
			}
		}
		x.NetworkInterfaces = append(x.NetworkInterfaces, toInstanceENIXML(s, e, names))
	}
	return x
}

func deviceIndex(e ec2sim.ENI) int {
	if e.Attachment == nil {
		return 1 << 30
	}
	return e.Attachment.DeviceIndex
}

func toInstanceENIXML(s ec2sim.Scope, e ec2sim.ENI, names names) instanceNetworkInterfaceXML {
	primary := e.PrimaryIP()
	x := instanceNetworkInterfaceXML{
		NetworkInterfaceID: e.ID, SubnetID: e.SubnetID, VpcID: e.VPCID, Description: e.Description,
		OwnerID: e.OwnerID, Status: e.Status, MacAddress: e.MAC,
		PrivateIPAddress: addrString(primary), PrivateDNSName: dnsName(s.Region, primary),
		SourceDestCheck: e.SourceDestCheck, Groups: groupSet(e.Groups, names),
		PrivateIPAddresses: privateIPSet(s.Region, e, names), Association: primaryAssociation(s.Region, e, names), Ipv6Addresses: ipv6Set(e),
		InterfaceType: e.InterfaceType,
	}
	if a := e.Attachment; a != nil {
		x.Attachment = &instanceENIAttachmentXML{
			AttachTime: timestamp(a.AttachTime), AttachmentID: a.ID, DeleteOnTermination: a.DeleteOnTermination,
			DeviceIndex: a.DeviceIndex, Status: a.Status,
		}
	}
	return x
}

// reservationXML is the model's Reservation (also RunInstances' whole answer).
type reservationXML struct {
	ReservationID string                  `xml:"reservationId"`
	OwnerID       string                  `xml:"ownerId"`
	Groups        set[groupIdentifierXML] `xml:"groupSet"` // empty for instances in a VPC
	Instances     set[instanceXML]        `xml:"instancesSet"`
}

// reservations groups instances by reservation, in the order the reservations
// first appear.
func reservations(s ec2sim.Scope, insts []ec2sim.Instance, names names) set[reservationXML] {
	out := set[reservationXML]{}
	index := map[string]int{}
	for _, in := range insts {
		i, ok := index[in.ReservationID]
		if !ok {
			i = len(out)
			index[in.ReservationID] = i
			out = append(out, reservationXML{ReservationID: in.ReservationID, OwnerID: in.OwnerID,
				Groups: set[groupIdentifierXML]{}, Instances: set[instanceXML]{}})
		}
		out[i].Instances = append(out[i].Instances, toInstanceXML(s, in, names))
	}
	return out
}

// RunInstances

type placementParam struct {
	AvailabilityZone string `query:"AvailabilityZone"`
	Tenancy          string `query:"Tenancy"`
}

type monitoringParam struct {
	Enabled bool `query:"Enabled"`
}

type instanceENISpecParam struct {
	DeviceIndex                    int             `query:"DeviceIndex"`
	NetworkInterfaceID             string          `query:"NetworkInterfaceId"`
	SubnetID                       string          `query:"SubnetId"`
	Description                    string          `query:"Description"`
	PrivateIPAddress               string          `query:"PrivateIpAddress"`
	Groups                         []string        `query:"SecurityGroupId"`
	SecondaryPrivateIPAddressCount int             `query:"SecondaryPrivateIpAddressCount"`
	DeleteOnTermination            *bool           `query:"DeleteOnTermination"`
	AssociatePublicIPAddress       *bool           `query:"AssociatePublicIpAddress"`
	Ipv6AddressCount               int             `query:"Ipv6AddressCount"`
	Ipv6Addresses                  []ipv6AddrParam `query:"Ipv6Addresses"`
}

// ipv6AddrParam is one InstanceIpv6Address of a request.
type ipv6AddrParam struct {
	Ipv6Address string `query:"Ipv6Address"`
}

func ipv6Addrs(ps []ipv6AddrParam) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Ipv6Address)
	}
	return out
}

type runInstancesRequest struct {
	dryRunParam
	MinCount         int                      `query:"MinCount"`
	MaxCount         int                      `query:"MaxCount"`
	SubnetID         string                   `query:"SubnetId"`
	PrivateIPAddress string                   `query:"PrivateIpAddress"`
	Ipv6AddressCount int                      `query:"Ipv6AddressCount"`
	Ipv6Addresses    []ipv6AddrParam          `query:"Ipv6Address"`
	ClientToken      string                   `query:"ClientToken"`
	LaunchTemplate   *launchTemplateSpecParam `query:"LaunchTemplate"`
	launchParams
}

// launchTemplateSpecParam is RunInstances' LaunchTemplate.
type launchTemplateSpecParam struct {
	LaunchTemplateID   string `query:"LaunchTemplateId"`
	LaunchTemplateName string `query:"LaunchTemplateName"`
	Version            string `query:"Version"`
}

// launchParams are the launch parameters RunInstances takes and a launch
// template's LaunchTemplateData holds (the model gives both the same keys).
type launchParams struct {
	ImageID            string                 `query:"ImageId"`
	InstanceType       string                 `query:"InstanceType"`
	SecurityGroupIDs   []string               `query:"SecurityGroupId"`
	SecurityGroupNames []string               `query:"SecurityGroup"`
	UserData           string                 `query:"UserData"`
	KeyName            string                 `query:"KeyName"`
	Placement          *placementParam        `query:"Placement"`
	Monitoring         *monitoringParam       `query:"Monitoring"`
	NetworkInterfaces  []instanceENISpecParam `query:"NetworkInterface"`
	TagSpecifications  []tagSpecParam         `query:"TagSpecification"`

	// What describes the instance: stored and answered (instance_settings.go).
	DisableAPITermination             *bool                 `query:"DisableApiTermination"`
	DisableAPIStop                    *bool                 `query:"DisableApiStop"`
	EbsOptimized                      *bool                 `query:"EbsOptimized"`
	InstanceInitiatedShutdownBehavior string                `query:"InstanceInitiatedShutdownBehavior"`
	HibernationOptions                *hibernationParam     `query:"HibernationOptions"`
	IamInstanceProfile                *iamProfileParam      `query:"IamInstanceProfile"`
	MetadataOptions                   *metadataOptionsParam `query:"MetadataOptions"`
	CreditSpecification               *creditSpecParam      `query:"CreditSpecification"`
	BlockDeviceMappings               []blockDeviceParam    `query:"BlockDeviceMapping"`
	CPUOptions                        *cpuOptionsParam      `query:"CpuOptions"`
	MaintenanceOptions                *maintenanceParam     `query:"MaintenanceOptions"`
	CapacityReservationSpecification  *reservationParam     `query:"CapacityReservationSpecification"`
}

// data is the parameters in the domain's words; their TagSpecifications
// are as given, unchecked.
func (r *launchParams) data() ec2sim.LaunchTemplateData {
	d := ec2sim.LaunchTemplateData{
		ImageID: r.ImageID, InstanceType: r.InstanceType, KeyName: r.KeyName, UserData: r.UserData,
		SecurityGroupIDs: r.SecurityGroupIDs, SecurityGroupNames: r.SecurityGroupNames,
		BlockDevices: blockDeviceInputs(r.BlockDeviceMappings), Settings: r.settings(),
	}
	if r.Placement != nil {
		d.AZ = r.Placement.AvailabilityZone
	}
	for _, n := range r.NetworkInterfaces {
		d.NetworkInterfaces = append(d.NetworkInterfaces, ec2sim.InstanceENISpec{
			DeviceIndex: n.DeviceIndex, ENIID: n.NetworkInterfaceID, SubnetID: n.SubnetID, Description: n.Description,
			PrivateIPAddress: n.PrivateIPAddress, Groups: n.Groups, SecondaryPrivateIPAddressCount: n.SecondaryPrivateIPAddressCount,
			DeleteOnTermination: n.DeleteOnTermination, AssociatePublicIP: n.AssociatePublicIPAddress,
			IPv6Count: n.Ipv6AddressCount, IPv6Addresses: ipv6Addrs(n.Ipv6Addresses),
		})
	}
	for _, ts := range r.TagSpecifications {
		d.TagSpecs = append(d.TagSpecs, ec2sim.TagSpecification{ResourceType: ts.ResourceType, Tags: toTags(ts.Tags)})
	}
	return d
}

type cpuOptionsParam struct {
	CoreCount      int `query:"CoreCount"`
	ThreadsPerCore int `query:"ThreadsPerCore"`
}

type maintenanceParam struct {
	AutoRecovery string `query:"AutoRecovery"`
}

type reservationParam struct {
	Preference string `query:"CapacityReservationPreference"`
}

type hibernationParam struct {
	Configured *bool `query:"Configured"`
}

type iamProfileParam struct {
	Arn  string `query:"Arn"`
	Name string `query:"Name"`
}

type metadataOptionsParam struct {
	HTTPTokens              string `query:"HttpTokens"`
	HTTPPutResponseHopLimit *int   `query:"HttpPutResponseHopLimit"`
	HTTPEndpoint            string `query:"HttpEndpoint"`
	HTTPProtocolIpv6        string `query:"HttpProtocolIpv6"`
	InstanceMetadataTags    string `query:"InstanceMetadataTags"`
}

type creditSpecParam struct {
	CPUCredits string `query:"CpuCredits"`
}

type blockDeviceParam struct {
	DeviceName  string         `query:"DeviceName"`
	VirtualName string         `query:"VirtualName"`
	NoDevice    *string        `query:"NoDevice"`
	Ebs         *ebsBlockParam `query:"Ebs"`
}

type ebsBlockParam struct {
	DeleteOnTermination *bool  `query:"DeleteOnTermination"`
	Encrypted           bool   `query:"Encrypted"`
	Iops                int    `query:"Iops"`
	KmsKeyID            string `query:"KmsKeyId"`
	SnapshotID          string `query:"SnapshotId"`
	Throughput          int    `query:"Throughput"`
	VolumeSize          int    `query:"VolumeSize"`
	VolumeType          string `query:"VolumeType"`
}

// settings are what the request says of the instance's settings.
func (r *launchParams) settings() ec2sim.SettingsInput {
	in := ec2sim.SettingsInput{
		DisableAPITermination: r.DisableAPITermination, DisableAPIStop: r.DisableAPIStop, EbsOptimized: r.EbsOptimized,
		ShutdownBehavior: r.InstanceInitiatedShutdownBehavior,
	}
	if r.HibernationOptions != nil {
		in.Hibernation = r.HibernationOptions.Configured
	}
	if r.Monitoring != nil {
		in.Monitoring = &r.Monitoring.Enabled
	}
	if r.Placement != nil {
		in.Tenancy = r.Placement.Tenancy
	}
	if p := r.IamInstanceProfile; p != nil {
		in.IAMProfileARN, in.IAMProfileName = p.Arn, p.Name
	}
	if m := r.MetadataOptions; m != nil {
		in.Metadata = ec2sim.MetadataInput{HTTPTokens: m.HTTPTokens, HopLimit: m.HTTPPutResponseHopLimit, HTTPEndpoint: m.HTTPEndpoint,
			HTTPProtocolIPv6: m.HTTPProtocolIpv6, Tags: m.InstanceMetadataTags}
	}
	if r.CreditSpecification != nil {
		in.CPUCredits = r.CreditSpecification.CPUCredits
	}
	if r.CPUOptions != nil {
		in.CoreCount, in.ThreadsPerCore = r.CPUOptions.CoreCount, r.CPUOptions.ThreadsPerCore
	}
	if r.MaintenanceOptions != nil {
		in.AutoRecovery = r.MaintenanceOptions.AutoRecovery
	}
	if r.CapacityReservationSpecification != nil {
		in.Reservations = r.CapacityReservationSpecification.Preference
	}
	return in
}

// blockDeviceInputs are block device mappings as the domain takes them.
func blockDeviceInputs(params []blockDeviceParam) []ec2sim.BlockDeviceInput {
	var out []ec2sim.BlockDeviceInput
	for _, b := range params {
		d := ec2sim.BlockDeviceInput{DeviceName: b.DeviceName, VirtualName: b.VirtualName, NoDevice: b.NoDevice != nil}
		if e := b.Ebs; e != nil {
			d.EBS = &ec2sim.EBSInput{DeleteOnTermination: e.DeleteOnTermination, Encrypted: e.Encrypted, Iops: e.Iops,
				KMSKeyID: e.KmsKeyID, SnapshotID: e.SnapshotID, Throughput: e.Throughput, Size: e.VolumeSize, Type: e.VolumeType}
		}
		out = append(out, d)
	}
	return out
}

type runInstancesResponse struct {
	responseMeta
	reservationXML
}

func (h *Handler) runInstances(ctx context.Context, s ec2sim.Scope, req *runInstancesRequest) (*runInstancesResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "instance", "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	d := req.data()
	in := ec2sim.RunInstancesInput{
		ImageID: d.ImageID, InstanceType: d.InstanceType, MinCount: req.MinCount, MaxCount: req.MaxCount,
		SubnetID: req.SubnetID, SecurityGroupIDs: d.SecurityGroupIDs, SecurityGroupNames: d.SecurityGroupNames,
		PrivateIPAddress: req.PrivateIPAddress, IPv6Count: req.Ipv6AddressCount, IPv6Addresses: ipv6Addrs(req.Ipv6Addresses), UserData: d.UserData, KeyName: d.KeyName, ClientToken: req.ClientToken,
		Tags: tags["instance"], VolumeTags: tags["volume"], ENITags: tags["network-interface"],
		Settings: d.Settings, BlockDevices: d.BlockDevices, AZ: d.AZ, NetworkInterfaces: d.NetworkInterfaces,
	}
	if lt := req.LaunchTemplate; lt != nil {
		in.LaunchTemplate = &ec2sim.LaunchTemplateRef{ID: lt.LaunchTemplateID, Name: lt.LaunchTemplateName, Version: lt.Version}
	}
	insts, err := h.cloud.RunInstances(ctx, s, in)
	if err != nil {
		return nil, err
	}
	names, err := h.groupNames(ctx, s)
	if err != nil {
		return nil, err
	}
	rs := reservations(s, insts, names)
	if len(rs) != 1 {
		return nil, errInternalf("RunInstances returned %d reservations", len(rs))
	}
	return &runInstancesResponse{reservationXML: rs[0]}, nil
}

// DescribeInstances

type describeInstancesRequest struct {
	dryRunParam
	pageParams
	InstanceIDs []string      `query:"InstanceId"`
	Filters     []filterParam `query:"Filter"`
}

func (r *describeInstancesRequest) validate() error {
	if len(r.InstanceIDs) > 0 && r.MaxResults != nil {
		return errCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	return nil
}

type describeInstancesResponse struct {
	responseMeta
	Reservations set[reservationXML] `xml:"reservationSet"`
	NextToken    string              `xml:"nextToken,omitempty"`
}

func (h *Handler) describeInstances(ctx context.Context, s ec2sim.Scope, req *describeInstancesRequest) (*describeInstancesResponse, error) {
	insts, err := h.cloud.DescribeInstances(ctx, s, req.InstanceIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	// MaxResults counts instances, as EC2's does; a page holds whole reservations'
	// shares of them.
	insts, next := page("DescribeInstances", insts, &req.pageParams)
	names, err := h.groupNames(ctx, s)
	if err != nil {
		return nil, err
	}
	return &describeInstancesResponse{Reservations: reservations(s, insts, names), NextToken: next}, nil
}

// Terminate/Stop/StartInstances

type instanceIDsRequest struct {
	dryRunParam
	InstanceIDs []string `query:"InstanceId"`
}

type stopInstancesRequest struct {
	dryRunParam
	InstanceIDs []string `query:"InstanceId"`
	Force       bool     `query:"Force"` // a vpcsim instance stops at once either way
}

type instanceStateChangeXML struct {
	InstanceID    string           `xml:"instanceId"`
	CurrentState  instanceStateXML `xml:"currentState"`
	PreviousState instanceStateXML `xml:"previousState"`
}

type stateChangesResponse struct {
	responseMeta
	Instances set[instanceStateChangeXML] `xml:"instancesSet"`
}

func stateChanges(chs []ec2sim.InstanceStateChange) *stateChangesResponse {
	resp := &stateChangesResponse{Instances: make(set[instanceStateChangeXML], 0, len(chs))}
	for _, c := range chs {
		resp.Instances = append(resp.Instances, instanceStateChangeXML{
			InstanceID: c.InstanceID, CurrentState: stateOf(c.CurrentState), PreviousState: stateOf(c.PreviousState),
		})
	}
	return resp
}

func (h *Handler) terminateInstances(ctx context.Context, s ec2sim.Scope, req *instanceIDsRequest) (*stateChangesResponse, error) {
	chs, err := h.cloud.TerminateInstances(ctx, s, req.InstanceIDs)
	if err != nil {
		return nil, err
	}
	return stateChanges(chs), nil
}

func (h *Handler) stopInstances(ctx context.Context, s ec2sim.Scope, req *stopInstancesRequest) (*stateChangesResponse, error) {
	chs, err := h.cloud.StopInstances(ctx, s, req.InstanceIDs)
	if err != nil {
		return nil, err
	}
	return stateChanges(chs), nil
}

func (h *Handler) startInstances(ctx context.Context, s ec2sim.Scope, req *instanceIDsRequest) (*stateChangesResponse, error) {
	chs, err := h.cloud.StartInstances(ctx, s, req.InstanceIDs)
	if err != nil {
		return nil, err
	}
	return stateChanges(chs), nil
}

// RebootInstances answers true once the reboots are asked for; each runs
// in the background, as EC2's do.
func (h *Handler) rebootInstances(ctx context.Context, s ec2sim.Scope, req *instanceIDsRequest) (*returnResponse, error) {
	if err := h.cloud.RebootInstances(ctx, s, req.InstanceIDs); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeInstanceAttribute

type describeInstanceAttributeRequest struct {
	dryRunParam
	InstanceID string `query:"InstanceId"`
	Attribute  string `query:"Attribute"`
}

type describeInstanceAttributeResponse struct {
	responseMeta
	InstanceID                        string                       `xml:"instanceId"`
	InstanceType                      *attrValueXML                `xml:"instanceType,omitempty"`
	Kernel                            *attrValueXML                `xml:"kernel,omitempty"`
	Ramdisk                           *attrValueXML                `xml:"ramdisk,omitempty"`
	UserData                          *attrValueXML                `xml:"userData,omitempty"`
	DisableAPITermination             *attrBoolXML                 `xml:"disableApiTermination,omitempty"`
	DisableAPIStop                    *attrBoolXML                 `xml:"disableApiStop,omitempty"`
	InstanceInitiatedShutdownBehavior *attrValueXML                `xml:"instanceInitiatedShutdownBehavior,omitempty"`
	RootDeviceName                    *attrValueXML                `xml:"rootDeviceName,omitempty"`
	BlockDeviceMappings               *set[instanceBlockDeviceXML] `xml:"blockDeviceMapping,omitempty"`
	ProductCodes                      *set[struct{}]               `xml:"productCodes,omitempty"`
	SourceDestCheck                   *attrBoolXML                 `xml:"sourceDestCheck,omitempty"`
	Groups                            *set[groupIdentifierXML]     `xml:"groupSet,omitempty"`
	EbsOptimized                      *attrBoolXML                 `xml:"ebsOptimized,omitempty"`
	SriovNetSupport                   *attrValueXML                `xml:"sriovNetSupport,omitempty"`
	EnaSupport                        *attrBoolXML                 `xml:"enaSupport,omitempty"`
	EnclaveOptions                    *enclaveOptionsXML           `xml:"enclaveOptions,omitempty"`
}

func (h *Handler) describeInstanceAttribute(ctx context.Context, s ec2sim.Scope, req *describeInstanceAttributeRequest) (*describeInstanceAttributeResponse, error) {
	in, err := h.cloud.DescribeInstanceAttribute(ctx, s, req.InstanceID, req.Attribute)
	if err != nil {
		return nil, err
	}
	names, err := h.groupNames(ctx, s)
	if err != nil {
		return nil, err
	}
	x := toInstanceXML(s, in, names)
	resp := &describeInstanceAttributeResponse{InstanceID: in.ID}
	switch req.Attribute {
	case "instanceType":
		resp.InstanceType = &attrValueXML{Value: in.Type}
	case "kernel":
		resp.Kernel = &attrValueXML{}
	case "ramdisk":
		resp.Ramdisk = &attrValueXML{}
	case "userData":
		resp.UserData = &attrValueXML{Value: in.UserData}
	case "disableApiTermination":
		resp.DisableAPITermination = &attrBoolXML{Value: in.Described().DisableAPITermination}
	case "disableApiStop":
		resp.DisableAPIStop = &attrBoolXML{Value: in.Described().DisableAPIStop}
	case "instanceInitiatedShutdownBehavior":
		resp.InstanceInitiatedShutdownBehavior = &attrValueXML{Value: in.Described().ShutdownBehavior}
	case "rootDeviceName":
		resp.RootDeviceName = &attrValueXML{Value: x.RootDeviceName}
	case "blockDeviceMapping":
		resp.BlockDeviceMappings = &x.BlockDeviceMappings
	case "productCodes":
		resp.ProductCodes = &set[struct{}]{}
	case "sourceDestCheck":
		resp.SourceDestCheck = &attrBoolXML{Value: x.SourceDestCheck == nil || *x.SourceDestCheck}
	case "groupSet":
		resp.Groups = &x.Groups
	case "ebsOptimized":
		resp.EbsOptimized = &attrBoolXML{Value: x.EbsOptimized}
	case "sriovNetSupport":
		resp.SriovNetSupport = &attrValueXML{Value: x.SriovNetSupport}
	case "enaSupport":
		resp.EnaSupport = &attrBoolXML{Value: x.EnaSupport}
	case "enclaveOptions":
		resp.EnclaveOptions = &x.EnclaveOptions
	default:
		return nil, errInvalidValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", req.Attribute)
	}
	return resp, nil
}
