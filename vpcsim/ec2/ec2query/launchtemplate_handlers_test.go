package ec2query

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

// A version's data is answered as it was given, in the model's element
// names, and nothing else.
func TestLaunchTemplatesXML(t *testing.T) {
	ts := newTestServer(t)
	body := string(ts.call(t, "CreateLaunchTemplate", "LaunchTemplateName", "web", "VersionDescription", "first",
		"LaunchTemplateData.ImageId", "ami-12345678", "LaunchTemplateData.InstanceType", "t3.micro",
		"LaunchTemplateData.SecurityGroupId.1", "sg-0123456789abcdef0",
		"LaunchTemplateData.NetworkInterface.1.DeviceIndex", "0", "LaunchTemplateData.NetworkInterface.1.AssociatePublicIpAddress", "true",
		"LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1", "sg-0123456789abcdef1",
		"LaunchTemplateData.BlockDeviceMapping.1.DeviceName", "/dev/xvda", "LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize", "20",
		"LaunchTemplateData.MetadataOptions.HttpTokens", "required", "LaunchTemplateData.Monitoring.Enabled", "true",
		"LaunchTemplateData.TagSpecification.1.ResourceType", "instance", "LaunchTemplateData.TagSpecification.1.Tag.1.Key", "Name",
		"LaunchTemplateData.TagSpecification.1.Tag.1.Value", "web",
		"TagSpecification.1.ResourceType", "launch-template", "TagSpecification.1.Tag.1.Key", "team", "TagSpecification.1.Tag.1.Value", "a"))
	created := regexp.MustCompile(`<launchTemplate><launchTemplateId>(lt-[0-9a-f]{17})</launchTemplateId><launchTemplateName>web</launchTemplateName>` +
		`<createTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z</createTime><createdBy>arn:aws:iam::123456789012:root</createdBy>` +
		`<defaultVersionNumber>1</defaultVersionNumber><latestVersionNumber>1</latestVersionNumber>` +
		`<tagSet><item><key>team</key><value>a</value></item></tagSet><operator><managed>false</managed></operator></launchTemplate>`).FindStringSubmatch(body)
	if created == nil {
		t.Fatalf("CreateLaunchTemplate answered %s", body)
	}
	id := created[1]
	body = string(ts.call(t, "DescribeLaunchTemplateVersions", "LaunchTemplateId", id, "LaunchTemplateVersion.1", "$Default"))
	want := `<launchTemplateData><blockDeviceMappingSet><item><deviceName>/dev/xvda</deviceName><ebs><volumeSize>20</volumeSize></ebs></item></blockDeviceMappingSet>` +
		`<networkInterfaceSet><item><associatePublicIpAddress>true</associatePublicIpAddress><deviceIndex>0</deviceIndex>` +
		`<groupSet><groupId>sg-0123456789abcdef1</groupId></groupSet></item></networkInterfaceSet>` +
		`<imageId>ami-12345678</imageId><instanceType>t3.micro</instanceType><monitoring><enabled>true</enabled></monitoring>` +
		`<tagSpecificationSet><item><resourceType>instance</resourceType><tagSet><item><key>Name</key><value>web</value></item></tagSet></item></tagSpecificationSet>` +
		`<securityGroupIdSet><item>sg-0123456789abcdef0</item></securityGroupIdSet>` +
		`<metadataOptions><httpTokens>required</httpTokens></metadataOptions></launchTemplateData>`
	if !strings.Contains(body, `<versionNumber>1</versionNumber><versionDescription>first</versionDescription>`) ||
		!strings.Contains(body, `<defaultVersion>true</defaultVersion>`+want) {
		t.Fatalf("DescribeLaunchTemplateVersions answered %s\nwant the data %s", body, want)
	}

	// DeleteLaunchTemplateVersions: per-version results, both sets always there.
	ts.call(t, "CreateLaunchTemplateVersion", "LaunchTemplateName", "web", "LaunchTemplateData.ImageId", "ami-87654321")
	body = string(ts.call(t, "DeleteLaunchTemplateVersions", "LaunchTemplateId", id, "LaunchTemplateVersion.1", "2", "LaunchTemplateVersion.2", "1"))
	wantDel := `<successfullyDeletedLaunchTemplateVersionSet><item><launchTemplateId>` + id + `</launchTemplateId><launchTemplateName>web</launchTemplateName>` +
		`<versionNumber>2</versionNumber></item></successfullyDeletedLaunchTemplateVersionSet>` +
		`<unsuccessfullyDeletedLaunchTemplateVersionSet><item><launchTemplateId>` + id + `</launchTemplateId><launchTemplateName>web</launchTemplateName>` +
		`<versionNumber>1</versionNumber><responseError><code>unexpectedError</code>` +
		`<message>The default version of a launch template cannot be deleted.</message></responseError></item></unsuccessfullyDeletedLaunchTemplateVersionSet>`
	if !strings.Contains(body, wantDel) {
		t.Fatalf("DeleteLaunchTemplateVersions answered %s\nwant %s", body, wantDel)
	}
	body = string(ts.call(t, "DeleteLaunchTemplate", "LaunchTemplateId", id))
	if !strings.Contains(body, `<latestVersionNumber>1</latestVersionNumber><operator>`) {
		t.Fatalf("DeleteLaunchTemplate answered %s", body)
	}
}

func TestLaunchTemplateErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.call(t, "CreateLaunchTemplate", "LaunchTemplateName", "web", "LaunchTemplateData.ImageId", "ami-12345678")
	create := []string{"LaunchTemplateName", "web2", "LaunchTemplateData.ImageId", "ami-12345678"}
	for _, tt := range []struct {
		name, action string
		kv           []string
		status       int
		code, msg    string
	}{
		{"name taken", "CreateLaunchTemplate", []string{"LaunchTemplateName", "web", "LaunchTemplateData.ImageId", "ami-1"}, 400,
			"InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use."},
		{"no data", "CreateLaunchTemplate", []string{"LaunchTemplateName", "web2"}, 400,
			"MissingParameter", "The request must contain the parameter LaunchTemplateData"},
		{"tags of an instance on the template", "CreateLaunchTemplate", append(create, "TagSpecification.1.ResourceType", "instance", "TagSpecification.1.Tag.1.Key", "k"), 400,
			"InvalidParameterValue", "'instance' is not a valid taggable resource type for this operation."},
		{"a parameter vpcsim does not take", "CreateLaunchTemplate", append(create, "LaunchTemplateData.KernelId", "aki-1"), 400,
			"UnsupportedOperation", "The parameter LaunchTemplateData.KernelId is not supported by vpcsim yet."},
		{"dry run", "CreateLaunchTemplate", append(create, "DryRun", "true"), 412,
			"DryRunOperation", "Request would have succeeded, but DryRun flag is set."},
		{"no template", "DescribeLaunchTemplateVersions", nil, 400, "MissingParameter",
			"To describe the launch template data for all your launch templates, for ‘--versions’ specify ‘$Latest’, ‘$Default’, or both, and omit ‘--launch-template-id’, ‘--launch-template-name’, and version numbers. To describe the launch template data for a specific launch template, specify ‘--launch-template-id’ or ‘--launch-template-name’, and for ‘--versions’ specify one or more of the following values: ‘$Latest’, ‘$Default’, or one or more version numbers."},
		{"unknown version", "DescribeLaunchTemplateVersions", []string{"LaunchTemplateName", "web", "LaunchTemplateVersion.1", "3"}, 400,
			"InvalidLaunchTemplateId.VersionNotFound", "Could not find the specified version 3 for the launch template with ID "},
		{"both names", "ModifyLaunchTemplate", []string{"LaunchTemplateId", "template_n", "LaunchTemplateName", "web", "SetDefaultVersion", "2"}, 400,
			"InvalidParameterCombination", "Either provide launch template ID or launch template name to modify the template."},
		{"unknown default", "ModifyLaunchTemplate", []string{"LaunchTemplateName", "web", "SetDefaultVersion", "2"}, 400,
			"InvalidLaunchTemplateId.VersionNotFound", "The launch template version 2 is not found for the specified launch template."},
		{"unknown ID", "DeleteLaunchTemplate", []string{"LaunchTemplateId", "lt-07ff4bb0369cd679c"}, 400,
			"InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID lt-07ff4bb0369cd679c, does not exist."},
		{"unknown names", "DescribeLaunchTemplates", []string{"LaunchTemplateName.1", "nope"}, 400,
			"InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist."},
		{"page too big", "DescribeLaunchTemplates", []string{"MaxResults", "201"}, 400,
			"InvalidParameterValue", "Value ( 201 ) for parameter maxResults is invalid. Expecting a value less than 200."},
		{"versions page too big", "DescribeLaunchTemplateVersions", []string{"LaunchTemplateName", "web", "MaxResults", "201"}, 400,
			"InvalidParameterValue", "Value ( 201 ) for parameter maxResults is invalid. Expecting a value less than 200."},
		{"no versions", "DeleteLaunchTemplateVersions", []string{"LaunchTemplateName", "web"}, 400,
			"MissingParameter", "The request must contain the parameter LaunchTemplateVersion"},
		{"launch from an unknown template", "RunInstances", []string{"MinCount", "1", "MaxCount", "1", "LaunchTemplate.LaunchTemplateName", "nope"}, 400,
			"InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name nope, does not exist."},
		{"not implemented", "GetLaunchTemplateData", []string{"InstanceId", "i-0123456789abcdef0"}, 400,
			"UnsupportedOperation", "The operation GetLaunchTemplateData is not supported by vpcsim yet."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := ts.fail(t, tt.action, tt.kv...)
			if status != tt.status || code != tt.code || !strings.HasPrefix(msg, tt.msg) {
				t.Fatalf("got %d %s %q, want %d %s %q", status, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}

// Paging, and RunInstances from a template over the wire: the instance
// carries the template's parameters and tags.
func TestLaunchTemplatePagingAndRun(t *testing.T) {
	ts := newTestServer(t)
	for _, name := range []string{"lt-a", "lt-b", "lt-c"} {
		ts.call(t, "CreateLaunchTemplate", "LaunchTemplateName", name, "LaunchTemplateData.ImageId", "ami-12345678",
			"LaunchTemplateData.InstanceType", "t3.small", "LaunchTemplateData.TagSpecification.1.ResourceType", "instance",
			"LaunchTemplateData.TagSpecification.1.Tag.1.Key", "Name", "LaunchTemplateData.TagSpecification.1.Tag.1.Value", name)
	}
	var page struct {
		Names []string `xml:"launchTemplates>item>launchTemplateName"`
		Next  string   `xml:"nextToken"`
	}
	xml.Unmarshal(ts.call(t, "DescribeLaunchTemplates", "MaxResults", "2"), &page)
	if len(page.Names) != 2 || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	var rest struct {
		Names []string `xml:"launchTemplates>item>launchTemplateName"`
		Next  string   `xml:"nextToken"`
	}
	xml.Unmarshal(ts.call(t, "DescribeLaunchTemplates", "MaxResults", "2", "NextToken", page.Next), &rest)
	if len(rest.Names) != 1 || rest.Names[0] != "lt-c" || rest.Next != "" {
		t.Fatalf("second page %+v", rest)
	}

	var run struct {
		Type string   `xml:"instancesSet>item>instanceType"`
		Keys []string `xml:"instancesSet>item>tagSet>item>key"`
		Vals []string `xml:"instancesSet>item>tagSet>item>value"`
	}
	xml.Unmarshal(ts.call(t, "RunInstances", "MinCount", "1", "MaxCount", "1", "LaunchTemplate.LaunchTemplateName", "lt-b",
		"LaunchTemplate.Version", "$Latest"), &run)
	tags := map[string]string{}
	for i, k := range run.Keys {
		tags[k] = run.Vals[i]
	}
	if run.Type != "t3.small" || tags["Name"] != "lt-b" || !strings.HasPrefix(tags["aws:ec2launchtemplate:id"], "lt-") || tags["aws:ec2launchtemplate:version"] != "1" {
		t.Fatalf("RunInstances from a template: %+v", run)
	}
}
