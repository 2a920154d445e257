package ec2

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// templateData is a launch template's data of the kind the tests use.
func templateData(image, typ string) LaunchTemplateData {
	return LaunchTemplateData{ImageID: image, InstanceType: typ}
}

func wantMessage(t *testing.T, err error, code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	if e, _ := AsAPIError(err); e.Message != msg {
		t.Fatalf("%s: message %q, want %q", code, e.Message, msg)
	}
}

// Creating a template: EC2's name rules, the data a version must hold, one
// name per region, and the first version the default.
func TestLaunchTemplateCreateRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	create := func(name string, d LaunchTemplateData) (LaunchTemplate, error) {
		return tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: name, Data: d})
	}
	ok := templateData("ami-12345678", "t3.micro")
	for _, c := range []struct {
		name, tname string
		data        LaunchTemplateData
		code        string
	}{
		{"no name", "", ok, "MissingParameter"},
		{"a space", "some illegal name", ok, "InvalidLaunchTemplateName.MalformedException"},
		{"too short", "ab", ok, "InvalidLaunchTemplateName.MalformedException"},
		{"too long", strings.Repeat("n", 129), ok, "InvalidLaunchTemplateName.MalformedException"},
		{"no data", "web", LaunchTemplateData{}, "MissingParameter"},
		{"unknown type", "web", templateData("", "t9.huge"), "InvalidParameterValue"},
		{"shutdown", "web", LaunchTemplateData{Settings: SettingsInput{ShutdownBehavior: "hibernate"}}, "InvalidParameterValue"},
		{"tenancy", "web", LaunchTemplateData{Settings: SettingsInput{Tenancy: "shared"}}, "InvalidParameterValue"},
		{"tokens", "web", LaunchTemplateData{Settings: SettingsInput{Metadata: MetadataInput{HTTPTokens: "maybe"}}}, "InvalidParameterValue"},
		{"hop limit", "web", LaunchTemplateData{Settings: SettingsInput{Metadata: MetadataInput{HopLimit: ptr(65)}}}, "InvalidParameterValue"},
		{"volume type", "web", LaunchTemplateData{BlockDevices: []BlockDeviceInput{{DeviceName: "/dev/sdb", EBS: &EBSInput{Type: "gp9"}}}}, "InvalidParameterValue"},
		{"tags of a VPC", "web", LaunchTemplateData{TagSpecs: []TagSpecification{{ResourceType: "vpc", Tags: []Tag{{"k", "v"}}}}}, "InvalidParameterValue"},
		{"aws: tags", "web", LaunchTemplateData{TagSpecs: []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"aws:x", "v"}}}}}, "InvalidParameterValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := create(c.tname, c.data)
			wantCode(t, err, c.code)
		})
	}
	_, err := tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: ok, Description: strings.Repeat("d", 256)})
	wantCode(t, err, "InvalidParameterValue")

	lt, err := tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web(1)/a_b.c-d", Data: ok, Description: "first", Tags: []Tag{{"team", "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^lt-[0-9a-f]{17}$`).MatchString(lt.ID) || lt.DefaultVersion != 1 || lt.LatestVersion() != 1 ||
		lt.CreatedBy() != "arn:aws:iam::000000000000:root" || lt.Versions[0].Description != "first" || len(lt.Tags) != 1 {
		t.Fatalf("the template %+v", lt)
	}
	_, err = create("web(1)/a_b.c-d", ok)
	wantMessage(t, err, "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	// Names are per region.
	if _, err := tc.CreateLaunchTemplate(ctx, Scope{Region: "us-east-1"}, CreateLaunchTemplateInput{Name: "web(1)/a_b.c-d", Data: ok}); err != nil {
		t.Fatal(err)
	}
	// User data is checked at launch, as EC2 does, not when stored.
	if _, err := create("raw-user-data", LaunchTemplateData{UserData: "not base64"}); err != nil {
		t.Fatal(err)
	}
}

// Naming a template: by ID or by name, never both, never neither.
func TestLaunchTemplateLookup(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: templateData("ami-12345678", "")}))
	for _, c := range []struct {
		name, id, tname, code, msg string
	}{
		{"neither", "", "", "MissingParameter", "The request must contain the parameter launch template ID or launch template name"},
		{"both", lt.ID, "web", "InvalidParameterCombination", "Either provide launch template ID or launch template name to modify the template."},
		{"malformed", "lt-xyz", "", "InvalidLaunchTemplateId.Malformed", `Invalid id: "lt-xyz" (expecting "lt-...")`},
		{"unknown ID", "lt-07ff4bb0369cd679c", "", "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID lt-07ff4bb0369cd679c, does not exist."},
		{"unknown name", "", "template_name", "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name template_name, does not exist."},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.ModifyLaunchTemplate(ctx, west, c.id, c.tname, "1")
			wantMessage(t, err, c.code, c.msg)
		})
	}
	// Another region's template is not there.
	_, err := tc.ModifyLaunchTemplate(ctx, Scope{Region: "us-east-1"}, lt.ID, "", "1")
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
}

// Versions: numbered in order, never again once deleted; a source version's
// data with what the new one gives in place of its parameters.
func TestLaunchTemplateVersions(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	first := LaunchTemplateData{
		ImageID: "ami-11111111", InstanceType: "t3.micro", KeyName: "deploy",
		NetworkInterfaces: []InstanceENISpec{{DeviceIndex: 0, SubnetID: "subnet-0123456789abcdef0", AssociatePublicIP: ptr(true)}},
		Settings:          SettingsInput{Metadata: MetadataInput{HTTPTokens: "required", HopLimit: ptr(2)}, EbsOptimized: ptr(true)},
	}
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: first}))
	version := func(in CreateLaunchTemplateVersionInput) TemplateVersion {
		t.Helper()
		return must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, in))
	}
	v2 := version(CreateLaunchTemplateVersionInput{TemplateName: "web", Description: "new ami", Data: LaunchTemplateData{ImageID: "ami-22222222"}})
	if v2.Number != 2 || v2.Default || v2.TemplateID != lt.ID || v2.Data.InstanceType != "" || v2.Description != "new ami" {
		t.Fatalf("version 2 (no source: only what it gives) %+v", v2)
	}
	v3 := version(CreateLaunchTemplateVersionInput{TemplateID: lt.ID, SourceVersion: "1",
		Data: LaunchTemplateData{ImageID: "ami-33333333", Settings: SettingsInput{Metadata: MetadataInput{HTTPEndpoint: "disabled"}}}})
	d := v3.Data
	if d.ImageID != "ami-33333333" || d.InstanceType != "t3.micro" || d.KeyName != "deploy" || len(d.NetworkInterfaces) != 1 ||
		d.Settings.EbsOptimized == nil || !*d.Settings.EbsOptimized {
		t.Fatalf("version 3 (from 1) %+v", d)
	}
	// A structure given replaces the source's whole.
	if m := d.Settings.Metadata; m.HTTPEndpoint != "disabled" || m.HTTPTokens != "" || m.HopLimit != nil {
		t.Fatalf("version 3's metadata options %+v", m)
	}
	// $Latest and $Default name sources too; an empty version copies one.
	v4 := version(CreateLaunchTemplateVersionInput{TemplateID: lt.ID, SourceVersion: "$Latest"})
	if v4.Number != 4 || v4.Data.ImageID != "ami-33333333" {
		t.Fatalf("version 4 (from $Latest) %+v", v4)
	}
	_, err := tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateID: lt.ID, SourceVersion: "9", Data: first})
	wantMessage(t, err, "InvalidLaunchTemplateId.VersionNotFound", "Could not find the specified version 9 for the launch template with ID "+lt.ID+".")
	_, err = tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateID: lt.ID})
	wantCode(t, err, "MissingParameter")
	_, err = tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateName: "nope", Data: first})
	wantCode(t, err, "InvalidLaunchTemplateName.NotFoundException")

	// Deleting the latest does not give its number again.
	dels := must[[]VersionDeletion](t)(tc.DeleteLaunchTemplateVersions(ctx, west, lt.ID, "", []string{"4"}))
	if len(dels) != 1 || dels[0].Code != "" || dels[0].Number != 4 || dels[0].TemplateName != "web" {
		t.Fatalf("deleting version 4: %+v", dels)
	}
	if v := version(CreateLaunchTemplateVersionInput{TemplateID: lt.ID, Data: first}); v.Number != 5 {
		t.Fatalf("the version after a deleted 4 is %d", v.Number)
	}
	got := must[[]LaunchTemplate](t)(tc.DescribeLaunchTemplates(ctx, west, nil, []string{lt.ID}, nil))
	if got[0].LatestVersion() != 5 || got[0].DefaultVersion != 1 || len(got[0].Versions) != 4 {
		t.Fatalf("the template %+v", got[0])
	}
}

// overlay replaces what the top gives, parameter by parameter, structures
// and lists whole.
func TestLaunchTemplateOverlay(t *testing.T) {
	base := LaunchTemplateData{
		ImageID: "ami-1", InstanceType: "t3.micro", SecurityGroupIDs: []string{"sg-1"}, AZ: "us-west-2a",
		TagSpecs: []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"a", "1"}}}},
		Settings: SettingsInput{IAMProfileName: "web", CoreCount: 2, ThreadsPerCore: 1, Tenancy: "default", DisableAPIStop: ptr(true)},
	}
	got := overlay(base, LaunchTemplateData{
		InstanceType: "m5.large", SecurityGroupIDs: []string{"sg-2", "sg-3"},
		Settings: SettingsInput{IAMProfileARN: "arn:aws:iam::000000000000:instance-profile/x", CoreCount: 1, DisableAPIStop: ptr(false)},
	})
	if got.ImageID != "ami-1" || got.InstanceType != "m5.large" || !slices.Equal(got.SecurityGroupIDs, []string{"sg-2", "sg-3"}) ||
		got.AZ != "us-west-2a" || len(got.TagSpecs) != 1 {
		t.Fatalf("overlay %+v", got)
	}
	st := got.Settings
	if st.IAMProfileName != "" || st.IAMProfileARN == "" || st.CoreCount != 1 || st.ThreadsPerCore != 0 || st.Tenancy != "default" || *st.DisableAPIStop {
		t.Fatalf("overlay's settings %+v", st)
	}
	if !slices.Equal(base.SecurityGroupIDs, []string{"sg-1"}) {
		t.Fatal("overlay changed its base")
	}
}

func TestDescribeLaunchTemplates(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	var ids []string
	for i, name := range []string{"web-a", "web-b", "db1"} {
		in := CreateLaunchTemplateInput{Name: name, Data: templateData("ami-12345678", "")}
		if i < 2 {
			in.Tags = []Tag{{"tier", name[4:]}}
		}
		ids = append(ids, must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, in)).ID)
	}
	names := func(f []Filter) []string {
		t.Helper()
		var out []string
		for _, lt := range must[[]LaunchTemplate](t)(tc.DescribeLaunchTemplates(ctx, west, nil, nil, f)) {
			out = append(out, lt.Name)
		}
		return out
	}
	created := must[[]LaunchTemplate](t)(tc.DescribeLaunchTemplates(ctx, west, []string{"db1"}, nil, nil))[0].Created
	for _, c := range []struct {
		name string
		f    []Filter
		want []string
	}{
		{"all, in creation order", nil, []string{"web-a", "web-b", "db1"}},
		{"by name", []Filter{{Name: "launch-template-name", Values: []string{"web-*"}}}, []string{"web-a", "web-b"}},
		{"by tag", []Filter{{Name: "tag:tier", Values: []string{"b"}}}, []string{"web-b"}},
		{"by tag key", []Filter{{Name: "tag-key", Values: []string{"tier"}}}, []string{"web-a", "web-b"}},
		{"by create time", []Filter{{Name: "create-time", Values: []string{isoTime(created)}}}, []string{"web-a", "web-b", "db1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := names(c.f); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	got := must[[]LaunchTemplate](t)(tc.DescribeLaunchTemplates(ctx, west, []string{"db1"}, []string{ids[0]}, nil))
	if len(got) != 2 || got[0].Name != "db1" || got[1].ID != ids[0] {
		t.Fatalf("by name and ID: %+v", got)
	}
	_, err := tc.DescribeLaunchTemplates(ctx, west, []string{"db1", "nope"}, nil, nil)
	wantMessage(t, err, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
	_, err = tc.DescribeLaunchTemplates(ctx, west, nil, []string{"lt-0123456789abcdef0"}, nil)
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	_, err = tc.DescribeLaunchTemplates(ctx, west, nil, []string{"template"}, nil)
	wantCode(t, err, "InvalidLaunchTemplateId.Malformed")
	_, err = tc.DescribeLaunchTemplates(ctx, west, nil, nil, []Filter{{Name: "image-id", Values: []string{"x"}}})
	wantMessage(t, err, "InvalidParameterValue", "The filter 'image-id' is invalid")
	if got := must[[]LaunchTemplate](t)(tc.DescribeLaunchTemplates(ctx, Scope{Region: "us-east-1"}, nil, nil, nil)); len(got) != 0 {
		t.Fatalf("another region's templates: %+v", got)
	}
	// Tags change as any resource's.
	if err := tc.CreateTags(ctx, west, []string{ids[2]}, []Tag{{"tier", "c"}}); err != nil {
		t.Fatal(err)
	}
	if got := names([]Filter{{Name: "tag:tier", Values: []string{"c"}}}); !slices.Equal(got, []string{"db1"}) {
		t.Fatalf("after CreateTags: %v", got)
	}
}

func TestDescribeLaunchTemplateVersions(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: templateData("ami-11111111", "t3.micro")}))
	for _, img := range []string{"ami-22222222", "ami-33333333", "ami-44444444"} {
		must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateID: lt.ID, Data: templateData(img, "m5.large")}))
	}
	must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "db1", Data: templateData("ami-55555555", "")}))
	numbers := func(in DescribeLaunchTemplateVersionsInput) []string {
		t.Helper()
		var out []string
		for _, v := range must[[]TemplateVersion](t)(tc.DescribeLaunchTemplateVersions(ctx, west, in)) {
			out = append(out, v.TemplateName+":"+strings.TrimPrefix(v.Data.ImageID, "ami-")[:1]+map[bool]string{true: "*"}[v.Default])
		}
		return out
	}
	for _, c := range []struct {
		name string
		in   DescribeLaunchTemplateVersionsInput
		want []string
	}{
		{"all, newest first", DescribeLaunchTemplateVersionsInput{TemplateName: "web"}, []string{"web:4", "web:3", "web:2", "web:1*"}},
		{"named", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, Versions: []string{"2", "$Latest", "$Default", "2"}}, []string{"web:2", "web:4", "web:1*"}},
		{"from MinVersion", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, MinVersion: "3"}, []string{"web:4", "web:3"}},
		{"between", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, MinVersion: "2", MaxVersion: "3"}, []string{"web:3", "web:2"}},
		{"every template's latest", DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}}, []string{"web:4", "db1:5*"}},
		{"every template's default and latest", DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default", "$Latest"}}, []string{"web:1*", "web:4", "db1:5*"}},
		{"by type", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, Filters: []Filter{{Name: "instance-type", Values: []string{"m5.*"}}}}, []string{"web:4", "web:3", "web:2"}},
		{"the default", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, Filters: []Filter{{Name: "is-default-version", Values: []string{"true"}}}}, []string{"web:1*"}},
		{"by image", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, Filters: []Filter{{Name: "image-id", Values: []string{"ami-3*"}}}}, []string{"web:3"}},
		{"a parameter none has", DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID, Filters: []Filter{{Name: "kernel-id", Values: []string{"*"}}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := numbers(c.in); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	_, err := tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{})
	wantMessage(t, err, "MissingParameter", allTemplatesRefusal)
	_, err = tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{Versions: []string{"1"}})
	wantMessage(t, err, "InvalidParameterValue", allTemplatesRefusal)
	_, err = tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateName: "web", Versions: []string{"9"}})
	wantMessage(t, err, "InvalidLaunchTemplateId.VersionNotFound", "Could not find the specified version 9 for the launch template with ID "+lt.ID+".")
	_, err = tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateName: "template_name"})
	wantMessage(t, err, "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name template_name, does not exist.")
	_, err = tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateName: "web", MinVersion: "first"})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateName: "web", Filters: []Filter{{Name: "vpc-id", Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
}

// The default version: set by ModifyLaunchTemplate, never deleted but with
// its template.
func TestLaunchTemplateDefaultAndDeletion(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: templateData("ami-11111111", "")}))
	must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateName: "web", Data: templateData("ami-22222222", "")}))
	must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateName: "web", Data: templateData("ami-33333333", "")}))

	_, err := tc.ModifyLaunchTemplate(ctx, west, "", "web", "7")
	wantMessage(t, err, "InvalidLaunchTemplateId.VersionNotFound", "The launch template version 7 is not found for the specified launch template.")
	_, err = tc.ModifyLaunchTemplate(ctx, west, "", "web", "$Latest")
	wantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	if m := must[LaunchTemplate](t)(tc.ModifyLaunchTemplate(ctx, west, "", "web", "2")); m.DefaultVersion != 2 || m.LatestVersion() != 3 {
		t.Fatalf("after ModifyLaunchTemplate: %+v", m)
	}
	if m := must[LaunchTemplate](t)(tc.ModifyLaunchTemplate(ctx, west, lt.ID, "", "")); m.DefaultVersion != 2 {
		t.Fatalf("no version changes nothing: %+v", m)
	}

	dels := must[[]VersionDeletion](t)(tc.DeleteLaunchTemplateVersions(ctx, west, "", "web", []string{"1", "2", "9", "x"}))
	want := []string{"1:", "2:unexpectedError", "9:launchTemplateVersionDoesNotExist", "0:launchTemplateVersionDoesNotExist"}
	for i, d := range dels {
		if got := strconv.FormatInt(d.Number, 10) + ":" + d.Code; got != want[i] || d.TemplateID != lt.ID || d.TemplateName != "web" {
			t.Errorf("deletion %d: %+v, want %s", i, d, want[i])
		}
	}
	vs := must[[]TemplateVersion](t)(tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID}))
	if len(vs) != 2 || vs[0].Number != 3 || vs[1].Number != 2 || !vs[1].Default {
		t.Fatalf("versions left: %+v", vs)
	}
	// A template that is not there fails each version alone.
	for _, c := range []struct{ id, name, code string }{
		{"lt-0123456789abcdef0", "", "launchTemplateIdDoesNotExist"},
		{"lt-nope", "", "launchTemplateIdMalformed"},
		{"", "nope", "launchTemplateNameDoesNotExist"},
	} {
		dels := must[[]VersionDeletion](t)(tc.DeleteLaunchTemplateVersions(ctx, west, c.id, c.name, []string{"2", "3"}))
		if len(dels) != 2 || dels[0].Code != c.code || dels[1].Code != c.code || dels[1].Number != 3 {
			t.Errorf("%s%s: %+v", c.id, c.name, dels)
		}
	}
	_, err = tc.DeleteLaunchTemplateVersions(ctx, west, lt.ID, "", nil)
	wantCode(t, err, "MissingParameter")
	_, err = tc.DeleteLaunchTemplateVersions(ctx, west, lt.ID, "", make([]string, 201))
	wantCode(t, err, "InvalidParameterValue")

	gone := must[LaunchTemplate](t)(tc.DeleteLaunchTemplate(ctx, west, "", "web"))
	if gone.ID != lt.ID || gone.DefaultVersion != 2 || gone.LatestVersion() != 3 {
		t.Fatalf("the deleted template %+v", gone)
	}
	_, err = tc.DescribeLaunchTemplates(ctx, west, []string{"web"}, nil, nil)
	wantCode(t, err, "InvalidLaunchTemplateName.NotFoundException")
	_, err = tc.DeleteLaunchTemplate(ctx, west, lt.ID, "")
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	_, err = tc.DeleteLaunchTemplate(ctx, west, "", "")
	wantCode(t, err, "MissingParameter")
	// The name is free again.
	must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: templateData("ami-11111111", "")}))
}

// RunInstances with a launch template: the version supplies what the
// request does not give, the request's parameters win, and the instance is
// tagged with the template and version it came from.
func TestRunInstancesFromLaunchTemplate(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	sub := tc.subnet(t, v.ID, "10.0.1.0/24")
	other := tc.subnet(t, v.ID, "10.0.2.0/24")
	g := must[SecurityGroup](t)(tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"}))
	must[KeyPair](t)(func() (KeyPair, error) {
		k, _, err := tc.CreateKeyPair(ctx, west, "deploy", "ed25519", "", nil)
		return k, err
	}())
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: LaunchTemplateData{
		ImageID: "ami-12345678", InstanceType: "t3.micro", KeyName: "deploy", UserData: userData,
		NetworkInterfaces: []InstanceENISpec{{DeviceIndex: 0, SubnetID: sub.ID, Groups: []string{g.ID}, Description: "from the template"}},
		BlockDevices:      []BlockDeviceInput{{DeviceName: RootDevice, EBS: &EBSInput{Size: 20, Type: "gp2"}}},
		Settings:          SettingsInput{Metadata: MetadataInput{HTTPTokens: "required"}, DisableAPIStop: ptr(true)},
		TagSpecs: []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"Name", "web"}, {"env", "test"}}},
			{ResourceType: "volume", Tags: []Tag{{"backup", "yes"}}}},
	}}))
	must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateID: lt.ID, SourceVersion: "1",
		Data: LaunchTemplateData{InstanceType: "m5.large"}}))
	run := func(in RunInstancesInput) Instance {
		t.Helper()
		in.MinCount, in.MaxCount = 1, 1
		return must[[]Instance](t)(tc.RunInstances(ctx, west, in))[0]
	}
	tag := func(inst Instance, key string) string {
		for _, t := range inst.Tags {
			if t.Key == key {
				return t.Value
			}
		}
		return ""
	}

	// The default version (1), as no version is named.
	inst := run(RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{Name: "web"}, Tags: []Tag{{"env", "prod"}}})
	st := inst.Described()
	if inst.ImageID != "ami-12345678" || inst.Type != "t3.micro" || inst.KeyName != "deploy" || inst.UserData != userData ||
		inst.SubnetID != sub.ID || st.Metadata.HTTPTokens != "required" || !st.DisableAPIStop ||
		inst.Volumes[0].Size != 20 || inst.Volumes[0].Type != "gp2" || tag(inst, "backup") != "" {
		t.Fatalf("the instance from version 1: %+v", inst)
	}
	if tag(inst, "aws:ec2launchtemplate:id") != lt.ID || tag(inst, "aws:ec2launchtemplate:version") != "1" ||
		tag(inst, "Name") != "web" || tag(inst, "env") != "prod" || !slices.Equal(inst.Volumes[0].Tags, []Tag{{"backup", "yes"}}) {
		t.Fatalf("the instance's tags %+v, its root volume's %+v", inst.Tags, inst.Volumes[0].Tags)
	}
	enis := must[[]ENI](t)(tc.DescribeNetworkInterfaces(ctx, west, nil, []Filter{{Name: "attachment.instance-id", Values: []string{inst.ID}}}))
	if len(enis) != 1 || !slices.Equal(enis[0].Groups, []string{g.ID}) || enis[0].Description != "from the template" {
		t.Fatalf("the instance's ENIs %+v", enis)
	}

	// $Latest; the request's subnet goes to the template's primary interface.
	inst = run(RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{ID: lt.ID, Version: "$Latest"}, SubnetID: other.ID})
	if inst.Type != "m5.large" || inst.SubnetID != other.ID || tag(inst, "aws:ec2launchtemplate:version") != "2" {
		t.Fatalf("the instance from $Latest: %+v", inst)
	}
	// A version by number, and the request's own parameters over it.
	inst = run(RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{ID: lt.ID, Version: "2"}, InstanceType: "c5.large", ImageID: "ami-87654321"})
	if inst.Type != "c5.large" || inst.ImageID != "ami-87654321" || inst.KeyName != "deploy" {
		t.Fatalf("the instance with overrides: %+v", inst)
	}

	for _, c := range []struct {
		name string
		in   RunInstancesInput
		code string
	}{
		{"no template named", RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{Version: "1"}}, "MissingParameter"},
		{"unknown template", RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{ID: "lt-0123456789abcdef0"}}, "InvalidLaunchTemplateId.NotFound"},
		{"unknown name", RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{Name: "nope"}}, "InvalidLaunchTemplateName.NotFoundException"},
		{"unknown version", RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{Name: "web", Version: "3"}}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"an aws: tag", RunInstancesInput{LaunchTemplate: &LaunchTemplateRef{Name: "web"}, Tags: []Tag{{"aws:ec2launchtemplate:id", "lt-1"}}}, "InvalidParameterValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.MinCount, c.in.MaxCount = 1, 1
			_, err := tc.RunInstances(ctx, west, c.in)
			wantCode(t, err, c.code)
		})
	}
	// What the template holds is checked at launch: its user data here.
	must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "raw", Data: LaunchTemplateData{ImageID: "ami-12345678", UserData: "not base64"}}))
	_, err := tc.RunInstances(ctx, west, RunInstancesInput{MinCount: 1, MaxCount: 1, SubnetID: sub.ID, LaunchTemplate: &LaunchTemplateRef{Name: "raw"}})
	wantCode(t, err, "InvalidParameterValue")
	// And a template without an image launches none.
	must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "typeonly", Data: templateData("", "t3.micro")}))
	_, err = tc.RunInstances(ctx, west, RunInstancesInput{MinCount: 1, MaxCount: 1, SubnetID: sub.ID, LaunchTemplate: &LaunchTemplateRef{Name: "typeonly"}})
	wantCode(t, err, "MissingParameter")
}

// Templates and their versions are stored: a restart finds them, and the
// numbers and IDs go on from where they were.
func TestLaunchTemplatesSurviveRestart(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "web", Data: LaunchTemplateData{
		ImageID: "ami-11111111", NetworkInterfaces: []InstanceENISpec{{DeviceIndex: 0, AssociatePublicIP: ptr(false)}},
		BlockDevices: []BlockDeviceInput{{DeviceName: "/dev/sdb", NoDevice: true}},
		Settings:     SettingsInput{Metadata: MetadataInput{HopLimit: ptr(3)}, Monitoring: ptr(true)},
	}, Tags: []Tag{{"team", "a"}}}))
	must[TemplateVersion](t)(tc.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateID: lt.ID, Data: templateData("ami-22222222", "")}))
	must[[]VersionDeletion](t)(tc.DeleteLaunchTemplateVersions(ctx, west, lt.ID, "", []string{"2"}))

	re := tc.reopen(t)
	got := must[[]LaunchTemplate](t)(re.DescribeLaunchTemplates(ctx, west, []string{"web"}, nil, nil))
	if len(got) != 1 || got[0].ID != lt.ID || len(got[0].Versions) != 1 || got[0].Tags[0] != (Tag{"team", "a"}) {
		t.Fatalf("after a restart: %+v", got)
	}
	d := got[0].Versions[0].Data
	if *d.NetworkInterfaces[0].AssociatePublicIP || !d.BlockDevices[0].NoDevice || *d.Settings.Metadata.HopLimit != 3 || !*d.Settings.Monitoring {
		t.Fatalf("the stored data %+v", d)
	}
	if v := must[TemplateVersion](t)(re.CreateLaunchTemplateVersion(ctx, west, CreateLaunchTemplateVersionInput{TemplateName: "web", SourceVersion: "$Default"})); v.Number != 3 {
		t.Fatalf("the version after a restart is %d", v.Number)
	}
	next := must[LaunchTemplate](t)(re.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "db1", Data: templateData("ami-1", "")}))
	all := must[[]LaunchTemplate](t)(re.DescribeLaunchTemplates(ctx, west, nil, nil, nil))
	if len(all) != 2 || all[1].ID != next.ID {
		t.Fatalf("a template made after a restart comes after the others: %+v", all)
	}
}

// What Cloud hands out of a template is a copy: neither a caller's change
// nor a launch (which sorts the interfaces it is given) reaches the stored
// version.
func TestLaunchTemplateCopies(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	a, b := tc.subnet(t, v.ID, "10.0.1.0/24"), tc.subnet(t, v.ID, "10.0.2.0/24")
	lt := must[LaunchTemplate](t)(tc.CreateLaunchTemplate(ctx, west, CreateLaunchTemplateInput{Name: "two-nics", Data: LaunchTemplateData{
		ImageID: "ami-12345678", InstanceType: "c5.large", TagSpecs: []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"Name", "x"}}}},
		NetworkInterfaces: []InstanceENISpec{{DeviceIndex: 1, SubnetID: b.ID}, {DeviceIndex: 0, SubnetID: a.ID, DeleteOnTermination: ptr(true)}},
	}}))
	lt.Versions[0].Data.TagSpecs[0].Tags[0].Value = "changed"
	*lt.Versions[0].Data.NetworkInterfaces[1].DeleteOnTermination = false
	vs := must[[]TemplateVersion](t)(tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID}))
	vs[0].Data.NetworkInterfaces[0].SubnetID = "changed"

	inst := must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{MinCount: 1, MaxCount: 1,
		LaunchTemplate: &LaunchTemplateRef{ID: lt.ID}}))[0]
	if inst.SubnetID != a.ID || inst.Tags[0] != (Tag{"Name", "x"}) {
		t.Fatalf("the instance's subnet %s (want the primary interface's %s), its tags %+v", inst.SubnetID, a.ID, inst.Tags)
	}
	d := must[[]TemplateVersion](t)(tc.DescribeLaunchTemplateVersions(ctx, west, DescribeLaunchTemplateVersionsInput{TemplateID: lt.ID}))[0].Data
	if d.TagSpecs[0].Tags[0].Value != "x" || d.NetworkInterfaces[0].DeviceIndex != 1 || d.NetworkInterfaces[0].SubnetID != b.ID ||
		!*d.NetworkInterfaces[1].DeleteOnTermination {
		t.Fatalf("the stored version changed: %+v", d)
	}
}
