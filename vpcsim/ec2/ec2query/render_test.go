package ec2query

import (
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
