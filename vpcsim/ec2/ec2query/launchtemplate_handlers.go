package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// launchTemplateXML is the model's LaunchTemplate.
type launchTemplateXML struct {
	LaunchTemplateID     string      `xml:"launchTemplateId"`
	LaunchTemplateName   string      `xml:"launchTemplateName"`
	CreateTime           timestamp   `xml:"createTime"`
	CreatedBy            string      `xml:"createdBy"`
	DefaultVersionNumber int64       `xml:"defaultVersionNumber"`
	LatestVersionNumber  int64       `xml:"latestVersionNumber"`
	Tags                 set[tagXML] `xml:"tagSet,omitempty"`
	Operator             operatorXML `xml:"operator"`
}

func toLaunchTemplateXML(t ec2sim.LaunchTemplate) launchTemplateXML {
	return launchTemplateXML{
		LaunchTemplateID: t.ID, LaunchTemplateName: t.Name, CreateTime: timestamp(t.Created), CreatedBy: t.CreatedBy(),
		DefaultVersionNumber: t.DefaultVersion, LatestVersionNumber: t.LatestVersion(), Tags: tagSet(t.Tags),
	}
}

// launchTemplateVersionXML is the model's LaunchTemplateVersion.
type launchTemplateVersionXML struct {
	LaunchTemplateID   string                `xml:"launchTemplateId"`
	LaunchTemplateName string                `xml:"launchTemplateName"`
	VersionNumber      int64                 `xml:"versionNumber"`
	VersionDescription string                `xml:"versionDescription,omitempty"`
	CreateTime         timestamp             `xml:"createTime"`
	CreatedBy          string                `xml:"createdBy"`
	DefaultVersion     bool                  `xml:"defaultVersion"`
	LaunchTemplateData launchTemplateDataXML `xml:"launchTemplateData"`
	Operator           operatorXML           `xml:"operator"`
}

func toLaunchTemplateVersionXML(v ec2sim.TemplateVersion) launchTemplateVersionXML {
	return launchTemplateVersionXML{
		LaunchTemplateID: v.TemplateID, LaunchTemplateName: v.TemplateName, VersionNumber: v.Number,
		VersionDescription: v.Description, CreateTime: timestamp(v.Created), CreatedBy: "arn:aws:iam::" + v.OwnerID + ":root",
		DefaultVersion: v.Default, LaunchTemplateData: toLaunchTemplateDataXML(v.Data),
	}
}

// launchTemplateDataXML is the model's ResponseLaunchTemplateData: what the
// version was given, and nothing else.
type launchTemplateDataXML struct {
	EbsOptimized                      *bool                       `xml:"ebsOptimized,omitempty"`
	IamInstanceProfile                *ltIAMProfileXML            `xml:"iamInstanceProfile,omitempty"`
	BlockDeviceMappings               set[ltBlockDeviceXML]       `xml:"blockDeviceMappingSet,omitempty"`
	NetworkInterfaces                 set[ltENIXML]               `xml:"networkInterfaceSet,omitempty"`
	ImageID                           string                      `xml:"imageId,omitempty"`
	InstanceType                      string                      `xml:"instanceType,omitempty"`
	KeyName                           string                      `xml:"keyName,omitempty"`
	Monitoring                        *ltMonitoringXML            `xml:"monitoring,omitempty"`
	Placement                         *ltPlacementXML             `xml:"placement,omitempty"`
	DisableAPITermination             *bool                       `xml:"disableApiTermination,omitempty"`
	InstanceInitiatedShutdownBehavior string                      `xml:"instanceInitiatedShutdownBehavior,omitempty"`
	UserData                          string                      `xml:"userData,omitempty"`
	TagSpecifications                 set[ltTagSpecXML]           `xml:"tagSpecificationSet,omitempty"`
	SecurityGroupIDs                  set[string]                 `xml:"securityGroupIdSet,omitempty"`
	SecurityGroups                    set[string]                 `xml:"securityGroupSet,omitempty"`
	CreditSpecification               *ltCreditXML                `xml:"creditSpecification,omitempty"`
	CPUOptions                        *ltCPUOptionsXML            `xml:"cpuOptions,omitempty"`
	CapacityReservationSpecification  *capacityReservationSpecXML `xml:"capacityReservationSpecification,omitempty"`
	HibernationOptions                *hibernationOptionsXML      `xml:"hibernationOptions,omitempty"`
	MetadataOptions                   *ltMetadataXML              `xml:"metadataOptions,omitempty"`
	MaintenanceOptions                *ltMaintenanceXML           `xml:"maintenanceOptions,omitempty"`
	DisableAPIStop                    *bool                       `xml:"disableApiStop,omitempty"`
}

