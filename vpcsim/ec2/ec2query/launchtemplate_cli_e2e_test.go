package ec2query

import (
	"fmt"
	"slices"
	"testing"
)

// TestLaunchTemplatesCLI drives launch templates through both aws CLIs, as a
// user would: a template made with JSON data, a version from it, the default
// moved, an instance run from the template's default, versions deleted one by
// one and the template deleted.
func TestLaunchTemplatesCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL
			made := c.ok(t, "ec2", "create-launch-template", "--launch-template-name", "web", "--version-description", "first",
				"--launch-template-data", `{"ImageId":"ami-12345678","InstanceType":"t3.micro","MetadataOptions":{"HttpTokens":"required"},`+
					`"TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"Name","Value":"web"}]}]}`,
				"--tag-specifications", "ResourceType=launch-template,Tags=[{Key=team,Value=a}]")
			id := str(made, "LaunchTemplate", "LaunchTemplateId")
			if path(made, "LaunchTemplate", "DefaultVersionNumber") != float64(1) || str(made, "LaunchTemplate", "Tags", 0, "Key") != "team" {
				t.Fatalf("create-launch-template: %v", made)
			}
			if code := c.refused(t, "ec2", "create-launch-template", "--launch-template-name", "web", "--launch-template-data", `{"ImageId":"ami-1"}`); code != "InvalidLaunchTemplateName.AlreadyExistsException" {
				t.Errorf("a second template named web: %s", code)
			}

			v2 := c.ok(t, "ec2", "create-launch-template-version", "--launch-template-id", id, "--source-version", "1",
				"--launch-template-data", `{"InstanceType":"m5.large"}`)
			if path(v2, "LaunchTemplateVersion", "VersionNumber") != float64(2) || str(v2, "LaunchTemplateVersion", "LaunchTemplateData", "ImageId") != "ami-12345678" ||
				str(v2, "LaunchTemplateVersion", "LaunchTemplateData", "MetadataOptions", "HttpTokens") != "required" {
				t.Fatalf("create-launch-template-version: %v", v2)
			}
			versions := c.ok(t, "ec2", "describe-launch-template-versions", "--launch-template-id", id)
			var types []string
			for _, v := range list(versions, "LaunchTemplateVersions") {
				types = append(types, fmt.Sprintf("%v %s %v", path(v, "VersionNumber"), str(v, "LaunchTemplateData", "InstanceType"), path(v, "DefaultVersion")))
			}
			if !slices.Equal(types, []string{"2 m5.large false", "1 t3.micro true"}) {
				t.Errorf("describe-launch-template-versions: %v", types)
			}
			latest := c.ok(t, "ec2", "describe-launch-template-versions", "--versions", "$Latest")
			if l := list(latest, "LaunchTemplateVersions"); len(l) != 1 || path(l[0], "VersionNumber") != float64(2) {
				t.Errorf("every template's $Latest: %v", latest)
			}

			c.ok(t, "ec2", "modify-launch-template", "--launch-template-name", "web", "--default-version", "2")
			desc := c.ok(t, "ec2", "describe-launch-templates", "--filters", "Name=launch-template-name,Values=we*")
			if l := list(desc, "LaunchTemplates"); len(l) != 1 || path(l[0], "DefaultVersionNumber") != float64(2) || path(l[0], "LatestVersionNumber") != float64(2) {
				t.Errorf("describe-launch-templates: %v", desc)
			}

			run := c.ok(t, "ec2", "run-instances", "--launch-template", "LaunchTemplateName=web", "--count", "1")
			inst := path(run, "Instances", 0)
			tags := map[string]string{}
			for _, tag := range list(inst, "Tags") {
				tags[str(tag, "Key")] = str(tag, "Value")
			}
			if str(inst, "InstanceType") != "m5.large" || str(inst, "MetadataOptions", "HttpTokens") != "required" ||
				tags["Name"] != "web" || tags["aws:ec2launchtemplate:id"] != id || tags["aws:ec2launchtemplate:version"] != "2" {
				t.Errorf("run-instances from the template: %v", inst)
			}

			del := c.ok(t, "ec2", "delete-launch-template-versions", "--launch-template-id", id, "--versions", "1", "2")
			if str(del, "SuccessfullyDeletedLaunchTemplateVersions", 0, "LaunchTemplateName") != "web" ||
				path(del, "SuccessfullyDeletedLaunchTemplateVersions", 0, "VersionNumber") != float64(1) ||
				str(del, "UnsuccessfullyDeletedLaunchTemplateVersions", 0, "ResponseError", "Code") != "unexpectedError" {
				t.Errorf("delete-launch-template-versions: %v", del)
			}
			if code := c.refused(t, "ec2", "get-launch-template-data", "--instance-id", str(inst, "InstanceId")); code != "UnsupportedOperation" {
				t.Errorf("get-launch-template-data: %s", code)
			}
			c.ok(t, "ec2", "delete-launch-template", "--launch-template-name", "web")
			if code := c.refused(t, "ec2", "describe-launch-templates", "--launch-template-names", "web"); code != "InvalidLaunchTemplateName.NotFoundException" {
				t.Errorf("describe-launch-templates after delete: %s", code)
			}
		})
	}
}
