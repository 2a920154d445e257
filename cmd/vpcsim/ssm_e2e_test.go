package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
)

// TestSSMCLIs drives the Parameter Store through the aws CLIs v1 and v2
// against `vpcsim serve --dataplane none`: put (String, SecureString,
// overwrite), get with and without decryption and by version, by path,
// describe, history, labels, tags, delete, a public parameter, and AWS's
// refusals as the CLIs print them.
func TestSSMCLIs(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	for name, cli := range awsCLIs(t) {
		base := "/e2e/" + name
		run := func(args ...string) (string, error) {
			cmd := exec.Command(cli, append([]string{"--endpoint-url", s.endpoint, "--output", "json", "--region", "eu-central-1"}, args...)...)
			cmd.Env = s.env("AWS_MAX_ATTEMPTS=1")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		must := func(args ...string) map[string]any {
			t.Helper()
			out, err := run(args...)
			if err != nil {
				t.Fatalf("aws-cli %s ssm %s: %v %s", name, args, err, out)
			}
			var v map[string]any
			if strings.TrimSpace(out) != "" {
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("aws-cli %s ssm %s: %v %s", name, args, err, out)
				}
			}
			return v
		}
		value := func(v map[string]any) any { return v["Parameter"].(map[string]any)["Value"] }
		if v := must("ssm", "put-parameter", "--name", base+"/url", "--value", "pg://db", "--type", "String", "--description", "the db"); v["Version"] != 1.0 || v["Tier"] != "Standard" {
			t.Errorf("%s: put: %v", name, v)
		}
		must("ssm", "put-parameter", "--name", base+"/url", "--value", "pg://db2", "--overwrite")
		must("ssm", "put-parameter", "--name", base+"/deep/pw", "--value", "hunter2", "--type", "SecureString", "--tags", "Key=team,Value=core")
		if got := value(must("ssm", "get-parameter", "--name", base+"/url")); got != "pg://db2" {
			t.Errorf("%s: latest = %v", name, got)
		}
		if got := value(must("ssm", "get-parameter", "--name", base+"/url:1")); got != "pg://db" {
			t.Errorf("%s: :1 = %v", name, got)
		}
		if got := value(must("ssm", "get-parameter", "--name", base+"/deep/pw")); got == "hunter2" {
			t.Errorf("%s: a SecureString without decryption shows its value", name)
		}
		if got := value(must("ssm", "get-parameter", "--name", base+"/deep/pw", "--with-decryption")); got != "hunter2" {
			t.Errorf("%s: decrypted = %v", name, got)
		}
		// The CLIs page through by-path themselves (MaxResults ≤ 10, NextToken).
		for i := range 12 {
			must("ssm", "put-parameter", "--name", base+"/many/p"+string(rune('a'+i)), "--value", "x", "--type", "String")
		}
		if v := must("ssm", "get-parameters-by-path", "--path", base, "--recursive"); len(v["Parameters"].([]any)) != 14 {
			t.Errorf("%s: by path: %d parameters", name, len(v["Parameters"].([]any)))
		}
		if v := must("ssm", "get-parameters-by-path", "--path", base); len(v["Parameters"].([]any)) != 1 {
			t.Errorf("%s: one level: %v", name, v)
		}
		v := must("ssm", "describe-parameters", "--parameter-filters", "Key=Name,Option=BeginsWith,Values="+base+"/deep")
		if ps := v["Parameters"].([]any); len(ps) != 1 || ps[0].(map[string]any)["KeyId"] != "alias/aws/ssm" {
			t.Errorf("%s: describe: %v", name, v)
		}
		if v := must("ssm", "get-parameter-history", "--name", base+"/url"); len(v["Parameters"].([]any)) != 2 {
			t.Errorf("%s: history: %v", name, v)
		}
		must("ssm", "label-parameter-version", "--name", base+"/url", "--parameter-version", "1", "--labels", "old")
		if got := value(must("ssm", "get-parameter", "--name", base+"/url:old")); got != "pg://db" {
			t.Errorf("%s: :old = %v", name, got)
		}
		must("ssm", "add-tags-to-resource", "--resource-type", "Parameter", "--resource-id", base+"/deep/pw", "--tags", "Key=env,Value=test")
		if v := must("ssm", "list-tags-for-resource", "--resource-type", "Parameter", "--resource-id", base+"/deep/pw"); len(v["TagList"].([]any)) != 2 {
			t.Errorf("%s: tags: %v", name, v)
		}
		img := must("ssm", "get-parameter", "--name", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
		if value(img) != amicatalog.ECSAmazonLinux2023.ID {
			t.Errorf("%s: public parameter: %v", name, img)
		}
		if v := must("ssm", "get-parameters", "--names", base+"/url", base+"/none"); len(v["InvalidParameters"].([]any)) != 1 {
			t.Errorf("%s: get-parameters: %v", name, v)
		}
		if v := must("ssm", "delete-parameters", "--names", base+"/many/pa", base+"/none"); len(v["DeletedParameters"].([]any)) != 1 {
			t.Errorf("%s: delete-parameters: %v", name, v)
		}
		must("ssm", "delete-parameter", "--name", base+"/url")
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"ssm", "get-parameter", "--name", base + "/url"}, "(ParameterNotFound)"},
			{[]string{"ssm", "put-parameter", "--name", base + "/deep/pw", "--value", "x", "--type", "SecureString"}, "(ParameterAlreadyExists)"},
			{[]string{"ssm", "put-parameter", "--name", "/aws/mine", "--value", "x", "--type", "String"}, "(AccessDeniedException)"},
			{[]string{"ssm", "put-parameter", "--name", "ssm-x", "--value", "x", "--type", "String"}, "(ValidationException)"},
			{[]string{"ssm", "send-command", "--document-name", "AWS-RunShellScript", "--instance-ids", "i-0123456789abcdef0"}, "(UnsupportedOperationException)"},
		} {
			if out, err := run(c.args...); err == nil || !strings.Contains(out, c.want) {
				t.Errorf("aws-cli %s %s: %v %s, want %s", name, c.args, err, out, c.want)
			}
		}
	}
}

