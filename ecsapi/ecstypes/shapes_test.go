package ecstypes

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimestampJSON(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1732478212123), "1.732478212123E9"},
		{time.Unix(1732478212, 0), "1.732478212E9"},
		{time.Unix(1700000000, 0), "1.7E9"},
		{time.Unix(0, 0), "0.0"},
		{time.UnixMilli(1500), "1.5"},
	} {
		b, err := json.Marshal(NewTimestamp(c.t))
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.t, b, err, c.want)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil || !back.Time().Equal(c.t) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back.Time(), err, c.t)
		}
	}
	var ts Timestamp
	for _, bad := range []string{`"2024-01-01"`, `1e400`, `true`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestOmitzero(t *testing.T) {
	b, _ := json.Marshal(DescribeClustersResponse{Failures: []Failure{}})
	if string(b) != `{"failures":[]}` {
		t.Errorf("empty list: %s", b)
	}
	b, _ = json.Marshal(Task{Cpu: Ptr(""), Containers: nil, LaunchType: ""})
	if string(b) != `{"cpu":""}` {
		t.Errorf("absent vs zero: %s", b)
	}
}

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

func TestTables(t *testing.T) {
	if len(Operations) != len(OperationNames) || len(Operations) < 77 {
		t.Fatalf("%d operations, %d names", len(Operations), len(OperationNames))
	}
	for _, name := range OperationNames {
		op := Operations[name]
		if op.Input != name+"Request" || op.Output != name+"Response" {
			t.Errorf("%s: %+v", name, op)
		}
		for _, e := range op.Errors {
			if _, ok := Exceptions[e]; !ok {
				t.Errorf("%s: error %s is not an exception shape", name, e)
			}
		}
	}
	if !Exceptions["ServerException"] || Exceptions["ClientException"] {
		t.Errorf("faults: %v", Exceptions)
	}
	for name := range patterns {
		patternOf(name) // compiles
	}
}
