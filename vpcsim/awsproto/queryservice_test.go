package awsproto_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// widgets is a toy awsquery API, served by the QueryService skeleton as
// ELBv2 will be: a table of actions over Form.
const (
	widgetsVersion = "2020-01-01"
	widgetsNS      = "https://widgets.example.com/doc/2020-01-01/"
)

type widgetXML struct {
	Name string   `xml:"Name"`
	Tags []string `xml:"Tags>member"`
}

type describeWidgetsResult struct {
	Widgets []widgetXML `xml:"Widgets>member"`
}

var errNoSuchWidget = errors.New("no such widget")

func widgetsService(v sigv4.Verifier) *awsproto.QueryService {
	return &awsproto.QueryService{
		Service: "widgets", Version: widgetsVersion, Namespace: widgetsNS, Verifier: v, MaxBody: 1 << 10,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Actions: map[string]awsproto.QueryAction{
			// DescribeWidgets: Names.member.N, and Filters.member.N.{Name, Values.member.N}.
			"DescribeWidgets": func(_ context.Context, req *awsproto.QueryRequest) (any, error) {
				var res describeWidgetsResult
				for _, n := range req.Form.List("Names") {
					res.Widgets = append(res.Widgets, widgetXML{Name: n})
				}
				for _, f := range req.Form.Structs("Filters") {
					name, _ := f.Get("Name")
					res.Widgets = append(res.Widgets, widgetXML{Name: "filter:" + name, Tags: f.List("Values")})
				}
				if u := req.Form.Unused(); len(u) > 0 {
					return nil, awsproto.QueryClientError("ValidationError", "unknown parameters %s", strings.Join(u, ","))
				}
				return res, nil
			},
			"DeleteWidget": func(context.Context, *awsproto.QueryRequest) (any, error) { return nil, nil },
			"GetWidget":    func(context.Context, *awsproto.QueryRequest) (any, error) { return nil, errNoSuchWidget },
			"Break":        func(context.Context, *awsproto.QueryRequest) (any, error) { return nil, errors.New("a bug") },
			"Panic":        func(context.Context, *awsproto.QueryRequest) (any, error) { panic("a worse bug") },
			"Slow": func(ctx context.Context, _ *awsproto.QueryRequest) (any, error) {
				return nil, context.DeadlineExceeded
			},
		},
		DomainError: func(err error) *awsproto.QueryError {
			if errors.Is(err, errNoSuchWidget) {
				return awsproto.QueryClientError("WidgetNotFound", "One or more widgets not found")
			}
			return nil
		},
	}
}

