package awsauth

import (
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	good := Auth{
		Algorithm:     Algorithm,
		Credential:    Credential{AccessKey: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "iam", Terminal: "aws4_request"},
		SignedHeaders: []string{"content-type", "host", "x-amz-date"},
		Signature:     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
	}
	tests := []struct {
		name    string
		header  string
		want    Auth
		wantErr bool
	}{
		{name: "aws example", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", want: good},
		{name: "no spaces after commas", header: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,SignedHeaders=content-type;host;x-amz-date,Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", want: good},
		{name: "fields reordered", header: "AWS4-HMAC-SHA256 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7, SignedHeaders=content-type;host;x-amz-date, Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request", want: good},
		{name: "empty", header: "", wantErr: true},
		{name: "sigv2", header: "AWS AKID:c2lnbmF0dXJl", wantErr: true},
		{name: "sigv4a", header: "AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/ec2/aws4_request, SignedHeaders=host, Signature=ab", wantErr: true},
		{name: "missing signature", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host", wantErr: true},
		{name: "missing credential", header: "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab", wantErr: true},
		{name: "missing signed headers", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, Signature=ab", wantErr: true},
		{name: "short scope", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=ab", wantErr: true},
		{name: "bad date", header: "AWS4-HMAC-SHA256 Credential=AKID/2015-08-30/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=ab", wantErr: true},
		{name: "bad terminal", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws5_request, SignedHeaders=host, Signature=ab", wantErr: true},
		{name: "non-hex signature", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=xyz", wantErr: true},
		{name: "upper-case signed header", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=Host, Signature=ab", wantErr: true},
		{name: "unknown field", header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=ab, Foo=bar", wantErr: true},
		{name: "field without value", header: "AWS4-HMAC-SHA256 Credential", wantErr: true},
		{name: "algorithm only", header: "AWS4-HMAC-SHA256", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.header)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseAuthorization() err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAuthorization() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	q := url.Values{
		"X-Amz-Algorithm":     {Algorithm},
		"X-Amz-Credential":    {"AKID/20260101/eu-west-1/sts/aws4_request"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {"00ff"},
	}
	got, err := ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{Algorithm: Algorithm, Credential: Credential{"AKID", "20260101", "eu-west-1", "sts", "aws4_request"}, SignedHeaders: []string{"host"}, Signature: "00ff", Presigned: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseQuery() = %+v, want %+v", got, want)
	}
	if _, err := ParseQuery(url.Values{}); !errors.Is(err, ErrNotSigned) {
		t.Errorf("ParseQuery(empty) err = %v, want ErrNotSigned", err)
	}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA1")
	if _, err := ParseQuery(q); err == nil {
		t.Error("ParseQuery(bad algorithm) succeeded")
	}
}

func TestRegion(t *testing.T) {
	tests := []struct {
		name, header, target, want, service string
	}{
		{name: "header", header: "AWS4-HMAC-SHA256 Credential=test/20261124/us-west-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef", target: "/", want: "us-west-2", service: "ec2"},
		{name: "presigned", target: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261124%2Fap-south-1%2Fsts%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", want: "ap-south-1", service: "sts"},
		{name: "unsigned", target: "/", want: "fallback"},
		{name: "unreadable", header: "AWS4-HMAC-SHA256 garbage", target: "/", want: "fallback"},
		{name: "header wins over query", header: "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-2/ec2/aws4_request, SignedHeaders=host, Signature=ab", target: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261124%2Fap-south-1%2Fsts%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", want: "us-east-2", service: "ec2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.target, nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if got := Region(r, "fallback"); got != tt.want {
				t.Errorf("Region() = %q, want %q", got, tt.want)
			}
			if got := Service(r); got != tt.service {
				t.Errorf("Service() = %q, want %q", got, tt.service)
			}
		})
	}
}

// TestSigningKey checks the key derivation against the example in the AWS General
// Reference ("Examples of how to derive a signing key for Signature Version 4").
func TestSigningKey(t *testing.T) {
	c := Credential{Date: "20120215", Region: "us-east-1", Service: "iam", Terminal: "aws4_request"}
	got := hex.EncodeToString(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", c))
	want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	if got != want {
		t.Errorf("SigningKey() = %s, want %s", got, want)
	}
	if c.Scope() != "20120215/us-east-1/iam/aws4_request" {
		t.Errorf("Scope() = %s", c.Scope())
	}
}

func TestSignatureEqual(t *testing.T) {
	if !SignatureEqual("abCD", "ABcd") {
		t.Error("hex case must not matter")
	}
	if SignatureEqual("abcd", "abce") || SignatureEqual("abcd", "abc") {
		t.Error("different signatures compare equal")
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d67")
	f.Add("AWS4-HMAC-SHA256 ,,,=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err == nil && (a.Credential.Region == "" || a.Signature == "" || len(a.SignedHeaders) == 0) {
			t.Fatalf("accepted an incomplete header %q: %+v", h, a)
		}
	})
}
