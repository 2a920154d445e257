package ecsjson

import "github.com/vpcsim/vpcsim/vpcsim/awsproto"

// errAuth words a refused signature as ECS's front end does, as every JSON
// 1.1 API's does (awsproto.JSONAuthError): HTTP 400 and
// MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException or InvalidSignatureException.
func errAuth(err error) *apiError { return awsproto.JSONAuthError(err) }
