package main

import (
	"slices"
	"strings"
	"testing"
)

// TestFrontDoorFlags: --allowed-host, --allowed-origin and --max-connections
// (and their variables) widen the API's policy, and values that are not what
// they should be are refused before serve makes anything.
func TestFrontDoorFlags(t *testing.T) {
	for _, v := range []string{"VPCSIM_ACCESS_KEYS", "VPCSIM_ACCESS_KEYS_FILE", "VPCSIM_LISTEN", "VPCSIM_ALLOWED_HOSTS", "VPCSIM_ALLOWED_ORIGINS", "VPCSIM_MAX_CONNECTIONS"} {
		t.Setenv(v, "")
	}
	c, err := parseServeFlags([]string{"--allowed-host", "vpcsim.internal", "--allowed-host", "a.example,10.1.2.3", "--allowed-origin", "http://localhost:3000", "--max-connections", "64"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.allowedHosts, []string{"vpcsim.internal", "a.example", "10.1.2.3"}) || !slices.Equal(c.allowedOrigins, []string{"http://localhost:3000"}) || c.maxConns != 64 {
		t.Errorf("flags: %q %q %d", c.allowedHosts, c.allowedOrigins, c.maxConns)
	}
	p := apiPolicy(c)
	if !p.Loopback || p.AnyAddress || !slices.Contains(p.Hosts, "127.0.0.1") || !slices.Contains(p.Hosts, "vpcsim.internal") {
		t.Errorf("policy on 127.0.0.1: %+v", p)
	}
	for _, listen := range []string{"0.0.0.0:4566", ":4566", "[::]:4566"} {
		if p := apiPolicy(config{listen: listen}); !p.AnyAddress {
			t.Errorf("policy on %s: %+v, want any address", listen, p)
		}
	}
	if p := apiPolicy(config{listen: "myhost:4566"}); p.AnyAddress || !slices.Contains(p.Hosts, "myhost") {
		t.Errorf("policy on myhost: %+v", p)
	}

	t.Setenv("VPCSIM_ALLOWED_HOSTS", "env.example, other.example")
	t.Setenv("VPCSIM_ALLOWED_ORIGINS", "https://console.example")
	t.Setenv("VPCSIM_MAX_CONNECTIONS", "10")
	c, err = parseServeFlags(nil)
	if err != nil || !slices.Equal(c.allowedHosts, []string{"env.example", "other.example"}) || !slices.Equal(c.allowedOrigins, []string{"https://console.example"}) || c.maxConns != 10 {
		t.Errorf("variables: %q %q %d %v", c.allowedHosts, c.allowedOrigins, c.maxConns, err)
	}
	if c, err := parseServeFlags([]string{"--allowed-host", "flag.example"}); err != nil || !slices.Equal(c.allowedHosts, []string{"flag.example"}) {
		t.Errorf("a flag given replaces the variable: %q %v", c.allowedHosts, err)
	}

	t.Setenv("VPCSIM_ALLOWED_HOSTS", "")
	t.Setenv("VPCSIM_ALLOWED_ORIGINS", "")
	t.Setenv("VPCSIM_MAX_CONNECTIONS", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--allowed-origin", "*"}, `origin "*": want scheme://host[:port]`},
		{[]string{"--allowed-origin", "localhost:3000"}, "want scheme://host[:port]"},
		{[]string{"--allowed-host", "http://evil.example/"}, "want a name or an address"},
		{[]string{"--max-connections", "0"}, "--max-connections must be a positive number"},
		{[]string{"--max-connections", "many"}, "--max-connections must be a positive number"},
	} {
		_, err := parseServeFlags(tc.args)
		if _, usage := err.(usageError); !usage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}
