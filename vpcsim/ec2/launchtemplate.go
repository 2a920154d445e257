package ec2

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LaunchTemplate is an EC2 launch template: named, numbered versions of
// launch parameters, one of them the default, which RunInstances takes what
// a request does not give from. A version never changes once made; numbers
// are never given twice, even after their version is deleted.
type LaunchTemplate struct {
	ID             string                  `json:"id"` // lt-…
	Region         string                  `json:"region"`
	OwnerID        string                  `json:"owner"`
	Name           string                  `json:"name"`
	Created        time.Time               `json:"created"`
	DefaultVersion int64                   `json:"default"`
	LastNumber     int64                   `json:"last"`     // the highest version number handed out
	Versions       []LaunchTemplateVersion `json:"versions"` // by number, ascending
	Tags           []Tag                   `json:"tags,omitempty"`
	Seq            int64                   `json:"seq"`
}

// LaunchTemplateVersion is one version of a launch template.
type LaunchTemplateVersion struct {
	Number      int64              `json:"n"`
	Description string             `json:"description,omitempty"`
	Created     time.Time          `json:"created"`
	Data        LaunchTemplateData `json:"data"`
}

// LaunchTemplateData is a version's launch parameters: the RunInstances
// parameters vpcsim takes, each optional, answered back as given.
type LaunchTemplateData struct {
	ImageID            string             `json:"image,omitempty"`
	InstanceType       string             `json:"type,omitempty"`
	KeyName            string             `json:"key,omitempty"`
	UserData           string             `json:"userData,omitempty"` // base64, as given
	SecurityGroupIDs   []string           `json:"groups,omitempty"`
	SecurityGroupNames []string           `json:"groupNames,omitempty"`
	AZ                 string             `json:"az,omitempty"` // Placement.AvailabilityZone
	NetworkInterfaces  []InstanceENISpec  `json:"enis,omitempty"`
	BlockDevices       []BlockDeviceInput `json:"blockDevices,omitempty"`
	Settings           SettingsInput      `json:"settings,omitzero"`
	TagSpecs           []TagSpecification `json:"tagSpecs,omitempty"`
}

// TagSpecification is the tags a launch gives the resources of one type:
// instance, volume or network-interface.
type TagSpecification struct {
	ResourceType string `json:"type"`
	Tags         []Tag  `json:"tags"`
}

// LaunchTemplateRef is RunInstances' LaunchTemplate: a template by ID or
// name, and a version ($Latest, $Default or a number; "" is $Default).
type LaunchTemplateRef struct {
	ID, Name, Version string
}

// TemplateVersion is a version as DescribeLaunchTemplateVersions and
// CreateLaunchTemplateVersion answer it: with its template.
type TemplateVersion struct {
	TemplateID, TemplateName, OwnerID string
	Default                           bool
	LaunchTemplateVersion
}

// Version aliases EC2 takes wherever a version is named.
const (
	versionLatest  = "$Latest"
	versionDefault = "$Default"
)

// The resource types a launch template's data may tag: those a launch makes.
var launchTagTypes = []string{"instance", "volume", "network-interface"}

// maxTemplateVersionsDeleted bounds one DeleteLaunchTemplateVersions call.
const maxTemplateVersionsDeleted = 200

// LatestVersion is the number of the template's newest version.
func (t *LaunchTemplate) LatestVersion() int64 { return t.Versions[len(t.Versions)-1].Number }

// CreatedBy is the ARN of who made the template: the account's root, as
// vpcsim has no IAM.
func (t *LaunchTemplate) CreatedBy() string { return "arn:aws:iam::" + t.OwnerID + ":root" }

func copyLaunchTemplate(t *LaunchTemplate) LaunchTemplate {
	out := *t
	out.Versions = slices.Clone(t.Versions)
	for i := range out.Versions {
		out.Versions[i].Data = copyTemplateData(out.Versions[i].Data)
	}
	out.Tags = slices.Clone(t.Tags)
	return out
}

