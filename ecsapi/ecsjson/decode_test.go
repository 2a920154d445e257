package ecsjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestDecode(t *testing.T) {
	var in ecstypes.RegisterTaskDefinitionRequest
	err := decode([]byte(`{
		"family": "web", "networkMode": "awsvpc", "cpu": "256",
		"requiresCompatibilities": ["EC2", "FARGATE"],
		"containerDefinitions": [{
			"name": "app", "image": "nginx", "memory": 512, "essential": true, "cpu": 1.9,
			"portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
			"environment": [{"name": "A", "value": "1"}],
			"dockerLabels": {"k": "v"}, "command": null, "links": []
		}],
		"tags": [{"key": "team", "value": "x"}]
	}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	cd := in.ContainerDefinitions[0]
	switch {
	case *in.Family != "web", in.NetworkMode != ecstypes.NetworkModeAwsvpc, *in.Cpu != "256":
		t.Errorf("top level: %+v", in)
	case !slices.Equal(in.RequiresCompatibilities, []ecstypes.Compatibility{ecstypes.CompatibilityEc2, ecstypes.CompatibilityFargate}):
		t.Errorf("enum list: %v", in.RequiresCompatibilities)
	case *cd.Name != "app", *cd.Memory != 512, !*cd.Essential, *cd.Cpu != 1:
		t.Errorf("container: %+v", cd)
	case *cd.PortMappings[0].ContainerPort != 80, cd.PortMappings[0].Protocol != ecstypes.TransportProtocolTcp:
		t.Errorf("port mapping: %+v", cd.PortMappings[0])
	case cd.DockerLabels["k"] != "v", cd.Command != nil, cd.Links == nil || len(cd.Links) != 0:
		t.Errorf("map, null and empty list: %+v %v %v", cd.DockerLabels, cd.Command, cd.Links)
	case in.Memory != nil, in.Volumes != nil:
		t.Error("absent members are set")
	}

	var ts ecstypes.ListServiceDeploymentsRequest
	if err := decode([]byte(`{"service":"s","createdAt":{"after":1732478212.123,"before":1732478300}}`), &ts); err != nil {
		t.Fatal(err)
	}
	if got := ts.CreatedAt.After.Time(); !got.Equal(time.UnixMilli(1732478212123)) {
		t.Errorf("timestamp: %v", got)
	}
}

// TestDecodeErrors: what AWS's deserializer answers for each kind of JSON that
// does not fit the shape.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		body string
		want string // SerializationException message; "" = none
	}{
		{``, ""},
		{`nope`, ""},
		{`[]`, ""},
		{`"x"`, ""},
		{`{"cluster":"a"`, ""},
		{`{"cluster":"a"}x`, ""},
		{`{"cluster":5}`, "NUMBER_VALUE cannot be converted to String"},
		{`{"cluster":5.5}`, "DECIMAL_VALUE cannot be converted to String"},
		{`{"cluster":true}`, "TRUE_VALUE cannot be converted to String"},
		{`{"cluster":false}`, "FALSE_VALUE cannot be converted to String"},
		{`{"cluster":[]}`, "Unrecognized collection type class java.lang.String"},
		{`{"cluster":{}}`, "Start of structure or map found where not expected"},
		{`{"count":"2"}`, "STRING_VALUE cannot be converted to Integer"},
		{`{"count":2147483648}`, "NUMBER_VALUE cannot be converted to Integer"},
		{`{"count":1e10}`, "DECIMAL_VALUE cannot be converted to Integer"},
		{`{"count":[]}`, "Unrecognized collection type class java.lang.Integer"},
		{`{"enableECSManagedTags":"true"}`, "Unexpected token received from parser"},
		{`{"enableECSManagedTags":1}`, "NUMBER_VALUE cannot be converted to Boolean"},
		{`{"enableECSManagedTags":[]}`, "Unrecognized collection type class java.lang.Boolean"},
		{`{"placementConstraints":"x"}`, "Unexpected field type"},
		{`{"placementConstraints":{}}`, "Start of structure or map found where not expected"},
		{`{"placementConstraints":[5]}`, "Unexpected field type"},
		{`{"placementConstraints":[[]]}`, "Unrecognized collection type class com.amazonaws.ecs.v20141113.PlacementConstraint"},
		{`{"overrides":{"containerOverrides":[{"environment":[{"name":1}]}]}}`, "NUMBER_VALUE cannot be converted to String"},
		{`{"launchType":7}`, "NUMBER_VALUE cannot be converted to String"},
	} {
		var in ecstypes.RunTaskRequest
		err := decode([]byte(c.body), &in)
		var se *serializationError
		if !errors.As(err, &se) {
			t.Errorf("%s: %v, want a SerializationException", c.body, err)
			continue
		}
		if se.Message != c.want {
			t.Errorf("%s: %q, want %q", c.body, se.Message, c.want)
		}
	}
	var m ecstypes.RegisterTaskDefinitionRequest
	if err := decode([]byte(`{"containerDefinitions":[{"dockerLabels":[]}]}`), &m); err == nil ||
		err.(*serializationError).Message != "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>" {
		t.Errorf("list for a map: %v", err)
	}
	if err := decode([]byte(`{"containerDefinitions":[{"dockerLabels":{"a":1}}]}`), &m); err == nil {
		t.Error("number in a map of strings accepted")
	}
}

func TestDecodeTruncates(t *testing.T) {
	var in ecstypes.RunTaskRequest
	if err := decode([]byte(`{"count":2.9}`), &in); err != nil || *in.Count != 2 {
		t.Errorf("count 2.9: %v %v", err, in.Count)
	}
	if err := decode([]byte(`{"count":-2147483648}`), &in); err != nil || *in.Count != -2147483648 {
		t.Errorf("min int32: %v %v", err, in.Count)
	}
}

// FuzzDecode feeds arbitrary bodies to the decoder of every implemented
// operation's input: it never panics, it refuses with a SerializationException or
// decodes, and what it decodes survives a round trip through the encoder.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"clusterName":"web","tags":[{"key":"a","value":"b"}],"settings":[{"name":"containerInsights","value":"enabled"}]}`,
		`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":512,"portMappings":[{"containerPort":80}],"dockerLabels":{"a":"b"}}],"networkMode":"awsvpc"}`,
		`{"taskDefinition":"web:1","count":2,"launchType":"EC2","networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"],"assignPublicIp":"DISABLED"}}}`,
		`{"cluster":5}`,
		`{"count":1e309}`,
		`{"overrides":{"containerOverrides":[{"environment":[{"name":null}]}]}}`,
		`{"createdAt":{"after":-1.5,"before":1e11}}`,
		`[{"a":1}]`,
		`{"a":"\ud800"}`,
		`{"containerDefinitions":[{"dockerLabels":{"k":"\u0000"}}],"include":["TAGS"]}`,
		"{\"clusterName\":\"\xff\"}",
	} {
		f.Add(uint8(0), []byte(seed))
	}
	names := Implemented()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		a := actions[names[int(which)%len(names)]]
		in := reflect.New(a.in)
		err := decode(body, in.Interface())
		if err == nil && !utf8.Valid(body) {
			t.Fatalf("%q is not UTF-8, yet decoded", body)
		}
		if err != nil {
			var se *serializationError
			if !errors.As(err, &se) {
				t.Fatalf("%s: %v is not a SerializationException", body, err)
			}
			return
		}
		ecstypes.Validate(in.Interface()) // must not panic
		again, err := json.Marshal(in.Interface())
		if err != nil {
			t.Fatalf("%s: re-encode: %v", body, err)
		}
		back := reflect.New(a.in)
		if err := decode(again, back.Interface()); err != nil {
			t.Fatalf("%s → %s: %v", body, again, err)
		}
		if !reflect.DeepEqual(in.Interface(), back.Interface()) {
			t.Fatalf("round trip differs:\n%s\n%s", body, again)
		}
	})
}
