package main

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// isLoopback reports whether a --listen address (host:port) accepts
// connections from this machine alone: an address in 127.0.0.0/8, ::1, or
// "localhost". An empty host (":4566"), 0.0.0.0, :: and any other name can be
// reached from elsewhere, or may be.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// parseAccessKeys reads the access keys requests may be signed with: list is
// "AKID:SECRET[,AKID:SECRET...]" (--access-keys), file holds one AKID:SECRET a
// line, with blank lines and #-comments (--access-keys-file; so that secrets
// need not be on a command line, where ps shows them). A secret is everything
// after the first ':'. The file must not be readable by group or others, as
// ssh asks of a private key.
func parseAccessKeys(list, file string) (map[string]string, error) {
	keys := map[string]string{}
	add := func(where, pair string) error {
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		switch {
		case !ok || id == "" || secret == "":
			return fmt.Errorf("%s: want AKID:SECRET, not %q", where, redact(pair))
		case strings.ContainsAny(id, "/,: \t"):
			// '/' would end the access key in a signature's Credential.
			return fmt.Errorf("%s: access key ID %q may not contain '/', ',', ':' or spaces", where, id)
		case strings.ContainsAny(secret, " \t"):
			return fmt.Errorf("%s: the secret of %s contains spaces", where, id)
		case keys[id] != "" && keys[id] != secret:
			return fmt.Errorf("%s: access key ID %s is given twice, with different secrets", where, id)
		}
		keys[id] = secret
		return nil
	}
	for _, pair := range strings.Split(list, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		if err := add("--access-keys", pair); err != nil {
			return nil, err
		}
	}
	if file == "" {
		return keys, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("--access-keys-file: %s holds secrets but is mode %v: chmod 600 it", file, fi.Mode().Perm())
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := add(fmt.Sprintf("--access-keys-file %s:%d", file, n), line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--access-keys-file: %w", err)
	}
	return keys, nil
}

// redact keeps a secret out of an error message: what follows the first ':'.
func redact(pair string) string {
	if id, _, ok := strings.Cut(pair, ":"); ok {
		return id + ":…"
	}
	return pair
}
