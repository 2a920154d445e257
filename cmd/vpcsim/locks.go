package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// One machine may run many servers, each with its own data directory and its
// own namespace prefix (tests do). Two on one data directory would hand out
// the same addresses; two whose prefixes overlap ("vs-" covers every
// "vs-…-") would each delete the other's namespaces as strays. So serve
// holds two locks for its life, taken before anything is reconciled, and a
// second server refuses to start, naming the first. Both go with the process
// however it ends, a crash included.

// holder is who holds a lock, as the refusal names it.
type holder struct {
	PID     int    `json:"pid"`
	DataDir string `json:"dataDir"`
	Prefix  string `json:"prefix,omitempty"`
	Listen  string `json:"listen,omitempty"`
}

func (h holder) String() string {
	if h.PID == 0 {
		return "another vpcsim serve (it has not said which yet)"
	}
	s := fmt.Sprintf("vpcsim serve (pid %d, data directory %s", h.PID, h.DataDir)
	if h.Prefix != "" {
		s += ", namespace prefix " + h.Prefix
	}
	if h.Listen != "" {
		s += ", listening on " + h.Listen
	}
	return s + ")"
}

// dataLockName is the data directory's lock file: flocked by the serve that
// uses the directory, and holding its holder as JSON.
const dataLockName = "serve.lock"

// lockDataDir takes the data directory for this process (an exclusive flock
// on <dir>/serve.lock, kept until the returned file is closed or the process
// ends), or refuses naming the server that has it.
func lockDataDir(dir string, me holder) (*os.File, error) {
	f, err := hostpath.OpenFile(filepath.Join(dir, dataLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by %s: one server per data directory; stop it, or give this one another --data-dir", dir, readHolder(f))
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	b, _ := json.Marshal(me)
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// dataDirHolder is the server that holds the data directory's lock, if one
// does (for `vpcsim down`).
func dataDirHolder(dir string) (holder, bool) {
	f, err := hostpath.OpenFile(filepath.Join(dir, dataLockName), os.O_RDONLY, 0)
	if err != nil {
		return holder{}, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		return holder{}, false // no one holds it
	}
	return readHolder(f), true
}

func readHolder(r io.ReaderAt) holder {
	var h holder
	b := make([]byte, 4096)
	n, _ := r.ReadAt(b, 0)
	json.Unmarshal(b[:n], &h)
	return h
}

// The prefix lock is an abstract unix socket named after the prefix,
// "@vpcsim/netns-prefix/<prefix>": abstract sockets belong to the network
// namespace, as the links and nftables tables a prefix names do, they vanish
// when their process dies, and /proc/net/unix lists them, so that
// overlapping prefixes can be found. The holder answers whoever connects
// with itself, as JSON.
const (
	prefixSocket   = "@vpcsim/netns-prefix/"
	prefixRegistry = "@vpcsim/netns-prefix-registry"
)

// prefixLock is a held namespace prefix; Close releases it.
type prefixLock struct{ ln *net.UnixListener }

func (l *prefixLock) Close() error { return l.ln.Close() }

// lockPrefix takes the namespace prefix for this process, or refuses naming
// the server whose prefix is the same as this one or overlaps it (one is the
// start of the other).
func lockPrefix(prefix string, me holder) (*prefixLock, error) {
	// Taking a prefix and looking for overlapping ones is done by one
	// server at a time, so that two starting together do not both miss
	// (or both refuse) each other.
	reg, err := holdRegistry()
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: prefixSocket + prefix, Net: "unix"})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, prefixTaken(prefix, prefix)
		}
		return nil, fmt.Errorf("namespace prefix %s: %w", prefix, err)
	}
	held, err := heldPrefixes()
	if err != nil {
		ln.Close()
		return nil, err
	}
	for _, other := range held {
		if other != prefix && (strings.HasPrefix(other, prefix) || strings.HasPrefix(prefix, other)) {
			ln.Close()
			return nil, prefixTaken(prefix, other)
		}
	}
	b, _ := json.Marshal(me)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(b)
			c.Close()
		}
	}()
	return &prefixLock{ln}, nil
}

// prefixTaken words the refusal of a prefix that other, held by a running
// server, overlaps.
func prefixTaken(prefix, other string) error {
	h := prefixHolder(other)
	if other == prefix {
		return fmt.Errorf("namespace prefix %s is in use by %s: its namespaces would be removed as strays; give this server another --netns-prefix", prefix, h)
	}
	return fmt.Errorf("namespace prefix %s overlaps %s, in use by %s: one server would remove the other's namespaces as strays; give this server a --netns-prefix that neither starts nor extends %s", prefix, other, h, other)
}

// prefixHolder asks the server holding a prefix who it is.
func prefixHolder(prefix string) holder {
	c, err := net.DialTimeout("unix", prefixSocket+prefix, time.Second)
	if err != nil {
		return holder{}
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	var h holder
	json.NewDecoder(io.LimitReader(c, 4096)).Decode(&h)
	return h
}

// prefixInUse names the running server whose prefix overlaps prefix, if one
// does (for `vpcsim down`).
func prefixInUse(prefix string) (string, holder, bool) {
	held, _ := heldPrefixes()
	for _, other := range held {
		if strings.HasPrefix(other, prefix) || strings.HasPrefix(prefix, other) {
			return other, prefixHolder(other), true
		}
	}
	return "", holder{}, false
}

// heldPrefixes lists the prefixes held in this network namespace, from
// /proc/net/unix (whose last column is the socket's path, "@…" when abstract).
func heldPrefixes() ([]string, error) {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil, fmt.Errorf("list the namespace prefixes in use: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// Listening sockets only (state 01, flag __SO_ACCEPTCON): a client
		// connected to a holder shows the same path.
		if len(fields) < 8 || fields[3] != "00010000" {
			continue
		}
		if p, ok := strings.CutPrefix(fields[7], prefixSocket); ok {
			out = append(out, p)
		}
	}
	return out, sc.Err()
}

// holdRegistry takes the registry socket, waiting while another server holds
// it (briefly, to take its own prefix).
func holdRegistry() (*net.UnixListener, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: prefixRegistry, Net: "unix"})
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return nil, fmt.Errorf("take the namespace prefix registry: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
