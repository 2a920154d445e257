package ec2query

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"testing"
	"time"
)

type renderTestResponse struct {
	responseMeta
	Items    set[tagXML]  `xml:"itemSet"`
	Optional set[tagXML]  `xml:"optionalSet,omitempty"`
	Maybe    *set[tagXML] `xml:"maybeSet,omitempty"`
	When     timestamp    `xml:"when"`
	Never    timestamp    `xml:"never"`
	Flag     bool         `xml:"flag"`
	Port     *int32       `xml:"port,omitempty"`
}

func TestMarshalResponse(t *testing.T) {
	when := time.Date(2026, 11, 24, 19, 56, 52, 123456789, time.FixedZone("x", 3600))
	body, err := marshalResponse("DescribeThings", "req-1", &renderTestResponse{
		Items: set[tagXML]{{Key: "a", Value: "1"}, {Key: "b&<", Value: ""}},
		Maybe: &set[tagXML]{},
		When:  timestamp(when),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeThingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
		`<requestId>req-1</requestId>` +
		`<itemSet><item><key>a</key><value>1</value></item><item><key>b&amp;&lt;</key><value></value></item></itemSet>` +
		`<maybeSet></maybeSet>` +
		`<when>2026-11-24T18:56:52.123Z</when>` +
		`<flag>false</flag>` +
		`</DescribeThingsResponse>`
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
}

func TestMarshalResponseEmptySet(t *testing.T) {
	body, err := marshalResponse("DescribeVpcs", "r", &describeVpcsResponse{Vpcs: set[vpcXML]{}})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet></vpcSet></DescribeVpcsResponse>`
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
}

func TestMarshalError(t *testing.T) {
	got := string(marshalError(clientError("InvalidSubnet.Conflict", "The CIDR '10.0.1.0/24' conflicts with another subnet"), "rid"))
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

func TestMarshalSTSError(t *testing.T) {
	got := string(marshalSTSError(clientError("InvalidAction", "Could not find operation AssumeRole for version 2011-06-15"), "rid"))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation AssumeRole for version 2011-06-15</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(marshalSTSError(&apiError{Status: http.StatusInternalServerError, Code: "InternalError"}, "r")); !regexp.MustCompile(`<Type>Receiver</Type>`).MatchString(got) {
		t.Errorf("server fault not typed Receiver: %s", got)
	}
}