type ltIAMProfileXML struct {
	Arn  string `xml:"arn,omitempty"`
	Name string `xml:"name,omitempty"`
}

type ltBlockDeviceXML struct {
	DeviceName  string    `xml:"deviceName"`
	VirtualName string    `xml:"virtualName,omitempty"`
	Ebs         *ltEBSXML `xml:"ebs,omitempty"`
	NoDevice    *string   `xml:"noDevice,omitempty"`
}

type ltEBSXML struct {
	Encrypted           *bool  `xml:"encrypted,omitempty"`
	DeleteOnTermination *bool  `xml:"deleteOnTermination,omitempty"`
	Iops                int    `xml:"iops,omitempty"`
	KmsKeyID            string `xml:"kmsKeyId,omitempty"`
	SnapshotID          string `xml:"snapshotId,omitempty"`
	VolumeSize          int    `xml:"volumeSize,omitempty"`
	VolumeType          string `xml:"volumeType,omitempty"`
	Throughput          int    `xml:"throughput,omitempty"`
}

// ltENIXML is the model's LaunchTemplateInstanceNetworkInterfaceSpecification;
// its groups are a GroupIdStringList, whose members the model names groupId.
type ltENIXML struct {
	AssociatePublicIPAddress       *bool    `xml:"associatePublicIpAddress,omitempty"`
	DeleteOnTermination            *bool    `xml:"deleteOnTermination,omitempty"`
	Description                    string   `xml:"description,omitempty"`
	DeviceIndex                    int      `xml:"deviceIndex"`
	Groups                         []string `xml:"groupSet>groupId,omitempty"`
	NetworkInterfaceID             string   `xml:"networkInterfaceId,omitempty"`
	PrivateIPAddress               string   `xml:"privateIpAddress,omitempty"`
	SecondaryPrivateIPAddressCount int      `xml:"secondaryPrivateIpAddressCount,omitempty"`
	SubnetID                       string   `xml:"subnetId,omitempty"`
}

type ltMonitoringXML struct {
	Enabled bool `xml:"enabled"`
}

type ltPlacementXML struct {
	AvailabilityZone string `xml:"availabilityZone,omitempty"`
	Tenancy          string `xml:"tenancy,omitempty"`
}

type ltTagSpecXML struct {
	ResourceType string      `xml:"resourceType"`
	Tags         set[tagXML] `xml:"tagSet"`
}

type ltCreditXML struct {
	CPUCredits string `xml:"cpuCredits"`
}

type ltCPUOptionsXML struct {
	CoreCount      int `xml:"coreCount,omitempty"`
	ThreadsPerCore int `xml:"threadsPerCore,omitempty"`
}

