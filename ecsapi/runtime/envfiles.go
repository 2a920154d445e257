package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// Environment files are read as the ECS agent downloads them, before any
// container of the task is created, from where they can be on this machine:
//
//   - arn:aws:s3:::BUCKET/KEY (the form ECS takes) is the object KEY of the
//     machine's S3, <data-dir>/s3/BUCKET/KEY, where S3 flow logs go too: a task
//     definition written for AWS runs unchanged;
//   - /PATH or file:///PATH (vpcsim's own) is a file below a directory the
//     operator opened with --host-path, and nowhere else.
//
// Each is opened beneath its root without following a link (package
// hostpath), must be a regular file, and is read up to maxEnvFileSize.
// Failures stop the task as ECS stops it: "ResourceInitializationError: failed
// to download env files: …", one reason a file, joined with ";". A local path
// that is not below an opened directory gets the very words of one that does
// not exist, so the reason never tells whether a host file exists.

const (
	// maxEnvFileSize bounds one file. ECS sets no size of its own (each
	// task downloads a copy to disk); vpcsim reads it into memory.
	maxEnvFileSize = 1 << 20
	// maxEnvFiles is ECS's limit on a container's environment files.
	maxEnvFiles = 10
)

// s3Bucket is what S3 allows in a bucket's name.
var s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)

// envFiles reads a container's environmentFiles, in order: the later file
// wins a name both set, and the container's environment wins over them all
// (it is appended after them).
func (r *Runtime) envFiles(files []ecstypes.EnvironmentFile) ([]ecstypes.KeyValuePair, error) {
	if len(files) > maxEnvFiles {
		return nil, fmt.Errorf("ResourceInitializationError: failed to download env files: %d environment files, more than the %d ECS allows", len(files), maxEnvFiles)
	}
	var out []ecstypes.KeyValuePair
	var reasons []string
	for _, f := range files {
		kv, err := r.envFile(deref(f.Value))
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		out = append(out, kv...)
	}
	if len(reasons) > 0 {
		return nil, errors.New("ResourceInitializationError: failed to download env files: " + strings.Join(reasons, ";"))
	}
	return out, nil
}

// envFile reads one file, worded as the agent words its failures.
func (r *Runtime) envFile(value string) ([]ecstypes.KeyValuePair, error) {
	if strings.HasPrefix(value, "arn:") {
		bucket, key, ok := parseS3ARN(value)
		if !ok {
			return nil, fmt.Errorf("unable to parse bucket and key from s3 ARN specified in environmentFile %s", value)
		}
		b, err := r.readS3(bucket, key)
		if err != nil {
			return nil, fmt.Errorf("unable to download env file with key %s from bucket %s, error: %w", key, bucket, err)
		}
		return parseEnvFile(b)
	}
	path, _ := strings.CutPrefix(value, "file://")
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("unable to parse bucket and key from s3 ARN specified in environmentFile %s", value)
	}
	notFound := fmt.Errorf("unable to read env file %s: no such file below a directory opened with --host-path", value)
	root, rel, ok := hostpath.Find(r.hostPaths, path)
	if !ok {
		return nil, notFound
	}
	b, err := root.ReadFile(rel, maxEnvFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("unable to read env file %s: %s", value, refusal(err))
	}
	return parseEnvFile(b)
}

// readS3 reads an object of the machine's S3, failing as S3 fails.
func (r *Runtime) readS3(bucket, key string) ([]byte, error) {
	if r.data.Dir() == "" {
		return nil, errors.New("NoSuchBucket: The specified bucket does not exist")
	}
	if _, err := r.data.OpenDir(filepath.Join(vpcsim.S3Dir, bucket)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("NoSuchBucket: The specified bucket does not exist")
		}
		return nil, errors.New("AccessDenied: Access Denied")
	}
	// A key is any string; one that cannot be a path beneath the bucket (an
	// empty segment, "." or "..") is no file there.
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return nil, errors.New("NoSuchKey: The specified key does not exist.")
		}
	}
	b, err := r.data.ReadFile(filepath.Join(vpcsim.S3Dir, bucket, key), maxEnvFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errors.New("NoSuchKey: The specified key does not exist.")
	case err != nil:
		return nil, fmt.Errorf("AccessDenied: %s", refusal(err))
	}
	return b, nil
}

// refusal words why a file below an allowed directory was not read.
func refusal(err error) string {
	switch {
	case errors.Is(err, hostpath.ErrSymlink):
		return "it is, or its path passes through, a symbolic link, which vpcsim does not follow"
	case errors.Is(err, hostpath.ErrNotRegular):
		return "not a regular file"
	case errors.Is(err, hostpath.ErrTooLarge):
		return fmt.Sprintf("larger than vpcsim's limit of %d bytes", maxEnvFileSize)
	}
	return "it cannot be read"
}

// parseS3ARN splits arn:PARTITION:s3:::BUCKET/KEY.
func parseS3ARN(arn string) (bucket, key string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] != "s3" || p[3] != "" || p[4] != "" {
		return "", "", false
	}
	bucket, key, ok = strings.Cut(p[5], "/")
	return bucket, key, ok && key != "" && s3Bucket.MatchString(bucket)
}

// parseEnvFile reads ECS's format: VARIABLE=VALUE lines, # comments, blank
// lines and lines without a name ignored. A line longer than 64 KiB fails
// the file, as the agent's line scanner fails it.
func parseEnvFile(b []byte) ([]ecstypes.KeyValuePair, error) {
	var out []ecstypes.KeyValuePair
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" {
			continue
		}
		out = append(out, ecstypes.KeyValuePair{Name: &name, Value: &value})
	}
	return out, sc.Err()
}
