package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
)

// TestContainerFlags: the container settings of serve, from flags or their
// variables (a flag given wins), with Docker's size spellings and their
// defaults.
func TestContainerFlags(t *testing.T) {
	for _, v := range []string{"VPCSIM_INSECURE_REGISTRIES", "VPCSIM_HOST_DEVICES", "VPCSIM_ALLOW_HOST_NAMESPACES", "VPCSIM_TASK_PIDS_LIMIT", "VPCSIM_CONTAINER_LOG_MAX_SIZE"} {
		t.Setenv(v, "")
	}
	c, err := parseServeFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	// What the runtime is given: registries, devices, host namespaces, pids, log size.
	seen := func(c containerConfig) string {
		return fmt.Sprintf("%q %q %v %d %d", c.insecureRegistries.values, c.hostDevices.values, c.allowHostNamespaces, c.taskPidsLimit, c.logMaxSize)
	}
	if got, want := seen(c.containers), fmt.Sprintf("[] [] false %d %d", ecsrt.DefaultTaskPidsLimit, 10<<20); got != want {
		t.Errorf("defaults %s, want %s", got, want)
	}
	c, err = parseServeFlags([]string{"--insecure-registry", "127.0.0.1:5000", "--insecure-registry", "reg.local",
		"--host-device", "/dev/fuse", "--allow-host-namespaces", "--task-pids-limit", "0", "--container-log-max-size", "512k"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seen(c.containers), `["127.0.0.1:5000" "reg.local"] ["/dev/fuse"] true 0 524288`; got != want {
		t.Errorf("flags %s, want %s", got, want)
	}
	t.Setenv("VPCSIM_INSECURE_REGISTRIES", "a:1, b")
	t.Setenv("VPCSIM_HOST_DEVICES", "/dev/snd")
	t.Setenv("VPCSIM_TASK_PIDS_LIMIT", "100")
	t.Setenv("VPCSIM_CONTAINER_LOG_MAX_SIZE", "1g")
	t.Setenv("VPCSIM_ALLOW_HOST_NAMESPACES", "1")
	if c, err = parseServeFlags([]string{"--task-pids-limit", "7"}); err != nil {
		t.Fatal(err)
	}
	if got, want := seen(c.containers), `["a:1" "b"] ["/dev/snd"] true 7 1073741824`; got != want {
		t.Errorf("variables %s, want %s", got, want)
	}
	for _, args := range [][]string{
		{"--task-pids-limit", "-1"}, {"--container-log-max-size", "10x"}, {"--container-log-max-size", "0"},
		{"--host-device", "dev/fuse"}, {"--insecure-registry", "http://127.0.0.1:5000"},
	} {
		if _, err := parseServeFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		} else if _, usage := err.(usageError); !usage {
			t.Errorf("%q: %v is not a usage error", args, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to write and read at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsFollowRotation: `vpcsim logs` prints the rotated file before the
// current one, and `-f` goes on from the rotated copy into the emptied file
// across rotations, losing and repeating nothing.
func TestLogsFollowRotation(t *testing.T) {
	data := t.TempDir()
	task := "0123456789abcdef0123456789abcdef"
	dir := filepath.Join(data, "logs", task)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web.log")
	// As the shim holds it: open for appending, across rotations.
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var want strings.Builder
	write := func(from, to int) {
		for i := from; i < to; i++ {
			line := fmt.Sprintf("line %04d %s\n", i, strings.Repeat("x", 80))
			want.WriteString(line)
			if _, err := w.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rotate := func() {
		t.Helper()
		if err := ecsrt.RotateLog(path, 1000); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 15) // 1365 bytes
	rotate()
	write(15, 17)
	var once bytes.Buffer
	if err := logsCmd(context.Background(), []string{"--data-dir", data, task}, &once); err != nil {
		t.Fatal(err)
	}
	if once.String() != want.String() {
		t.Fatalf("logs printed\n%s\nwant\n%s", once.String(), want.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- logsCmd(ctx, []string{"--data-dir", data, task, "web", "-f"}, out) }()
	wait := func() {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); out.String() != want.String(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("logs -f printed\n%s\nwant\n%s", out.String(), want.String())
			}
		}
	}
	wait()
	// Rotations with lines written before and after each, and one the reader
	// reads in the middle of a file, before the rest comes and it rotates.
	for round := 0; round < 6; round++ {
		base := 17 + 20*round
		write(base, base+8)
		if round%2 == 0 {
			wait()
		}
		write(base+8, base+12)
		rotate()
		write(base+12, base+20)
		wait()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
