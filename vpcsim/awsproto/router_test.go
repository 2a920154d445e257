package awsproto_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
)

// stub is an API's handler and door in a test: it answers its name and, for
// a Query API, the Action the router handed on; a refusal answers
// "<name> forbidden" or "<name> unauthenticated" with status 403/401.
type stub struct {
	name  string
	query bool
}

func (s stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.query {
		fmt.Fprintf(w, "%s", s.name)
		return
	}
	p := awsproto.ReadQuery(w, r, 1<<20)
	// The router read the body: what is left of it is nothing. (A body
	// the router refused is left unread.)
	var rest []byte
	if p.Err == nil {
		rest, _ = io.ReadAll(r.Body)
	}
	fmt.Fprintf(w, "%s %s rest=%d err=%v", s.name, p.Values.Get("Action"), len(rest), p.Err)
}

func (s stub) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "%s forbidden", s.name)
}

func (s stub) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, "%s unauthenticated", s.name)
}

func jsonAPI(prefix, name string) awsproto.JSONAPI {
	s := stub{name: name}
	return awsproto.JSONAPI{TargetPrefix: prefix, Handler: s, Door: s}
}

func queryAPI(service, version, name string, def bool) awsproto.QueryAPI {
	s := stub{name: name, query: true}
	return awsproto.QueryAPI{Service: service, Version: version, Default: def, Handler: s, Door: s}
}

// table is vpcsim's table with the services that are coming as stubs: ELB
// and ELBv2 share their signing name, as they do in botocore.
func table() awsproto.Table {
	return awsproto.Table{
		JSON: []awsproto.JSONAPI{
			jsonAPI("AmazonEC2ContainerServiceV20141113", "ecs"),
			jsonAPI("Route53AutoNaming_v20170314", "cloudmap"),
			jsonAPI("Logs_20140328", "logs"),
		},
		Query: []awsproto.QueryAPI{
			queryAPI("ec2", "2016-11-15", "ec2", true),
			queryAPI("sts", "2011-06-15", "sts", false),
			queryAPI("elasticloadbalancing", "2015-12-01", "elbv2", false),
			queryAPI("elasticloadbalancing", "2012-06-01", "elb", false),
		},
	}
}

func scope(service string) string {
	return "AWS4-HMAC-SHA256 Credential=AKID/" + time.Now().UTC().Format("20060102") + "/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
}

// now is an X-Amz-Date within the signature's window.
func now() string { return time.Now().UTC().Format("20060102T150405Z") }

type request struct {
	method, target, body string
	header               map[string]string
}

func (q request) send(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(q.method, q.target, strings.NewReader(q.body))
	if q.body != "" && q.header["Content-Type"] == "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newRouter(t *testing.T, tb awsproto.Table, g awsproto.Guard) *awsproto.Router {
	t.Helper()
	rt, err := awsproto.NewRouter(tb, g)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestRoutes: each API gets its requests, by the key AWS's clients send.
func TestRoutes(t *testing.T) {
	rt := newRouter(t, table(), nil)
	form := "Action=%s&Version=%s"
	for _, tc := range []struct {
		name string
		req  request
		want string
	}{
		{"ecs by target", request{"POST", "/", "{}", map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters", "Content-Type": awsproto.JSONContentType}}, "ecs"},
		{"cloud map by target", request{"POST", "/", "{}", map[string]string{"X-Amz-Target": "Route53AutoNaming_v20170314.ListNamespaces"}}, "cloudmap"},
		{"logs by target", request{"POST", "/", "{}", map[string]string{"X-Amz-Target": "Logs_20140328.DescribeLogGroups"}}, "logs"},
		{"ec2 signed", request{"POST", "/", fmt.Sprintf(form, "DescribeVpcs", "2016-11-15"), map[string]string{"Authorization": scope("ec2")}}, "ec2 DescribeVpcs rest=0 err=<nil>"},
		{"ec2 signed GET", request{"GET", "/?Action=DescribeVpcs&Version=2016-11-15", "", map[string]string{"Authorization": scope("ec2")}}, "ec2 DescribeVpcs rest=0 err=<nil>"},
		// As the aws CLI sends `aws sts get-caller-identity`.
		{"sts as the aws CLI calls it", request{"POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Authorization": scope("sts")}}, "sts GetCallerIdentity rest=0 err=<nil>"},
		{"sts unsigned, by Version", request{"POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", nil}, "sts GetCallerIdentity rest=0 err=<nil>"},
		{"sts presigned", request{"GET", "/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID/20260101/us-east-1/sts/aws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", nil}, "sts GetCallerIdentity rest=0 err=<nil>"},
		// The Version tells apart what the scope cannot.
		{"elbv2 by Version", request{"POST", "/", fmt.Sprintf(form, "DescribeLoadBalancers", "2015-12-01"), map[string]string{"Authorization": scope("elasticloadbalancing")}}, "elbv2 DescribeLoadBalancers rest=0 err=<nil>"},
		{"elb by Version", request{"POST", "/", fmt.Sprintf(form, "DescribeLoadBalancers", "2012-06-01"), map[string]string{"Authorization": scope("elasticloadbalancing")}}, "elb DescribeLoadBalancers rest=0 err=<nil>"},
		// The Version is authoritative: a request of STS's API signed
		// for ec2 is STS's, as STS's handler always answered it.
		{"Version over scope", request{"POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Authorization": scope("ec2")}}, "sts GetCallerIdentity rest=0 err=<nil>"},
		// A Version no API serves goes to the scope's API, which refuses it
		// in its own words.
		{"unknown Version, ec2 scope", request{"POST", "/", fmt.Sprintf(form, "CreateVpc", "latest"), map[string]string{"Authorization": scope("ec2")}}, "ec2 CreateVpc rest=0 err=<nil>"},
		{"nothing named: the default", request{"POST", "/", "Action=DescribeVpcs", nil}, "ec2 DescribeVpcs rest=0 err=<nil>"},
		// The router's read errors are handed on for the API to word.
		{"PUT", request{"PUT", "/", "Action=DescribeVpcs", map[string]string{"Authorization": scope("ec2")}}, "ec2  rest=0 err=" + awsproto.ErrMethod.Error()},
	} {
		w := tc.req.send(t, rt)
		if w.Code != 200 || w.Body.String() != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.name, w.Code, w.Body, tc.want)
		}
	}
}

