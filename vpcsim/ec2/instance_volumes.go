package ec2

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// Volume is an EBS volume of an instance, as EC2 reports it: the root volume
// every instance has and those its block device mappings add. vpcsim keeps
// no blocks: a volume is what describes it, kept with its instance.
type Volume struct {
	ID                  string    `json:"id"` // vol-…
	Device              string    `json:"device"`
	Size                int       `json:"size"` // GiB
	Type                string    `json:"type"`
	Iops                int       `json:"iops,omitempty"`
	Throughput          int       `json:"throughput,omitempty"` // MiB/s, gp3
	Encrypted           bool      `json:"encrypted,omitempty"`
	KMSKeyID            string    `json:"kms,omitempty"`
	SnapshotID          string    `json:"snapshot,omitempty"`
	DeleteOnTermination bool      `json:"deleteOnTermination"`
	Created             time.Time `json:"created"`
	Tags                []Tag     `json:"tags,omitempty"`
}

// RootDevice is the root device of the images vpcsim launches, and
// rootVolumeSize their root snapshot's size (GiB), which a root volume may
// not be smaller than.
const (
	RootDevice     = "/dev/xvda"
	rootVolumeSize = 8
)

// BlockDeviceInput is one of RunInstances' BlockDeviceMapping (launch
// template versions store it: its JSON names never change).
type BlockDeviceInput struct {
	DeviceName  string    `json:"device"`
	VirtualName string    `json:"virtual,omitempty"`
	NoDevice    bool      `json:"noDevice,omitempty"`
	EBS         *EBSInput `json:"ebs,omitempty"`
}

// EBSInput is a block device mapping's Ebs: zero values are EC2's defaults.
type EBSInput struct {
	DeleteOnTermination *bool  `json:"deleteOnTermination,omitempty"`
	Encrypted           bool   `json:"encrypted,omitempty"`
	Iops                int    `json:"iops,omitempty"`
	Throughput          int    `json:"throughput,omitempty"`
	KMSKeyID            string `json:"kms,omitempty"`
	SnapshotID          string `json:"snapshot,omitempty"`
	Size                int    `json:"size,omitempty"`
	Type                string `json:"type,omitempty"`
}

// volumeSizes are the bounds (GiB) of each EBS volume type.
var volumeSizes = map[string][2]int{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 65536},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

// volumesFor makes an instance's volumes: the root volume (8 GiB gp3 unless
// its mapping says otherwise) and one for each other EBS mapping, checked as
// EC2 checks them.
func volumesFor(maps []BlockDeviceInput, now time.Time) ([]Volume, error) {
	root := EBSInput{}
	var vols []Volume
	seen := map[string]bool{}
	for _, m := range maps {
		if m.DeviceName == "" {
			return nil, missingParameter("BlockDeviceMapping.DeviceName")
		}
		if seen[m.DeviceName] {
			return nil, Errorf("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", m.DeviceName)
		}
		seen[m.DeviceName] = true
		switch {
		case m.NoDevice, m.VirtualName != "":
			continue // no volume (an instance store, or none)
		case m.EBS == nil:
			return nil, Errorf("InvalidBlockDeviceMapping", "The block device mapping for '%s' has neither Ebs, NoDevice nor VirtualName", m.DeviceName)
		case m.DeviceName == RootDevice:
			root = *m.EBS
			continue
		}
		v, err := newVolume(m.DeviceName, *m.EBS, false, now)
		if err != nil {
			return nil, err
		}
		vols = append(vols, v)
	}
	v, err := newVolume(RootDevice, root, true, now)
	if err != nil {
		return nil, err
	}
	return append([]Volume{v}, vols...), nil
}

