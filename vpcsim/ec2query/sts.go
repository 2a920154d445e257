package ec2query

import (
	"bytes"
	"encoding/xml"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// STS is served because clients ask it who they are (aws sts
// get-caller-identity, SDK credential checks) before anything else; it has
// its own route (APIs), and the router sends its requests here. vpcsim has one
// account and no IAM, so the caller is always that account's root.

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// serveSTS answers an STS action; only GetCallerIdentity exists here.
func (h *Handler) serveSTS(action, requestID string) ([]byte, error) {
	if action != "GetCallerIdentity" {
		return nil, clientError("InvalidAction", "Could not find operation %s for version %s", action, stsVersion)
	}
	acct := h.cloud.Account()
	var r getCallerIdentityResponse
	r.Xmlns = stsNamespace
	r.Result.Arn = "arn:aws:iam::" + acct + ":root"
	r.Result.UserID = acct
	r.Result.Account = acct
	r.RequestID = requestID
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// marshalSTSError renders e in the awsquery error document STS answers with.
func marshalSTSError(e *apiError, requestID string) []byte {
	return awsproto.MarshalErrorResponse(stsNamespace, e.Status, e.Code, e.Message, requestID)
}
