package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/containerd/cio"

	"github.com/vpcsim/vpcsim/ecsapi/runtime/logdriver"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// DefaultLogMaxSize is the size at which a container's log file is rotated
// unless the operator sets another (WithLogMaxSize): 10 MiB, with the one
// before kept as LOG.1, as Docker's json-file with max-size=10m, max-file=2.
const DefaultLogMaxSize = 10 << 20

// Container output goes from the shim to vpcsim's log driver (logdriver: the
// shim runs `vpcsim log-driver` beside the container), which writes it to a
// file and rotates it, so logs keep flowing, and stay bounded, while vpcsim
// or its containerd restarts, and remain after the task is stopped, as
// CloudWatch keeps them.

// logIO is a container's output: the log driver, writing to LogPath. The
// file is made here, so that a directory that cannot hold it fails the
// container rather than its log driver.
func (r *Runtime) logIO(taskID, container string) (cio.Creator, error) {
	if r.logBinary == "" {
		return nil, errors.New("container logs: vpcsim was started without its own executable to write them (runtime.WithLogBinary)")
	}
	path, err := r.makeLogFile(taskID, container)
	if err != nil {
		return nil, err
	}
	cfg := logdriver.Config{Path: path, MaxSize: r.logMaxSize, MaxFiles: 1}
	return cio.BinaryIO(r.logBinary, map[string]string{logdriver.Command: cfg.Arg()}), nil
}

// LogPath is the file a container's stdout and stderr go to:
// <data>/logs/<task ID>/<container name>.log.
func (r *Runtime) LogPath(taskID, container string) string {
	return filepath.Join(r.logDir, safeName(taskID), safeName(container)+".log")
}

// makeLogDir makes <data>/logs/<task ID>, refusing a link in its place.
func (r *Runtime) makeLogDir(taskID string) error {
	if err := hostpath.Mkdir(r.logDir, 0o755); err != nil {
		return err
	}
	return hostpath.Mkdir(filepath.Join(r.logDir, safeName(taskID)), 0o755)
}

// makeLogFile creates a container's log file before the log driver opens it,
// so that the path is a regular file of vpcsim's.
func (r *Runtime) makeLogFile(taskID, container string) (string, error) {
	p := r.LogPath(taskID, container)
	f, err := hostpath.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", err
	}
	return p, f.Close()
}

var safeFile = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// safeName is name if it is a harmless file name (every valid ECS container
// name is), else a cleaned, hashed form.
func safeName(name string) string {
	if safeFile.MatchString(name) {
		return name
	}
	h := sha256.Sum256([]byte(name))
	clean := strings.Trim(unsafeChars.ReplaceAllString(name, "-"), "-")
	if len(clean) > 100 {
		clean = clean[:100]
	}
	return clean + "-" + hex.EncodeToString(h[:4])
}
