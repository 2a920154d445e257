package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// Container output goes straight from the shim to a file (cio.LogFile: the
// shim opens it itself), so logs keep flowing while vpcsim or its containerd
// restarts, and remain after the task is stopped, as CloudWatch keeps them.

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

// makeLogFile creates a container's log file before the shim opens it (by
// path, following links), so that the path is a regular file of vpcsim's.
func (r *Runtime) makeLogFile(taskID, container string) (string, error) {
	p := r.LogPath(taskID, container)
	f, err := hostpath.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
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
