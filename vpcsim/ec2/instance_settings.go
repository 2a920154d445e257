package ec2

import (
	"context"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/storage"
)

// InstanceSettings are what describes an instance beyond its network: EC2
// stores them and reports them back, and so does vpcsim, validated as EC2
// validates them. An instance here is a network namespace, so most change
// nothing that runs; the two protections are enforced (TerminateInstances
// and StopInstances refuse a protected instance).
type InstanceSettings struct {
	DisableAPITermination bool   `json:"noTerminate,omitempty"`
	DisableAPIStop        bool   `json:"noStop,omitempty"`
	EbsOptimized          bool   `json:"ebsOptimized,omitempty"`
	ShutdownBehavior      string `json:"shutdown,omitempty"` // stop (the default) or terminate
	Hibernation           bool   `json:"hibernation,omitempty"`
	Monitoring            bool   `json:"monitoring,omitempty"` // detailed monitoring
	Tenancy               string `json:"tenancy,omitempty"`    // default, dedicated or host
	// IAMProfileARN and IAMProfileID are the instance profile's; vpcsim has
	// no IAM, so a profile named is taken as it is named.
	IAMProfileARN string          `json:"iamArn,omitempty"`
	IAMProfileID  string          `json:"iamId,omitempty"`
	Metadata      MetadataOptions `json:"metadata"`
	CPUCredits    string          `json:"cpuCredits,omitempty"` // T instances: standard or unlimited
	// CoreCount and ThreadsPerCore are the CPU options (0: the type's).
	CoreCount      int    `json:"cores,omitempty"`
	ThreadsPerCore int    `json:"threads,omitempty"`
	AutoRecovery   string `json:"autoRecovery,omitempty"` // default or disabled
	Reservations   string `json:"reservations,omitempty"` // capacity reservation preference: open, none, capacity-reservations-only
	// NoENA and SriovNetSupport are the enhanced networking attributes,
	// its image's at launch (ENA on, and no SR-IOV, for an image vpcsim
	// does not know). They describe: an ENI here is a veth either way.
	NoENA           bool   `json:"noEna,omitempty"`
	SriovNetSupport string `json:"sriov,omitempty"` // simple, or none
}

// EnaSupport is whether enhanced networking with ENA is on.
func (s InstanceSettings) EnaSupport() bool { return !s.NoENA }

// MetadataOptions are an instance's metadata service options.
type MetadataOptions struct {
	HTTPTokens       string `json:"tokens"`   // optional or required
	HopLimit         int    `json:"hops"`     // 1 to 64
	HTTPEndpoint     string `json:"endpoint"` // enabled or disabled
	HTTPProtocolIPv6 string `json:"ipv6"`     // enabled or disabled
	Tags             string `json:"tags"`     // instance metadata tags: enabled or disabled
}

// SettingsInput is what RunInstances gives of an instance's settings; unset
// ones take EC2's defaults. Launch template versions store it (its JSON is
// theirs: the names never change).
type SettingsInput struct {
	DisableAPITermination *bool         `json:"noTerminate,omitempty"`
	DisableAPIStop        *bool         `json:"noStop,omitempty"`
	EbsOptimized          *bool         `json:"ebsOptimized,omitempty"`
	Hibernation           *bool         `json:"hibernation,omitempty"`
	Monitoring            *bool         `json:"monitoring,omitempty"`
	ShutdownBehavior      string        `json:"shutdown,omitempty"`
	Tenancy               string        `json:"tenancy,omitempty"`
	IAMProfileARN         string        `json:"iamArn,omitempty"`
	IAMProfileName        string        `json:"iamName,omitempty"`
	Metadata              MetadataInput `json:"metadata,omitzero"`
	CPUCredits            string        `json:"cpuCredits,omitempty"`
	CoreCount             int           `json:"cores,omitempty"`
	ThreadsPerCore        int           `json:"threads,omitempty"`
	AutoRecovery          string        `json:"autoRecovery,omitempty"`
	Reservations          string        `json:"reservations,omitempty"`
}

