package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// JSONContentType is the media type of every JSON 1.1 request and response.
const JSONContentType = "application/x-amz-json-1.1"

// CoralNS is the namespace AWS's request framework (Coral) sends its own
// exceptions with; botocore and aws-sdk-go-v2 keep only what follows '#'.
const CoralNS = "com.amazon.coral.service#"

// JSONError is an error of a JSON 1.1 API as the client receives it: HTTP
// status, the __type and the message.
type JSONError struct {
	Status int
	Type   string // as sent: "ClientException", "com.amazon.coral.service#SerializationException"
	// Message is the message; HasMessage false leaves the member out, as AWS
	// does for a body that is not JSON or an unknown operation.
	Message    string
	HasMessage bool
	// CapitalM sends the message as "Message", as Coral does for its own
	// SerializationException; the services' exceptions say "message".
	CapitalM bool
}

func (e *JSONError) Error() string { return e.Type + ": " + e.Message }

// ErrUnknownOperation answers a target that names no operation of the API,
// or no API: HTTP 400 {"__type":"com.amazon.coral.service#UnknownOperationException"},
// no message. (A CloudWatch Logs capture, aws/aws-sdk-net#1536, shows the 400
// and the bare body; the namespace is the one ECS's Coral exceptions carry,
// which clients strip.)
func ErrUnknownOperation() *JSONError {
	return &JSONError{Status: http.StatusBadRequest, Type: CoralNS + "UnknownOperationException"}
}

// JSONAccessDenied is the refusal of a caller that may not make the call:
// 403 AccessDeniedException, the exception JSON APIs' models declare for it.
func JSONAccessDenied(msg string) *JSONError {
	return &JSONError{Status: http.StatusForbidden, Type: "AccessDeniedException", Message: msg, HasMessage: true}
}

// JSONAuthError words a refused signature (an *sigv4.Error; any other
// error is a mismatch) as the front end of AWS's JSON services does: HTTP 400
// and
//
//	Unsigned   MissingAuthenticationTokenException "Request is missing Authentication Token"
//	Incomplete IncompleteSignatureException        (sigv4's particulars)
//	UnknownKey UnrecognizedClientException         "The security token included in the request is invalid."
//	Mismatch   InvalidSignatureException           "The request signature we calculated does not match …"
//	Expired    InvalidSignatureException           "Signature expired: … (… - 15 min.)"
//
// (The codes and the 400 are ECS's, from clients' reports of ListClusters and
// ListTasks refusals. The com.amazon.coral.service# namespace is as DynamoDB
// sends these, unverified for ECS; botocore and aws-sdk-go-v2 keep only what
// follows '#', so clients see the same code either way.)
func JSONAuthError(err error) *JSONError {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		e = &sigv4.Error{Refusal: sigv4.Mismatch, Message: sigv4.MsgMismatch}
	}
	typ := "InvalidSignatureException"
	switch e.Refusal {
	case sigv4.Unsigned:
		typ = "MissingAuthenticationTokenException"
	case sigv4.Incomplete:
		typ = "IncompleteSignatureException"
	case sigv4.UnknownKey:
		typ = "UnrecognizedClientException"
	}
	return &JSONError{Status: http.StatusBadRequest, Type: CoralNS + typ, Message: e.Message, HasMessage: true}
}

// MarshalJSON11 renders v as AWS's JSON services do: compact, with <, > and &
// as they are.
func MarshalJSON11(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Body renders e as AWS's JSON 1.1 services do: {"__type":…,"message":…}.
func (e *JSONError) Body() []byte {
	var v any
	switch {
	case !e.HasMessage:
		v = struct {
			Type string `json:"__type"`
		}{e.Type}
	case e.CapitalM:
		v = struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
		}{e.Type, e.Message}
	default:
		v = struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{e.Type, e.Message}
	}
	b, _ := MarshalJSON11(v) // strings only: cannot fail
	return b
}

// WriteJSON writes a JSON 1.1 response: the request id, the media type and
// the length, then body.
func WriteJSON(w http.ResponseWriter, reqID string, status int, body []byte) {
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("Content-Type", JSONContentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// WriteJSONError writes e as a JSON 1.1 error response.
func WriteJSONError(w http.ResponseWriter, reqID string, e *JSONError) {
	WriteJSON(w, reqID, e.Status, e.Body())
}

// TargetOperation is the operation an X-Amz-Target header names for the API
// of prefix ("AmazonEC2ContainerServiceV20141113.ListClusters" →
// "ListClusters"), "" when the target is not that API's.
func TargetOperation(target, prefix string) string {
	op, ok := strings.CutPrefix(target, prefix+".")
	if !ok {
		return ""
	}
	return op
}
