package ecsjson

import (
	"errors"
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsauth"
)

// errAuth words a refused signature as ECS's front end does: HTTP 400 and
//
//	Unsigned   MissingAuthenticationTokenException "Request is missing Authentication Token"
//	Incomplete IncompleteSignatureException        (awsauth's particulars)
//	UnknownKey UnrecognizedClientException         "The security token included in the request is invalid."
//	Mismatch   InvalidSignatureException           "The request signature we calculated does not match …"
//	Expired    InvalidSignatureException           "Signature expired: … (… - 15 min.)"
//
// (The codes and the 400 are ECS's, from clients' reports of ListClusters and
// ListTasks refusals. The com.amazon.coral.service# namespace is as DynamoDB
// sends these, unverified for ECS; botocore and aws-sdk-go-v2 keep only what
// follows '#', so clients see the same code either way.)
func errAuth(err error) *apiError {
	var e *awsauth.Error
	if !errors.As(err, &e) {
		e = &awsauth.Error{Refusal: awsauth.Mismatch, Message: awsauth.MsgMismatch}
	}
	typ := "InvalidSignatureException"
	switch e.Refusal {
	case awsauth.Unsigned:
		typ = "MissingAuthenticationTokenException"
	case awsauth.Incomplete:
		typ = "IncompleteSignatureException"
	case awsauth.UnknownKey:
		typ = "UnrecognizedClientException"
	}
	return serviceError(http.StatusBadRequest, coralNS+typ, e.Message)
}