// TestUnknownTarget: a prefix no API has is answered as AWS's JSON services
// answer an unknown target, whatever follows the dot.
func TestUnknownTarget(t *testing.T) {
	rt := newRouter(t, table(), nil)
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"POST", "AmazonSSM.GetParameter", 400},
		{"POST", "amazonec2containerservicev20141113.ListClusters", 400},
		{"POST", ".ListClusters", 400},
		{"GET", "AmazonSSM.GetParameter", 404},
	} {
		w := request{tc.method, "/", "{}", map[string]string{"X-Amz-Target": tc.target, "Content-Type": awsproto.JSONContentType}}.send(t, rt)
		if w.Code != tc.status || w.Body.String() != `{"__type":"com.amazon.coral.service#UnknownOperationException"}` ||
			w.Header().Get("Content-Type") != awsproto.JSONContentType || w.Header().Get("x-amzn-RequestId") == "" {
			t.Errorf("%s %s: %d %v %s", tc.method, tc.target, w.Code, w.Header(), w.Body)
		}
	}
}

// TestUnknownQueryAPI: a Query request no API claims is answered 400
// InvalidAction in the awsquery error document, which aws-sdk-go-v2's Query
// clients read.
func TestUnknownQueryAPI(t *testing.T) {
	rt := newRouter(t, table(), nil)
	for name, req := range map[string]request{
		"iam":                              {"POST", "/", "Action=ListUsers&Version=2010-05-08", map[string]string{"Authorization": scope("iam")}},
		"elasticloadbalancing, no Version": {"POST", "/", "Action=DescribeLoadBalancers", map[string]string{"Authorization": scope("elasticloadbalancing")}},
		"iam, GET":                         {"GET", "/?Action=ListUsers&Version=2010-05-08", "", map[string]string{"Authorization": scope("iam")}},
	} {
		w := req.send(t, rt)
		e, err := awsxml.GetErrorResponseComponents(bytes.NewReader(w.Body.Bytes()), false)
		var doc struct {
			XMLName xml.Name
			Type    string `xml:"Error>Type"`
		}
		_ = xml.Unmarshal(w.Body.Bytes(), &doc)
		if err != nil || w.Code != 400 || e.Code != "InvalidAction" || e.RequestID == "" || doc.XMLName.Local != "ErrorResponse" || doc.Type != "Sender" ||
			!strings.Contains(e.Message, "it serves ec2 2016-11-15, elasticloadbalancing 2012-06-01, elasticloadbalancing 2015-12-01, sts 2011-06-15") {
			t.Errorf("%s: %d %v %+v %s", name, w.Code, err, e, w.Body)
		}
	}
}

