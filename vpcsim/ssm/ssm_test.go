package ssm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

var (
	ctx = context.Background()
	usw = Scope{Region: "us-west-2"}
	p   = ssmtypes.Ptr[string]
)

func newService(t *testing.T, store vpcsim.Store, opts ...Option) *Service {
	t.Helper()
	if store == nil {
		store = vpcsim.NewMemStore()
	}
	clock := time.Unix(1700000000, 0)
	opts = append([]Option{WithAccount("123456789012"), WithStorage(storage.CheckInPlace()),
		WithClock(func() time.Time { clock = clock.Add(time.Second); return clock })}, opts...)
	s, err := New(store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Service, in ssmtypes.PutParameterRequest) *ssmtypes.PutParameterResult {
	t.Helper()
	out, err := s.PutParameter(ctx, usw, &in)
	if err != nil {
		t.Fatalf("PutParameter(%s): %v", *in.Name, err)
	}
	return out
}

func get(t *testing.T, s *Service, name string, decrypt bool) ssmtypes.Parameter {
	t.Helper()
	out, err := s.GetParameter(ctx, usw, &ssmtypes.GetParameterRequest{Name: p(name), WithDecryption: &decrypt})
	if err != nil {
		t.Fatalf("GetParameter(%s): %v", name, err)
	}
	return *out.Parameter
}

// wantErr checks that err is an SSM refusal of type typ whose message holds msg.
func wantErr(t *testing.T, what string, err error, typ, msg string) {
	t.Helper()
	if typ == "ValidationError" {
		var ve *ssmtypes.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Error(), msg) {
			t.Errorf("%s: got %v, want a validation error with %q", what, err, msg)
		}
		return
	}
	e, ok := AsError(err)
	if !ok || e.Type != typ || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: got %v, want %s %q", what, err, typ, msg)
	}
}

