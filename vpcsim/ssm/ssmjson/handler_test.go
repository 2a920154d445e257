package ssmjson

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/ssm"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

func newServer(t *testing.T, opts ...Option) *httptest.Server {
	t.Helper()
	svc, err := ssm.New(vpcsim.NewMemStore(), ssm.WithAccount("123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, nil, "us-east-1", opts...))
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

// call sends one JSON 1.1 request, signed for region when region is not "".
func call(t *testing.T, srv *httptest.Server, target, body, region string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if region != "" {
		sigv4.Sign(req, []byte(body), "AKIDEXAMPLE", "secret", region, "ssm", time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("%s: answer is not JSON: %s", target, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s: headers %v", target, resp.Header)
	}
	return a
}

func TestHandler(t *testing.T) {
	srv := newServer(t)
	for _, c := range []struct {
		what, target, body, region string
		status                     int
		want                       string // a substring of the raw answer
	}{
		{"put", "AmazonSSM.PutParameter", `{"Name":"/a/b","Value":"v","Type":"String"}`, "us-west-2", 200, `{"Version":1,"Tier":"Standard"}`},
		{"get", "AmazonSSM.GetParameter", `{"Name":"/a/b"}`, "us-west-2", 200, `"ARN":"arn:aws:ssm:us-west-2:123456789012:parameter/a/b"`},
		{"another region", "AmazonSSM.GetParameter", `{"Name":"/a/b"}`, "eu-west-1", 400, `{"__type":"ParameterNotFound"}`},
		{"unsigned: the default region", "AmazonSSM.GetParameter", `{"Name":"/a/b"}`, "", 400, `{"__type":"ParameterNotFound"}`},
		{"already exists", "AmazonSSM.PutParameter", `{"Name":"/a/b","Value":"v","Type":"String"}`, "us-west-2", 400,
			`{"__type":"ParameterAlreadyExists","message":"The parameter already exists. To overwrite this value, set the overwrite option in the request to true."}`},
		{"model constraint", "AmazonSSM.GetParameters", `{"Names":[]}`, "us-west-2", 400,
			`{"__type":"ValidationException","message":"1 validation error detected: Value '[]' at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1"}`},
		{"max results", "AmazonSSM.GetParametersByPath", `{"Path":"/a","MaxResults":11}`, "us-west-2", 400,
			`Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`},
		{"enum", "AmazonSSM.PutParameter", `{"Name":"/x","Value":"v","Type":"Integer"}`, "us-west-2", 400,
			`Value 'Integer' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]`},
		{"not JSON", "AmazonSSM.GetParameter", `nope`, "us-west-2", 400, `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"wrong type", "AmazonSSM.GetParameter", `{"Name":1}`, "us-west-2", 400, `"Message":"NUMBER_VALUE cannot be converted to String"`},
		{"unknown operation", "AmazonSSM.Nope", `{}`, "us-west-2", 400, `{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"not served", "AmazonSSM.SendCommand", `{}`, "us-west-2", 400,
			`{"__type":"UnsupportedOperationException","message":"The operation SendCommand is not supported by vpcsim yet."}`},
		{"region not served", "AmazonSSM.GetParameter", `{"Name":"/a/b"}`, "mars-north-1", 400, `"__type":"com.amazon.coral.service#InvalidSignatureException"`},
		{"public", "AmazonSSM.GetParameter", `{"Name":"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"}`, "us-west-2", 200,
			`"ARN":"arn:aws:ssm:us-west-2::parameter/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"`},
	} {
		a := call(t, srv, c.target, c.body, c.region)
		if a.status != c.status || !strings.Contains(a.raw, c.want) {
			t.Errorf("%s: %d %s; want %d with %s", c.what, a.status, a.raw, c.status, c.want)
		}
	}
}

func TestSignaturesAndBounds(t *testing.T) {
	srv := newServer(t, WithVerifier(sigv4.NewKeys(map[string]string{"AKIDEXAMPLE": "secret"})), WithMaxBody(100))
	if a := call(t, srv, "AmazonSSM.DescribeParameters", `{}`, "us-east-1"); a.status != 200 {
		t.Errorf("signed: %d %s", a.status, a.raw)
	}
	if a := call(t, srv, "AmazonSSM.DescribeParameters", `{}`, ""); a.status != 400 || a.body["__type"] != "com.amazon.coral.service#MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", a.status, a.raw)
	}
	if a := call(t, srv, "AmazonSSM.PutParameter", `{"Name":"/x","Type":"String","Value":"`+strings.Repeat("v", 200)+`"}`, "us-east-1"); a.status != 413 {
		t.Errorf("a body over the bound: %d %s", a.status, a.raw)
	}
}

func TestCoverageLists(t *testing.T) {
	impl, model := Implemented(), ModelOperations()
	if len(impl) != 13 || len(model) != len(ssmtypes.Operations) {
		t.Errorf("%d implemented, %d in the model", len(impl), len(model))
	}
	for _, op := range impl {
		if !slices.Contains(model, op) {
			t.Errorf("%s is not an operation of the model", op)
		}
		m := ssmtypes.Operations[op]
		if m.Input != op+"Request" || m.Output != op+"Result" {
			t.Errorf("%s: %+v", op, m)
		}
	}
}
