package main

// The TCP modes, for the benchmarks that compare task networks (awsvpc and
// bridge) on the same two tasks:
//
//	echo tcpserve PORT
//	    a sink on PORT (reads until the sender closes its side, then answers
//	    with the number of bytes it read) and, on PORT+1, a listener that
//	    accepts each connection and closes it at once.
//	echo tcpbench HOST PORT SECONDS
//	    sends to HOST:PORT for SECONDS (once it answers, within 5 seconds), then opens and closes connections to
//	    HOST:PORT+1 one after another for SECONDS (at most 25,000 of them),
//	    and prints "throughput-MB/s X" and "connections/s Y"; exits 7 when a
//	    connection fails.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// tcpMode runs the mode args name, if it is one of the TCP modes.
func tcpMode(args []string) (code int, ok bool) {
	switch {
	case len(args) == 2 && args[0] == "tcpserve":
		port, err := strconv.Atoi(args[1])
		if err != nil {
			return 2, true
		}
		return tcpServe(port), true
	case len(args) == 4 && args[0] == "tcpbench":
		port, err1 := strconv.Atoi(args[2])
		secs, err2 := strconv.ParseFloat(args[3], 64)
		if err1 != nil || err2 != nil {
			return 2, true
		}
		return tcpBench(args[1], port, time.Duration(secs*float64(time.Second))), true
	}
	return 0, false
}

func tcpServe(port int) int {
	sink, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	closer, err := net.Listen("tcp", fmt.Sprintf(":%d", port+1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for {
		c, err := sink.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			binary.Write(c, binary.BigEndian, n)
		}()
	}
}

func tcpBench(host string, port int, d time.Duration) int {
	sink := net.JoinHostPort(host, strconv.Itoa(port))
	var c net.Conn
	var err error
	// The server may have started a moment ago: give it 5 seconds to listen.
	for wait := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if c, err = net.DialTimeout("tcp", sink, 3*time.Second); err == nil || time.Since(wait) > 5*time.Second {
			break
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 7
	}
	buf := make([]byte, 128<<10)
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 7
		}
	}
	// The rate is what the sink read, once it has read all of it.
	c.(*net.TCPConn).CloseWrite()
	var got int64
	if err := binary.Read(c, binary.BigEndian, &got); err != nil {
		fmt.Fprintln(os.Stderr, "the sink's count:", err)
		return 7
	}
	fmt.Printf("throughput-MB/s %.1f\n", float64(got)/1e6/time.Since(start).Seconds())
	c.Close()

	closer := net.JoinHostPort(host, strconv.Itoa(port+1))
	n := 0
	start = time.Now()
	for time.Since(start) < d && n < 25000 {
		c, err := net.DialTimeout("tcp", closer, 3*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 7
		}
		// Accepted and closed by the other side: its FIN comes back.
		c.Read(buf[:1])
		c.Close()
		n++
	}
	fmt.Printf("connections/s %.0f\n", float64(n)/time.Since(start).Seconds())
	return 0
}
