package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
)

// The commands that ask the running vpcsim (at VPCSIM_ENDPOINT, default
// http://127.0.0.1:4566) for what only its model knows.

// connectCmd is `vpcsim connect|disconnect VPC-ID`.
func connectCmd(args []string, on bool, w io.Writer) error {
	verb := map[bool]string{true: "connect", false: "disconnect"}[on]
	if len(args) != 1 || !strings.HasPrefix(args[0], "vpc-") {
		return usageError{verb + " needs a VPC ID"}
	}
	var out struct{ VPCID, CIDR, HostAddress string }
	if err := adminCall(http.MethodPost, verb, url.Values{"vpc": {args[0]}}, &out); err != nil {
		return err
	}
	if on {
		fmt.Fprintf(w, "connected %s: this machine reaches %s, as %s\n", out.VPCID, out.CIDR, out.HostAddress)
	} else {
		fmt.Fprintf(w, "disconnected %s\n", out.VPCID)
	}
	return nil
}

// sgCmd is `vpcsim sg explain ENI-ID --from IP --port N [--proto tcp]`.
func sgCmd(args []string, w io.Writer) error {
	if len(args) < 2 || args[0] != "explain" {
		return usageError{"sg explain ENI-ID --from IP --port N [--proto tcp|udp|icmp|all]"}
	}
	eni := args[1]
	fs := flag.NewFlagSet("sg explain", flag.ContinueOnError)
	from := fs.String("from", "", "the sender's address")
	port := fs.String("port", "", "the destination port (ICMP: the type)")
	proto := fs.String("proto", "tcp", "tcp, udp, icmp, all or a protocol number")
	if err := fs.Parse(args[2:]); err != nil {
		return usageError{err.Error()}
	}
	if *from == "" {
		return usageError{"sg explain needs --from IP"}
	}
	var out struct {
		Admitted bool
		Lines    []string
	}
	q := url.Values{"eni": {eni}, "from": {*from}, "port": {*port}, "proto": {*proto}}
	if err := adminCall(http.MethodGet, "sg/explain", q, &out); err != nil {
		return err
	}
	fmt.Fprintln(w, strings.Join(out.Lines, "\n"))
	return nil
}

// adminCall sends one request to the running server's admin path and decodes
// its JSON answer into out, or returns the error it gives. With
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, as the aws CLI reads them,
// it signs the request (SigV4, service "vpcsim", the region of AWS_REGION or
// AWS_DEFAULT_REGION): a server given access keys serves signed calls only.
func adminCall(method, path string, q url.Values, out any) error {
	endpoint := strings.TrimRight(env("VPCSIM_ENDPOINT", "http://127.0.0.1:4566"), "/")
	req, err := http.NewRequest(method, endpoint+adminPath+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); key != "" && secret != "" {
		region := env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1"))
		sigv4.Sign(req, nil, key, secret, region, "vpcsim", time.Now())
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is vpcsim serving at %s? %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	return json.Unmarshal(body, out)
}
