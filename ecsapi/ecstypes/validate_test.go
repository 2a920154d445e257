package ecstypes

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("k", 129)
	for _, c := range []struct {
		name string
		in   any
		want string // "" = valid
	}{
		{"valid", &RunTaskRequest{TaskDefinition: Ptr("web:1")}, ""},
		{"missing", &RunTaskRequest{}, "1 validation error detected: Value null at 'taskDefinition' failed to satisfy constraint: Member must not be null"},
		{"enum", &RunTaskRequest{TaskDefinition: Ptr("x"), LaunchType: "EC3"},
			"Value 'EC3' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]"},
		{"nested", &RunTaskRequest{TaskDefinition: Ptr("x"), NetworkConfiguration: &NetworkConfiguration{AwsvpcConfiguration: &AwsVpcConfiguration{}}},
			"Value null at 'networkConfiguration.awsvpcConfiguration.subnets' failed to satisfy constraint: Member must not be null"},
		{"empty list is present", &AwsVpcConfiguration{Subnets: []string{}}, ""},
		{"list items", &UntagResourceRequest{ResourceArn: Ptr("a"), TagKeys: []string{"ok", long}},
			"Value '" + long + "' at 'tagKeys.2.member' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"struct in list", &TagResourceRequest{ResourceArn: Ptr("a"), Tags: []Tag{{Key: Ptr(""), Value: Ptr("v")}}},
			"Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"pattern", &TagResourceRequest{ResourceArn: Ptr("a"), Tags: []Tag{{Key: Ptr("a\x00"), Value: Ptr("v")}}},
			"at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"two", &DescribeTaskDefinitionRequest{Include: []TaskDefinitionField{"NOPE"}},
			"2 validation errors detected: Value null at 'taskDefinition'"},
	} {
		err := Validate(c.in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("%s: %T is not a *ValidationError", c.name, err)
		}
	}
}
