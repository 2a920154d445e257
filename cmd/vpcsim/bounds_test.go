package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// The end-to-end tests of issue 11's bounds (points 6, 7 and 10's connect
// ranges) drive `vpcsim serve --dataplane none`: what they test is the API,
// and such a server starts in a moment, without containerd or the kernel.

// TestServeFlagsBounds: --quotas, --quota and --connect-public, and their
// variables (a flag given wins).
func TestServeFlagsBounds(t *testing.T) {
	for _, v := range []string{"VPCSIM_QUOTAS", "VPCSIM_QUOTA", "VPCSIM_CONNECT_PUBLIC", "VPCSIM_ACCESS_KEYS", "VPCSIM_ACCESS_KEYS_FILE", "VPCSIM_LISTEN"} {
		t.Setenv(v, "")
	}
	for _, tc := range []struct {
		env     []string // NAME=VALUE
		args    []string
		vpcs    int
		public  bool
		wantErr string
	}{
		{vpcs: 500},
		{args: []string{"--quotas", "aws"}, vpcs: 5},
		{env: []string{"VPCSIM_QUOTAS=aws"}, vpcs: 5},
		{env: []string{"VPCSIM_QUOTAS=aws"}, args: []string{"--quotas", "local"}, vpcs: 500},
		{args: []string{"--quotas", "aws", "--quota", "vpcs=20,instances=3"}, vpcs: 20},
		{env: []string{"VPCSIM_QUOTA=vpcs=9"}, vpcs: 9},
		{args: []string{"--connect-public"}, vpcs: 500, public: true},
		{env: []string{"VPCSIM_CONNECT_PUBLIC=1"}, vpcs: 500, public: true},
		{args: []string{"--quotas", "huge"}, wantErr: "local or aws"},
		{args: []string{"--quota", "nope=1"}, wantErr: `unknown quota "nope"`},
		{args: []string{"--quota", "vpcs"}, wantErr: "want NAME=N"},
	} {
		for _, kv := range tc.env {
			name, val, _ := strings.Cut(kv, "=")
			t.Setenv(name, val)
		}
		c, err := parseServeFlags(tc.args)
		switch {
		case tc.wantErr != "":
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v %v: %v, want a usage error saying %q", tc.env, tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v %v: %v", tc.env, tc.args, err)
		case c.quotas.Of("vpcs") != tc.vpcs || c.connectPublic != tc.public:
			t.Errorf("%v %v: vpcs %d, connect-public %v; want %d, %v", tc.env, tc.args, c.quotas.Of("vpcs"), c.connectPublic, tc.vpcs, tc.public)
		}
		for _, kv := range tc.env {
			name, _, _ := strings.Cut(kv, "=")
			t.Setenv(name, "")
		}
	}
}

// apiCode is the AWS error code of err ("" when it is none).
func apiCode(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// TestFilterLimitsEndToEnd is the repro: DescribeNetworkInterfaces
// with 1,500 long filter patterns, as a form any client can post. vpcsim
// answers EC2's FilterLimitExceeded at once instead of matching them all
// under its lock; the bounds are EC2's: 200 values, 255 characters each.
func TestFilterLimitsEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	form := url.Values{"Action": {"DescribeNetworkInterfaces"}, "Version": {"2016-11-15"}}
	for i := 1; i <= 1500; i++ {
		form.Set(fmt.Sprintf("Filter.%d.Name", i), "description")
		form.Set(fmt.Sprintf("Filter.%d.Value.1", i), strings.Repeat("*a", 100)+fmt.Sprint(i))
	}
	resp, err := http.PostForm(s.endpoint+"/", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>FilterLimitExceeded</Code>") ||
		!strings.Contains(string(body), "The maximum number of filter values specified on a single call is 200") {
		t.Fatalf("1,500 filters: %s\n%s", resp.Status, body)
	}

	ec := ec2.NewFromConfig(sdkConfig(s, "us-west-2"))
	ctx := context.Background()
	values := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("x", i)
		}
		return out
	}
	for _, tc := range []struct {
		values []string
		msg    string
	}{
		{values: values(200)},
		{values: values(201), msg: "The maximum number of filter values specified on a single call is 200"},
		{values: []string{strings.Repeat("?", 255)}},
		{values: []string{strings.Repeat("?", 256)}, msg: "The maximum length for a filter value is 255 characters"},
	} {
		_, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("description"), Values: tc.values}}})
		code, msg := apiCode(err)
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%d values, the longest %d characters: %v", len(tc.values), len(tc.values[len(tc.values)-1]), err)
		case tc.msg != "" && (code != "FilterLimitExceeded" || msg != tc.msg):
			t.Errorf("%d values, the longest %d characters: %v; want FilterLimitExceeded %q", len(tc.values), len(tc.values[len(tc.values)-1]), err, tc.msg)
		}
	}
}

