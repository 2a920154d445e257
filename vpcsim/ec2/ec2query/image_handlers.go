package ec2query

import (
	"context"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

type imageEBSXML struct {
	SnapshotID          string `xml:"snapshotId,omitempty"`
	VolumeSize          int    `xml:"volumeSize,omitempty"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	VolumeType          string `xml:"volumeType,omitempty"`
	Encrypted           bool   `xml:"encrypted"`
}

type imageDeviceXML struct {
	DeviceName  string       `xml:"deviceName"`
	VirtualName string       `xml:"virtualName,omitempty"`
	Ebs         *imageEBSXML `xml:"ebs,omitempty"`
}

func imageDeviceSet(devices []ec2sim.ImageDevice) set[imageDeviceXML] {
	out := set[imageDeviceXML]{}
	for _, d := range devices {
		x := imageDeviceXML{DeviceName: d.Device, VirtualName: d.VirtualName}
		if d.VirtualName == "" {
			x.Ebs = &imageEBSXML{SnapshotID: d.SnapshotID, VolumeSize: d.Size, DeleteOnTermination: d.DeleteOnTermination, VolumeType: d.Type, Encrypted: d.Encrypted}
		}
		out = append(out, x)
	}
	return out
}

// imageXML is the model's Image. An image is EBS backed, Linux, available.
type imageXML struct {
	ImageID             string              `xml:"imageId"`
	ImageLocation       string              `xml:"imageLocation"`
	ImageState          string              `xml:"imageState"`
	ImageOwnerID        string              `xml:"imageOwnerId"`
	CreationDate        string              `xml:"creationDate"`
	IsPublic            bool                `xml:"isPublic"`
	Architecture        string              `xml:"architecture"`
	ImageType           string              `xml:"imageType"`
	PlatformDetails     string              `xml:"platformDetails"`
	UsageOperation      string              `xml:"usageOperation"`
	ImageOwnerAlias     string              `xml:"imageOwnerAlias,omitempty"`
	Name                string              `xml:"name"`
	Description         string              `xml:"description,omitempty"`
	RootDeviceType      string              `xml:"rootDeviceType"`
	RootDeviceName      string              `xml:"rootDeviceName"`
	BlockDeviceMappings set[imageDeviceXML] `xml:"blockDeviceMapping"`
	VirtualizationType  string              `xml:"virtualizationType"`
	Tags                set[tagXML]         `xml:"tagSet"`
	Hypervisor          string              `xml:"hypervisor"`
	EnaSupport          bool                `xml:"enaSupport"`
	SriovNetSupport     string              `xml:"sriovNetSupport,omitempty"`
	BootMode            string              `xml:"bootMode,omitempty"`
	TpmSupport          string              `xml:"tpmSupport,omitempty"`
	ImdsSupport         string              `xml:"imdsSupport,omitempty"`
	ProductCodes        set[struct{}]       `xml:"productCodes"`
}

func toImageXML(im ec2sim.Image) imageXML {
	owner := im.OwnerID
	if im.OwnerAlias != "" {
		owner = im.OwnerAlias
	}
	return imageXML{
		ImageID: im.ID, ImageLocation: owner + "/" + im.Name, ImageState: "available", ImageOwnerID: im.OwnerID,
		CreationDate: im.CreationDate.UTC().Format("2006-01-02T15:04:05.000Z"), IsPublic: im.Public, Architecture: im.Architecture,
		ImageType: "machine", PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", ImageOwnerAlias: im.OwnerAlias,
		Name: im.Name, Description: im.Description, RootDeviceType: "ebs", RootDeviceName: im.RootDeviceName,
		BlockDeviceMappings: imageDeviceSet(im.Devices), VirtualizationType: im.VirtualizationType, Tags: tagSet(im.Tags),
		Hypervisor: "xen", EnaSupport: im.EnaSupport, SriovNetSupport: im.SriovNetSupport, BootMode: im.BootMode,
		TpmSupport: im.TpmSupport, ImdsSupport: im.ImdsSupport, ProductCodes: set[struct{}]{},
	}
}

// DescribeImages

type describeImagesRequest struct {
	dryRunParam
	pageParams
	ImageIDs          []string      `query:"ImageId"`
	Owners            []string      `query:"Owner"`
	ExecutableBy      []string      `query:"ExecutableBy"`
	Filters           []filterParam `query:"Filter"`
	IncludeDeprecated bool          `query:"IncludeDeprecated"`
	IncludeDisabled   bool          `query:"IncludeDisabled"`
}

type describeImagesResponse struct {
	responseMeta
	Images    set[imageXML] `xml:"imagesSet"`
	NextToken string        `xml:"nextToken,omitempty"`
}

func (h *Handler) describeImages(ctx context.Context, s ec2sim.Scope, req *describeImagesRequest) (*describeImagesResponse, error) {
	ims, err := h.cloud.DescribeImages(ctx, s, req.ImageIDs, req.Owners, req.ExecutableBy, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	ims, next := page("DescribeImages", ims, &req.pageParams)
	resp := &describeImagesResponse{Images: set[imageXML]{}, NextToken: next}
	for _, im := range ims {
		resp.Images = append(resp.Images, toImageXML(im))
	}
	return resp, nil
}

// DescribeImageAttribute

type describeImageAttributeRequest struct {
	dryRunParam
	ImageID   string `query:"ImageId"`
	Attribute string `query:"Attribute"`
}

type launchPermissionXML struct {
	Group  string `xml:"group,omitempty"`
	UserID string `xml:"userId,omitempty"`
}

type describeImageAttributeResponse struct {
	responseMeta
	ImageID             string                    `xml:"imageId"`
	Description         *attrValueXML             `xml:"description,omitempty"`
	Kernel              *attrValueXML             `xml:"kernel,omitempty"`
	Ramdisk             *attrValueXML             `xml:"ramdisk,omitempty"`
	LaunchPermission    *set[launchPermissionXML] `xml:"launchPermission,omitempty"`
	ProductCodes        *set[struct{}]            `xml:"productCodes,omitempty"`
	BlockDeviceMapping  *set[imageDeviceXML]      `xml:"blockDeviceMapping,omitempty"`
	SriovNetSupport     *attrValueXML             `xml:"sriovNetSupport,omitempty"`
	BootMode            *attrValueXML             `xml:"bootMode,omitempty"`
	TpmSupport          *attrValueXML             `xml:"tpmSupport,omitempty"`
	UefiData            *attrValueXML             `xml:"uefiData,omitempty"`
	LastLaunchedTime    *attrValueXML             `xml:"lastLaunchedTime,omitempty"`
	ImdsSupport         *attrValueXML             `xml:"imdsSupport,omitempty"`
	DeregistrationGuard *attrValueXML             `xml:"deregistrationProtection,omitempty"`
}

func (h *Handler) describeImageAttribute(ctx context.Context, s ec2sim.Scope, req *describeImageAttributeRequest) (*describeImageAttributeResponse, error) {
	im, err := h.cloud.DescribeImageAttribute(ctx, s, req.ImageID, req.Attribute)
	if err != nil {
		return nil, err
	}
	resp := &describeImageAttributeResponse{ImageID: im.ID}
	v := func(s string) *attrValueXML { return &attrValueXML{Value: s} }
	switch req.Attribute {
	case "description":
		resp.Description = v(im.Description)
	case "kernel":
		resp.Kernel = v("")
	case "ramdisk":
		resp.Ramdisk = v("")
	case "launchPermission":
		perms := set[launchPermissionXML]{}
		if im.Public {
			perms = append(perms, launchPermissionXML{Group: "all"})
		}
		resp.LaunchPermission = &perms
	case "productCodes":
		resp.ProductCodes = &set[struct{}]{}
	case "blockDeviceMapping":
		devices := imageDeviceSet(im.Devices)
		resp.BlockDeviceMapping = &devices
	case "sriovNetSupport":
		resp.SriovNetSupport = v(im.SriovNetSupport)
	case "bootMode":
		resp.BootMode = v(im.BootMode)
	case "tpmSupport":
		resp.TpmSupport = v(im.TpmSupport)
	case "uefiData":
		resp.UefiData = v("")
	case "lastLaunchedTime":
		resp.LastLaunchedTime = v("")
	case "imdsSupport":
		resp.ImdsSupport = v(im.ImdsSupport)
	case "deregistrationProtection":
		resp.DeregistrationGuard = v("disabled")
	}
	return resp, nil
}

// RegisterImage

type registerImageRequest struct {
	dryRunParam
	Name                string             `query:"Name"`
	Description         string             `query:"Description"`
	Architecture        string             `query:"Architecture"`
	RootDeviceName      string             `query:"RootDeviceName"`
	VirtualizationType  string             `query:"VirtualizationType"`
	BootMode            string             `query:"BootMode"`
	ImdsSupport         string             `query:"ImdsSupport"`
	TpmSupport          string             `query:"TpmSupport"`
	SriovNetSupport     string             `query:"SriovNetSupport"`
	EnaSupport          bool               `query:"EnaSupport"`
	ImageLocation       string             `query:"ImageLocation"`
	KernelID            string             `query:"KernelId"`
	RamdiskID           string             `query:"RamdiskId"`
	BlockDeviceMappings []blockDeviceParam `query:"BlockDeviceMapping"`
	TagSpecifications   []tagSpecParam     `query:"TagSpecification"`
}

type registerImageResponse struct {
	responseMeta
	ImageID string `xml:"imageId"`
}

func (h *Handler) registerImage(ctx context.Context, s ec2sim.Scope, req *registerImageRequest) (*registerImageResponse, error) {
	switch {
	case req.ImageLocation != "":
		// An instance-store image's manifest lives in S3, which vpcsim has not.
		return nil, errUnsupportedParameter("ImageLocation")
	case req.KernelID != "":
		return nil, clientError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", req.KernelID)
	case req.RamdiskID != "":
		return nil, clientError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", req.RamdiskID)
	}
	tags, err := tagSpecs(req.TagSpecifications, "image")
	if err != nil {
		return nil, err
	}
	id, err := h.cloud.RegisterImage(ctx, s, ec2sim.RegisterImageInput{
		Name: req.Name, Description: req.Description, Architecture: req.Architecture, RootDeviceName: req.RootDeviceName,
		VirtualizationType: req.VirtualizationType, BootMode: req.BootMode, ImdsSupport: req.ImdsSupport, TpmSupport: req.TpmSupport,
		SriovNetSupport: req.SriovNetSupport, EnaSupport: req.EnaSupport, BlockDevices: blockDeviceInputs(req.BlockDeviceMappings), Tags: tags["image"],
	})
	if err != nil {
		return nil, err
	}
	return &registerImageResponse{ImageID: id}, nil
}

// DeregisterImage

type deregisterImageRequest struct {
	dryRunParam
	ImageID                   string `query:"ImageId"`
	DeleteAssociatedSnapshots bool   `query:"DeleteAssociatedSnapshots"`
}

func (h *Handler) deregisterImage(ctx context.Context, s ec2sim.Scope, req *deregisterImageRequest) (*returnResponse, error) {
	if err := h.cloud.DeregisterImage(ctx, s, req.ImageID); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}