// MetadataInput is RunInstances' or ModifyInstanceMetadataOptions'
// MetadataOptions: unset members keep what they were.
type MetadataInput struct {
	HTTPTokens       string `json:"tokens,omitempty"`
	HTTPEndpoint     string `json:"endpoint,omitempty"`
	HTTPProtocolIPv6 string `json:"ipv6,omitempty"`
	Tags             string `json:"tags,omitempty"`
	HopLimit         *int   `json:"hops,omitempty"`
}

func defaultSettings(typ string) InstanceSettings {
	s := InstanceSettings{ShutdownBehavior: "stop", Tenancy: "default", AutoRecovery: "default", Reservations: "open",
		Metadata: MetadataOptions{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "enabled", HTTPProtocolIPv6: "disabled", Tags: "disabled"}}
	switch {
	case strings.HasPrefix(typ, "t2."):
		s.CPUCredits = "standard"
	case burstable(typ):
		s.CPUCredits = "unlimited"
	}
	return s
}

// burstable reports whether an instance type earns CPU credits (T2, T3,
// T3a, T4g).
func burstable(typ string) bool { return strings.HasPrefix(typ, "t") }

// settingsFor applies RunInstances' settings to EC2's defaults for the
// instance type, refusing what EC2 refuses; a profile named by name is the
// account's.
func settingsFor(account, typ string, in SettingsInput) (InstanceSettings, error) {
	s := defaultSettings(typ)
	setBool(&s.DisableAPITermination, in.DisableAPITermination)
	setBool(&s.DisableAPIStop, in.DisableAPIStop)
	setBool(&s.EbsOptimized, in.EbsOptimized)
	setBool(&s.Hibernation, in.Hibernation)
	setBool(&s.Monitoring, in.Monitoring)
	if in.ShutdownBehavior != "" {
		if err := checkShutdownBehavior(in.ShutdownBehavior); err != nil {
			return s, err
		}
		s.ShutdownBehavior = in.ShutdownBehavior
	}
	switch in.Tenancy {
	case "":
	case "default", "dedicated", "host":
		s.Tenancy = in.Tenancy
	default:
		return s, invalidValue("Value (%s) for parameter tenancy is invalid. Valid values are default, dedicated, host.", in.Tenancy)
	}
	switch {
	case in.IAMProfileARN != "" && in.IAMProfileName != "":
		return s, Errorf("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	case in.IAMProfileARN != "":
		if !strings.HasPrefix(in.IAMProfileARN, "arn:aws:iam::") || !strings.Contains(in.IAMProfileARN, ":instance-profile/") {
			return s, invalidValue("Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", in.IAMProfileARN)
		}
		s.IAMProfileARN = in.IAMProfileARN
	case in.IAMProfileName != "":
		s.IAMProfileARN = "arn:aws:iam::" + account + ":instance-profile/" + in.IAMProfileName
	}
	if s.IAMProfileARN != "" {
		s.IAMProfileID = "AIPA" + strings.ToUpper(newID("x")[2:])
	}
	if err := applyMetadata(&s.Metadata, in.Metadata); err != nil {
		return s, err
	}
	if in.CPUCredits != "" {
		if err := checkCPUCredits(typ, in.CPUCredits); err != nil {
			return s, err
		}
		s.CPUCredits = in.CPUCredits
	}
	if err := checkCPUOptions(typ, in.CoreCount, in.ThreadsPerCore); err != nil {
		return s, err
	}
	s.CoreCount, s.ThreadsPerCore = in.CoreCount, in.ThreadsPerCore
	switch in.AutoRecovery {
	case "":
	case "default", "disabled":
		s.AutoRecovery = in.AutoRecovery
	default:
		return s, invalidValue("Value (%s) for parameter autoRecovery is invalid. Valid values are default, disabled.", in.AutoRecovery)
	}
	switch in.Reservations {
	case "":
	case "open", "none":
		s.Reservations = in.Reservations
	case "capacity-reservations-only":
		return s, Errorf("InvalidParameterCombination", "No capacity reservation exists that matches the instance's attributes.")
	default:
		return s, invalidValue("Value (%s) for parameter capacityReservationPreference is invalid. Valid values are open, none, capacity-reservations-only.", in.Reservations)
	}
	return s, nil
}

// checkCPUOptions applies EC2's bounds to CPU options: at most the type's
// cores, one thread a core or the type's threads.
func checkCPUOptions(typ string, cores, threads int) error {
	if cores == 0 && threads == 0 {
		return nil
	}
	t, _ := LookupInstanceType(typ)
	if cores < 0 || cores > t.DefaultCores || threads < 0 || (threads != 0 && threads != 1 && threads != t.CoresPerCPU) {
		return invalidValue("The specified CPU options are not valid for %s: %d cores, %d threads per core.", typ, cores, threads)
	}
	return nil
}

// setBool sets *dst to *v when v is given.
func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func checkShutdownBehavior(v string) error {
	if v != "stop" && v != "terminate" {
		return invalidValue("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are stop and terminate.", v)
	}
	return nil
}

// creditsNotSupported is EC2's refusal of a credit option for a type that
// earns no credits (terraform-provider-aws#5067 quotes it).
func creditsNotSupported(typ string) error {
	return Errorf("InstanceCreditSpecification.NotSupported", "The %s instance type does not support T2 Unlimited.", typ)
}

func checkCPUCredits(typ, v string) error {
	if v != "standard" && v != "unlimited" {
		return invalidValue("Value (%s) for parameter cpuCredits is invalid. Valid values are standard and unlimited.", v)
	}
	if !burstable(typ) {
		return creditsNotSupported(typ)
	}
	return nil
}

// applyMetadata changes metadata options as EC2 does: the members given,
// each checked.
func applyMetadata(m *MetadataOptions, in MetadataInput) error {
	enum := func(name, v string, dst *string, ok ...string) error {
		if v == "" {
			return nil
		}
		for _, o := range ok {
			if v == o {
				*dst = v
				return nil
			}
		}
		return invalidValue("The value '%s' is not valid for the parameter %s. Valid values are %s.", v, name, strings.Join(ok, ", "))
	}
	if err := enum("HttpTokens", in.HTTPTokens, &m.HTTPTokens, "optional", "required"); err != nil {
		return err
	}
	if err := enum("HttpEndpoint", in.HTTPEndpoint, &m.HTTPEndpoint, "enabled", "disabled"); err != nil {
		return err
	}
	if err := enum("HttpProtocolIpv6", in.HTTPProtocolIPv6, &m.HTTPProtocolIPv6, "enabled", "disabled"); err != nil {
		return err
	}
	if err := enum("InstanceMetadataTags", in.Tags, &m.Tags, "enabled", "disabled"); err != nil {
		return err
	}
	if in.HopLimit != nil {
		if *in.HopLimit < 1 || *in.HopLimit > 64 {
			return invalidValue("The value '%d' is not valid for the parameter HttpPutResponseHopLimit. Valid values are 1 to 64.", *in.HopLimit)
		}
		m.HopLimit = *in.HopLimit
	}
	return nil
}

// InstanceAttributeChange is one ModifyInstanceAttribute: the attribute it
// names (nil and "" are unchanged). The network attributes (SourceDestCheck,
// Groups) are the primary ENI's, changed there.
type InstanceAttributeChange struct {
	DisableAPITermination, DisableAPIStop, EbsOptimized, EnaSupport *bool
	ShutdownBehavior, InstanceType, UserData, SriovNetSupport       *string
	// DeleteOnTermination is by device name.
	DeleteOnTermination map[string]bool
	SourceDestCheck     *bool
	Groups              []string // nil: unchanged
}

// ModifyInstanceAttribute changes what describes an instance (its type, user
// data, EBS optimization and enhanced networking only while it is stopped,
// as EC2 has it), or its primary ENI's groups or source/destination check.
func (c *Cloud) ModifyInstanceAttribute(ctx context.Context, s Scope, id string, ch InstanceAttributeChange) error {
	if id == "" {
		return missingParameter("instanceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return err
	}
	defer c.unlock()
	c.waitIdleLocked(id)
	inst, err := c.instanceLocked(s, id)
	if err != nil {
		return err
	}
	if (ch.InstanceType != nil || ch.UserData != nil || ch.EbsOptimized != nil || ch.EnaSupport != nil || ch.SriovNetSupport != nil) && inst.State != StateStopped {
		return Errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
	}
	if ch.SourceDestCheck != nil || ch.Groups != nil {
		for _, e := range c.attachedLocked(inst.ID) {
			if e.Attachment.DeviceIndex == 0 {
				if err := c.modifyENILocked(s, e, ModifyNetworkInterfaceInput{SourceDestCheck: ch.SourceDestCheck, Groups: ch.Groups}); err != nil {
					return err
				}
			}
		}
	}
	inst = editSettings(c.model().instances, id)
	setBool(&inst.Settings.DisableAPITermination, ch.DisableAPITermination)
	setBool(&inst.Settings.DisableAPIStop, ch.DisableAPIStop)
	setBool(&inst.Settings.EbsOptimized, ch.EbsOptimized)
	if v := ch.EnaSupport; v != nil {
		inst.Settings.NoENA = !*v
	}
	if v := ch.SriovNetSupport; v != nil {
		// EC2 has no way to turn the Intel 82599 VF interface off again.
		if *v != "simple" {
			return invalidValue("Value (%s) for parameter sriovNetSupport is invalid. Valid values are simple.", *v)
		}
		inst.Settings.SriovNetSupport = *v
	}
	if v := ch.ShutdownBehavior; v != nil {
		if err := checkShutdownBehavior(*v); err != nil {
			return err
		}
		inst.Settings.ShutdownBehavior = *v
	}
	if v := ch.InstanceType; v != nil {
		t, ok := LookupInstanceType(*v)
		if !ok {
			return invalidValue("Invalid value '%s' for InstanceType.", *v)
		}
		if err := checkArchitecture(t); err != nil {
			return err
		}
		inst.Type = *v
		switch {
		case !burstable(*v):
			inst.Settings.CPUCredits = "" // it earns no credits now
		case inst.Settings.CPUCredits == "": // now a T instance: its type's default option
			inst.Settings.CPUCredits = defaultSettings(*v).CPUCredits
		}
	}
	if v := ch.UserData; v != nil {
		if err := checkUserData(*v); err != nil {
			return err
		}
		inst.UserData = *v
	}
	for device, del := range ch.DeleteOnTermination {
		i := slices.IndexFunc(inst.Volumes, func(v Volume) bool { return v.Device == device })
		if i < 0 {
			return Errorf("InvalidInstanceAttributeValue", "No device is currently mapped at %s", device)
		}
		inst.Volumes[i].DeleteOnTermination = del
	}
	return c.commitLocked()
}

// Described is the instance's settings, EC2's defaults for one stored
// before vpcsim kept them.
func (i *Instance) Described() InstanceSettings {
	if i.Settings.Metadata.HTTPTokens == "" {
		return defaultSettings(i.Type)
	}
	out := i.Settings
	def := defaultSettings(i.Type)
	if out.AutoRecovery == "" { // stored before these were kept
		out.AutoRecovery, out.Reservations = def.AutoRecovery, def.Reservations
	}
	return out
}

// editSettings is the transaction's copy of an instance, to change, with
// its settings filled in if it was stored before vpcsim kept them: a change
// to the zero settings would be hidden by Described's defaults.
func editSettings(v storage.View[Instance], id string) *Instance {
	inst := edit(v, id)
	inst.Settings = inst.Described()
	return inst
}

// ModifyInstanceMetadataOptions changes an instance's metadata options (the
// members given), running or stopped.
func (c *Cloud) ModifyInstanceMetadataOptions(ctx context.Context, s Scope, id string, in MetadataInput) (MetadataOptions, error) {
	if id == "" {
		return MetadataOptions{}, missingParameter("instanceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return MetadataOptions{}, err
	}
	defer c.unlock()
	inst, err := c.instanceLocked(s, id)
	if err != nil {
		return MetadataOptions{}, err
	}
	if inst.State == StateTerminated || inst.State == StateShuttingDown {
		return MetadataOptions{}, Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which its metadata options can be changed.", id)
	}
	inst = editSettings(c.model().instances, id)
	if err := applyMetadata(&inst.Settings.Metadata, in); err != nil {
		return MetadataOptions{}, err
	}
	out := inst.Settings.Metadata
	return out, c.commitLocked()
}
