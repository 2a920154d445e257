package ec2query

import (
	"net/url"
	"regexp"
	"testing"
)

// TestSTSBytes: STS answers GetCallerIdentity, and refuses what it does not
// serve, in exactly these documents (the request ID aside): the awsquery
// result and ErrorResponse envelopes, with STS's namespace.
func TestSTSBytes(t *testing.T) {
	ts := newTestServer(t)
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	tests := []struct {
		name   string
		params url.Values
		status int
		want   string
	}{
		{"GetCallerIdentity", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, 200,
			head + `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
				`<Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId><Account>123456789012</Account></GetCallerIdentityResult>` +
				`<ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></GetCallerIdentityResponse>`},
		{"unknown action", url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}}, 400,
			head + `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
				`<Message>Could not find operation AssumeRole for version 2011-06-15</Message></Error><RequestId>ID</RequestId></ErrorResponse>`},
		{"no action", url.Values{"Version": {"2011-06-15"}}, 400,
			head + `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MissingAction</Code>` +
				`<Message>The request must contain the parameter Action</Message></Error><RequestId>ID</RequestId></ErrorResponse>`},
	}
	id := regexp.MustCompile(`<RequestId>[0-9a-f-]{36}</RequestId>`)
	for _, tt := range tests {
		status, body := ts.post(t, tt.params)
		if got := id.ReplaceAllString(string(body), "<RequestId>ID</RequestId>"); status != tt.status || got != tt.want {
			t.Errorf("%s: HTTP %d\n%s\nwant HTTP %d\n%s", tt.name, status, got, tt.status, tt.want)
		}
	}
}
