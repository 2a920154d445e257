package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// peekTimeout bounds the wait for the body of a request refused on its
// signature's header (see Protocol.Unauthenticated).
const peekTimeout = time.Second

// A Protocol words the door's refusals as the protocol behind a route does
// (EC2's XML, ECS's JSON, vpcsim's admin JSON, the task metadata endpoint's).
type Protocol interface {
	// Forbidden answers HTTP 403: the policy refuses the request, msg says why.
	Forbidden(w http.ResponseWriter, r *http.Request, msg string)
	// Unauthenticated answers a signature refused on its header, an
	// *sigv4.Error. The body has not been read; the Protocol may read a
	// little of it (a few KiB, what arrives within a second) to word the
	// refusal.
	Unauthenticated(w http.ResponseWriter, r *http.Request, err error)
}

// Door guards the routes of one server. For every request, in this order:
// the Policy (Host, Origin, Sec-Fetch-Site; for routes that ask, a signed
// GET); with a verifier, the signature's header (sigv4.AuthenticateHeader:
// well-formed, dated within the window, a known key), so that a client
// without a key gets its refusal before its body is read; then the body, read
// whole before the route's handler runs, within Limits.MaxBody and a budget
// shared by every request of the server (Limits.BodyBudget); and a write
// deadline from the response's first byte (Limits.WriteTimeout), so a handler
// may work as long as it needs while a client that does not read cannot hold
// the connection.
type Door struct {
	rules    rules
	limits   Limits
	verifier sigv4.Verifier
	budget   *semaphore.Weighted
	// waiting counts the requests waiting for their share of the budget.
	waiting atomic.Int64
}

// New returns the door of one server; v is nil when signatures are not
// verified. It fails when the policy names a host or origin that is none.
func New(p Policy, l Limits, v sigv4.Verifier) (*Door, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	if l.MaxBody > 0 && l.BodyBudget < l.MaxBody {
		return nil, fmt.Errorf("frontdoor: a body budget of %d bytes cannot hold one body of %d", l.BodyBudget, l.MaxBody)
	}
	return &Door{rules: c, limits: l, verifier: v, budget: semaphore.NewWeighted(max(l.BodyBudget, 1))}, nil
}

// RouteOption changes what the door asks of one route's requests.
type RouteOption func(*route)

type route struct {
	signedReads bool
}

// SignedReads refuses a GET or HEAD that is not SigV4-signed in its
// Authorization header (or, when signatures are verified, presigned): a web
// page can make a browser send any GET (an <img>), with no Origin, and old
// browsers send no Sec-Fetch-Site either. EC2's Query protocol needs it: it
// serves GET, and the aws CLI and the SDKs send POST.
func SignedReads() RouteOption { return func(r *route) { r.signedReads = true } }

// Guard serves h behind the door; p words its refusals.
func (d *Door) Guard(h http.Handler, p Protocol, opts ...RouteOption) http.Handler {
	var rt route
	for _, o := range opts {
		o(&rt)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: d.limits.WriteTimeout}
		// A deadline of the connection's previous request must not cut this
		// one short.
		dw.rc.SetWriteDeadline(time.Time{})
		defer dw.start() // what the server writes after the handler is bounded too
		refuse := func() {
			// The body stays unread: the connection closes after the answer,
			// rather than read what is left of it.
			if r.ContentLength != 0 {
				dw.Header().Set("Connection", "close")
			}
		}
		if msg := d.rules.check(r); msg != "" {
			refuse()
			p.Forbidden(dw, r, msg)
			return
		}
		if rt.signedReads && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !signedRead(r, d.verifier != nil) {
			refuse()
			p.Forbidden(dw, r, "vpcsim serves a GET of this API only when it is signed with SigV4 in its Authorization header"+
				map[bool]string{true: " or presigned", false: ""}[d.verifier != nil]+
				": a web page can make a browser send any GET; the aws CLI and the SDKs send POST")
			return
		}
		if d.verifier != nil {
			if err := sigv4.AuthenticateHeader(r, d.verifier); err != nil {
				refuse()
				if r.ContentLength != 0 {
					// What the protocol reads of the body to word its
					// refusal is what arrives within peekTimeout.
					dw.rc.SetReadDeadline(time.Now().Add(peekTimeout))
				}
				p.Unauthenticated(dw, r, err)
				return
			}
		}
		release := d.readBody(w, r)
		defer release()
		h.ServeHTTP(dw, r)
	})
}

// readBody reads r's body whole, within the limits, and gives the handler
// that copy; its error, if reading failed (too large: *http.MaxBytesError),
// comes after the bytes read, so the handler answers it as it answers any
// body it cannot read. The budget reserved for it is released by release,
// once the handler is done with it.
//
// Reading the body here bounds what slow clients cost: a request waits for
// its share of the budget before any of its body is read (the rest stays in
// the kernel's socket buffer), and the server's ReadTimeout ends a request
// whose body takes too long, share or no share.
func (d *Door) readBody(w http.ResponseWriter, r *http.Request) (release func()) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return func() {}
	}
	limit := d.limits.MaxBody
	if r.ContentLength > limit {
		// Known too large: nothing is read, and the connection closes.
		w.Header().Set("Connection", "close")
		r.Body = &replayBody{err: &http.MaxBytesError{Limit: limit}}
		return func() {}
	}
	share := limit // a body of unknown length may take the most one may
	if r.ContentLength > 0 {
		share = r.ContentLength
	}
	// The wait is bounded as the reading is: the server's ReadTimeout would
	// end the reading anyway.
	ctx, cancel := context.WithTimeout(r.Context(), d.limits.BodyTimeout)
	defer cancel()
	d.waiting.Add(1)
	err := d.budget.Acquire(ctx, share)
	d.waiting.Add(-1)
	if err != nil {
		w.Header().Set("Connection", "close")
		r.Body = &replayBody{err: fmt.Errorf("frontdoor: waiting for the body budget: %w", err)}
		return func() {}
	}
	var data []byte
	if r.ContentLength > 0 {
		data, err = readFull(r.Body, r.ContentLength)
	} else {
		data, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	replay := &replayBody{data: data, err: err}
	r.Body = replay
	return func() {
		replay.data = nil // the budget holds for the buffer: it goes with it
		d.budget.Release(share)
	}
}

// readFull reads a body of n bytes (Go's server ends it there), its buffer
// growing as the bytes come: a client whose time runs out after a few bytes
// costs a small buffer, not one of the size it announced.
func readFull(body io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, 64<<10))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(make([]byte, 0, min(n, 2*int64(cap(buf)))), buf...)
		}
		k, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			if errors.Is(err, io.EOF) && int64(len(buf)) < n {
				err = io.ErrUnexpectedEOF
			}
			if int64(len(buf)) < n {
				return buf, err
			}
		}
	}
	// Go's server gives io.EOF with a body's last bytes: it watches the
	// connection from then on, and a client that goes away while the
	// handler works cancels the request's context.
	return buf, nil
}

// replayBody is a body read ahead: its bytes, then the error the reading
// ended with (io.EOF when none).
type replayBody struct {
	data []byte
	err  error
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		if b.err == nil || errors.Is(b.err, io.EOF) {
			return 0, io.EOF
		}
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *replayBody) Close() error { return nil }

// deadlineWriter sets the connection's write deadline when the response
// starts, so the deadline bounds the writing, not the handler's work.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func (d *deadlineWriter) start() {
	if !d.started && d.timeout > 0 {
		d.started = true
		d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	}
}

func (d *deadlineWriter) WriteHeader(code int) {
	d.start()
	d.ResponseWriter.WriteHeader(code)
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	d.start()
	return d.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
