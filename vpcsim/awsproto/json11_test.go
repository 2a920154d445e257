package awsproto_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// TestJSONErrors: the JSON 1.1 error bodies, byte for byte as AWS sends them,
// and the front end's words for each refused signature.
func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		e    *awsproto.JSONError
		want string
	}{
		{awsproto.ErrUnknownOperation(), `{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{awsproto.JSONAccessDenied("a <page> & more"), `{"__type":"AccessDeniedException","message":"a <page> & more"}`},
		{&awsproto.JSONError{Type: awsproto.CoralNS + "SerializationException", Message: "bad", HasMessage: true, CapitalM: true},
			`{"__type":"com.amazon.coral.service#SerializationException","Message":"bad"}`},
	} {
		if got := string(tc.e.Body()); got != tc.want {
			t.Errorf("%s, want %s", got, tc.want)
		}
	}
	for refusal, typ := range map[sigv4.Refusal]string{
		sigv4.Unsigned: "MissingAuthenticationTokenException", sigv4.Incomplete: "IncompleteSignatureException",
		sigv4.UnknownKey: "UnrecognizedClientException", sigv4.Mismatch: "InvalidSignatureException", sigv4.Expired: "InvalidSignatureException",
	} {
		e := awsproto.JSONAuthError(&sigv4.Error{Refusal: refusal, Message: "why"})
		if e.Status != 400 || e.Type != awsproto.CoralNS+typ || e.Message != "why" {
			t.Errorf("refusal %d: %+v", refusal, e)
		}
	}
	if e := awsproto.JSONAuthError(errors.New("a verifier's own")); e.Type != awsproto.CoralNS+"InvalidSignatureException" || e.Message != sigv4.MsgMismatch {
		t.Errorf("a foreign error: %+v", e)
	}
	w := httptest.NewRecorder()
	awsproto.WriteJSONError(w, "req-1", awsproto.JSONAccessDenied("no"))
	if w.Code != 403 || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" || w.Header().Get("x-amzn-RequestId") != "req-1" ||
		w.Header().Get("Content-Length") != "49" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
	for target, want := range map[string]string{"Logs_20140328.PutLogEvents": "PutLogEvents", "Logs_20140328": "", "Logs_20140328X.Put": "", "": ""} {
		if got := awsproto.TargetOperation(target, "Logs_20140328"); got != want {
			t.Errorf("TargetOperation(%q) = %q, want %q", target, got, want)
		}
	}
}
