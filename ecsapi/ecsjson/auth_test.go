package ecsjson

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

type refuseWith sigv4.Error

func (r *refuseWith) Verify(*http.Request, []byte, sigv4.Auth) error {
	e := sigv4.Error(*r)
	return &e
}

// TestAuthRefusals: each refusal is answered as ECS answers it, HTTP 400 with
// its __type and message.
func TestAuthRefusals(t *testing.T) {
	const particulars = "particulars of the refusal"
	tests := []struct {
		refusal sigv4.Refusal
		typ     string
		message string
	}{
		{sigv4.Unsigned, "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{sigv4.Incomplete, "IncompleteSignatureException", particulars},
		{sigv4.UnknownKey, "UnrecognizedClientException", particulars},
		{sigv4.Mismatch, "InvalidSignatureException", particulars},
		{sigv4.Expired, "InvalidSignatureException", particulars},
	}
	for _, tt := range tests {
		ts := newTestServer(t, WithVerifier(&refuseWith{Refusal: tt.refusal, Message: particulars}))
		auth := signed
		if tt.refusal == sigv4.Unsigned { // an unsigned request never reaches the verifier
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
	ts := newTestServer(t, WithVerifier(sigv4.NewKeys(map[string]string{"AKIDGOOD": "s3cret"})))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func(key, secret string) *ecs.Client {
		return ecs.NewFromConfig(aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()})
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

// TestUnknownRegion: a credential scope naming a region ECS does not serve is
// refused before the operation, with keys or without, as AWS's front end
// refuses a request scoped to another region.
func TestUnknownRegion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, opts := range map[string][]Option{
		"without keys": nil,
		"with keys":    {WithVerifier(sigv4.NewKeys(map[string]string{"AKIDGOOD": "s3cret"}))},
	} {
		ts := newTestServer(t, opts...)
		client := func(region string) *ecs.Client {
			return ecs.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDGOOD", "s3cret", ""),
				BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()})
		}
		_, err := client("mars-north-1").CreateCluster(ctx, &ecs.CreateClusterInput{})
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 || ae.ErrorCode() != "InvalidSignatureException" ||
			ae.ErrorMessage() != "Credential should be scoped to a valid region, not 'mars-north-1'. " {
			t.Errorf("%s: %v, want HTTP 400 InvalidSignatureException", name, err)
		}
		if len(ts.stub.regions) > 0 {
			t.Errorf("%s: the operation ran in %v", name, ts.stub.regions)
		}
		if _, err := client("eu-south-2").CreateCluster(ctx, &ecs.CreateClusterInput{}); err != nil {
			t.Errorf("%s, a region ECS serves: %v", name, err)
		}
	}
}

// TestFrontDoorRefusals: the front door's refusals are ECS's JSON errors.
func TestFrontDoorRefusals(t *testing.T) {
	w := httptest.NewRecorder()
	FrontDoor{}.Forbidden(w, httptest.NewRequest("POST", "/", nil), "no pages")
	if w.Code != 403 || w.Body.String() != `{"__type":"AccessDeniedException","message":"no pages"}` || w.Header().Get("Content-Type") != contentType {
		t.Errorf("Forbidden: %d %s %v", w.Code, w.Body, w.Header())
	}
	w = httptest.NewRecorder()
	FrontDoor{}.Unauthenticated(w, httptest.NewRequest("POST", "/", nil), &sigv4.Error{Refusal: sigv4.UnknownKey, Message: sigv4.MsgUnknownKey})
	if w.Code != 400 || w.Body.String() != `{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."}` {
		t.Errorf("Unauthenticated: %d %s", w.Code, w.Body)
	}
}