type ltMetadataXML struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit *int   `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
}

type ltMaintenanceXML struct {
	AutoRecovery string `xml:"autoRecovery"`
}

func toLaunchTemplateDataXML(d ec2sim.LaunchTemplateData) launchTemplateDataXML {
	st := d.Settings
	x := launchTemplateDataXML{
		EbsOptimized: st.EbsOptimized, ImageID: d.ImageID, InstanceType: d.InstanceType, KeyName: d.KeyName,
		DisableAPITermination: st.DisableAPITermination, InstanceInitiatedShutdownBehavior: st.ShutdownBehavior,
		UserData: d.UserData, SecurityGroupIDs: d.SecurityGroupIDs, SecurityGroups: d.SecurityGroupNames, DisableAPIStop: st.DisableAPIStop,
	}
	if st.IAMProfileARN != "" || st.IAMProfileName != "" {
		x.IamInstanceProfile = &ltIAMProfileXML{Arn: st.IAMProfileARN, Name: st.IAMProfileName}
	}
	for _, b := range d.BlockDevices {
		bx := ltBlockDeviceXML{DeviceName: b.DeviceName, VirtualName: b.VirtualName}
		if b.NoDevice {
			bx.NoDevice = new(string)
		}
		if e := b.EBS; e != nil {
			bx.Ebs = &ltEBSXML{DeleteOnTermination: e.DeleteOnTermination, Iops: e.Iops, KmsKeyID: e.KMSKeyID, SnapshotID: e.SnapshotID,
				VolumeSize: e.Size, VolumeType: e.Type, Throughput: e.Throughput}
			if e.Encrypted {
				bx.Ebs.Encrypted = &e.Encrypted
			}
		}
		x.BlockDeviceMappings = append(x.BlockDeviceMappings, bx)
	}
	for _, n := range d.NetworkInterfaces {
		x.NetworkInterfaces = append(x.NetworkInterfaces, ltENIXML{
			AssociatePublicIPAddress: n.AssociatePublicIP, DeleteOnTermination: n.DeleteOnTermination, Description: n.Description,
			DeviceIndex: n.DeviceIndex, Groups: n.Groups, NetworkInterfaceID: n.ENIID, PrivateIPAddress: n.PrivateIPAddress,
			SecondaryPrivateIPAddressCount: n.SecondaryPrivateIPAddressCount, SubnetID: n.SubnetID,
		})
	}
	if st.Monitoring != nil {
		x.Monitoring = &ltMonitoringXML{Enabled: *st.Monitoring}
	}
	if d.AZ != "" || st.Tenancy != "" {
		x.Placement = &ltPlacementXML{AvailabilityZone: d.AZ, Tenancy: st.Tenancy}
	}
	for _, ts := range d.TagSpecs {
		x.TagSpecifications = append(x.TagSpecifications, ltTagSpecXML{ResourceType: ts.ResourceType, Tags: tagSet(ts.Tags)})
	}
	if st.CPUCredits != "" {
		x.CreditSpecification = &ltCreditXML{CPUCredits: st.CPUCredits}
	}
	if st.CoreCount != 0 || st.ThreadsPerCore != 0 {
		x.CPUOptions = &ltCPUOptionsXML{CoreCount: st.CoreCount, ThreadsPerCore: st.ThreadsPerCore}
	}
	if st.Reservations != "" {
		x.CapacityReservationSpecification = &capacityReservationSpecXML{Preference: st.Reservations}
	}
	if st.Hibernation != nil {
		x.HibernationOptions = &hibernationOptionsXML{Configured: *st.Hibernation}
	}
	if m := st.Metadata; m != (ec2sim.MetadataInput{}) {
		x.MetadataOptions = &ltMetadataXML{HTTPTokens: m.HTTPTokens, HTTPPutResponseHopLimit: m.HopLimit, HTTPEndpoint: m.HTTPEndpoint,
			HTTPProtocolIpv6: m.HTTPProtocolIPv6, InstanceMetadataTags: m.Tags}
	}
	if st.AutoRecovery != "" {
		x.MaintenanceOptions = &ltMaintenanceXML{AutoRecovery: st.AutoRecovery}
	}
	return x
}

// templateRefParams name a launch template, by ID or by name.
type templateRefParams struct {
	LaunchTemplateID   string `query:"LaunchTemplateId"`
	LaunchTemplateName string `query:"LaunchTemplateName"`
}

// CreateLaunchTemplate

type createLaunchTemplateRequest struct {
	dryRunParam
	ClientToken        string         `query:"ClientToken"` // each call makes its template; a retry finds the name taken
	LaunchTemplateName string         `query:"LaunchTemplateName"`
	VersionDescription string         `query:"VersionDescription"`
	LaunchTemplateData launchParams   `query:"LaunchTemplateData"`
	TagSpecifications  []tagSpecParam `query:"TagSpecification"`
}

type launchTemplateResponse struct {
	responseMeta
	LaunchTemplate launchTemplateXML `xml:"launchTemplate"`
}

func (h *Handler) createLaunchTemplate(ctx context.Context, s ec2sim.Scope, req *createLaunchTemplateRequest) (*launchTemplateResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "launch-template")
	if err != nil {
		return nil, err
	}
	t, err := h.cloud.CreateLaunchTemplate(ctx, s, ec2sim.CreateLaunchTemplateInput{
		Name: req.LaunchTemplateName, Description: req.VersionDescription, Data: req.LaunchTemplateData.data(), Tags: tags["launch-template"],
	})
	if err != nil {
		return nil, err
	}
	return &launchTemplateResponse{LaunchTemplate: toLaunchTemplateXML(t)}, nil
}

// CreateLaunchTemplateVersion

type createLaunchTemplateVersionRequest struct {
	dryRunParam
	templateRefParams
	ClientToken        string       `query:"ClientToken"`
	SourceVersion      string       `query:"SourceVersion"`
	VersionDescription string       `query:"VersionDescription"`
	LaunchTemplateData launchParams `query:"LaunchTemplateData"`
	ResolveAlias       bool         `query:"ResolveAlias"` // image IDs are kept as given either way
}

type createLaunchTemplateVersionResponse struct {
	responseMeta
	LaunchTemplateVersion launchTemplateVersionXML `xml:"launchTemplateVersion"`
}

func (h *Handler) createLaunchTemplateVersion(ctx context.Context, s ec2sim.Scope, req *createLaunchTemplateVersionRequest) (*createLaunchTemplateVersionResponse, error) {
	v, err := h.cloud.CreateLaunchTemplateVersion(ctx, s, ec2sim.CreateLaunchTemplateVersionInput{
		TemplateID: req.LaunchTemplateID, TemplateName: req.LaunchTemplateName, SourceVersion: req.SourceVersion,
		Description: req.VersionDescription, Data: req.LaunchTemplateData.data(),
	})
	if err != nil {
		return nil, err
	}
	return &createLaunchTemplateVersionResponse{LaunchTemplateVersion: toLaunchTemplateVersionXML(v)}, nil
}

// DescribeLaunchTemplates

type describeLaunchTemplatesRequest struct {
	dryRunParam
	pageParams
	LaunchTemplateIDs       []string      `query:"LaunchTemplateId"`
	LaunchTemplateNames     []string      `query:"LaunchTemplateName"`
	Filters                 []filterParam `query:"Filter"`
	IncludeManagedResources bool          `query:"IncludeManagedResources"` // vpcsim's templates are never managed
}

type describeLaunchTemplatesResponse struct {
	responseMeta
	LaunchTemplates set[launchTemplateXML] `xml:"launchTemplates"`
	NextToken       string                 `xml:"nextToken,omitempty"`
}

func (h *Handler) describeLaunchTemplates(ctx context.Context, s ec2sim.Scope, req *describeLaunchTemplatesRequest) (*describeLaunchTemplatesResponse, error) {
	all, err := h.cloud.DescribeLaunchTemplates(ctx, s, req.LaunchTemplateNames, req.LaunchTemplateIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	ts, next := page("DescribeLaunchTemplates", all, &req.pageParams)
	resp := &describeLaunchTemplatesResponse{LaunchTemplates: set[launchTemplateXML]{}, NextToken: next}
	for _, t := range ts {
		resp.LaunchTemplates = append(resp.LaunchTemplates, toLaunchTemplateXML(t))
	}
	return resp, nil
}

// DescribeLaunchTemplateVersions

type describeLaunchTemplateVersionsRequest struct {
	dryRunParam
	pageParams
	templateRefParams
	Versions                []string      `query:"LaunchTemplateVersion"`
	MinVersion              string        `query:"MinVersion"`
	MaxVersion              string        `query:"MaxVersion"`
	Filters                 []filterParam `query:"Filter"`
	ResolveAlias            bool          `query:"ResolveAlias"`            // image IDs are kept as given either way
	IncludeManagedResources bool          `query:"IncludeManagedResources"` // vpcsim's templates are never managed
}

type describeLaunchTemplateVersionsResponse struct {
	responseMeta
	LaunchTemplateVersions set[launchTemplateVersionXML] `xml:"launchTemplateVersionSet"`
	NextToken              string                        `xml:"nextToken,omitempty"`
}

func (h *Handler) describeLaunchTemplateVersions(ctx context.Context, s ec2sim.Scope, req *describeLaunchTemplateVersionsRequest) (*describeLaunchTemplateVersionsResponse, error) {
	all, err := h.cloud.DescribeLaunchTemplateVersions(ctx, s, ec2sim.DescribeLaunchTemplateVersionsInput{
		TemplateID: req.LaunchTemplateID, TemplateName: req.LaunchTemplateName, Versions: req.Versions,
		MinVersion: req.MinVersion, MaxVersion: req.MaxVersion, Filters: toFilters(req.Filters),
	})
	if err != nil {
		return nil, err
	}
	vs, next := page("DescribeLaunchTemplateVersions", all, &req.pageParams)
	resp := &describeLaunchTemplateVersionsResponse{LaunchTemplateVersions: set[launchTemplateVersionXML]{}, NextToken: next}
	for _, v := range vs {
		resp.LaunchTemplateVersions = append(resp.LaunchTemplateVersions, toLaunchTemplateVersionXML(v))
	}
	return resp, nil
}

// ModifyLaunchTemplate

type modifyLaunchTemplateRequest struct {
	dryRunParam
	templateRefParams
	ClientToken    string `query:"ClientToken"`
	DefaultVersion string `query:"SetDefaultVersion"`
}

func (h *Handler) modifyLaunchTemplate(ctx context.Context, s ec2sim.Scope, req *modifyLaunchTemplateRequest) (*launchTemplateResponse, error) {
	t, err := h.cloud.ModifyLaunchTemplate(ctx, s, req.LaunchTemplateID, req.LaunchTemplateName, req.DefaultVersion)
	if err != nil {
		return nil, err
	}
	return &launchTemplateResponse{LaunchTemplate: toLaunchTemplateXML(t)}, nil
}

// DeleteLaunchTemplate

type deleteLaunchTemplateRequest struct {
	dryRunParam
	templateRefParams
}

func (h *Handler) deleteLaunchTemplate(ctx context.Context, s ec2sim.Scope, req *deleteLaunchTemplateRequest) (*launchTemplateResponse, error) {
	t, err := h.cloud.DeleteLaunchTemplate(ctx, s, req.LaunchTemplateID, req.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	x := toLaunchTemplateXML(t)
	x.Tags = nil // EC2 answers the deleted template without its tags
	return &launchTemplateResponse{LaunchTemplate: x}, nil
}

// DeleteLaunchTemplateVersions

type deleteLaunchTemplateVersionsRequest struct {
	dryRunParam
	templateRefParams
	Versions []string `query:"LaunchTemplateVersion"`
}

type deletedVersionXML struct {
	LaunchTemplateID   string `xml:"launchTemplateId,omitempty"`
	LaunchTemplateName string `xml:"launchTemplateName,omitempty"`
	VersionNumber      int64  `xml:"versionNumber"`
}

type undeletedVersionXML struct {
	deletedVersionXML
	ResponseError struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"responseError"`
}