// TestReadOnce: the router reads a Query body once and hands the form on; a
// handler that reads it again gets nothing, not a second copy.
func TestReadOnce(t *testing.T) {
	rt := newRouter(t, table(), nil)
	body := &countingReader{r: strings.NewReader("Action=DescribeVpcs&Version=2016-11-15")}
	r := httptest.NewRequest("POST", "/", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	if w.Body.String() != "ec2 DescribeVpcs rest=0 err=<nil>" || body.n != len("Action=DescribeVpcs&Version=2016-11-15") {
		t.Errorf("%s, %d bytes read", w.Body, body.n)
	}
	// A body over the limit is not read past it, and the API words it.
	big := &countingReader{r: strings.NewReader("Action=DescribeVpcs&Version=2016-11-15&x=" + strings.Repeat("y", 2<<20))}
	r = httptest.NewRequest("POST", "/", big)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	tb := table()
	tb.MaxBody = 1 << 10
	newRouter(t, tb, nil).ServeHTTP(w, r)
	if !strings.HasPrefix(w.Body.String(), "ec2  rest=0 err=http: request body too large") || big.n > 1<<10+1 {
		t.Errorf("a body over the limit: %s, %d bytes read", w.Body, big.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += k
	return k, err
}

// TestDoorRefusals: behind the front door, an unsigned request is refused
// before any API sees it (with keys, every request must be signed), in the
// words of the API it names; one that names none, in its protocol family's.
func TestDoorRefusals(t *testing.T) {
	door, err := frontdoor.New(frontdoor.Policy{Loopback: true}, frontdoor.DefaultAPI, sigv4.NewKeys(map[string]string{"AKIDTEST": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	rt := newRouter(t, table(), door.Guard)
	for _, tc := range []struct {
		name string
		req  request
		code int
		want string
	}{
		{"ec2 unsigned", request{"POST", "http://127.0.0.1/", "Action=DescribeVpcs&Version=2016-11-15", nil}, 401, "ec2 unauthenticated"},
		{"sts unsigned, by its Version", request{"POST", "http://127.0.0.1/", "Action=GetCallerIdentity&Version=2011-06-15", nil}, 401, "sts unauthenticated"},
		{"elbv2 unknown key", request{"POST", "http://127.0.0.1/", "Action=DescribeLoadBalancers&Version=2015-12-01", map[string]string{"Authorization": scope("elasticloadbalancing"), "X-Amz-Date": now()}}, 401, "elbv2 unauthenticated"},
		{"ecs unsigned", request{"POST", "http://127.0.0.1/", "{}", map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"}}, 401, "ecs unauthenticated"},
		{"ec2 GET from a page", request{"GET", "http://127.0.0.1/?Action=DescribeVpcs&Version=2016-11-15", "", nil}, 403, "ec2 forbidden"},
		{"ecs from another site", request{"POST", "http://127.0.0.1/", "{}", map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters", "Origin": "https://attacker.example"}}, 403, "ecs forbidden"},
	} {
		w := tc.req.send(t, rt)
		if w.Code != tc.code || w.Body.String() != tc.want {
			t.Errorf("%s: %d %s, want %d %s", tc.name, w.Code, w.Body, tc.code, tc.want)
		}
	}

	// Requests no API claims: the family's words.
	w := request{"POST", "http://127.0.0.1/", "{}", map[string]string{"X-Amz-Target": "AmazonSSM.GetParameter"}}.send(t, rt)
	var je struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &je); err != nil || w.Code != 400 || je.Type != "com.amazon.coral.service#MissingAuthenticationTokenException" ||
		je.Message != sigv4.MsgMissingToken {
		t.Errorf("unknown target, unsigned: %d %s", w.Code, w.Body)
	}
	w = request{"POST", "http://127.0.0.1/", "Action=ListUsers&Version=2010-05-08", nil}.send(t, rt)
	// Unsigned, with a Version no API serves: the default API's words, as
	// EC2 answered every such request before.
	if w.Code != 401 || w.Body.String() != "ec2 unauthenticated" {
		t.Errorf("unsigned, unknown Version: %d %s", w.Code, w.Body)
	}
	w = request{"POST", "http://127.0.0.1/", "Action=ListUsers&Version=2010-05-08", map[string]string{"Authorization": scope("iam"), "X-Amz-Date": now()}}.send(t, rt)
	if e, err := awsxml.GetErrorResponseComponents(bytes.NewReader(w.Body.Bytes()), false); err != nil || w.Code != 403 || e.Code != "InvalidClientTokenId" {
		t.Errorf("iam, unknown key: %d %s", w.Code, w.Body)
	}
}

// TestTableRefused: a table the router could not route by is refused when
// it is made, not when a request comes.
func TestTableRefused(t *testing.T) {
	for name, tb := range map[string]awsproto.Table{
		"two prefixes":    {JSON: []awsproto.JSONAPI{jsonAPI("AmazonSSM", "a"), jsonAPI("AmazonSSM", "b")}},
		"prefix with dot": {JSON: []awsproto.JSONAPI{jsonAPI("AmazonSSM.Get", "a")}},
		"no handler":      {JSON: []awsproto.JSONAPI{{TargetPrefix: "AmazonSSM"}}},
		"two versions":    {Query: []awsproto.QueryAPI{queryAPI("ec2", "2014-09-01", "ec2", false), queryAPI("rds", "2014-09-01", "rds", false)}},
		"two defaults":    {Query: []awsproto.QueryAPI{queryAPI("ec2", "2016-11-15", "ec2", true), queryAPI("sts", "2011-06-15", "sts", true)}},
		"no Version":      {Query: []awsproto.QueryAPI{queryAPI("ec2", "", "ec2", false)}},
		"no signing name": {Query: []awsproto.QueryAPI{queryAPI("", "2016-11-15", "ec2", false)}},
	} {
		if _, err := awsproto.NewRouter(tb, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
