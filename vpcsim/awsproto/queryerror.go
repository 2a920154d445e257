package awsproto

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// QueryError is an error of a Query API as the client receives it: HTTP
// status, AWS error code and message. An Envelope renders it.
type QueryError struct {
	Status  int
	Code    string
	Message string
}

func (e *QueryError) Error() string { return e.Code + ": " + e.Message }

// QueryClientError is a refusal of the caller's request: HTTP 400.
func QueryClientError(code, format string, args ...any) *QueryError {
	return &QueryError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// An Envelope is the error document of a Query API: EC2 has its own
// (EC2Envelope), every other Query API answers ErrorResponse
// (ErrorResponseEnvelope).
type Envelope interface {
	Marshal(e *QueryError, reqID string) []byte
}

// EC2Envelope is EC2's error document:
// <Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors>
// <RequestID>…</RequestID></Response>. Note RequestID, where EC2's successes
// say requestId.
type EC2Envelope struct{}

type ec2ErrorResponse struct {
	XMLName   xml.Name      `xml:"Response"`
	Errors    []ec2ErrorXML `xml:"Errors>Error"`
	RequestID string        `xml:"RequestID"`
}

type ec2ErrorXML struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (EC2Envelope) Marshal(e *QueryError, reqID string) []byte {
	return marshalXML(ec2ErrorResponse{Errors: []ec2ErrorXML{{Code: e.Code, Message: e.Message}}, RequestID: reqID})
}

// ErrorResponseEnvelope is the error document of the Query protocol
// (awsquery) in the API's namespace (STS: https://sts.amazonaws.com/doc/2011-06-15/;
// "" for none): see MarshalErrorResponse.
type ErrorResponseEnvelope struct{ Namespace string }

func (env ErrorResponseEnvelope) Marshal(e *QueryError, reqID string) []byte {
	return MarshalErrorResponse(env.Namespace, e.Status, e.Code, e.Message, reqID)
}

// WriteQueryError writes e in env as a response.
func WriteQueryError(w http.ResponseWriter, env Envelope, e *QueryError) {
	WriteXML(w, e.Status, env.Marshal(e, NewRequestID()))
}

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
// namespace, "" for none.
func MarshalErrorResponse(ns string, status int, code, message, reqID string) []byte {
	var r errorResponse
	r.Xmlns = ns
	r.Error.Type = "Sender"
	if status >= http.StatusInternalServerError {
		r.Error.Type = "Receiver"
	}
	r.Error.Code, r.Error.Message, r.RequestID = code, message, reqID
	return marshalXML(r)
}

// marshalXML renders a document of strings (which cannot fail) after the
// XML declaration.
func marshalXML(v any) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	_ = xml.NewEncoder(&b).Encode(v)
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
func QueryAuthError(err error) *QueryError {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		e = &sigv4.Error{Refusal: sigv4.Mismatch, Message: sigv4.MsgMismatch}
	}
	switch e.Refusal {
	case sigv4.Unsigned:
		return &QueryError{http.StatusForbidden, "MissingAuthenticationToken", e.Message}
	case sigv4.Incomplete:
		return &QueryError{http.StatusBadRequest, "IncompleteSignature", e.Message}
	case sigv4.UnknownKey:
		return &QueryError{http.StatusForbidden, "InvalidClientTokenId", e.Message}
	}
	return &QueryError{http.StatusForbidden, "SignatureDoesNotMatch", e.Message}
}