func TestPutGetVersions(t *testing.T) {
	s := newService(t, nil)
	out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/app/db/url"), Value: p("v1"), Type: "String", Description: p("the url")})
	if *out.Version != 1 || out.Tier != "Standard" {
		t.Errorf("put: %+v", out)
	}
	_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/app/db/url"), Value: p("v2"), Type: "String"})
	wantErr(t, "again without overwrite", err, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	out = put(t, s, ssmtypes.PutParameterRequest{Name: p("/app/db/url"), Value: p("v2"), Overwrite: ssmtypes.Ptr(true)})
	if *out.Version != 2 {
		t.Errorf("overwrite: version %d", *out.Version)
	}
	got := get(t, s, "/app/db/url", false)
	if *got.Value != "v2" || *got.Version != 2 || got.Type != "String" || *got.DataType != "text" ||
		*got.ARN != "arn:aws:ssm:us-west-2:123456789012:parameter/app/db/url" || got.Selector != nil {
		t.Errorf("latest: %+v", got)
	}
	if got := get(t, s, "/app/db/url:1", false); *got.Value != "v1" || *got.Selector != ":1" || *got.Name != "/app/db/url" {
		t.Errorf(":1 = %+v", got)
	}
	_, err = s.GetParameter(ctx, usw, &ssmtypes.GetParameterRequest{Name: p("/app/db/url:7")})
	wantErr(t, ":7", err, "ParameterVersionNotFound", "Systems Manager could not find version 7 of /app/db/url. Verify the version and try again.")
	_, err = s.GetParameter(ctx, usw, &ssmtypes.GetParameterRequest{Name: p("/app/db/nope")})
	if e, ok := AsError(err); !ok || e.Type != "ParameterNotFound" || !e.NoMessage {
		t.Errorf("missing: %v", err)
	}
	// By ARN, and in another region nothing.
	if got := get(t, s, "arn:aws:ssm:us-west-2:123456789012:parameter/app/db/url", false); *got.Value != "v2" {
		t.Errorf("by ARN: %+v", got)
	}
	if _, err := s.GetParameter(ctx, Scope{Region: "eu-west-1"}, &ssmtypes.GetParameterRequest{Name: p("/app/db/url")}); err == nil {
		t.Error("a parameter of us-west-2 is found in eu-west-1")
	}
	// The description is kept by an overwrite that does not name one.
	h, err := s.GetParameterHistory(ctx, usw, &ssmtypes.GetParameterHistoryRequest{Name: p("/app/db/url")})
	if err != nil || len(h.Parameters) != 2 || *h.Parameters[1].Description != "the url" || *h.Parameters[0].Value != "v1" {
		t.Errorf("history: %+v, %v", h, err)
	}
	// A root name is the same parameter with or without its slash; its ARN has one slash.
	put(t, s, ssmtypes.PutParameterRequest{Name: p("root"), Value: p("r"), Type: "String"})
	_, err = s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/root"), Value: p("r"), Type: "String"})
	wantErr(t, "/root after root", err, "ParameterAlreadyExists", "")
	if got := get(t, s, "/root", false); *got.ARN != "arn:aws:ssm:us-west-2:123456789012:parameter/root" {
		t.Errorf("root ARN %s", *got.ARN)
	}
}

func TestSecureString(t *testing.T) {
	s := newService(t, nil)
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/s/pw"), Value: p("hunter2"), Type: "SecureString"})
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/s/k"), Value: p("x"), Type: "SecureString", KeyId: p("alias/mine")})
	enc, dec := get(t, s, "/s/pw", false), get(t, s, "/s/pw", true)
	if *dec.Value != "hunter2" || *enc.Value == "hunter2" || !strings.HasPrefix(*enc.Value, "AQICAH") || *get(t, s, "/s/pw", false).Value != *enc.Value {
		t.Errorf("value %q / %q", *enc.Value, *dec.Value)
	}
	d, _ := s.DescribeParameters(ctx, usw, &ssmtypes.DescribeParametersRequest{})
	if len(d.Parameters) != 2 || *d.Parameters[0].KeyId != "alias/mine" || *d.Parameters[1].KeyId != "alias/aws/ssm" {
		t.Errorf("keys: %+v", d.Parameters)
	}
	_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/s/plain"), Value: p("x"), Type: "String", KeyId: p("alias/mine")})
	wantErr(t, "KeyId of a String", err, "ValidationException", "KeyId is required for SecureString type parameter only.")
	_, err = s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/s/pw"), Value: p("x"), Type: "String", Overwrite: ssmtypes.Ptr(true)})
	wantErr(t, "type change in a hierarchy", err, "HierarchyTypeMismatchException", "")
}

func TestNames(t *testing.T) {
	s := newService(t, nil)
	deep := strings.Repeat("/a", 16)
	for _, c := range []struct{ name, typ, msg string }{
		{"awsthing", "ValidationException", `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`},
		{"SSMthing", "ValidationException", `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`},
		{"/aws/mine/x", "AccessDeniedException", "No access to reserved parameter name: /aws/mine/x."},
		{"/ssm/x", "ValidationException", msgBadPath},
		{"app/x", "ValidationException", msgBadPath},
		{"/a b", "ValidationException", msgBadPath},
		{"/a//b", "ValidationException", msgBadPath},
		{"/a/", "ValidationException", msgBadPath},
		{"a@b", "ValidationException", msgBadPath},
		{deep, "HierarchyLevelLimitExceededException", msgHierarchy},
	} {
		_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p(c.name), Value: p("v"), Type: "String"})
		wantErr(t, c.name, err, c.typ, c.msg)
	}
	put(t, s, ssmtypes.PutParameterRequest{Name: p(strings.Repeat("/a", 15)), Value: p("v"), Type: "String"})
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/my.app-1/DB_url"), Value: p("v"), Type: "String"})
	_, err := s.DeleteParameter(ctx, usw, &ssmtypes.DeleteParameterRequest{Name: p("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended")})
	wantErr(t, "delete a public parameter", err, "AccessDeniedException", "No access to reserved parameter name")
}