// copyTemplateData is a copy of d that shares nothing with it: callers may
// change it (RunInstances sorts the network interfaces it is given).
func copyTemplateData(d LaunchTemplateData) LaunchTemplateData {
	out := d
	out.SecurityGroupIDs = slices.Clone(d.SecurityGroupIDs)
	out.SecurityGroupNames = slices.Clone(d.SecurityGroupNames)
	out.NetworkInterfaces = slices.Clone(d.NetworkInterfaces)
	for i := range out.NetworkInterfaces {
		n := &out.NetworkInterfaces[i]
		n.Groups = slices.Clone(n.Groups)
		n.DeleteOnTermination, n.AssociatePublicIP = clonePtr(n.DeleteOnTermination), clonePtr(n.AssociatePublicIP)
	}
	out.BlockDevices = slices.Clone(d.BlockDevices)
	for i := range out.BlockDevices {
		if e := out.BlockDevices[i].EBS; e != nil {
			c := *e
			c.DeleteOnTermination = clonePtr(e.DeleteOnTermination)
			out.BlockDevices[i].EBS = &c
		}
	}
	out.TagSpecs = slices.Clone(d.TagSpecs)
	for i := range out.TagSpecs {
		out.TagSpecs[i].Tags = slices.Clone(out.TagSpecs[i].Tags)
	}
	st := &out.Settings
	for _, p := range []**bool{&st.DisableAPITermination, &st.DisableAPIStop, &st.EbsOptimized, &st.Hibernation, &st.Monitoring} {
		*p = clonePtr(*p)
	}
	st.Metadata.HopLimit = clonePtr(st.Metadata.HopLimit)
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// templateName is EC2's rule for a launch template's name.
var templateName = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

func checkTemplateName(name string) error {
	if name == "" {
		return missingParameter("LaunchTemplateName")
	}
	if !templateName.MatchString(name) {
		// EC2's words, as clients report them (terraform-aws-github-runner#932).
		return Errorf("InvalidLaunchTemplateName.MalformedException",
			"A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.")
	}
	return nil
}

// checkVersionDescription applies the model's bound (255 characters).
// (unverified: EC2's text.)
func checkVersionDescription(d string) error {
	if len(d) > 255 {
		return invalidValue("Value (%s) for parameter versionDescription is invalid. Up to 255 characters.", d)
	}
	return nil
}

// checkTemplateData refuses what EC2 refuses when a version is made: no
// parameters at all, values outside the model's enumerations, an unknown
// instance type and tags it could not give. What depends on other resources
// (the image, subnets, groups, the key pair) and user data are checked when
// an instance is launched from the version, as EC2 does. (unverified: which
// of these EC2 refuses at creation rather than at launch.)
func checkTemplateData(d LaunchTemplateData) error {
	if d.isZero() {
		return missingParameter("LaunchTemplateData")
	}
	if d.InstanceType != "" {
		if _, ok := LookupInstanceType(d.InstanceType); !ok {
			return invalidValue("Invalid value '%s' for InstanceType.", d.InstanceType)
		}
	}
	st := d.Settings
	if st.ShutdownBehavior != "" {
		if err := checkShutdownBehavior(st.ShutdownBehavior); err != nil {
			return err
		}
	}
	var m MetadataOptions
	if err := applyMetadata(&m, st.Metadata); err != nil {
		return err
	}
	for _, c := range []struct {
		name, v string
		ok      []string
	}{
		{"tenancy", st.Tenancy, []string{"default", "dedicated", "host"}},
		{"cpuCredits", st.CPUCredits, []string{"standard", "unlimited"}},
		{"autoRecovery", st.AutoRecovery, []string{"default", "disabled"}},
		{"capacityReservationPreference", st.Reservations, []string{"capacity-reservations-only", "open", "none"}},
	} {
		if c.v != "" && !slices.Contains(c.ok, c.v) {
			return invalidValue("Value (%s) for parameter %s is invalid. Valid values are %s.", c.v, c.name, strings.Join(c.ok, ", "))
		}
	}
	for _, b := range d.BlockDevices {
		if b.EBS != nil && b.EBS.Type != "" {
			if _, ok := volumeSizes[b.EBS.Type]; !ok {
				return invalidValue("Value (%s) for parameter volumeType is invalid. Valid values are standard, io1, io2, gp2, sc1, st1, gp3.", b.EBS.Type)
			}
		}
	}
	for _, ts := range d.TagSpecs {
		if !slices.Contains(launchTagTypes, ts.ResourceType) {
			return invalidValue("'%s' is not a valid taggable resource type for this operation.", ts.ResourceType)
		}
		if err := checkTags(ts.Tags); err != nil {
			return err
		}
	}
	return nil
}

func (d LaunchTemplateData) isZero() bool {
	return d.ImageID == "" && d.InstanceType == "" && d.KeyName == "" && d.UserData == "" && len(d.SecurityGroupIDs) == 0 &&
		len(d.SecurityGroupNames) == 0 && d.AZ == "" && len(d.NetworkInterfaces) == 0 && len(d.BlockDevices) == 0 &&
		d.Settings == (SettingsInput{}) && len(d.TagSpecs) == 0
}

// overlay is base with every parameter top gives replaced by top's: a
// structure (placement, the instance profile, metadata options, CPU
// options) or a list is replaced whole, as EC2 makes a version from a
// source version and RunInstances overrides a template.
func overlay(base, top LaunchTemplateData) LaunchTemplateData {
	out := base
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	str(&out.ImageID, top.ImageID)
	str(&out.InstanceType, top.InstanceType)
	str(&out.KeyName, top.KeyName)
	str(&out.UserData, top.UserData)
	str(&out.AZ, top.AZ)
	replaceList(&out.SecurityGroupIDs, top.SecurityGroupIDs)
	replaceList(&out.SecurityGroupNames, top.SecurityGroupNames)
	replaceList(&out.NetworkInterfaces, top.NetworkInterfaces)
	replaceList(&out.BlockDevices, top.BlockDevices)
	replaceList(&out.TagSpecs, top.TagSpecs)
	bs, ts := &out.Settings, top.Settings
	for _, p := range []struct{ dst, v **bool }{
		{&bs.DisableAPITermination, &ts.DisableAPITermination}, {&bs.DisableAPIStop, &ts.DisableAPIStop},
		{&bs.EbsOptimized, &ts.EbsOptimized}, {&bs.Hibernation, &ts.Hibernation}, {&bs.Monitoring, &ts.Monitoring},
	} {
		if *p.v != nil {
			*p.dst = *p.v
		}
	}
	str(&bs.ShutdownBehavior, ts.ShutdownBehavior)
	str(&bs.Tenancy, ts.Tenancy)
	str(&bs.CPUCredits, ts.CPUCredits)
	str(&bs.AutoRecovery, ts.AutoRecovery)
	str(&bs.Reservations, ts.Reservations)
	if ts.IAMProfileARN != "" || ts.IAMProfileName != "" {
		bs.IAMProfileARN, bs.IAMProfileName = ts.IAMProfileARN, ts.IAMProfileName
	}
	if ts.Metadata != (MetadataInput{}) {
		bs.Metadata = ts.Metadata
	}
	if ts.CoreCount != 0 || ts.ThreadsPerCore != 0 {
		bs.CoreCount, bs.ThreadsPerCore = ts.CoreCount, ts.ThreadsPerCore
	}
	return out
}

// replaceList sets *dst to v when v is given.
func replaceList[T any](dst *[]T, v []T) {
	if v != nil {
		*dst = v
	}
}

// templateIDNotFound and its kin are EC2's refusals of a template or version
// named that is not there (moto's AWS-verified tests quote them).
func templateIDNotFound(id string) error {
	return Errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
}

func templateNameNotFound(name string) error {
	return Errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
}

func versionNotFound(t *LaunchTemplate, v string) error {
	return Errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find the specified version %s for the launch template with ID %s.", v, t.ID)
}

// launchTemplateLocked finds a template of the scope's region by ID or by
// name (exactly one of them); doing names what the call does, for the
// refusal of both. (unverified: that refusal's text but ModifyLaunchTemplate's.)
func (c *Cloud) launchTemplateLocked(s Scope, id, name, doing string) (*LaunchTemplate, error) {
	switch {
	case id != "" && name != "":
		return nil, Errorf("InvalidParameterCombination", "Either provide launch template ID or launch template name to %s.", doing)
	case id == "" && name == "":
		return nil, missingParameter("launch template ID or launch template name")
	case id != "":
		if err := checkID("InvalidLaunchTemplateId.Malformed", "lt", id); err != nil {
			return nil, err
		}
		t := get(c.model().launchTemplates, id)
		if t == nil || t.Region != s.Region {
			return nil, templateIDNotFound(id)
		}
		return t, nil
	}
	if t := c.templateNamedLocked(s, name); t != nil {
		return t, nil
	}
	return nil, templateNameNotFound(name)
}

func (c *Cloud) templateNamedLocked(s Scope, name string) *LaunchTemplate {
	for t := range c.model().launchTemplates.All() {
		if t.Region == s.Region && t.Name == name {
			return t
		}
	}
	return nil
}

// version resolves a version as EC2 takes one: $Latest, $Default or a
// number.
func (t *LaunchTemplate) version(v string) (*LaunchTemplateVersion, error) {
	n := t.DefaultVersion
	switch v {
	case versionLatest:
		n = t.LatestVersion()
	case versionDefault:
	default:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, versionNotFound(t, v)
		}
	}
	i := slices.IndexFunc(t.Versions, func(x LaunchTemplateVersion) bool { return x.Number == n })
	if i < 0 {
		return nil, versionNotFound(t, v)
	}
	return &t.Versions[i], nil
}

