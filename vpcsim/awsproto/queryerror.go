package awsproto

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// errorResponse is the error document of the Query protocol (awsquery): STS,
// ELBv2 and every Query API but EC2, whose own is <Response><Errors>. It is
// what aws-sdk-go-v2's awsquery clients read (aws/protocol/xml
// GetErrorResponseComponents: Error>Code, Error>Message, RequestId); botocore's
// QueryParser reads both.
type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// MarshalErrorResponse renders an error as a Query API answers it:
// <ErrorResponse xmlns=ns><Error><Type>Sender|Receiver</Type><Code>…</Code>
// <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>, the
// Type Receiver for a fault of the server (status 5xx). ns is the API's
// namespace (STS: https://sts.amazonaws.com/doc/2011-06-15/), "" for none.
func MarshalErrorResponse(ns string, status int, code, message, reqID string) []byte {
	var r errorResponse
	r.Xmlns = ns
	r.Error.Type = "Sender"
	if status >= http.StatusInternalServerError {
		r.Error.Type = "Receiver"
	}
	r.Error.Code, r.Error.Message, r.RequestID = code, message, reqID
	var b bytes.Buffer
	b.WriteString(xml.Header)
	_ = xml.NewEncoder(&b).Encode(r) // strings only: cannot fail
	return b.Bytes()
}

// WriteXML writes a Query response: the media type EC2 and STS send, the
// length, then body.
func WriteXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// QueryAuthError words a refused signature (an *sigv4.Error; any other
// error is a mismatch) as the front end of the awsquery APIs does, as
// recorded from STS (in clients' issue reports and logs):
//
//	Unsigned   403 MissingAuthenticationToken
//	Incomplete 400 IncompleteSignature
//	UnknownKey 403 InvalidClientTokenId
//	Mismatch   403 SignatureDoesNotMatch
//	Expired    403 SignatureDoesNotMatch ("Signature expired: …")
//
// The message is sigv4's. (EC2 words its own differently.)
func QueryAuthError(err error) (status int, code, message string) {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		e = &sigv4.Error{Refusal: sigv4.Mismatch, Message: sigv4.MsgMismatch}
	}
	switch e.Refusal {
	case sigv4.Unsigned:
		return http.StatusForbidden, "MissingAuthenticationToken", e.Message
	case sigv4.Incomplete:
		return http.StatusBadRequest, "IncompleteSignature", e.Message
	case sigv4.UnknownKey:
		return http.StatusForbidden, "InvalidClientTokenId", e.Message
	}
	return http.StatusForbidden, "SignatureDoesNotMatch", e.Message
}
