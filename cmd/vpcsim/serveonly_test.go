package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

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