// TestQueryService: a toy service served through the router by the
// skeleton answers in the awsquery envelopes (byte for byte), decodes member
// lists and lists of structures, and refuses as awsquery APIs refuse.
func TestQueryService(t *testing.T) {
	keys := sigv4.NewKeys(map[string]string{"AKIDTEST": "s3cret"})
	rt := newRouter(t, awsproto.Table{Query: []awsproto.QueryAPI{
		queryAPI("ec2", "2016-11-15", "ec2", true),
		widgetsService(keys).API(),
	}}, nil)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	post := func(body string, secret string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sigv4.Sign(req, []byte(body), "AKIDTEST", secret, "us-east-1", "widgets", time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, regexp.MustCompile(`<RequestId>[0-9a-f-]{36}</RequestId>`).ReplaceAllString(string(b), "<RequestId>ID</RequestId>")
	}
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	errDoc := func(typ, code, msg string) string {
		return head + `<ErrorResponse xmlns="` + widgetsNS + `"><Error><Type>` + typ + `</Type><Code>` + code + `</Code><Message>` + msg +
			`</Message></Error><RequestId>ID</RequestId></ErrorResponse>`
	}
	form := func(kv ...string) string {
		v := url.Values{"Version": {widgetsVersion}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	tests := []struct {
		name, body, secret string
		status             int
		want               string
	}{
		{"lists and structures", form("Action", "DescribeWidgets", "Names.member.1", "a", "Names.member.2", "b&c",
			"Filters.member.1.Name", "color", "Filters.member.1.Values.member.1", "red", "Filters.member.1.Values.member.2", "blue",
			"Filters.member.2.Name", "size"), "s3cret", 200,
			head + `<DescribeWidgetsResponse xmlns="` + widgetsNS + `"><DescribeWidgetsResult><Widgets>` +
				`<member><Name>a</Name><Tags></Tags></member><member><Name>b&amp;c</Name><Tags></Tags></member>` +
				`<member><Name>filter:color</Name><Tags><member>red</member><member>blue</member></Tags></member>` +
				`<member><Name>filter:size</Name><Tags></Tags></member>` +
				`</Widgets></DescribeWidgetsResult><ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></DescribeWidgetsResponse>`},
		{"an item past a gap is not read", form("Action", "DescribeWidgets", "Names.member.1", "a", "Names.member.3", "c", "Color", "red"), "s3cret", 400,
			errDoc("Sender", "ValidationError", "unknown parameters Color,Names.member.3")},
		{"no result", form("Action", "DeleteWidget", "Name", "a"), "s3cret", 200,
			head + `<DeleteWidgetResponse xmlns="` + widgetsNS + `"><DeleteWidgetResult></DeleteWidgetResult>` +
				`<ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></DeleteWidgetResponse>`},
		{"a domain error", form("Action", "GetWidget"), "s3cret", 400, errDoc("Sender", "WidgetNotFound", "One or more widgets not found")},
		{"a bug", form("Action", "Break"), "s3cret", 500, errDoc("Receiver", "InternalError", "An internal error has occurred.")},
		{"a panic", form("Action", "Panic"), "s3cret", 500, errDoc("Receiver", "InternalError", "An internal error has occurred.")},
		{"out of time", form("Action", "Slow"), "s3cret", 503,
			errDoc("Receiver", "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")},
		{"unknown action", form("Action", "FlyWidget"), "s3cret", 400,
			errDoc("Sender", "InvalidAction", "Could not find operation FlyWidget for version 2020-01-01")},
		{"no action", form(), "s3cret", 400, errDoc("Sender", "MissingAction", "The request must contain the parameter Action")},
		{"bad signature", form("Action", "DeleteWidget"), "wrong", 403, errDoc("Sender", "SignatureDoesNotMatch", sigv4.MsgMismatch)},
		{"body too large", form("Action", "DeleteWidget", "Name", strings.Repeat("x", 2<<10)), "s3cret", 413,
			errDoc("Sender", "RequestEntityTooLarge", "The request body exceeds the maximum allowed size of 1024 bytes.")},
	}
	for _, tt := range tests {
		status, got := post(tt.body, tt.secret)
		if status != tt.status || got != tt.want {
			t.Errorf("%s: HTTP %d\n%s\nwant HTTP %d\n%s", tt.name, status, got, tt.status, tt.want)
			continue
		}
		if status != 200 {
			// What aws-sdk-go-v2's awsquery clients read of it.
			e, err := awsxml.GetErrorResponseComponents(bytes.NewReader([]byte(got)), false)
			if err != nil || e.Code == "" || e.RequestID != "ID" {
				t.Errorf("%s: the SDK reads %+v, %v", tt.name, e, err)
			}
		}
	}
}

// TestQueryServiceDoor: the skeleton words the front door's refusals in its
// own envelope.
func TestQueryServiceDoor(t *testing.T) {
	s := widgetsService(nil)
	w := httptest.NewRecorder()
	s.Forbidden(w, httptest.NewRequest("POST", "/", nil), "no")
	if e, err := awsxml.GetErrorResponseComponents(bytes.NewReader(w.Body.Bytes()), false); err != nil || w.Code != 403 || e.Code != "AccessDenied" ||
		!strings.Contains(w.Body.String(), `xmlns="`+widgetsNS+`"`) {
		t.Errorf("Forbidden: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	s.Unauthenticated(w, httptest.NewRequest("POST", "/", nil), &sigv4.Error{Refusal: sigv4.UnknownKey, Message: sigv4.MsgUnknownKey})
	if e, err := awsxml.GetErrorResponseComponents(bytes.NewReader(w.Body.Bytes()), false); err != nil || w.Code != 403 || e.Code != "InvalidClientTokenId" {
		t.Errorf("Unauthenticated: %d %s", w.Code, w.Body)
	}
}
