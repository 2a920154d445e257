package ec2query

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

// refuseWith is a Verifier that refuses every request with one refusal.
type refuseWith sigv4.Error

func (r *refuseWith) Verify(*http.Request, []byte, sigv4.Auth) error {
	e := sigv4.Error(*r)
	return &e
}

// TestAuthRefusals: each refusal is answered as EC2, or STS, answers it, in
// the error document of each.
func TestAuthRefusals(t *testing.T) {
	const particulars = "particulars of the refusal"
	tests := []struct {
		refusal       sigv4.Refusal
		sts           bool
		status        int
		code, message string
	}{
		{sigv4.Unsigned, false, 400, "MissingParameter", "The request must contain the parameter AWSAccessKeyId"},
		{sigv4.Unsigned, true, 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{sigv4.Incomplete, false, 400, "IncompleteSignature", particulars},
		{sigv4.Incomplete, true, 400, "IncompleteSignature", particulars},
		{sigv4.UnknownKey, false, 401, "AuthFailure", "AWS was not able to validate the provided access credentials"},
		{sigv4.UnknownKey, true, 403, "InvalidClientTokenId", particulars},
		{sigv4.Mismatch, false, 403, "SignatureDoesNotMatch", particulars},
		{sigv4.Mismatch, true, 403, "SignatureDoesNotMatch", particulars},
		{sigv4.Expired, false, 400, "RequestExpired", "Request has expired."},
		{sigv4.Expired, true, 403, "SignatureDoesNotMatch", particulars},
	}
	for _, tt := range tests {
		ts := newTestServer(t, WithVerifier(&refuseWith{Refusal: tt.refusal, Message: particulars}))
		params := url.Values{"Action": {"DescribeVpcs"}, "Version": {"2016-11-15"}}
		if tt.sts {
			params = url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
		}
		req, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if tt.refusal != sigv4.Unsigned { // an unsigned request never reaches the verifier
			req.Header.Set("Authorization", signed)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc struct {
			XMLName xml.Name
			Code    string `xml:"Errors>Error>Code"`
			Message string `xml:"Errors>Error>Message"`
			STSCode string `xml:"Error>Code"`
			STSMsg  string `xml:"Error>Message"`
			Type    string `xml:"Error>Type"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%d sts=%v: %v %s", tt.refusal, tt.sts, err, body)
		}
		code, msg, root := doc.Code, doc.Message, "Response"
		if tt.sts {
			code, msg, root = doc.STSCode, doc.STSMsg, "ErrorResponse"
			if doc.Type != "Sender" {
				t.Errorf("%d sts: Type %q", tt.refusal, doc.Type)
			}
		}
		if resp.StatusCode != tt.status || code != tt.code || msg != tt.message || doc.XMLName.Local != root {
			t.Errorf("refusal %d sts=%v: HTTP %d <%s> %s %q, want %d <%s> %s %q", tt.refusal, tt.sts, resp.StatusCode, doc.XMLName.Local, code, msg, tt.status, root, tt.code, tt.message)
		}
	}
}

// TestAuthSDK: with real keys, aws-sdk-go-v2 is served with the right key and
// reads the refusals of a wrong secret and an unknown key as AWS's codes.
func TestAuthSDK(t *testing.T) {
	ts := newTestServer(t, WithVerifier(sigv4.NewKeys(map[string]string{"AKIDGOOD": "s3cret"})))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clients := func(key, secret string) (*ec2.Client, *sts.Client) {
		cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()}
		return ec2.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	}
	wantRefusal := func(what string, err error, status int, code string) {
		t.Helper()
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || !errors.As(err, &re) || ae.ErrorCode() != code || re.HTTPStatusCode() != status {
			t.Errorf("%s: %v, want HTTP %d %s", what, err, status, code)
		}
	}
	ec, st := clients("AKIDGOOD", "s3cret")
	if _, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs with the right key: %v", err)
	}
	if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity with the right key: %v", err)
	}
	ec, st = clients("AKIDGOOD", "s3creT")
	_, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantRefusal("ec2, wrong secret", err, 403, "SignatureDoesNotMatch")
	_, err = st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantRefusal("sts, wrong secret", err, 403, "SignatureDoesNotMatch")
	ec, st = clients("AKIDBAD", "s3cret")
	_, err = ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantRefusal("ec2, unknown key", err, 401, "AuthFailure")
	_, err = st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantRefusal("sts, unknown key", err, 403, "InvalidClientTokenId")
}
