package ec2query

import (
	"context"
	"strconv"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// ModifyInstanceAttribute

type modifyBlockDeviceParam struct {
	DeviceName string `query:"DeviceName"`
	Ebs        *struct {
		DeleteOnTermination *bool  `query:"DeleteOnTermination"`
		VolumeID            string `query:"VolumeId"`
	} `query:"Ebs"`
}

type modifyInstanceAttributeRequest struct {
	dryRunParam
	InstanceID string `query:"InstanceId"`
	// Attribute and Value are the older form of one change, by name.
	Attribute                         string                   `query:"Attribute"`
	Value                             *string                  `query:"Value"`
	DisableAPITermination             *attrBool                `query:"DisableApiTermination"`
	DisableAPIStop                    *attrBool                `query:"DisableApiStop"`
	EbsOptimized                      *attrBool                `query:"EbsOptimized"`
	EnaSupport                        *attrBool                `query:"EnaSupport"`
	SriovNetSupport                   *attrString              `query:"SriovNetSupport"`
	InstanceInitiatedShutdownBehavior *attrString              `query:"InstanceInitiatedShutdownBehavior"`
	InstanceType                      *attrString              `query:"InstanceType"`
	UserData                          *attrString              `query:"UserData"`
	SourceDestCheck                   *attrBool                `query:"SourceDestCheck"`
	Groups                            []string                 `query:"GroupId"`
	BlockDeviceMappings               []modifyBlockDeviceParam `query:"BlockDeviceMapping"`
}

// byName turns the Attribute=NAME&Value=V form into the member it names.
func (r *modifyInstanceAttributeRequest) byName() error {
	if r.Attribute == "" {
		return nil
	}
	if r.Value == nil {
		return errMissingParameter("Value")
	}
	boolean := func() (*attrBool, error) {
		b, err := strconv.ParseBool(*r.Value)
		if err != nil {
			return nil, errInvalidValue("Value (%s) for parameter value is invalid. Expected: 'true' or 'false'.", *r.Value)
		}
		return &attrBool{Value: &b}, nil
	}
	var err error
	switch r.Attribute {
	case "disableApiTermination":
		r.DisableAPITermination, err = boolean()
	case "disableApiStop":
		r.DisableAPIStop, err = boolean()
	case "ebsOptimized":
		r.EbsOptimized, err = boolean()
	case "sourceDestCheck":
		r.SourceDestCheck, err = boolean()
	case "enaSupport":
		r.EnaSupport, err = boolean()
	case "sriovNetSupport":
		r.SriovNetSupport = &attrString{Value: r.Value}
	case "instanceInitiatedShutdownBehavior":
		r.InstanceInitiatedShutdownBehavior = &attrString{Value: r.Value}
	case "instanceType":
		r.InstanceType = &attrString{Value: r.Value}
	case "userData":
		r.UserData = &attrString{Value: r.Value}
	default:
		return errInvalidValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", r.Attribute)
	}
	return err
}

func (h *Handler) modifyInstanceAttribute(ctx context.Context, s ec2sim.Scope, req *modifyInstanceAttributeRequest) (*returnResponse, error) {
	if err := req.byName(); err != nil {
		return nil, err
	}
	// One attribute a call, as EC2 has it.
	given := 0
	for _, set := range []bool{req.DisableAPITermination != nil, req.DisableAPIStop != nil, req.EbsOptimized != nil,
		req.InstanceInitiatedShutdownBehavior != nil, req.InstanceType != nil, req.UserData != nil, req.SourceDestCheck != nil,
		req.Groups != nil, len(req.BlockDeviceMappings) > 0, req.EnaSupport != nil, req.SriovNetSupport != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, errCombination("Exactly one attribute must be specified")
	}
	flag := func(a *attrBool) *bool {
		if a == nil {
			return nil
		}
		v := boolOf(a.Value)
		return &v
	}
	text := func(a *attrString) *string {
		if a == nil {
			return nil
		}
		v := deref(a.Value)
		return &v
	}
	ch := ec2sim.InstanceAttributeChange{
		DisableAPITermination: flag(req.DisableAPITermination), DisableAPIStop: flag(req.DisableAPIStop), EbsOptimized: flag(req.EbsOptimized),
		ShutdownBehavior: text(req.InstanceInitiatedShutdownBehavior), InstanceType: text(req.InstanceType), UserData: text(req.UserData),
		SourceDestCheck: flag(req.SourceDestCheck), Groups: req.Groups,
		EnaSupport: flag(req.EnaSupport), SriovNetSupport: text(req.SriovNetSupport),
	}
	for _, b := range req.BlockDeviceMappings {
		if b.Ebs == nil || b.Ebs.DeleteOnTermination == nil {
			continue
		}
		if ch.DeleteOnTermination == nil {
			ch.DeleteOnTermination = map[string]bool{}
		}
		ch.DeleteOnTermination[b.DeviceName] = *b.Ebs.DeleteOnTermination
	}
	if err := h.cloud.ModifyInstanceAttribute(ctx, s, req.InstanceID, ch); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

// DescribeVolumes

type describeVolumesRequest struct {
	dryRunParam
	pageParams
	VolumeIDs []string      `query:"VolumeId"`
	Filters   []filterParam `query:"Filter"`
}

type volumeAttachmentXML struct {
	AttachTime          timestamp `xml:"attachTime"`
	Device              string    `xml:"device"`
	InstanceID          string    `xml:"instanceId"`
	Status              string    `xml:"status"`
	VolumeID            string    `xml:"volumeId"`
	DeleteOnTermination bool      `xml:"deleteOnTermination"`
}

type volumeXML struct {
	VolumeID           string                   `xml:"volumeId"`
	Size               int                      `xml:"size"`
	SnapshotID         string                   `xml:"snapshotId"`
	AvailabilityZone   string                   `xml:"availabilityZone"`
	Status             string                   `xml:"status"`
	CreateTime         timestamp                `xml:"createTime"`
	Attachments        set[volumeAttachmentXML] `xml:"attachmentSet"`
	VolumeType         string                   `xml:"volumeType"`
	Iops               int                      `xml:"iops,omitempty"`
	Throughput         int                      `xml:"throughput,omitempty"`
	Encrypted          bool                     `xml:"encrypted"`
	KmsKeyID           string                   `xml:"kmsKeyId,omitempty"`
	MultiAttachEnabled bool                     `xml:"multiAttachEnabled"`
	Tags               set[tagXML]              `xml:"tagSet,omitempty"`
}

type describeVolumesResponse struct {
	responseMeta
	Volumes   set[volumeXML] `xml:"volumeSet"`
	NextToken string         `xml:"nextToken,omitempty"`
}

func (h *Handler) describeVolumes(ctx context.Context, s ec2sim.Scope, req *describeVolumesRequest) (*describeVolumesResponse, error) {
	vols, err := h.cloud.DescribeVolumes(ctx, s, req.VolumeIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	vols, next := page("DescribeVolumes", vols, &req.pageParams)
	resp := &describeVolumesResponse{Volumes: set[volumeXML]{}, NextToken: next}
	for _, v := range vols {
		resp.Volumes = append(resp.Volumes, volumeXML{
			VolumeID: v.ID, Size: v.Size, SnapshotID: v.SnapshotID, AvailabilityZone: v.AZ, Status: v.State,
			CreateTime: timestamp(v.Created), VolumeType: v.Type, Iops: v.Iops, Throughput: v.Throughput,
			Encrypted: v.Encrypted, KmsKeyID: v.KMSKeyID, Tags: tagSet(v.Tags),
			Attachments: set[volumeAttachmentXML]{{AttachTime: timestamp(v.AttachTime), Device: v.Device, InstanceID: v.InstanceID,
				Status: "attached", VolumeID: v.ID, DeleteOnTermination: v.DeleteOnTermination}},
		})
	}
	return resp, nil
}

// ModifyInstanceMetadataOptions

type modifyMetadataOptionsRequest struct {
	dryRunParam
	InstanceID              string `query:"InstanceId"`
	HTTPTokens              string `query:"HttpTokens"`
	HTTPPutResponseHopLimit *int   `query:"HttpPutResponseHopLimit"`
	HTTPEndpoint            string `query:"HttpEndpoint"`
	HTTPProtocolIpv6        string `query:"HttpProtocolIpv6"`
	InstanceMetadataTags    string `query:"InstanceMetadataTags"`
}

type modifyMetadataOptionsResponse struct {
	responseMeta
	InstanceID      string             `xml:"instanceId"`
	MetadataOptions metadataOptionsXML `xml:"instanceMetadataOptions"`
}

func (h *Handler) modifyInstanceMetadataOptions(ctx context.Context, s ec2sim.Scope, req *modifyMetadataOptionsRequest) (*modifyMetadataOptionsResponse, error) {
	m := req
	got, err := h.cloud.ModifyInstanceMetadataOptions(ctx, s, req.InstanceID, ec2sim.MetadataInput{HTTPTokens: m.HTTPTokens, HopLimit: m.HTTPPutResponseHopLimit,
		HTTPEndpoint: m.HTTPEndpoint, HTTPProtocolIPv6: m.HTTPProtocolIpv6, Tags: m.InstanceMetadataTags})
	if err != nil {
		return nil, err
	}
	// "pending" while the change applies, as EC2 answers it.
	return &modifyMetadataOptionsResponse{InstanceID: req.InstanceID, MetadataOptions: metadataOptionsXML{State: "pending", HTTPTokens: got.HTTPTokens,
		HTTPPutResponseHopLimit: got.HopLimit, HTTPEndpoint: got.HTTPEndpoint, HTTPProtocolIpv6: got.HTTPProtocolIPv6, InstanceMetadataTags: got.Tags}}, nil
}
