// Command echo is the test image's server: a static HTTP server that answers
// with its hostname, its addresses and its environment, so a test sees from
// outside which task, network and settings it reached. /metadata fetches the
// task metadata endpoint from inside the task and returns what it said.
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