func TestPutRules(t *testing.T) {
	s := newService(t, nil)
	for _, c := range []struct {
		what    string
		in      ssmtypes.PutParameterRequest
		typ     string
		message string
	}{
		{"no type", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("v")}, "ValidationException", "A parameter type is required when you create a parameter."},
		{"empty value", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p(""), Type: "String"}, "ValidationError", "Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"tags with overwrite", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("v"), Type: "String", Overwrite: ssmtypes.Ptr(true),
			Tags: []ssmtypes.Tag{{Key: p("a"), Value: p("b")}}}, "ValidationException", "Invalid request: tags and overwrite can't be used together."},
		{"data type", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("v"), Type: "String", DataType: p("Text")}, "ValidationException",
			"The following data type is not supported: Text (Data type names are all lowercase.)"},
		{"not an AMI", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("v"), Type: "String", DataType: p("aws:ec2:image")}, "ValidationException", "is not a valid AMI ID"},
		{"pattern", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("abc"), Type: "String", AllowedPattern: p(`\d+`)}, "ParameterPatternMismatchException",
			`Parameter value, cannot be validated against allowedPattern: \d+`},
		{"bad pattern", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("abc"), Type: "String", AllowedPattern: p(`(`)}, "InvalidAllowedPatternException", ""},
		{"standard too long", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p(strings.Repeat("v", 4097)), Type: "String"}, "ValidationException",
			"Standard tier parameters support a maximum parameter value of 4096 characters."},
		{"advanced too long", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p(strings.Repeat("v", 8193)), Type: "String", Tier: "Advanced"}, "ValidationException",
			"Advanced tier parameters support a maximum parameter value of 8192 characters."},
		{"aws: tag", ssmtypes.PutParameterRequest{Name: p("/x"), Value: p("v"), Type: "String", Tags: []ssmtypes.Tag{{Key: p("aws:x"), Value: p("b")}}}, "ValidationException", "reserved"},
	} {
		_, err := s.PutParameter(ctx, usw, &c.in)
		wantErr(t, c.what, err, c.typ, c.message)
	}
	if d, _ := s.DescribeParameters(ctx, usw, &ssmtypes.DescribeParametersRequest{}); len(d.Parameters) != 0 {
		t.Errorf("a refused put stored %+v", d.Parameters)
	}
	// Tiers: 4,097 characters fit Advanced and Intelligent-Tiering (which picks Advanced); no way back to Standard.
	if out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/big"), Value: p(strings.Repeat("v", 4097)), Type: "String", Tier: "Intelligent-Tiering"}); out.Tier != "Advanced" {
		t.Errorf("intelligent tiering chose %s", out.Tier)
	}
	if out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/small"), Value: p("v"), Type: "String", Tier: "Intelligent-Tiering"}); out.Tier != "Standard" {
		t.Errorf("intelligent tiering chose %s", out.Tier)
	}
	if out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/big"), Value: p("v"), Overwrite: ssmtypes.Ptr(true)}); out.Tier != "Advanced" {
		t.Errorf("an overwrite without a tier left Advanced: %s", out.Tier)
	}
	_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/big"), Value: p("v"), Overwrite: ssmtypes.Ptr(true), Tier: "Standard"})
	wantErr(t, "downgrade", err, "ValidationException", "You can't downgrade a parameter from the advanced-parameter tier")
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/ami"), Value: p(amicatalog.AmazonLinux2.ID), Type: "String", DataType: p("aws:ec2:image")})
	if got := get(t, s, "/ami", false); *got.DataType != "aws:ec2:image" {
		t.Errorf("data type %s", *got.DataType)
	}
	// The pattern is kept: an overwrite must match it too.
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/n"), Value: p("12"), Type: "String", AllowedPattern: p(`\d+`)})
	_, err = s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/n"), Value: p("x"), Overwrite: ssmtypes.Ptr(true)})
	wantErr(t, "kept pattern", err, "ParameterPatternMismatchException", "")
}

