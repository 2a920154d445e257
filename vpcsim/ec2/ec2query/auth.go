package ec2query

import (
	"errors"
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// errAuth words a refused signature as EC2 does; STS, beside it, words its
// refusals as every awsquery API (awsproto.QueryAuthError). Texts and statuses
// as recorded from AWS (in clients' issue reports and logs):
//
//	           EC2                                  STS
//	Unsigned   400 MissingParameter (AWSAccessKeyId) 403 MissingAuthenticationToken
//	Incomplete 400 IncompleteSignature               400 IncompleteSignature
//	UnknownKey 401 AuthFailure                       403 InvalidClientTokenId
//	Mismatch   403 SignatureDoesNotMatch             403 SignatureDoesNotMatch
//	Expired    400 RequestExpired                    403 SignatureDoesNotMatch
//
// Incomplete and Mismatch carry AWS's particulars (sigv4's message); so does
// STS's Expired ("Signature expired: …").
func errAuth(err error) *apiError {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		e = &sigv4.Error{Refusal: sigv4.Mismatch, Message: sigv4.MsgMismatch}
	}
	switch e.Refusal {
	case sigv4.Unsigned:
		// EC2 looks for SigV2's parameters in a request with no signature.
		return errMissingParameter("AWSAccessKeyId")
	case sigv4.Incomplete:
		return &apiError{Status: http.StatusBadRequest, Code: "IncompleteSignature", Message: e.Message}
	case sigv4.UnknownKey:
		return &apiError{Status: http.StatusUnauthorized, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"}
	case sigv4.Expired:
		return &apiError{Status: http.StatusBadRequest, Code: "RequestExpired", Message: "Request has expired."}
	}
	return &apiError{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: e.Message}
}