func newVolume(device string, in EBSInput, root bool, now time.Time) (Volume, error) {
	v := Volume{ID: newID("vol"), Device: device, Type: in.Type, Size: in.Size, Encrypted: in.Encrypted || in.KMSKeyID != "",
		KMSKeyID: in.KMSKeyID, SnapshotID: in.SnapshotID, DeleteOnTermination: root, Created: now}
	if in.DeleteOnTermination != nil {
		v.DeleteOnTermination = *in.DeleteOnTermination
	}
	if v.Type == "" {
		v.Type = "gp3"
	}
	bounds, ok := volumeSizes[v.Type]
	if !ok {
		return v, invalidValue("Value (%s) for parameter volumeType is invalid. Valid values are standard, io1, io2, gp2, sc1, st1, gp3.", v.Type)
	}
	if v.Size == 0 {
		switch {
		case root:
			v.Size = rootVolumeSize
		case in.SnapshotID == "":
			return v, missingParameter("BlockDeviceMapping.Ebs.VolumeSize")
		default:
			v.Size = rootVolumeSize
		}
	}
	switch {
	case root && v.Size < rootVolumeSize:
		return v, Errorf("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot, expect size >= %dGB", v.Size, rootVolumeSize)
	case v.Size < bounds[0]:
		return v, invalidValue("Volume of %dGiB is too small; minimum is %dGiB.", v.Size, bounds[0])
	case v.Size > bounds[1]:
		return v, invalidValue("Volume of %dGiB is too large for volume type %s; maximum is %dGiB.", v.Size, v.Type, bounds[1])
	}
	switch v.Type {
	case "gp3":
		v.Iops, v.Throughput = orInt(in.Iops, 3000), orInt(in.Throughput, 125)
		if v.Iops < 3000 || v.Iops > 80000 {
			return v, invalidValue("The parameter iops must be between 3000 and 80000 for gp3 volumes.")
		}
		if v.Throughput < 125 || v.Throughput > 2000 {
			return v, invalidValue("The parameter throughput must be between 125 and 2000 for gp3 volumes.")
		}
	case "io1", "io2":
		if in.Iops == 0 {
			return v, missingParameter("BlockDeviceMapping.Ebs.Iops")
		}
		v.Iops = in.Iops
	default:
		if in.Iops != 0 {
			return v, Errorf("InvalidParameterCombination", "The parameter iops is not supported for %s volumes.", v.Type)
		}
		if v.Type == "gp2" {
			v.Iops = min(max(100, 3*v.Size), 16000) // gp2's baseline: 3 IOPS a GiB
		}
	}
	if v.Type != "gp3" && in.Throughput != 0 {
		return v, Errorf("InvalidParameterCombination", "The parameter throughput is not supported for %s volumes.", v.Type)
	}
	return v, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// VolumeView is a volume as DescribeVolumes answers it: with its instance
// and that instance's Availability Zone.
type VolumeView struct {
	Volume
	InstanceID string
	Region, AZ string
	State      string // in-use
	AttachTime time.Time
}

// DescribeVolumes answers the volumes of the region's instances, all or
// those named; a volume ID that is no volume is InvalidVolume.NotFound.
func (c *Cloud) DescribeVolumes(ctx context.Context, s Scope, ids []string, f []Filter) ([]VolumeView, error) {
	return describeFiltered(ctx, c, s, f, func() ([]VolumeView, error) {
		c.purgeLocked()
		var out []VolumeView
		all, _ := c.regionInstancesLocked(s, nil)
		for _, inst := range all {
			if inst.State == StateTerminated {
				continue
			}
			for _, v := range inst.Volumes {
				if len(ids) == 0 || slices.Contains(ids, v.ID) {
					out = append(out, VolumeView{Volume: v, InstanceID: inst.ID, Region: inst.Region, AZ: inst.AZ, State: "in-use", AttachTime: inst.LaunchTime})
				}
			}
		}
		for _, id := range ids {
			if !slices.ContainsFunc(out, func(v VolumeView) bool { return v.ID == id }) {
				return nil, Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
			}
		}
		return out, nil
	}, func(v *VolumeView) []Tag { return v.Tags }, volumeFilter)
}

func volumeFilter(v *VolumeView, name string) ([]string, bool) {
	switch name {
	case "volume-id":
		return []string{v.ID}, true
	case "attachment.instance-id":
		return []string{v.InstanceID}, true
	case "attachment.device":
		return []string{v.Device}, true
	case "attachment.delete-on-termination":
		return []string{boolString(v.DeleteOnTermination)}, true
	case "attachment.status":
		return []string{"attached"}, true
	case "availability-zone":
		return []string{v.AZ}, true
	case "status":
		return []string{v.State}, true
	case "volume-type":
		return []string{v.Type}, true
	case "size":
		return []string{strconv.Itoa(v.Size)}, true
	case "encrypted":
		return []string{boolString(v.Encrypted)}, true
	case "snapshot-id":
		return []string{v.SnapshotID}, true
	case "attachment.attach-time":
		return []string{v.AttachTime.Format("2006-01-02T15:04:05.000Z")}, true
	case "create-time":
		return []string{v.Created.Format("2006-01-02T15:04:05.000Z")}, true
	case "availability-zone-id":
		return []string{ZoneIDOf(v.Region, v.AZ)}, true
	case "multi-attach-enabled", "fast-restored", "operator.managed":
		return []string{"false"}, true
	case "operator.principal":
		return nil, true
	}
	return nil, false
}
