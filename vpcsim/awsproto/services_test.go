package awsproto_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecsjson"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/awstest"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/ec2/ec2query"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// TestServices: the router wired as `vpcsim serve` wires it (EC2 and STS from
// ec2query, ECS from ecsjson, behind the front door with access keys) serves
// aws-sdk-go-v2's EC2, STS and ECS clients, and the aws CLI's `sts
// get-caller-identity` as it sends it; a request for an API vpcsim does not
// serve gets its error.
func TestServices(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cloud, err := ec2sim.New(context.Background(), vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane(), ec2sim.WithAccount("123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Wait)
	keys := sigv4.NewKeys(map[string]string{"AKIDTEST": "s3cret"})
	door, err := frontdoor.New(frontdoor.Policy{Loopback: true}, frontdoor.DefaultAPI, keys)
	if err != nil {
		t.Fatal(err)
	}
	listClusters := func(context.Context, ecsapi.Scope, *ecstypes.ListClustersRequest) (*ecstypes.ListClustersResponse, error) {
		return &ecstypes.ListClustersResponse{ClusterArns: []string{"arn:aws:ecs:us-west-2:123456789012:cluster/routed"}}, nil
	}
	rt, err := awsproto.NewRouter(awsproto.Table{
		JSON: []awsproto.JSONAPI{{TargetPrefix: ecstypes.TargetPrefix, Door: ecsjson.FrontDoor{},
			Handler: ecsjson.NewHandler(nil, log, "us-east-1", ecsjson.WithVerifier(keys), ecsjson.WithOperation("ListClusters", listClusters))}},
		Query:   ec2query.APIs(cloud, log, ec2query.WithVerifier(keys)),
		MaxBody: frontdoor.DefaultAPI.MaxBody,
	}, door.Guard)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s3cret", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "123456789012" || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:root" {
		t.Errorf("STS GetCallerIdentity: %v %+v", err, id)
	}
	if v, err := ec2.NewFromConfig(cfg).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}); err != nil || v.Vpc == nil {
		t.Errorf("EC2 CreateVpc: %v", err)
	}
	if c, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil || len(c.ClusterArns) != 1 {
		t.Errorf("ECS ListClusters: %v %+v", err, c)
	}
	// STS's refusals are STS's, EC2's EC2's, each API's own.
	bad := cfg
	bad.Credentials = credentials.NewStaticCredentialsProvider("AKIDNOBODY", "x", "")
	_, err = sts.NewFromConfig(bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("STS, unknown key: %v", err)
	}
	_, err = ec2.NewFromConfig(bad).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorCode() != "AuthFailure" {
		t.Errorf("EC2, unknown key: %v", err)
	}

	// The aws CLI's `sts get-caller-identity`: a form POST signed for sts.
	status, b := signedPost(t, srv.URL, "Action=GetCallerIdentity&Version=2011-06-15", "sts")
	var doc struct {
		XMLName xml.Name
		Account string `xml:"GetCallerIdentityResult>Account"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || status != 200 || doc.XMLName.Local != "GetCallerIdentityResponse" ||
		doc.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" || doc.Account != "123456789012" {
		t.Errorf("aws CLI's sts get-caller-identity: %d %v %s", status, err, b)
	}

	// An API vpcsim does not serve, signed with a good key.
	status, b = signedPost(t, srv.URL, "Action=ListUsers&Version=2010-05-08", "iam")
	if status != 400 || !strings.Contains(string(b), "<Code>InvalidAction</Code>") {
		t.Errorf("IAM ListUsers: %d %s", status, b)
	}
}

// signedPost posts a form as the aws CLI does, signed for service with the
// test's key, and returns the answer.
func signedPost(t *testing.T, url, body, service string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "aws-cli/2.22.0 md/command#"+service)
	sigv4.Sign(req, []byte(body), "AKIDTEST", "s3cret", "us-east-1", service, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
