package awsproto_test

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// The Query family's two error documents, as EC2 and STS send them (these
// were ec2query's TestMarshalError and TestMarshalSTSError).

var stsEnvelope = awsproto.ErrorResponseEnvelope{Namespace: "https://sts.amazonaws.com/doc/2011-06-15/"}

func TestEC2Envelope(t *testing.T) {
	got := string(awsproto.EC2Envelope{}.Marshal(awsproto.QueryClientError("InvalidSubnet.Conflict", "The CIDR '10.0.1.0/24' conflicts with another subnet"), "rid"))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Errors><Error><Code>InvalidSubnet.Conflict</Code><Message>The CIDR &#39;10.0.1.0/24&#39; conflicts with another subnet</Message></Error></Errors><RequestID>rid</RequestID></Response>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// What aws-sdk-go-v2's ec2query.GetErrorResponseComponents reads.
	var sdk struct {
		Code      string `xml:"Errors>Error>Code"`
		Message   string `xml:"Errors>Error>Message"`
		RequestID string `xml:"RequestID"`
	}
	if err := xml.Unmarshal([]byte(got), &sdk); err != nil {
		t.Fatal(err)
	}
	if sdk.Code != "InvalidSubnet.Conflict" || sdk.Message != "The CIDR '10.0.1.0/24' conflicts with another subnet" || sdk.RequestID != "rid" {
		t.Errorf("SDK reads %+v", sdk)
	}
}

func TestErrorResponseEnvelope(t *testing.T) {
	got := string(stsEnvelope.Marshal(awsproto.QueryClientError("InvalidAction", "Could not find operation AssumeRole for version 2011-06-15"), "rid"))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation AssumeRole for version 2011-06-15</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(stsEnvelope.Marshal(&awsproto.QueryError{Status: http.StatusInternalServerError, Code: "InternalError"}, "r")); !regexp.MustCompile(`<Type>Receiver</Type>`).MatchString(got) {
		t.Errorf("server fault not typed Receiver: %s", got)
	}
}