// versionOf is a copy of one of the template's versions, with the template.
func (t *LaunchTemplate) versionOf(v *LaunchTemplateVersion) TemplateVersion {
	out := TemplateVersion{TemplateID: t.ID, TemplateName: t.Name, OwnerID: t.OwnerID, Default: v.Number == t.DefaultVersion, LaunchTemplateVersion: *v}
	out.Data = copyTemplateData(v.Data)
	return out
}

// CreateLaunchTemplateInput is CreateLaunchTemplate's request.
type CreateLaunchTemplateInput struct {
	Name, Description string
	Data              LaunchTemplateData
	Tags              []Tag // the template's own
}

// CreateLaunchTemplate makes a launch template whose first version, the
// default, holds the data given.
func (c *Cloud) CreateLaunchTemplate(ctx context.Context, s Scope, in CreateLaunchTemplateInput) (LaunchTemplate, error) {
	if err := checkTemplateName(in.Name); err != nil {
		return LaunchTemplate{}, err
	}
	if err := checkVersionDescription(in.Description); err != nil {
		return LaunchTemplate{}, err
	}
	if err := checkTemplateData(in.Data); err != nil {
		return LaunchTemplate{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return LaunchTemplate{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return LaunchTemplate{}, err
	}
	defer c.unlock()
	if c.templateNamedLocked(s, in.Name) != nil {
		// moto's AWS-verified test quotes it.
		return LaunchTemplate{}, Errorf("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	now := c.now().UTC().Truncate(time.Second)
	t := &LaunchTemplate{
		ID: newID("lt"), Region: s.Region, OwnerID: c.account, Name: in.Name, Created: now,
		DefaultVersion: 1, LastNumber: 1, Tags: in.Tags, Seq: c.nextSeq(),
		Versions: []LaunchTemplateVersion{{Number: 1, Description: in.Description, Created: now, Data: in.Data}},
	}
	c.model().launchTemplates.Put(t)
	if err := c.commitLocked(); err != nil {
		return LaunchTemplate{}, err
	}
	return copyLaunchTemplate(t), nil
}

// CreateLaunchTemplateVersionInput is CreateLaunchTemplateVersion's request.
type CreateLaunchTemplateVersionInput struct {
	TemplateID, TemplateName string
	// SourceVersion, when given, is the version the new one starts from:
	// its data with every parameter Data gives replaced (see overlay).
	SourceVersion string
	Description   string
	Data          LaunchTemplateData
}

// CreateLaunchTemplateVersion adds a version to a template, numbered after
// every version it ever had; the default version stays as it was.
func (c *Cloud) CreateLaunchTemplateVersion(ctx context.Context, s Scope, in CreateLaunchTemplateVersionInput) (TemplateVersion, error) {
	if err := checkVersionDescription(in.Description); err != nil {
		return TemplateVersion{}, err
	}
	if in.SourceVersion == "" {
		if err := checkTemplateData(in.Data); err != nil {
			return TemplateVersion{}, err
		}
	}
	if err := c.lock(ctx, s); err != nil {
		return TemplateVersion{}, err
	}
	defer c.unlock()
	t, err := c.launchTemplateLocked(s, in.TemplateID, in.TemplateName, "create a version")
	if err != nil {
		return TemplateVersion{}, err
	}
	data := in.Data
	if in.SourceVersion != "" {
		src, err := t.version(in.SourceVersion)
		if err != nil {
			return TemplateVersion{}, err
		}
		if data = overlay(src.Data, in.Data); !in.Data.isZero() {
			if err := checkTemplateData(in.Data); err != nil {
				return TemplateVersion{}, err
			}
		}
	}
	t = edit(c.model().launchTemplates, t.ID)
	t.LastNumber++
	v := LaunchTemplateVersion{Number: t.LastNumber, Description: in.Description, Created: c.now().UTC().Truncate(time.Second), Data: data}
	t.Versions = append(slices.Clone(t.Versions), v)
	out := t.versionOf(&v)
	return out, c.commitLocked()
}

// DescribeLaunchTemplates lists the region's templates: those named or
// given by ID (all must exist), filtered by create-time,
// launch-template-name and tags.
func (c *Cloud) DescribeLaunchTemplates(ctx context.Context, s Scope, names, ids []string, f []Filter) ([]LaunchTemplate, error) {
	return describeFiltered(ctx, c, s, f, func() ([]LaunchTemplate, error) {
		all := inRegion(sortedBySeq(c.model().launchTemplates.All(), func(t *LaunchTemplate) int64 { return t.Seq }), s,
			func(t *LaunchTemplate) string { return t.Region })
		if len(names) == 0 && len(ids) == 0 {
			return copies(all, nil, copyLaunchTemplate)
		}
		var out []*LaunchTemplate
		for _, name := range names {
			i := slices.IndexFunc(all, func(t *LaunchTemplate) bool { return t.Name == name })
			if i < 0 {
				// moto's AWS-verified test quotes it.
				return nil, Errorf("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
			}
			if !slices.Contains(out, all[i]) {
				out = append(out, all[i])
			}
		}
		for _, id := range ids {
			if err := checkID("InvalidLaunchTemplateId.Malformed", "lt", id); err != nil {
				return nil, err
			}
			i := slices.IndexFunc(all, func(t *LaunchTemplate) bool { return t.ID == id })
			if i < 0 {
				return nil, templateIDNotFound(id)
			}
			if !slices.Contains(out, all[i]) {
				out = append(out, all[i])
			}
		}
		return copies(out, nil, copyLaunchTemplate)
	}, func(t *LaunchTemplate) []Tag { return t.Tags }, launchTemplateFilter)
}

func launchTemplateFilter(t *LaunchTemplate, name string) ([]string, bool) {
	switch name {
	case "create-time":
		return []string{isoTime(t.Created)}, true
	case "launch-template-name":
		return []string{t.Name}, true
	}
	return nil, false
}

// isoTime is a time as EC2 writes it, and as its time filters match it.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// DescribeLaunchTemplateVersionsInput is DescribeLaunchTemplateVersions'
// request.
type DescribeLaunchTemplateVersionsInput struct {
	TemplateID, TemplateName string
	Versions                 []string // $Latest, $Default or numbers
	MinVersion, MaxVersion   string
	Filters                  []Filter
}

// allTemplatesRefusal is EC2's refusal of versions asked for without a
// template that are not $Latest or $Default (moto's AWS-verified tests
// quote it).
const allTemplatesRefusal = "To describe the launch template data for all your launch templates, for ‘--versions’ specify ‘$Latest’, ‘$Default’, or both, and omit ‘--launch-template-id’, ‘--launch-template-name’, and version numbers. To describe the launch template data for a specific launch template, specify ‘--launch-template-id’ or ‘--launch-template-name’, and for ‘--versions’ specify one or more of the following values: ‘$Latest’, ‘$Default’, or one or more version numbers."

// DescribeLaunchTemplateVersions lists versions: of one template (those
// named, or all, between MinVersion and MaxVersion), newest first, or, with
// no template, the $Latest and/or $Default version of every template of the
// region. Filtered by the version's own parameters.
func (c *Cloud) DescribeLaunchTemplateVersions(ctx context.Context, s Scope, in DescribeLaunchTemplateVersionsInput) ([]TemplateVersion, error) {
	lo, hi, err := versionRange(in.MinVersion, in.MaxVersion)
	if err != nil {
		return nil, err
	}
	if in.TemplateID == "" && in.TemplateName == "" {
		if len(in.Versions) == 0 {
			return nil, Errorf("MissingParameter", "%s", allTemplatesRefusal)
		}
		for _, v := range in.Versions {
			if v != versionLatest && v != versionDefault {
				return nil, invalidValue("%s", allTemplatesRefusal)
			}
		}
	}
	return describeFiltered(ctx, c, s, in.Filters, func() ([]TemplateVersion, error) {
		var out []TemplateVersion
		add := func(t *LaunchTemplate, v *LaunchTemplateVersion) {
			if v.Number >= lo && v.Number <= hi && !slices.ContainsFunc(out, func(x TemplateVersion) bool {
				return x.TemplateID == t.ID && x.Number == v.Number
			}) {
				out = append(out, t.versionOf(v))
			}
		}
		if in.TemplateID == "" && in.TemplateName == "" {
			for _, t := range inRegion(sortedBySeq(c.model().launchTemplates.All(), func(t *LaunchTemplate) int64 { return t.Seq }), s,
				func(t *LaunchTemplate) string { return t.Region }) {
				for _, name := range in.Versions {
					v, _ := t.version(name) // $Latest and $Default always are
					add(t, v)
				}
			}
			return out, nil
		}
		t, err := c.launchTemplateLocked(s, in.TemplateID, in.TemplateName, "describe its versions")
		if err != nil {
			return nil, err
		}
		if len(in.Versions) == 0 {
			for i := len(t.Versions) - 1; i >= 0; i-- {
				add(t, &t.Versions[i])
			}
			return out, nil
		}
		for _, name := range in.Versions {
			v, err := t.version(name)
			if err != nil {
				return nil, err
			}
			add(t, v)
		}
		return out, nil
	}, nil, templateVersionFilter)
}

// versionRange reads MinVersion and MaxVersion (inclusive; "" is no bound).
// (unverified: EC2's text for one that is not a number.)
func versionRange(minV, maxV string) (lo, hi int64, err error) {
	lo, hi = 1, 1<<62
	for _, b := range []struct {
		name, v string
		dst     *int64
	}{{"MinVersion", minV, &lo}, {"MaxVersion", maxV, &hi}} {
		if b.v == "" {
			continue
		}
		n, err := strconv.ParseInt(b.v, 10, 64)
		if err != nil || n < 1 {
			return 0, 0, invalidValue("Value (%s) for parameter %s is invalid. Expected a version number.", b.v, b.name)
		}
		*b.dst = n
	}
	return lo, hi, nil
}

func templateVersionFilter(v *TemplateVersion, name string) ([]string, bool) {
	d, st := v.Data, v.Data.Settings
	opt := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	optBool := func(b *bool) []string {
		if b == nil {
			return nil
		}
		return []string{boolString(*b)}
	}
	switch name {
	case "create-time":
		return []string{isoTime(v.Created)}, true
	case "ebs-optimized":
		return optBool(st.EbsOptimized), true
	case "http-endpoint":
		return opt(st.Metadata.HTTPEndpoint), true
	case "http-tokens":
		return opt(st.Metadata.HTTPTokens), true
	case "iam-instance-profile":
		return opt(st.IAMProfileARN), true
	case "image-id":
		return opt(d.ImageID), true
	case "instance-type":
		return opt(d.InstanceType), true
	case "is-default-version":
		return []string{boolString(v.Default)}, true
	case "http-protocol-ipv4", "host-resource-group-arn", "kernel-id", "license-configuration-arn", "network-card-index", "ram-disk-id":
		return nil, true // parameters vpcsim's templates do not hold
	}
	return nil, false
}

// ModifyLaunchTemplate makes one of a template's versions its default
// (version "" changes nothing).
func (c *Cloud) ModifyLaunchTemplate(ctx context.Context, s Scope, id, name, defaultVersion string) (LaunchTemplate, error) {
	if err := c.lock(ctx, s); err != nil {
		return LaunchTemplate{}, err
	}
	defer c.unlock()
	t, err := c.launchTemplateLocked(s, id, name, "modify the template")
	if err != nil {
		return LaunchTemplate{}, err
	}
	if defaultVersion == "" {
		return copyLaunchTemplate(t), nil
	}
	n, err := strconv.ParseInt(defaultVersion, 10, 64)
	if err != nil || !slices.ContainsFunc(t.Versions, func(v LaunchTemplateVersion) bool { return v.Number == n }) {
		// moto's AWS-verified test quotes it.
		return LaunchTemplate{}, Errorf("InvalidLaunchTemplateId.VersionNotFound", "The launch template version %s is not found for the specified launch template.", defaultVersion)
	}
	t = edit(c.model().launchTemplates, t.ID)
	t.DefaultVersion = n
	out := copyLaunchTemplate(t)
	return out, c.commitLocked()
}

// DeleteLaunchTemplate removes a template and every version of it, and
// answers what it removed.
func (c *Cloud) DeleteLaunchTemplate(ctx context.Context, s Scope, id, name string) (LaunchTemplate, error) {
	if err := c.lock(ctx, s); err != nil {
		return LaunchTemplate{}, err
	}
	defer c.unlock()
	t, err := c.launchTemplateLocked(s, id, name, "delete the template")
	if err != nil {
		return LaunchTemplate{}, err
	}
	out := copyLaunchTemplate(t)
	c.model().launchTemplates.Delete(t.ID)
	return out, c.commitLocked()
}

// VersionDeletion is how DeleteLaunchTemplateVersions fared with one version:
// Code and Message are empty when it was deleted, else one of the model's
// LaunchTemplateErrorCode values and why.
type VersionDeletion struct {
	TemplateID, TemplateName string
	Version                  string // as asked for
	Number                   int64  // 0: not a version number
	Code, Message            string
}

// DeleteLaunchTemplateVersions deletes versions of a template, each on its
// own: a version that is not there, or the default, fails alone, as does
// every version of a template that is not there. (unverified: the messages;
// the codes are the model's.)
func (c *Cloud) DeleteLaunchTemplateVersions(ctx context.Context, s Scope, id, name string, versions []string) ([]VersionDeletion, error) {
	if len(versions) == 0 {
		return nil, missingParameter("LaunchTemplateVersion")
	}
	if len(versions) > maxTemplateVersionsDeleted {
		return nil, invalidValue("You can specify up to %d launch template version numbers.", maxTemplateVersionsDeleted)
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	out := make([]VersionDeletion, len(versions))
	for i, v := range versions {
		out[i] = VersionDeletion{TemplateID: id, TemplateName: name, Version: v}
		out[i].Number, _ = strconv.ParseInt(v, 10, 64)
	}
	fail := func(code, msg string) ([]VersionDeletion, error) {
		for i := range out {
			out[i].Code, out[i].Message = code, msg
		}
		return out, nil
	}
	t, err := c.launchTemplateLocked(s, id, name, "delete its versions")
	if e, ok := AsAPIError(err); ok {
		switch e.Code {
		case "InvalidLaunchTemplateId.Malformed":
			return fail("launchTemplateIdMalformed", "The ID for the launch template is malformed.")
		case "InvalidLaunchTemplateId.NotFound":
			return fail("launchTemplateIdDoesNotExist", "The specified launch template ID does not exist.")
		case "InvalidLaunchTemplateName.NotFoundException":
			return fail("launchTemplateNameDoesNotExist", "The specified launch template name does not exist.")
		}
	}
	if err != nil {
		return nil, err
	}
	t = edit(c.model().launchTemplates, t.ID)
	t.Versions = slices.Clone(t.Versions)
	for i := range out {
		d := &out[i]
		d.TemplateID, d.TemplateName = t.ID, t.Name
		j := slices.IndexFunc(t.Versions, func(x LaunchTemplateVersion) bool { return x.Number == d.Number })
		switch {
		case j < 0:
			d.Code, d.Message = "launchTemplateVersionDoesNotExist", "The specified launch template version does not exist."
		case d.Number == t.DefaultVersion:
			d.Code, d.Message = "unexpectedError", "The default version of a launch template cannot be deleted."
		default:
			t.Versions = slices.Delete(t.Versions, j, j+1)
		}
	}
	return out, c.commitLocked()
}

// fromLaunchTemplateLocked is a RunInstances request with what it does not
// give taken from its launch template's version (see mergeLaunch), and the
// tags EC2 gives an instance launched from a template.
func (c *Cloud) fromLaunchTemplateLocked(s Scope, in RunInstancesInput) (RunInstancesInput, error) {
	ref := in.LaunchTemplate
	t, err := c.launchTemplateLocked(s, ref.ID, ref.Name, "launch from it")
	if err != nil {
		return in, err
	}
	name := ref.Version
	if name == "" {
		name = versionDefault
	}
	v, err := t.version(name)
	if err != nil {
		return in, err
	}
	out, err := mergeLaunch(in, copyTemplateData(v.Data))
	if err != nil {
		return in, err
	}
	out.systemTags = []Tag{{Key: "aws:ec2launchtemplate:id", Value: t.ID}, {Key: "aws:ec2launchtemplate:version", Value: strconv.FormatInt(v.Number, 10)}}
	return out, nil
}

// mergeLaunch overrides a template's data with what a RunInstances request
// gives (overlay), as EC2 does: the request's tags join the template's (a
// key both give takes the request's value), and a subnet, groups or address
// the request gives go to the template's primary network interface, when
// the template has network interfaces and the request none.
func mergeLaunch(in RunInstancesInput, d LaunchTemplateData) (RunInstancesInput, error) {
	call := LaunchTemplateData{
		ImageID: in.ImageID, InstanceType: in.InstanceType, KeyName: in.KeyName, UserData: in.UserData,
		SecurityGroupIDs: in.SecurityGroupIDs, SecurityGroupNames: in.SecurityGroupNames, AZ: in.AZ,
		NetworkInterfaces: in.NetworkInterfaces, BlockDevices: in.BlockDevices, Settings: in.Settings,
	}
	if len(in.NetworkInterfaces) == 0 && len(d.NetworkInterfaces) > 0 && (in.SubnetID != "" || len(in.SecurityGroupIDs) > 0 || in.PrivateIPAddress != "") {
		enis := slices.Clone(d.NetworkInterfaces)
		for i := range enis {
			if enis[i].DeviceIndex != 0 {
				continue
			}
			if in.SubnetID != "" {
				enis[i].SubnetID = in.SubnetID
			}
			if len(in.SecurityGroupIDs) > 0 {
				enis[i].Groups = in.SecurityGroupIDs
			}
			if in.PrivateIPAddress != "" {
				enis[i].PrivateIPAddress = in.PrivateIPAddress
			}
		}
		call.NetworkInterfaces, call.SecurityGroupIDs = enis, nil
		in.SubnetID, in.PrivateIPAddress = "", ""
	}
	m := overlay(d, call)
	in.ImageID, in.InstanceType, in.KeyName, in.UserData = m.ImageID, m.InstanceType, m.KeyName, m.UserData
	in.SecurityGroupIDs, in.SecurityGroupNames, in.AZ = m.SecurityGroupIDs, m.SecurityGroupNames, m.AZ
	in.NetworkInterfaces, in.BlockDevices, in.Settings = m.NetworkInterfaces, m.BlockDevices, m.Settings
	for _, ts := range d.TagSpecs {
		var dst *[]Tag
		switch ts.ResourceType {
		case "instance":
			dst = &in.Tags
		case "volume":
			dst = &in.VolumeTags
		case "network-interface":
			dst = &in.ENITags
		default:
			continue
		}
		merged, err := mergeTags(ts.Tags, *dst)
		if err != nil {
			return in, err
		}
		*dst = merged
	}
	return in, nil
}
