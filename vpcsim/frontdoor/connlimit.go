package frontdoor

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// ConnLimiter is a listener that holds at most max connections open. At the
// cap, Accept closes the connection that has been idle the longest (accepted
// and not yet sending a request, or kept alive between requests), so that
// clients that open connections and send nothing cannot keep others out;
// when none is idle, Accept waits for a connection to close or turn idle, and
// new clients wait in the kernel's backlog. Only connections whose request is
// being read or served are never closed by it.
//
// Its track method must be the server's ConnState hook: it is how the
// limiter learns which connections are idle.
type ConnLimiter struct {
	net.Listener
	max int

	// mu guards conns, closed and waiting; cond is signalled when a
	// connection closes or turns idle, and when the listener closes.
	mu      sync.Mutex
	cond    *sync.Cond
	conns   map[*limitedConn]time.Time // open connections → idle since (zero: busy)
	closed  bool
	waiting bool // Accept waits for room
}

// Listener caps ln at maxConns connections (see ConnLimiter).
func Listener(ln net.Listener, maxConns int) *ConnLimiter {
	l := &ConnLimiter{Listener: ln, max: max(maxConns, 1), conns: map[*limitedConn]time.Time{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Accept returns the next connection once there is room for it.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for len(l.conns) >= l.max && !l.closed {
		if idle := l.idlestLocked(); idle != nil {
			delete(l.conns, idle)
			l.mu.Unlock()
			idle.Conn.Close() // its server goroutine sees the close and ends
			l.mu.Lock()
			continue
		}
		l.waiting = true
		l.cond.Wait()
		l.waiting = false
	}
	if l.closed {
		l.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	lc := &limitedConn{Conn: c, l: l}
	l.conns[lc] = time.Now() // idle until its first request is read
	l.mu.Unlock()
	return lc, nil
}

// Close closes the listener and wakes an Accept waiting for room.
func (l *ConnLimiter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// Open is how many connections the limiter holds.
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Waiting reports whether Accept holds a new connection back, waiting for room.
func (l *ConnLimiter) Waiting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting
}

// idlestLocked is the connection idle the longest, or nil.
func (l *ConnLimiter) idlestLocked() *limitedConn {
	var found *limitedConn
	var since time.Time
	for c, t := range l.conns {
		if !t.IsZero() && (found == nil || t.Before(since)) {
			found, since = c, t
		}
	}
	return found
}

// track follows the server's view of each connection (http.Server.ConnState).
func (l *ConnLimiter) track(c net.Conn, state http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, open := l.conns[lc]; !open {
		return
	}
	switch state {
	case http.StateActive:
		l.conns[lc] = time.Time{}
	case http.StateIdle:
		l.conns[lc] = time.Now()
		l.cond.Broadcast()
	case http.StateHijacked, http.StateClosed:
		delete(l.conns, lc)
		l.cond.Broadcast()
	}
}

// limitedConn gives its place back when it closes.
type limitedConn struct {
	net.Conn
	l *ConnLimiter
}

func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	if _, open := c.l.conns[c]; open {
		delete(c.l.conns, c)
		c.l.cond.Broadcast()
	}
	c.l.mu.Unlock()
	return c.Conn.Close()
}
