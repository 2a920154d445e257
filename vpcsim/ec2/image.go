package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
)

// Image is a machine image EC2 describes: one of the catalogue's (the images
// AWS's public SSM parameters name, public, owned by Amazon, in every region)
// or one the account registered. An image describes what an instance starts
// from; every vpcsim instance runs the same way whatever its image, and
// RunInstances takes any well-formed image ID, as scripts name made-up ones.
type Image struct {
	ID                 string        `json:"id"` // ami-…
	Region             string        `json:"region"`
	OwnerID            string        `json:"owner"`
	OwnerAlias         string        `json:"ownerAlias,omitempty"` // amazon, for the catalogue's
	Public             bool          `json:"public,omitempty"`
	Name               string        `json:"name"`
	Description        string        `json:"description,omitempty"`
	Architecture       string        `json:"arch"`
	RootDeviceName     string        `json:"rootDevice"`
	VirtualizationType string        `json:"virt"`
	BootMode           string        `json:"bootMode,omitempty"`
	EnaSupport         bool          `json:"ena,omitempty"`
	SriovNetSupport    string        `json:"sriov,omitempty"`
	ImdsSupport        string        `json:"imds,omitempty"`
	TpmSupport         string        `json:"tpm,omitempty"`
	Devices            []ImageDevice `json:"devices"`
	CreationDate       time.Time     `json:"created"`
	Tags               []Tag         `json:"tags,omitempty"`
	Seq                int64         `json:"seq"`
}

