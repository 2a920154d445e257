package frontdoor

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestConnLimiterIdle: clients that hold every place open and send nothing
// (or went idle after a request) do not keep a new client out: the idlest
// are closed for it, and the cap holds throughout.
func TestConnLimiterIdle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := DefaultAPI
	l.MaxConns = 4
	srv, lim := NewServer(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), l)
	go srv.Serve(lim)
	defer srv.Close()
	addr := ln.Addr().String()
	// One client goes idle after a request; the others send nothing.
	kept := &http.Client{Transport: &http.Transport{}}
	if resp, err := kept.Get("http://" + addr + "/"); err != nil {
		t.Fatal(err)
	} else {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	var idle []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	for range 5 {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("a client behind %d idle connections: %v", len(idle), err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("answered %q", b)
		}
		if n := lim.Open(); n > l.MaxConns {
			t.Fatalf("%d connections open, over the cap of %d", n, l.MaxConns)
		}
	}
}

// TestConnLimiterBusy: connections whose request is being served are not
// closed for a newcomer, which waits for one of them to finish.
func TestConnLimiterBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := DefaultAPI
	l.MaxConns = 1
	release, inHandler := make(chan struct{}), make(chan struct{}, 2)
	srv, lim := NewServer(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler <- struct{}{}
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, r.URL.Path)
	}), l)
	go srv.Serve(lim)
	defer srv.Close()
	get := func(path string) chan string {
		out := make(chan string, 1)
		go func() {
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
			resp, err := c.Get("http://" + ln.Addr().String() + path)
			if err != nil {
				out <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out <- string(b)
		}()
		return out
	}
	slow := get("/slow")
	<-inHandler
	fast := get("/fast")
	for !lim.Waiting() {
		select {
		case got := <-fast:
			t.Fatalf("the second client was served (%q) while the only place was busy", got)
		default:
			time.Sleep(time.Millisecond)
		}
	}
	if n := lim.Open(); n != 1 {
		t.Fatalf("%d connections open, want the busy one alone", n)
	}
	close(release) // the slow one finishing lets the second in
	if got := <-slow; got != "/slow" {
		t.Errorf("slow: %q", got)
	}
	if got := <-fast; got != "/fast" {
		t.Errorf("fast: %q", got)
	}
}
