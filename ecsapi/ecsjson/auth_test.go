package ecsjson

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsauth"
)

type refuseWith awsauth.Error

func (r *refuseWith) Verify(*http.Request, []byte, awsauth.Auth) error {
	e := awsauth.Error(*r)
	return &e
}

// TestAuthRefusals: each refusal is answered as ECS answers it, HTTP 400 with
// its __type and message.
func TestAuthRefusals(t *testing.T) {
	const particulars = "particulars of the refusal"
	tests := []struct {
		refusal awsauth.Refusal
		typ     string
		message string
	}{
		{awsauth.Unsigned, "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{awsauth.Incomplete, "IncompleteSignatureException", particulars},
		{awsauth.UnknownKey, "UnrecognizedClientException", particulars},
		{awsauth.Mismatch, "InvalidSignatureException", particulars},
		{awsauth.Expired, "InvalidSignatureException", particulars},
	}
	for _, tt := range tests {
		ts := newTestServer(t, WithVerifier(&refuseWith{Refusal: tt.refusal, Message: particulars}))
		auth := signed
		if tt.refusal == awsauth.Unsigned { // an unsigned request never reaches the verifier
			auth = ""
		}
		resp := ts.post(t, "CreateCluster", `{}`, "Authorization", auth)
		var doc struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(readBody(t, resp)), &doc); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 400 || doc.Type != coralNS+tt.typ || doc.Message != tt.message {
			t.Errorf("refusal %d: HTTP %d %s %q, want 400 %s %q", tt.refusal, resp.StatusCode, doc.Type, doc.Message, tt.typ, tt.message)
		}
		if len(ts.stub.regions) > 0 {
			t.Errorf("refusal %d: the operation ran", tt.refusal)
		}
	}
}

// TestAuthSDK: with real keys, aws-sdk-go-v2's ECS client is served with the
// right key and reads the refusals of a wrong secret and an unknown key.
func TestAuthSDK(t *testing.T) {
	ts := newTestServer(t, WithVerifier(awsauth.NewKeys(map[string]string{"AKIDGOOD": "s3cret"})))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func(key, secret string) *ecs.Client {
		return ecs.NewFromConfig(aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1})
	}
	if _, err := client("AKIDGOOD", "s3cret").CreateCluster(ctx, &ecs.CreateClusterInput{}); err != nil {
		t.Errorf("CreateCluster with the right key: %v", err)
	}
	for _, tc := range []struct{ key, secret, code string }{
		{"AKIDGOOD", "s3creT", "InvalidSignatureException"},
		{"AKIDBAD", "s3cret", "UnrecognizedClientException"},
	} {
		_, err := client(tc.key, tc.secret).CreateCluster(ctx, &ecs.CreateClusterInput{})
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || !errors.As(err, &re) || ae.ErrorCode() != tc.code || re.HTTPStatusCode() != 400 {
			t.Errorf("%s/%s: %v, want HTTP 400 %s", tc.key, tc.secret, err, tc.code)
		}
	}
}