// ImageDevice is one block device mapping of an image.
type ImageDevice struct {
	Device              string `json:"device"`
	VirtualName         string `json:"virtual,omitempty"`
	SnapshotID          string `json:"snapshot,omitempty"`
	Size                int    `json:"size,omitempty"`
	Type                string `json:"type,omitempty"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
	Encrypted           bool   `json:"encrypted,omitempty"`
}

func copyImage(im *Image) Image {
	out := *im
	out.Devices = slices.Clone(im.Devices)
	out.Tags = slices.Clone(im.Tags)
	return out
}

// catalogueImage is a catalogue image as EC2 describes it in a region: EBS
// backed, hvm, its root snapshot named after its ID.
func catalogueImage(im amicatalog.Image, region string) *Image {
	size := 8
	if im.ECS != nil {
		size = 30 // the ECS-optimized images' root volume
	}
	h := sha256.Sum256([]byte(im.ID))
	return &Image{
		ID: im.ID, Region: region, OwnerID: im.OwnerID, OwnerAlias: im.OwnerAlias, Public: true, Name: im.Name,
		Description: im.Description, Architecture: im.Architecture, RootDeviceName: im.RootDeviceName,
		VirtualizationType: "hvm", BootMode: "uefi-preferred", EnaSupport: true, SriovNetSupport: "simple", ImdsSupport: "v2.0",
		Devices:      []ImageDevice{{Device: im.RootDeviceName, SnapshotID: "snap-" + hex.EncodeToString(h[:])[:17], Size: size, Type: "gp3", DeleteOnTermination: true}},
		CreationDate: im.CreationDate,
	}
}

// imageLocked finds an image of the region: the catalogue's or registered.
func (c *Cloud) imageLocked(s Scope, id string) (*Image, error) {
	if err := checkID("InvalidAMIID.Malformed", "ami", id); err != nil {
		return nil, err
	}
	if im, ok := amicatalog.Lookup(id); ok {
		return catalogueImage(im, s.Region), nil
	}
	if im := get(c.model().images, id); im != nil && im.Region == s.Region {
		return im, nil
	}
	return nil, Errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
}

// imagesLocked lists the region's images: the catalogue's, then those
// registered, in registration order.
func (c *Cloud) imagesLocked(s Scope) []*Image {
	var out []*Image
	for _, im := range amicatalog.Images() {
		out = append(out, catalogueImage(im, s.Region))
	}
	return append(out, inRegion(sortedBySeq(c.model().images.All(), func(im *Image) int64 { return im.Seq }), s, func(im *Image) string { return im.Region })...)
}

// imageName is what AWS allows in an image's name.
var imageName = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

// RegisterImageInput is RegisterImage's request.
type RegisterImageInput struct {
	Name, Description, Architecture    string
	RootDeviceName, VirtualizationType string
	BootMode, ImdsSupport, TpmSupport  string
	SriovNetSupport                    string
	EnaSupport                         bool
	BlockDevices                       []BlockDeviceInput
	Tags                               []Tag
}

// RegisterImage registers an image of the account from its description. The
// root device's mapping needs no snapshot: vpcsim has none, and an image
// here describes what its instances report, not their disk.
func (c *Cloud) RegisterImage(ctx context.Context, s Scope, in RegisterImageInput) (string, error) {
	switch {
	case in.Name == "":
		return "", missingParameter("name")
	case !imageName.MatchString(in.Name):
		return "", invalidValue("AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	if in.Architecture == "" {
		in.Architecture = "x86_64"
	}
	if !slices.Contains([]string{"i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"}, in.Architecture) {
		return "", invalidValue("Value (%s) for parameter architecture is invalid. Valid values are: i386, x86_64, arm64, x86_64_mac, arm64_mac", in.Architecture)
	}
	if in.VirtualizationType == "" {
		in.VirtualizationType = "hvm"
	}
	if in.VirtualizationType != "hvm" && in.VirtualizationType != "paravirtual" {
		return "", invalidValue("Value (%s) for parameter virtualizationType is invalid. Valid values are: hvm, paravirtual", in.VirtualizationType)
	}
	if in.RootDeviceName == "" {
		in.RootDeviceName = RootDevice
	}
	if in.BootMode != "" && !slices.Contains([]string{"legacy-bios", "uefi", "uefi-preferred"}, in.BootMode) {
		return "", invalidValue("Value (%s) for parameter bootMode is invalid.", in.BootMode)
	}
	if in.ImdsSupport != "" && in.ImdsSupport != "v2.0" {
		return "", invalidValue("Value (%s) for parameter imdsSupport is invalid. Valid values are: v2.0", in.ImdsSupport)
	}
	if in.TpmSupport != "" && in.TpmSupport != "v2.0" {
		return "", invalidValue("Value (%s) for parameter tpmSupport is invalid. Valid values are: v2.0", in.TpmSupport)
	}
	if err := checkTags(in.Tags); err != nil {
		return "", err
	}
	now := c.now().UTC().Truncate(time.Second)
	devices, err := imageDevices(in.RootDeviceName, in.BlockDevices, now)
	if err != nil {
		return "", err
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	for im := range c.model().images.All() {
		if im.Region == s.Region && im.Name == in.Name {
			return "", Errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", in.Name, im.ID)
		}
	}
	im := &Image{
		ID: newID("ami"), Region: s.Region, OwnerID: c.account, Name: in.Name, Description: in.Description,
		Architecture: in.Architecture, RootDeviceName: in.RootDeviceName, VirtualizationType: in.VirtualizationType,
		BootMode: in.BootMode, EnaSupport: in.EnaSupport, SriovNetSupport: in.SriovNetSupport, ImdsSupport: in.ImdsSupport,
		TpmSupport: in.TpmSupport, Devices: devices, CreationDate: now, Tags: in.Tags, Seq: c.nextSeq(),
	}
	c.model().images.Put(im)
	if err := c.commitLocked(); err != nil {
		return "", err
	}
	return im.ID, nil
}

// imageDevices checks an image's block device mappings as RunInstances
// checks an instance's (EBS types and bounds), and adds the root device's
// when none names it.
func imageDevices(root string, maps []BlockDeviceInput, now time.Time) ([]ImageDevice, error) {
	var out []ImageDevice
	for _, m := range maps {
		if m.DeviceName == "" {
			return nil, missingParameter("BlockDeviceMapping.DeviceName")
		}
		if slices.ContainsFunc(out, func(d ImageDevice) bool { return d.Device == m.DeviceName }) {
			return nil, Errorf("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", m.DeviceName)
		}
		switch {
		case m.NoDevice:
			continue
		case m.VirtualName != "":
			out = append(out, ImageDevice{Device: m.DeviceName, VirtualName: m.VirtualName})
			continue
		case m.EBS == nil:
			return nil, Errorf("InvalidBlockDeviceMapping", "The block device mapping for '%s' has neither Ebs, NoDevice nor VirtualName", m.DeviceName)
		case m.EBS.SnapshotID != "":
			return nil, Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", m.EBS.SnapshotID)
		}
		v, err := newVolume(m.DeviceName, *m.EBS, m.DeviceName == root, now)
		if err != nil {
			return nil, err
		}
		out = append(out, ImageDevice{Device: v.Device, Size: v.Size, Type: v.Type, DeleteOnTermination: v.DeleteOnTermination, Encrypted: v.Encrypted})
	}
	if !slices.ContainsFunc(out, func(d ImageDevice) bool { return d.Device == root }) {
		v, err := newVolume(root, EBSInput{}, true, now)
		if err != nil {
			return nil, err
		}
		out = append([]ImageDevice{{Device: root, Size: v.Size, Type: v.Type, DeleteOnTermination: true}}, out...)
	}
	return out, nil
}

// DeregisterImage deregisters an image of the account; the catalogue's are
// Amazon's.
func (c *Cloud) DeregisterImage(ctx context.Context, s Scope, id string) error {
	if id == "" {
		return missingParameter("imageId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	im, err := c.imageLocked(s, id)
	if err != nil {
		return err
	}
	if im.OwnerID != c.account {
		return Errorf("AuthFailure", "Not authorized for image:%s", id)
	}
	c.model().images.Delete(im.ID)
	return c.commitLocked()
}

// DescribeImages lists the region's images: those named (all must exist),
// those of the owners named (self, amazon or account IDs), filtered.
func (c *Cloud) DescribeImages(ctx context.Context, s Scope, ids, owners, executableBy []string, f []Filter) ([]Image, error) {
	for _, u := range executableBy {
		if u != "all" && u != "self" && u != c.account && !isAccountID(u) {
			return nil, invalidValue("Invalid value '%s' for ExecutableBy.", u)
		}
	}
	return describeFiltered(ctx, c, s, f, func() ([]Image, error) {
		list, err := pick(ids, func(id string) (*Image, error) { return c.imageLocked(s, id) }, func() []*Image { return c.imagesLocked(s) })
		if e, ok := AsAPIError(err); ok && e.Code == "InvalidAMIID.NotFound" {
			err = c.missingImagesLocked(s, ids)
		}
		if err != nil {
			return nil, err
		}
		list = slices.DeleteFunc(list, func(im *Image) bool {
			return len(owners) > 0 && !slices.ContainsFunc(owners, func(o string) bool {
				return o == im.OwnerID || o == im.OwnerAlias || (o == "self" && im.OwnerID == c.account)
			}) || len(executableBy) > 0 && !slices.ContainsFunc(executableBy, func(u string) bool {
				return im.Public || im.OwnerID == c.account && (u == "self" || u == c.account)
			})
		})
		return copies(list, nil, copyImage)
	}, func(im *Image) []Tag { return im.Tags }, imageFilter)
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func imageFilter(im *Image, name string) ([]string, bool) {
	each := func(f func(ImageDevice) string) []string {
		var out []string
		for _, d := range im.Devices {
			if v := f(d); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	switch name {
	case "architecture":
		return []string{im.Architecture}, true
	case "image-id":
		return []string{im.ID}, true
	case "image-type":
		return []string{"machine"}, true
	case "is-public":
		return []string{boolString(im.Public)}, true
	case "name":
		return []string{im.Name}, true
	case "description":
		return []string{im.Description}, true
	case "owner-alias":
		if im.OwnerAlias == "" {
			return nil, true
		}
		return []string{im.OwnerAlias}, true
	case "owner-id":
		return []string{im.OwnerID}, true
	case "platform", "product-code", "product-code.type", "kernel-id", "ramdisk-id", "state-reason-code", "state-reason-message", "source-instance-id":
		return nil, true
	case "platform-details":
		return []string{"Linux/UNIX"}, true
	case "usage-operation":
		return []string{"RunInstances"}, true
	case "root-device-name":
		return []string{im.RootDeviceName}, true
	case "root-device-type":
		return []string{"ebs"}, true
	case "state":
		return []string{"available"}, true
	case "virtualization-type":
		return []string{im.VirtualizationType}, true
	case "hypervisor":
		return []string{"xen"}, true
	case "ena-support":
		return []string{boolString(im.EnaSupport)}, true
	case "sriov-net-support":
		return []string{im.SriovNetSupport}, true
	case "creation-date":
		return []string{im.CreationDate.Format("2006-01-02T15:04:05.000Z")}, true
	case "block-device-mapping.device-name":
		return each(func(d ImageDevice) string { return d.Device }), true
	case "block-device-mapping.snapshot-id":
		return each(func(d ImageDevice) string { return d.SnapshotID }), true
	case "block-device-mapping.volume-type":
		return each(func(d ImageDevice) string { return d.Type }), true
	case "block-device-mapping.volume-size":
		return each(func(d ImageDevice) string {
			if d.Size == 0 {
				return ""
			}
			return strconv.Itoa(d.Size)
		}), true
	case "block-device-mapping.delete-on-termination":
		return each(func(d ImageDevice) string { return boolString(d.DeleteOnTermination) }), true
	case "block-device-mapping.encrypted":
		return each(func(d ImageDevice) string { return boolString(d.Encrypted) }), true
	}
	return nil, false
}

// DescribeImageAttribute answers one attribute of an image (see
// ImageAttributes for their names).
func (c *Cloud) DescribeImageAttribute(ctx context.Context, s Scope, id, attr string) (Image, error) {
	switch {
	case id == "":
		return Image{}, missingParameter("imageId")
	case attr == "":
		return Image{}, missingParameter("attribute")
	case !slices.Contains(ImageAttributes, attr):
		return Image{}, invalidValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := c.lock(ctx, s); err != nil {
		return Image{}, err
	}
	defer c.unlock()
	im, err := c.imageLocked(s, id)
	if err != nil {
		return Image{}, err
	}
	return copyImage(im), nil
}

// ImageAttributes are the attributes DescribeImageAttribute answers: EC2's.
var ImageAttributes = []string{"description", "kernel", "ramdisk", "launchPermission", "productCodes", "blockDeviceMapping",
	"sriovNetSupport", "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport", "deregistrationProtection"}

// missingImagesLocked is EC2's answer to a DescribeImages that names images
// not there: all of them, in one message.
func (c *Cloud) missingImagesLocked(s Scope, ids []string) error {
	var missing []string
	for _, id := range ids {
		if _, err := c.imageLocked(s, id); err != nil && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 1 {
		return Errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", missing[0])
	}
	return Errorf("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(missing, ", "))
}