func TestVersionLimit(t *testing.T) {
	s := newService(t, nil)
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/v"), Value: p("1"), Type: "String"})
	if _, err := s.LabelParameterVersion(ctx, usw, &ssmtypes.LabelParameterVersionRequest{Name: p("/v"), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= MaxVersions; i++ {
		put(t, s, ssmtypes.PutParameterRequest{Name: p("/v"), Value: p("x"), Overwrite: ssmtypes.Ptr(true)})
	}
	_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/v"), Value: p("x"), Overwrite: ssmtypes.Ptr(true)})
	wantErr(t, "101st with the oldest labelled", err, "ParameterMaxVersionLimitExceeded", "Version 1, the oldest version, can't be deleted because it has a label associated with it.")
	if _, err := s.UnlabelParameterVersion(ctx, usw, &ssmtypes.UnlabelParameterVersionRequest{Name: p("/v"), ParameterVersion: ssmtypes.Ptr(int64(1)), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	if out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/v"), Value: p("x"), Overwrite: ssmtypes.Ptr(true)}); *out.Version != 101 {
		t.Errorf("version %d", *out.Version)
	}
	if _, err := s.GetParameter(ctx, usw, &ssmtypes.GetParameterRequest{Name: p("/v:1")}); err == nil {
		t.Error("version 1 is still kept")
	}
	h, err := s.GetParameterHistory(ctx, usw, &ssmtypes.GetParameterHistoryRequest{Name: p("/v")})
	if err != nil || len(h.Parameters) != 50 || *h.Parameters[0].Version != 2 || h.NextToken == nil {
		t.Fatalf("history page 1: %d, %v", len(h.Parameters), err)
	}
	h, err = s.GetParameterHistory(ctx, usw, &ssmtypes.GetParameterHistoryRequest{Name: p("/v"), NextToken: h.NextToken})
	if err != nil || len(h.Parameters) != 50 || *h.Parameters[49].Version != 101 || h.NextToken != nil {
		t.Fatalf("history page 2: %d, %v", len(h.Parameters), err)
	}
}

func TestLabels(t *testing.T) {
	s := newService(t, nil)
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/l"), Value: p("one"), Type: "String"})
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/l"), Value: p("two"), Overwrite: ssmtypes.Ptr(true)})
	out, err := s.LabelParameterVersion(ctx, usw, &ssmtypes.LabelParameterVersionRequest{Name: p("/l"), ParameterVersion: ssmtypes.Ptr(int64(1)),
		Labels: []string{"prod", "1bad", "awsx", "bad label"}})
	if err != nil || *out.ParameterVersion != 1 || strings.Join(out.InvalidLabels, ",") != "1bad,awsx,bad label" {
		t.Fatalf("label: %+v, %v", out, err)
	}
	if got := get(t, s, "/l:prod", false); *got.Value != "one" || *got.Selector != ":prod" {
		t.Errorf(":prod = %+v", got)
	}
	// A label moves to the version it is given to.
	if _, err := s.LabelParameterVersion(ctx, usw, &ssmtypes.LabelParameterVersionRequest{Name: p("/l"), Labels: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "/l:prod", false); *got.Value != "two" {
		t.Errorf(":prod after the move = %+v", got)
	}
	_, err = s.GetParameter(ctx, usw, &ssmtypes.GetParameterRequest{Name: p("/l:nolabel")})
	wantErr(t, "unknown label", err, "ParameterNotFound", "")
	_, err = s.LabelParameterVersion(ctx, usw, &ssmtypes.LabelParameterVersionRequest{Name: p("/l"), ParameterVersion: ssmtypes.Ptr(int64(9)), Labels: []string{"x"}})
	wantErr(t, "label version 9", err, "ParameterVersionNotFound", "could not find version 9 of /l")
	many := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	_, err = s.LabelParameterVersion(ctx, usw, &ssmtypes.LabelParameterVersionRequest{Name: p("/l"), Labels: many})
	wantErr(t, "11 labels", err, "ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels.")
	un, err := s.UnlabelParameterVersion(ctx, usw, &ssmtypes.UnlabelParameterVersionRequest{Name: p("/l"), ParameterVersion: ssmtypes.Ptr(int64(2)), Labels: []string{"prod", "gone"}})
	if err != nil || strings.Join(un.RemovedLabels, ",") != "prod" || strings.Join(un.InvalidLabels, ",") != "gone" {
		t.Errorf("unlabel: %+v, %v", un, err)
	}
}

func TestByPathAndDescribe(t *testing.T) {
	s := newService(t, nil)
	for _, n := range []string{"/a/x", "/a/y", "/a/b/z", "/a/b/c/w", "/other", "top"} {
		put(t, s, ssmtypes.PutParameterRequest{Name: p(n), Value: p("v" + n), Type: "String", Tags: []ssmtypes.Tag{{Key: p("env"), Value: p("dev")}}})
	}
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/a/sec"), Value: p("s"), Type: "SecureString"})
	names := func(ps []ssmtypes.Parameter) string {
		var out []string
		for _, x := range ps {
			out = append(out, *x.Name)
		}
		return strings.Join(out, " ")
	}
	byPath := func(in ssmtypes.GetParametersByPathRequest) (*ssmtypes.GetParametersByPathResult, error) {
		return s.GetParametersByPath(ctx, usw, &in)
	}
	for _, c := range []struct {
		in   ssmtypes.GetParametersByPathRequest
		want string
	}{
		{ssmtypes.GetParametersByPathRequest{Path: p("/a")}, "/a/sec /a/x /a/y"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a/")}, "/a/sec /a/x /a/y"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), Recursive: ssmtypes.Ptr(true)}, "/a/b/c/w /a/b/z /a/sec /a/x /a/y"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/")}, "/other top"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Type"), Values: []string{"SecureString"}}}}, "/a/sec"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("tag:env")}}}, "/a/x /a/y"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended")},
			"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/ecs_agent_version /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/ecs_runtime_version /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_name /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_version /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/os /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/schema_version /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/source_image_name"},
	} {
		out, err := byPath(c.in)
		if err != nil || names(out.Parameters) != c.want {
			t.Errorf("%s %+v: %s, %v; want %s", *c.in.Path, c.in.ParameterFilters, names(out.Parameters), err, c.want)
		}
	}
	// Paging, two at a time.
	var all []string
	var token *string
	for range 5 {
		out, err := byPath(ssmtypes.GetParametersByPathRequest{Path: p("/a"), Recursive: ssmtypes.Ptr(true), MaxResults: ssmtypes.Ptr(int32(2)), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, names(out.Parameters))
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(all, "|") != "/a/b/c/w /a/b/z|/a/sec /a/x|/a/y" {
		t.Errorf("pages %q", all)
	}
	for _, c := range []struct {
		in       ssmtypes.GetParametersByPathRequest
		typ, msg string
	}{
		{ssmtypes.GetParametersByPathRequest{Path: p("a")}, "ValidationException", `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with \"aws\" or \"ssm\"`},
		{ssmtypes.GetParametersByPathRequest{Path: p("/ssm/x")}, "ValidationException", "must begin with a forward slash"},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Values: []string{"x"}}}},
			"InvalidFilterKey", "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId]."},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Type"), Option: p("Contains"), Values: []string{"x"}}}},
			"InvalidFilterOption", "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals]."},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Type"), Values: []string{"Str"}}}},
			"InvalidFilterValue", "The following filter value is not valid: Str. Valid values include: [String, StringList, SecureString]."},
		{ssmtypes.GetParametersByPathRequest{Path: p("/a"), NextToken: p("!!")}, "InvalidNextToken", ""},
	} {
		_, err := byPath(c.in)
		wantErr(t, *c.in.Path, err, c.typ, c.msg)
	}
	desc := func(in ssmtypes.DescribeParametersRequest) (string, error) {
		out, err := s.DescribeParameters(ctx, usw, &in)
		if err != nil {
			return "", err
		}
		var ns []string
		for _, m := range out.Parameters {
			ns = append(ns, *m.Name)
		}
		return strings.Join(ns, " "), nil
	}
	for _, c := range []struct {
		in   ssmtypes.DescribeParametersRequest
		want string
	}{
		{ssmtypes.DescribeParametersRequest{MaxResults: ssmtypes.Ptr(int32(50))}, "/a/b/c/w /a/b/z /a/sec /a/x /a/y /other top"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Option: p("BeginsWith"), Values: []string{"/a/b"}}}}, "/a/b/c/w /a/b/z"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Values: []string{"top"}}}}, "top"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Values: []string{"/top"}}}}, "top"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Path"), Values: []string{"/a/b"}}}}, "/a/b/z"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Path"), Option: p("Recursive"), Values: []string{"/a/b"}}}}, "/a/b/c/w /a/b/z"},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Tier"), Values: []string{"Advanced"}}}}, ""},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("tag:env"), Values: []string{"dev"}}, {Key: p("Name"), Option: p("Contains"), Values: []string{"/b/"}}}}, "/a/b/c/w /a/b/z"},
		{ssmtypes.DescribeParametersRequest{Filters: []ssmtypes.ParametersFilter{{Key: "KeyId", Values: []string{"alias/aws/ssm"}}}}, "/a/sec"},
		{ssmtypes.DescribeParametersRequest{Shared: ssmtypes.Ptr(true)}, ""},
	} {
		got, err := desc(c.in)
		if err != nil || got != c.want {
			t.Errorf("describe %+v %+v: %q, %v; want %q", c.in.ParameterFilters, c.in.Filters, got, err, c.want)
		}
	}
	if got, _ := desc(ssmtypes.DescribeParametersRequest{}); got != "/a/b/c/w /a/b/z /a/sec /a/x /a/y /other top" {
		t.Errorf("default page: %s", got) // 7 < 10
	}
	for _, c := range []struct {
		in       ssmtypes.DescribeParametersRequest
		typ, msg string
	}{
		{ssmtypes.DescribeParametersRequest{Filters: []ssmtypes.ParametersFilter{{Key: "Name", Values: []string{"x"}}},
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Values: []string{"x"}}}}, "ValidationException", "You can use either Filters or ParameterFilters in a single request."},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Label"), Values: []string{"x"}}}}, "InvalidFilterKey",
			"The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier]."},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name"), Values: []string{"x"}}, {Key: p("Name"), Values: []string{"y"}}}}, "InvalidFilterKey",
			"The following filter is duplicated in the request: Name."},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Name")}}}, "InvalidFilterValue", "The following filter values are missing : null for filter key Name."},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Path"), Option: p("Equals"), Values: []string{"/a"}}}}, "InvalidFilterOption", "Valid options include: [Recursive, OneLevel]."},
		{ssmtypes.DescribeParametersRequest{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: p("Path"), Values: []string{"/aws/service"}}}}, "ValidationException", msgCommonFilter},
	} {
		_, err := desc(c.in)
		wantErr(t, "describe", err, c.typ, c.msg)
	}
}

