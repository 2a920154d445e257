package ec2query

import (
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// TestFrontDoorRefusals: the front door's refusals are EC2's XML errors, or
// STS's for an STS call, told apart by the Version a form starts with.
func TestFrontDoorRefusals(t *testing.T) {
	unsigned := &sigv4.Error{Refusal: sigv4.Unsigned, Message: sigv4.MsgMissingToken}
	for _, tc := range []struct {
		name, method, target, body string
		forbidden                  bool
		status                     int
		code, root                 string
	}{
		{"ec2 forbidden", "POST", "/", "Action=CreateVpc&CidrBlock=10.0.0.0/16", true, 403, "UnauthorizedOperation", "Response"},
		{"sts forbidden", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", true, 403, "AccessDenied", "ErrorResponse"},
		{"ec2 unsigned", "POST", "/", "Action=DescribeVpcs&Version=2016-11-15", false, 400, "MissingParameter", "Response"},
		{"sts unsigned", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", false, 403, "MissingAuthenticationToken", "ErrorResponse"},
		{"sts unsigned, form past 4 KiB", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15" + strings.Repeat("&x=1", 2000), false, 400, "MissingParameter", "Response"},
		{"sts by its scope", "GET", "/", "", false, 403, "MissingAuthenticationToken", "ErrorResponse"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.name == "sts by its scope" {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
		}
		w := httptest.NewRecorder()
		if tc.forbidden {
			FrontDoor{}.Forbidden(w, r, "no pages")
		} else {
			FrontDoor{}.Unauthenticated(w, r, unsigned)
		}
		var doc struct {
			XMLName xml.Name
			Code    string `xml:"Errors>Error>Code"`
			STSCode string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v %s", tc.name, err, w.Body)
		}
		if w.Code != tc.status || doc.XMLName.Local != tc.root || doc.Code+doc.STSCode != tc.code {
			t.Errorf("%s: %d <%s> %s%s, want %d <%s> %s", tc.name, w.Code, doc.XMLName.Local, doc.Code, doc.STSCode, tc.status, tc.root, tc.code)
		}
	}
}
