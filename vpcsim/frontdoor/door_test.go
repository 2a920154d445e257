package frontdoor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// stalledBody gives its first bytes, then blocks until released; it counts
// what it gave.
type stalledBody struct {
	first   []byte
	rest    []byte
	release chan struct{}
	read    atomic.Int64
}

func newStalled(first, rest string) *stalledBody {
	return &stalledBody{first: []byte(first), rest: []byte(rest), release: make(chan struct{})}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if len(b.first) == 0 {
		<-b.release
		b.first, b.rest = b.rest, nil
		if len(b.first) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, b.first)
	b.first = b.first[n:]
	b.read.Add(int64(n))
	return n, nil
}

func (b *stalledBody) Close() error { return nil }

// TestBodyBudget: bodies are read only within the budget. Two slow clients
// that hold it all make a third wait before any of its body is read; the third
// is read and served once a slow one finishes.
func TestBodyBudget(t *testing.T) {
	l := DefaultAPI
	l.MaxBody, l.BodyBudget, l.BodyTimeout = 1000, 2000, time.Minute
	d := mustDoor(t, apiPolicy, l, nil)
	var mu sync.Mutex
	var order []string
	h := d.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		order = append(order, fmt.Sprintf("%s %d %v", r.Header.Get("Client"), len(b), err))
		mu.Unlock()
	}), recorder{})
	send := func(name string, body io.ReadCloser, n int64) chan struct{} {
		done := make(chan struct{})
		r := httptest.NewRequest("POST", "http://127.0.0.1:4566/", nil)
		r.Body, r.ContentLength = body, n
		r.Header.Set("Client", name)
		go func() {
			defer close(done)
			h.ServeHTTP(httptest.NewRecorder(), r)
		}()
		return done
	}
	a, b := newStalled("0123456789", strings.Repeat("a", 990)), newStalled("0123456789", strings.Repeat("b", 990))
	doneA, doneB := send("a", a, 1000), send("b", b, 1000)
	for a.read.Load() < 10 || b.read.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	c := newStalled(strings.Repeat("c", 1000), "")
	close(c.release)
	doneC := send("c", c, 1000)
	for d.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	if n := c.read.Load(); n != 0 {
		t.Fatalf("the third body was read (%d bytes) before it had its share of the budget", n)
	}
	close(a.release)
	<-doneA
	<-doneC
	close(b.release)
	<-doneB
	want := []string{"a 1000 <nil>", "c 1000 <nil>", "b 1000 <nil>"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("served %q, want %q", order, want)
	}
}

// TestBodyLimits: a body declared larger than MaxBody is not read at all, one
// that turns out larger (chunked) is cut there, and the handler answers both
// as too large; either way the connection is closed after the answer.
func TestBodyLimits(t *testing.T) {
	l := DefaultAPI
	l.MaxBody, l.BodyBudget = 100, 1000
	h := mustDoor(t, apiPolicy, l, nil).Guard(served, recorder{})
	for _, n := range []int64{101, -1} {
		body := newStalled(strings.Repeat("x", 200), "")
		close(body.release)
		r := httptest.NewRequest("POST", "http://127.0.0.1:4566/", nil)
		r.Body, r.ContentLength = body, n
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 || !strings.Contains(w.Body.String(), (&http.MaxBytesError{Limit: 100}).Error()) {
			t.Errorf("Content-Length %d: %d %s", n, w.Code, w.Body)
		}
		if w.Header().Get("Connection") != "close" && n > 0 {
			t.Errorf("Content-Length %d: the connection stays open", n)
		}
		if got := body.read.Load(); n > 0 && got != 0 || n < 0 && got > 101 {
			t.Errorf("Content-Length %d: %d bytes read", n, got)
		}
	}
}

// TestSignatureBeforeBody: with keys, a request whose Authorization header
// names no known key (or none at all) is refused as soon as its headers are
// in: its body is never waited for.
func TestSignatureBeforeBody(t *testing.T) {
	keys := sigv4.NewKeys(map[string]string{"AKIDKNOWN": "secret"})
	d := mustDoor(t, Policy{Loopback: true}, DefaultAPI, keys)
	srv := httptest.NewServer(d.Guard(served, recorder{}))
	defer srv.Close()
	day, stamp := time.Now().UTC().Format("20060102"), time.Now().UTC().Format("20060102T150405Z")
	for name, auth := range map[string]string{
		"unknown key": "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/" + day + "/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"unsigned":    "",
		"malformed":   "AWS4-HMAC-SHA256 Credential=AKIDKNOWN",
	} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: 1048576\r\nX-Amz-Date: %s\r\n", srv.Listener.Addr(), stamp)
		if auth != "" {
			fmt.Fprintf(c, "Authorization: %s\r\n", auth)
		}
		io.WriteString(c, "\r\n") // and no body
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Errorf("%s: %d close=%v %s", name, resp.StatusCode, resp.Close, b)
		}
		c.Close()
	}
}

// TestWriteDeadline: the write timeout counts from the response's first
// byte, so a handler slower than it still answers; and a deadline left by one
// request does not cut the next one on the same connection short.
func TestWriteDeadline(t *testing.T) {
	l := DefaultAPI
	l.WriteTimeout = 100 * time.Millisecond
	d := mustDoor(t, Policy{Loopback: true}, l, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, lim := NewServer(ln, d.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * l.WriteTimeout) // as a RunTask that takes its time
		io.WriteString(w, "done")
	}), recorder{}), l)
	go srv.Serve(lim)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	for i := range 2 { // the second reuses the connection
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "done" {
			t.Errorf("request %d: %q", i, b)
		}
	}
}

// TestClientGoneCancels: once the door has read a body, a client that goes
// away while the handler works cancels the request's context, as it did when
// the handler read the body itself.
func TestClientGoneCancels(t *testing.T) {
	d := mustDoor(t, Policy{Loopback: true}, DefaultAPI, nil)
	cancelled, inHandler := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(d.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		close(inHandler)
		<-r.Context().Done()
		close(cancelled)
	}), recorder{}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\nhello", srv.Listener.Addr())
	<-inHandler
	c.Close()
	<-cancelled
}