func TestPublicParameters(t *testing.T) {
	s := newService(t, nil)
	for _, pp := range amicatalog.PublicParameters() {
		got := get(t, s, pp.Name, false)
		if *got.Value != pp.Value || got.Type != "String" || *got.Version != 1 || *got.ARN != "arn:aws:ssm:us-west-2::parameter"+pp.Name {
			t.Errorf("%s: %+v", pp.Name, got)
		}
	}
	out, err := s.GetParameters(ctx, usw, &ssmtypes.GetParametersRequest{Names: []string{
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "/aws/service/nothing/here"}})
	if err != nil || len(out.Parameters) != 1 || *out.Parameters[0].Value != amicatalog.AmazonLinux2023.ID || strings.Join(out.InvalidParameters, ",") != "/aws/service/nothing/here" {
		t.Errorf("GetParameters: %+v, %v", out, err)
	}
	_, err = s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"), Value: p("ami-x"), Type: "String", Overwrite: ssmtypes.Ptr(true)})
	wantErr(t, "overwrite a public parameter", err, "AccessDeniedException", "No access to reserved parameter name")
	if d, _ := s.DescribeParameters(ctx, usw, &ssmtypes.DescribeParametersRequest{}); len(d.Parameters) != 0 {
		t.Errorf("DescribeParameters lists public parameters: %+v", d.Parameters)
	}
}