// TestQuotasEndToEnd: with --quotas aws a region holds AWS's five VPCs (the
// default VPC is one), and DescribeAccountAttributes says so of instances;
// the default (local) profile holds hundreds, and --quota sets one bound,
// whose refusal says how.
func TestQuotasEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsServer := startServer(t, apiOnly(), withServeArgs("--quotas", "aws"))
	ec := ec2.NewFromConfig(sdkConfig(awsServer, "us-west-2"))
	for i := 1; ; i++ {
		_, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i))})
		if i <= 4 {
			if err != nil {
				t.Fatalf("CreateVpc %d with --quotas aws: %v", i, err)
			}
			continue
		}
		if code, msg := apiCode(err); code != "VpcLimitExceeded" || msg != "The maximum number of VPCs has been reached." {
			t.Fatalf("the 6th VPC of the region (CreateVpc %d) with --quotas aws: %v", i, err)
		}
		break
	}
	vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) != 5 {
		t.Fatalf("with --quotas aws after the refusal: %d VPCs (%v), want 5", len(vpcs.Vpcs), err)
	}
	attrs, err := ec.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []ec2types.AccountAttributeName{"max-instances"}})
	if err != nil || len(attrs.AccountAttributes) != 1 || aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue) != "20" {
		t.Fatalf("max-instances with --quotas aws: %+v %v", attrs, err)
	}

	local := startServer(t, apiOnly(), withServeArgs("--quota", "vpcs=2"))
	ec = ec2.NewFromConfig(sdkConfig(local, "us-west-2"))
	if _, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})
	if code, msg := apiCode(err); code != "VpcLimitExceeded" || !strings.Contains(msg, "serve --quota vpcs=N") {
		t.Fatalf("the 3rd VPC with --quota vpcs=2: %v", err)
	}
}

// TestTaskDefinitionSizeEndToEnd: ECS's 64 KiB task definition limit holds
// whatever the quotas, with ECS's ClientException.
func TestTaskDefinitionSizeEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	c := ecs.NewFromConfig(sdkConfig(s, "us-west-2"))
	ctx := context.Background()
	td := func(pad int) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("fat"), ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("PAD"), Value: aws.String(strings.Repeat("x", pad))}},
		}}}
	}
	if _, err := c.RegisterTaskDefinition(ctx, td(60<<10)); err != nil {
		t.Fatalf("a 60 KiB task definition: %v", err)
	}
	_, err := c.RegisterTaskDefinition(ctx, td(65<<10))
	if code, msg := apiCode(err); code != "ClientException" || !strings.HasPrefix(msg, "Actual length: '") || !strings.HasSuffix(msg, "'. Max allowed length is '65536' bytes.") {
		t.Fatalf("a 65 KiB task definition: %v", err)
	}
	list, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("fat")})
	if err != nil || len(list.TaskDefinitionArns) != 1 {
		t.Fatalf("after the refusal: %v %v, want the one revision", list.TaskDefinitionArns, err)
	}
}

// TestConnectRangesEndToEnd: `vpcsim connect` routes this machine into a
// private VPC, refuses a public one unless serve was given --connect-public,
// and CreateVpc refuses link-local and the other ranges no VPC may hold.
func TestConnectRangesEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startServer(t, apiOnly())
	ec := ec2.NewFromConfig(sdkConfig(s, "us-west-2"))
	private, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	public, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("8.8.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.vpcsim("connect", aws.ToString(private.Vpc.VpcId)); err != nil || !strings.Contains(string(out), "10.20.0.3") {
		t.Fatalf("vpcsim connect a 10.20.0.0/16 VPC: %v %s", err, out)
	}
	out, err := s.vpcsim("connect", aws.ToString(public.Vpc.VpcId))
	if err == nil || !strings.Contains(string(out), "8.8.0.0/16 is not one of them") || !strings.Contains(string(out), "--connect-public") {
		t.Fatalf("vpcsim connect a public VPC without --connect-public: %v %s", err, out)
	}
	_, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("169.254.0.0/16")})
	if code, msg := apiCode(err); code != "InvalidVpc.Range" || msg != "The CIDR '169.254.0.0/16' is invalid." {
		t.Fatalf("CreateVpc 169.254.0.0/16: %v", err)
	}

	open := startServer(t, apiOnly(), withServeArgs("--connect-public"))
	ec = ec2.NewFromConfig(sdkConfig(open, "us-west-2"))
	public, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("8.8.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := open.vpcsim("connect", aws.ToString(public.Vpc.VpcId)); err != nil || !strings.Contains(string(out), "8.8.0.3") {
		t.Fatalf("vpcsim connect a public VPC with --connect-public: %v %s", err, out)
	}
}
