package ecsjson

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestWire checks raw requests and the exact bytes of the answers: status,
// headers and body, for successes and for every kind of refusal.
func TestWire(t *testing.T) {
	ts := newTestServer(t, WithMaxBody(4096))
	for _, c := range []struct {
		name     string
		op, body string
		hdr      []string
		status   int
		want     string // the exact body
	}{
		{"success", "CreateCluster", `{"clusterName":"web","tags":[{"key":"team","value":"a+b@c"}]}`, nil, 200,
			`{"cluster":{"clusterArn":"arn:aws:ecs:us-west-2:123456789012:cluster/web","clusterName":"web","status":"ACTIVE","registeredContainerInstancesCount":0,"runningTasksCount":0,"pendingTasksCount":0,"activeServicesCount":0,"statistics":[],"tags":[{"key":"team","value":"a+b@c"}],"capacityProviders":[],"defaultCapacityProviderStrategy":[]}}`},
		{"empty lists are sent, absent ones are not", "DescribeClusters", `{"clusters":["nope"]}`, nil, 200,
			`{"clusters":[],"failures":[{"arn":"arn:aws:ecs:us-west-2:123456789012:cluster/nope","reason":"MISSING"}]}`},
		{"null is absent", "CreateCluster", `{"clusterName":null}`, nil, 200, ""},
		{"unknown members are ignored", "CreateCluster", `{"clusterName":"x","noSuchMember":{"a":[1]},"ClusterName":5}`, nil, 200, ""},
		{"domain error", "CreateCluster", `{"clusterName":"taken"}`, nil, 400,
			`{"__type":"ClientException","message":"Cluster taken <&> \"quoted\"."}`},
		{"not found", "DeleteCluster", `{"cluster":"nope"}`, nil, 400,
			`{"__type":"ClusterNotFoundException","message":"Cluster not found."}`},
		{"domain server fault", "ListClusters", `{}`, nil, 500,
			`{"__type":"ServerException","message":"Service Unavailable. Please try again later."}`},
		{"unmapped error", "CreateCluster", `{"clusterName":"boom"}`, nil, 500,
			`{"__type":"ServerException","message":"Service Unavailable. Please try again later."}`},
		{"panic", "CreateCluster", `{"clusterName":"panic"}`, nil, 500,
			`{"__type":"ServerException","message":"Service Unavailable. Please try again later."}`},
		{"unknown operation", "LaunchRockets", `{}`, nil, 400,
			`{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"no target", "", `{}`, nil, 400,
			`{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"another service's target", "", `{}`, []string{"X-Amz-Target", "DynamoDB_20120810.ListTables"}, 400,
			`{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"not implemented", "PutAccountSetting", `{"name":"serviceLongArnFormat","value":"enabled"}`, nil, 400,
			`{"__type":"UnsupportedFeatureException","message":"The operation PutAccountSetting is not supported by vpcsim yet."}`},
		{"not JSON", "CreateCluster", `{"clusterName":`, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"empty body", "CreateCluster", ``, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"not an object", "CreateCluster", `["clusterName"]`, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"trailing data", "CreateCluster", `{} {}`, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"wrong type", "CreateCluster", `{"clusterName":5}`, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException","Message":"NUMBER_VALUE cannot be converted to String"}`},
		{"wrong nested type", "RunTask", `{"taskDefinition":"web","networkConfiguration":{"awsvpcConfiguration":{"subnets":"subnet-1"}}}`, nil, 400,
			`{"__type":"com.amazon.coral.service#SerializationException","Message":"Unexpected field type"}`},
		{"missing required member", "DescribeTaskDefinition", `{}`, nil, 400,
			`{"__type":"InvalidParameterException","message":"1 validation error detected: Value null at 'taskDefinition' failed to satisfy constraint: Member must not be null"}`},
		{"bad enum value", "RunTask", `{"taskDefinition":"web","launchType":"EC3"}`, nil, 400,
			`{"__type":"InvalidParameterException","message":"1 validation error detected: Value 'EC3' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]"}`},
		{"body too large", "CreateCluster", `{"clusterName":"` + strings.Repeat("x", 5000) + `"}`, nil, 413,
			`{"__type":"com.amazon.coral.service#RequestEntityTooLargeException","Message":"Request body exceeds the maximum allowed size of 4096 bytes."}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := ts.post(t, c.op, c.body, c.hdr...)
			body := readBody(t, resp)
			if resp.StatusCode != c.status {
				t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.want != "" && body != c.want {
				t.Errorf("body\n got %s\nwant %s", body, c.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if id := resp.Header.Get("x-amzn-RequestId"); !uuidRE.MatchString(id) {
				t.Errorf("x-amzn-RequestId %q is not a UUID", id)
			}
		})
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "the disk is on fire") || !strings.Contains(logs, "stub panics") {
		t.Errorf("server faults are not logged with their cause:\n%s", logs)
	}
}

func TestMethodNotPost(t *testing.T) {
	ts := newTestServer(t)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != 404 || body != `{"__type":"com.amazon.coral.service#UnknownOperationException"}` {
		t.Errorf("GET: HTTP %d %s", resp.StatusCode, body)
	}
}

// TestRegion: the region is the credential scope's, else the default.
func TestRegion(t *testing.T) {
	ts := newTestServer(t)
	readBody(t, ts.post(t, "CreateCluster", `{}`))
	readBody(t, ts.post(t, "CreateCluster", `{}`, "Authorization", ""))
	readBody(t, ts.post(t, "CreateCluster", `{}`, "Authorization", "garbage"))
	if want := []string{"us-west-2", "us-east-1", "us-east-1"}; !slices.Equal(ts.stub.regions, want) {
		t.Errorf("regions %v, want %v", ts.stub.regions, want)
	}
}

type refuseVerifier struct{}

func (refuseVerifier) Verify(r *http.Request, payload []byte, a sigv4.Auth) error {
	if a.Signature == "abcdef0123" {
		return errors.New("bad signature")
	}
	return nil
}

func TestVerifier(t *testing.T) {
	ts := newTestServer(t, WithVerifier(refuseVerifier{}))
	resp := ts.post(t, "CreateCluster", `{}`)
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.HasPrefix(body, `{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated`) {
		t.Errorf("bad signature: HTTP %d %s", resp.StatusCode, body)
	}
	resp = ts.post(t, "CreateCluster", `{}`, "Authorization", "")
	if body := readBody(t, resp); resp.StatusCode != 400 || body != `{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}` {
		t.Errorf("unsigned: HTTP %d %s", resp.StatusCode, body)
	}
	good := strings.Replace(signed, "abcdef0123", "0123abcdef", 1)
	if resp = ts.post(t, "CreateCluster", `{}`, "Authorization", good); resp.StatusCode != 200 {
		t.Errorf("good signature: HTTP %d %s", resp.StatusCode, readBody(t, resp))
	}
}

// TestTable: every entry of the dispatch table serves a real operation with its
// model shapes, and the coverage lists agree with the model.
func TestTable(t *testing.T) {
	for name, a := range actions {
		checkShapes(name, a) // panics on a mismatch
	}
	if got, want := len(ModelOperations()), len(ecstypes.Operations); got != want || want < 77 {
		t.Errorf("ModelOperations: %d, model has %d", got, want)
	}
	for _, name := range Implemented() {
		if _, ok := ecstypes.Operations[name]; !ok {
			t.Errorf("implemented %s is not in the model", name)
		}
	}
	for _, bad := range []func(){
		func() { WithOperation("NoSuchOp", (&stub{}).createCluster) },
		func() { WithOperation("DeleteCluster", (&stub{}).createCluster) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("WithOperation accepted a wrong registration")
				}
			}()
			bad()
		}()
	}
}