func TestDeleteAndTags(t *testing.T) {
	s := newService(t, nil)
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/d/1"), Value: p("v"), Type: "String", Tags: []ssmtypes.Tag{{Key: p("b"), Value: p("2")}, {Key: p("a"), Value: p("1")}}})
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/d/2"), Value: p("v"), Type: "String"})
	ref := func(id string) (ssmtypes.ResourceTypeForTagging, *string) {
		return ssmtypes.ResourceTypeForTaggingParameter, p(id)
	}
	typ, id := ref("/d/1")
	if _, err := s.AddTagsToResource(ctx, usw, &ssmtypes.AddTagsToResourceRequest{ResourceType: typ, ResourceId: id, Tags: []ssmtypes.Tag{{Key: p("a"), Value: p("9")}, {Key: p("c"), Value: p("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveTagsFromResource(ctx, usw, &ssmtypes.RemoveTagsFromResourceRequest{ResourceType: typ, ResourceId: id, TagKeys: []string{"b", "zz"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.ListTagsForResource(ctx, usw, &ssmtypes.ListTagsForResourceRequest{ResourceType: typ, ResourceId: id})
	if err != nil || len(tags.TagList) != 2 || *tags.TagList[0].Key != "a" || *tags.TagList[0].Value != "9" || *tags.TagList[1].Key != "c" {
		t.Errorf("tags: %+v, %v", tags, err)
	}
	_, err = s.ListTagsForResource(ctx, usw, &ssmtypes.ListTagsForResourceRequest{ResourceType: "Document", ResourceId: p("doc")})
	wantErr(t, "a document", err, "InvalidResourceId", "")
	_, err = s.ListTagsForResource(ctx, usw, &ssmtypes.ListTagsForResourceRequest{ResourceType: typ, ResourceId: p("/d/none")})
	wantErr(t, "no such parameter", err, "InvalidResourceId", "")
	many := make([]ssmtypes.Tag, 49)
	for i := range many {
		many[i] = ssmtypes.Tag{Key: p("k" + strings.Repeat("x", i)), Value: p("")}
	}
	_, err = s.AddTagsToResource(ctx, usw, &ssmtypes.AddTagsToResourceRequest{ResourceType: typ, ResourceId: id, Tags: many})
	wantErr(t, "51 tags", err, "TooManyTagsError", "")

	del, err := s.DeleteParameters(ctx, usw, &ssmtypes.DeleteParametersRequest{Names: []string{"/d/1", "/d/none"}})
	if err != nil || strings.Join(del.DeletedParameters, ",") != "/d/1" || strings.Join(del.InvalidParameters, ",") != "/d/none" {
		t.Errorf("DeleteParameters: %+v, %v", del, err)
	}
	if _, err := s.DeleteParameter(ctx, usw, &ssmtypes.DeleteParameterRequest{Name: p("/d/2")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.DeleteParameter(ctx, usw, &ssmtypes.DeleteParameterRequest{Name: p("/d/2")})
	wantErr(t, "delete twice", err, "ParameterNotFound", "")
	// A deleted parameter's name starts again at version 1, without its tags.
	if out := put(t, s, ssmtypes.PutParameterRequest{Name: p("/d/1"), Value: p("v"), Type: "String"}); *out.Version != 1 {
		t.Errorf("version %d", *out.Version)
	}
	if tags, _ := s.ListTagsForResource(ctx, usw, &ssmtypes.ListTagsForResourceRequest{ResourceType: typ, ResourceId: id}); len(tags.TagList) != 0 {
		t.Errorf("tags survived the delete: %+v", tags.TagList)
	}
}

// TestRestartAndFailedCommit: what a call stores survives a restart, and a
// call whose commit fails stores nothing of itself.
func TestRestartAndFailedCommit(t *testing.T) {
	store := vpcsim.NewMemStore()
	s := newService(t, store)
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/r"), Value: p("kept"), Type: "SecureString", Tags: []ssmtypes.Tag{{Key: p("a"), Value: p("b")}}})
	store.FailNext = errors.New("disk full")
	if _, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/r"), Value: p("lost"), Overwrite: ssmtypes.Ptr(true)}); err == nil {
		t.Fatal("the failed commit succeeded")
	}
	if got := get(t, s, "/r", true); *got.Value != "kept" || *got.Version != 1 {
		t.Errorf("after a failed commit: %+v", got)
	}
	s2 := newService(t, store)
	if got := get(t, s2, "/r", true); *got.Value != "kept" || *got.Version != 1 {
		t.Errorf("after a restart: %+v", got)
	}
	if a, b := get(t, s, "/r", false), get(t, s2, "/r", false); *a.Value != *b.Value {
		t.Errorf("the ciphertext changed across a restart")
	}
}

func TestParameterQuota(t *testing.T) {
	s := newService(t, nil, WithMaxParameters(2))
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/q/1"), Value: p("v"), Type: "String"})
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/q/2"), Value: p("v"), Type: "String"})
	_, err := s.PutParameter(ctx, usw, &ssmtypes.PutParameterRequest{Name: p("/q/3"), Value: p("v"), Type: "String"})
	wantErr(t, "third", err, "ParameterLimitExceeded", "You have reached the maximum number of standard parameters for this AWS account and Region (2).")
	put(t, s, ssmtypes.PutParameterRequest{Name: p("/q/1"), Value: p("v"), Overwrite: ssmtypes.Ptr(true)})
	if _, err := s.PutParameter(ctx, Scope{Region: "eu-west-1"}, &ssmtypes.PutParameterRequest{Name: p("/q/3"), Value: p("v"), Type: "String"}); err != nil {
		t.Errorf("another region: %v", err)
	}
}
