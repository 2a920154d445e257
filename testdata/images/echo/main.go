// Command echo is the test image's server: a static HTTP server that answers
// with its hostname, its addresses and its environment, so a test sees from
// outside which task, network and settings it reached. /metadata fetches the
// task metadata endpoint from inside the task and returns what it said.
// `echo fetch URL WANT` is a client instead: it exits 0 when URL answers, within
// 3 seconds, with a body containing WANT, and 7 otherwise. tcp.go has the TCP
// modes (tcpserve, tcpbench) of the benchmarks.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "fetch" {
		os.Exit(fetch(os.Args[2], os.Args[3]))
	}
	if code, ok := tcpMode(os.Args[1:]); ok {
		os.Exit(code)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "hostname %s\n", host)
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			fmt.Fprintf(w, "addr %s\n", a)
		}
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Fprintf(w, "env %s\n", e)
		}
	})
	// Who the request came from, as the server saw it.
	http.HandleFunc("/peer", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "remote %s\n", r.RemoteAddr)
	})
	http.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		uri := os.Getenv("ECS_CONTAINER_METADATA_URI_V4")
		if uri == "" {
			http.Error(w, "no ECS_CONTAINER_METADATA_URI_V4", http.StatusNotFound)
			return
		}
		c := http.Client{Timeout: 3 * time.Second}
		resp, err := c.Get(uri + strings.TrimPrefix(r.URL.Query().Get("path"), ""))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func fetch(url, want string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 7
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(b), want) {
		fmt.Fprintf(os.Stderr, "%s answered %q (%v), want %q\n", url, b, err, want)
		return 7
	}
	return 0
}