// TestSSMSDK drives the Parameter Store through aws-sdk-go-v2's SSM client.
func TestSSMSDK(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	ctx := testContext(t)
	cfg := sdkConfig(s, "ap-southeast-2")
	cfg.RetryMaxAttempts = 1
	c := ssm.NewFromConfig(cfg)

	put, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/sdk/a"), Value: aws.String("1"), Type: ssmtypes.ParameterTypeString,
		Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil || put.Version != 1 || put.Tier != ssmtypes.ParameterTierStandard {
		t.Fatalf("put: %+v, %v", put, err)
	}
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/sdk/b/c"), Value: aws.String("x,y"), Type: ssmtypes.ParameterTypeStringList}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/sdk/a")})
	if err != nil || aws.ToString(got.Parameter.Value) != "1" || got.Parameter.LastModifiedDate == nil || aws.ToString(got.Parameter.ARN) == "" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	var names []string
	for pg := ssm.NewGetParametersByPathPaginator(c, &ssm.GetParametersByPathInput{Path: aws.String("/sdk"), Recursive: aws.Bool(true), MaxResults: aws.Int32(1)}); pg.HasMorePages(); {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	if strings.Join(names, " ") != "/sdk/a /sdk/b/c" {
		t.Errorf("by path: %v", names)
	}
	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("tag:k"), Values: []string{"v"}}}})
	if err != nil || len(d.Parameters) != 1 || aws.ToString(d.Parameters[0].Name) != "/sdk/a" {
		t.Errorf("describe: %+v, %v", d, err)
	}
	pub, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		"/aws/service/ecs/optimized-ami/amazon-linux-2/recommended",
		"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"}})
	if err != nil || len(pub.Parameters) != 2 || len(pub.InvalidParameters) != 0 {
		t.Fatalf("public: %+v, %v", pub, err)
	}
	var doc struct {
		ImageID string `json:"image_id"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(pub.Parameters[0].Value)), &doc); err != nil || doc.ImageID != amicatalog.ECSAmazonLinux2.ID {
		t.Errorf("recommended: %s (%v)", aws.ToString(pub.Parameters[0].Value), err)
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/sdk/a")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/sdk/a")})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("after delete: %v", err)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/sdk/b/c:9")})
	var vnf *ssmtypes.ParameterVersionNotFound
	if !errors.As(err, &vnf) {
		t.Errorf("version 9: %v", err)
	}
}
