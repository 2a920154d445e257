// Package awstest holds what tests need to drive vpcsim with aws-sdk-go-v2.
package awstest

import (
	"io"
	"net/http"
)

// HTTPClient is the HTTP client for a test's SDK configuration, one that sees
// every answer as the server sent it.
//
// Why not the SDK's own: smithy-go wraps a request body in a closer whose
// WriteTo answers io.EOF once closed, and the SDK closes the body as soon as
// the answer's headers arrive. Against a server as fast as vpcsim on loopback
// the answer can come before net/http's write loop has made its last read of
// the body (the one that checks nothing follows it); that read then fails,
// and the transport closes the connection while the answer's body is still
// being read ("use of closed network connection", about one call in 50 with
// a large answer). The SDK retries that, but the tests allow no retries, to
// see each error as it came. Hiding WriteTo makes the last read an ordinary
// Read, which answers io.EOF as the end of the body.
func HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: plainBodies{tr}}
}

type plainBodies struct{ next http.RoundTripper }

func (p plainBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return p.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Body = readCloser{req.Body}
	return p.next.RoundTrip(r)
}

// readCloser is a request body with only Read and Close.
type readCloser struct{ io.ReadCloser }
