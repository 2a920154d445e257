package frontdoor

import (
	"net"
	"net/http"
	"time"
)

// Limits bound what one server spends on its clients, before and while it
// serves them. Every field must be set (DefaultAPI and Metadata are the
// servers' presets).
type Limits struct {
	// MaxConns is how many connections the server holds at once; at the cap,
	// a new one closes the connection idle the longest, or waits for one to
	// close (see Listener).
	MaxConns int
	// HeaderTimeout bounds reading a request's headers, MaxHeaderBytes their
	// size.
	HeaderTimeout  time.Duration
	MaxHeaderBytes int
	// BodyTimeout bounds reading a whole request, headers and body, counted
	// from its first byte (http.Server's ReadTimeout: it does not bound the
	// handler, whose connection Go stops reading once the body is read).
	BodyTimeout time.Duration
	// WriteTimeout bounds writing the response, from its first byte.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	// MaxBody is the largest request body read; BodyBudget bounds the bytes
	// of every body being read or served at once, so that memory does not
	// grow with the number of clients sending bodies slowly.
	MaxBody, BodyBudget int64
}

// DefaultAPI are the limits of the API listener (EC2, STS, ECS and vpcsim's
// own commands). A request of the API is a few KiB, sent at once by every
// client; RunTask may take minutes to answer, which WriteTimeout allows as it
// counts from the response's first byte.
var DefaultAPI = Limits{
	MaxConns:       512,
	HeaderTimeout:  10 * time.Second,
	MaxHeaderBytes: 64 << 10,
	BodyTimeout:    30 * time.Second,
	WriteTimeout:   30 * time.Second,
	IdleTimeout:    30 * time.Second,
	MaxBody:        1 << 20,
	BodyBudget:     16 << 20,
}

// Metadata are the limits of a task's metadata endpoint: GETs without bodies
// from the task's own containers. Its timeouts are the ECS agent's (5
// seconds, which it sizes to the SDKs' defaults).
var Metadata = Limits{
	MaxConns:       64,
	HeaderTimeout:  5 * time.Second,
	MaxHeaderBytes: 16 << 10,
	BodyTimeout:    5 * time.Second,
	WriteTimeout:   5 * time.Second,
	IdleTimeout:    30 * time.Second,
	MaxBody:        0,
	BodyBudget:     0,
}

// NewServer returns a server of h on ln with l's timeouts and connection cap:
// serve it with srv.Serve(limited). Shutdown and Close end it as any
// http.Server.
func NewServer(ln net.Listener, h http.Handler, l Limits) (srv *http.Server, limited *ConnLimiter) {
	cl := Listener(ln, l.MaxConns)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.HeaderTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ReadTimeout:       l.BodyTimeout,
		IdleTimeout:       l.IdleTimeout,
		ConnState:         cl.track,
	}, cl
}