type deleteLaunchTemplateVersionsResponse struct {
	responseMeta
	Deleted   set[deletedVersionXML]   `xml:"successfullyDeletedLaunchTemplateVersionSet"`
	Undeleted set[undeletedVersionXML] `xml:"unsuccessfullyDeletedLaunchTemplateVersionSet"`
}

func (h *Handler) deleteLaunchTemplateVersions(ctx context.Context, s ec2sim.Scope, req *deleteLaunchTemplateVersionsRequest) (*deleteLaunchTemplateVersionsResponse, error) {
	ds, err := h.cloud.DeleteLaunchTemplateVersions(ctx, s, req.LaunchTemplateID, req.LaunchTemplateName, req.Versions)
	if err != nil {
		return nil, err
	}
	resp := &deleteLaunchTemplateVersionsResponse{Deleted: set[deletedVersionXML]{}, Undeleted: set[undeletedVersionXML]{}}
	for _, d := range ds {
		x := deletedVersionXML{LaunchTemplateID: d.TemplateID, LaunchTemplateName: d.TemplateName, VersionNumber: d.Number}
		if d.Code == "" {
			resp.Deleted = append(resp.Deleted, x)
			continue
		}
		u := undeletedVersionXML{deletedVersionXML: x}
		u.ResponseError.Code, u.ResponseError.Message = d.Code, d.Message
		resp.Undeleted = append(resp.Undeleted, u)
	}
	return resp, nil
}
