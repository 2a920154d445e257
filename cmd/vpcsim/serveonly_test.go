package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// apiServer is a `vpcsim serve --dataplane none`: the API alone, with no
// kernel objects and no containerd, so it starts in a moment. For end-to-end
// tests of what the API refuses or stores.
type apiServer struct {
	*server // endpoint and dataDir, for sdkConfig
	logPath string
	pid     int
	exited  chan error
}

// startAPIServer starts `vpcsim serve --dataplane none` on dataDir with
// args and env added; the test's cleanup stops it.
func startAPIServer(t *testing.T, dataDir string, env []string, args ...string) *apiServer {
	t.Helper()
	listen := freePort(t)
	s := &apiServer{server: &server{t: t, dataDir: dataDir, listen: listen, endpoint: "http://" + listen},
		logPath: filepath.Join(t.TempDir(), "serve.log"), exited: make(chan error, 1)}
	log, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(binary, append([]string{"serve", "--dataplane", "none", "--listen", listen, "--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = cmd.Process.Pid
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-s.exited
	})
	for {
		if c, err := net.DialTimeout("tcp", listen, 200*time.Millisecond); err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-s.exited:
			s.exited <- err // for the cleanup
			t.Fatalf("vpcsim serve exited before it listened (%v):\n%s", err, s.logText())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *apiServer) logText() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// refusedServe runs `vpcsim serve` with args and env and returns what it
// printed, expecting it to exit with an error before it listens; one that
// listens fails the test (and is stopped).
func refusedServe(t *testing.T, env []string, args ...string) string {
	t.Helper()
	listen := freePort(t)
	out, err := os.CreateTemp(t.TempDir(), "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", listen}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(out.Name())
			if err == nil {
				t.Errorf("vpcsim serve %q exited 0, want a refusal:\n%s", args, b)
			}
			return string(b)
		case <-ctx.Done():
			cmd.Process.Kill()
			<-exited
			t.Fatalf("vpcsim serve %q neither refused nor listened", args)
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond); err == nil {
			c.Close()
			cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("vpcsim serve %q started instead of refusing:\n%s", args, b)
		}
	}
}
