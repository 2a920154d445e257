// Package awscli runs the real aws CLIs, v1 and v2, for tests at a
// fraction of their start-up cost.
//
// Every `aws` call is a Python start, the import of awscli and botocore and
// the parse of the service models (EC2's is megabytes of JSON): 1.5–2.5 CPU
// seconds (v1 behind a pyenv shim costs the most), paid hundreds of times
// by `make test` on a machine of two cores. Path gives an executable that
// forwards each call to a fork server (forkserver.py) that has paid that once:
// each call is a fork that runs the CLI's own entry point — `python -m awscli`
// for v1, the script /usr/bin/aws for v2 — with the caller's arguments,
// environment, working directory and standard streams, in a process of its
// own, and exits with the CLI's status. About 0.5 CPU seconds a call.
//
// One server per CLI per test binary, started on first use; it ends when the
// test binary does (its stdin is a pipe the binary holds) and removes its
// directory. An aws that is not a Python script (the official v2 installer
// is a bundled binary) is returned as it is.
package awscli

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

//go:embed forkserver.py
var forkServer []byte

//go:embed client.py
var client []byte

// V2 is where Debian's awscli package puts aws-cli v2.
const V2 = "/usr/bin/aws"

type started struct {
	path string
	err  error
}

var (
	mu      sync.Mutex
	servers = map[string]*started{}
)

// Path returns an executable that runs aws-cli name ("v1": the Python
// package awscli of the python3 on PATH; "v2": V2) with the arguments it is
// given. The caller checks `--version` if it cares which version it got.
func Path(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if s := servers[name]; s != nil {
		return s.path, s.err
	}
	s := &started{}
	s.path, s.err = start(name)
	servers[name] = s
	return s.path, s.err
}

func start(name string) (string, error) {
	var python, entry string
	switch name {
	case "v1":
		// The interpreter itself, not a pyenv shim (a shell script that
		// costs most of a second per call), and only one with awscli.
		out, err := exec.Command("python3", "-c", "import sys, awscli; print(sys.executable)").Output()
		if err != nil {
			return "", fmt.Errorf("aws-cli v1: python3 cannot import awscli: %v", err)
		}
		python, entry = strings.TrimSpace(string(out)), "module:awscli"
	case "v2":
		interp, err := shebang(V2)
		if err != nil {
			return "", err
		}
		if !strings.Contains(filepath.Base(interp), "python") {
			return V2, nil // not a Python script: run it as it is
		}
		python, entry = interp, "script:"+V2
	default:
		return "", fmt.Errorf("aws-cli %q: want v1 or v2", name)
	}
	dir, err := os.MkdirTemp("", "awscli-"+name+"-")
	if err != nil {
		return "", err
	}
	server, clientPy, wrapper := filepath.Join(dir, "forkserver.py"), filepath.Join(dir, "client.py"), filepath.Join(dir, "aws")
	sock := filepath.Join(dir, "sock")
	script := fmt.Sprintf("#!/bin/sh\nexec %s -I -S %s %s \"$@\"\n", python, clientPy, sock)
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{server, forkServer, 0o644}, {clientPy, client, 0o644}, {wrapper, []byte(script), 0o755}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	cmd := exec.Command(python, server, dir, entry)
	cmd.Stderr = os.Stderr
	lifeline, err := cmd.StdinPipe() // never written, never closed: EOF when this process ends
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("aws-cli %s: start the fork server: %v", name, err)
	}
	// It says "ready" once it listens, or ends (a Python error on stderr).
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		lifeline.Close()
		cmd.Wait()
		os.RemoveAll(dir)
		return "", fmt.Errorf("aws-cli %s: the fork server did not start (%s %s)", name, python, entry)
	}
	lifelines = append(lifelines, lifeline)
	go cmd.Wait()
	return wrapper, nil
}

// lifelines hold the servers' stdin pipes open for the life of the test binary.
var lifelines []io.WriteCloser

// shebang returns the interpreter named on the first line of a script.
func shebang(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("aws-cli v2: %v", err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return "", nil
	}
	fields := strings.Fields(rest)
	if len(fields) != 1 {
		return "", nil // none, or with options: Path runs the script as it is
	}
	return fields[0], nil
}

// Run runs cmd, an aws CLI call, and returns what it wrote and its exit
// status; err only when it could not be run at all.
func Run(cmd *exec.Cmd) (stdout, stderr string, code int, err error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code, err = exit.ExitCode(), nil
	}
	return out.String(), errOut.String(), code, err
}
