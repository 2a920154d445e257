package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// envRuntime is a Runtime (without containerd) whose data directory and one
// opened directory are fresh, and a directory that is neither.
func envRuntime(t *testing.T) (r *Runtime, data, opened, outside string) {
	t.Helper()
	data, opened, outside = t.TempDir(), t.TempDir(), t.TempDir()
	dr, _ := hostpath.NewRoot(data)
	or, _ := hostpath.NewRoot(opened)
	return &Runtime{data: dr, hostPaths: []hostpath.Root{or}}, data, opened, outside
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func files(values ...string) []ecstypes.EnvironmentFile {
	var out []ecstypes.EnvironmentFile
	for _, v := range values {
		out = append(out, ecstypes.EnvironmentFile{Value: ecstypes.Ptr(v), Type: ecstypes.EnvironmentFileTypeS3})
	}
	return out
}

func TestEnvFiles(t *testing.T) {
	r, data, opened, _ := envRuntime(t)
	write(t, filepath.Join(data, "s3", "my-bucket", "app", "prod.env"), "# settings\nA=1\n\nB=two=2\nnot a pair\n")
	write(t, filepath.Join(opened, "local.env"), "A=3\nC=local\n")
	kv, err := r.envFiles(files("arn:aws:s3:::my-bucket/app/prod.env", "file://"+filepath.Join(opened, "local.env")))
	if err != nil {
		t.Fatal(err)
	}
	// Later files win; the container's own environment comes after them all.
	got := environment(append(kv, ecstypes.KeyValuePair{Name: ecstypes.Ptr("B"), Value: ecstypes.Ptr("mine")}))
	if strings.Join(got, " ") != "A=3 B=mine C=local" {
		t.Fatalf("environment %v", got)
	}
	kv, err = r.envFiles(files(filepath.Join(opened, "local.env")))
	if err != nil || len(kv) != 2 {
		t.Fatalf("a bare path: %v %v", kv, err)
	}
}

// TestEnvFileRefusals: every failure is ECS's ResourceInitializationError,
// and a host file outside the opened directories reads exactly as one that
// does not exist.
func TestEnvFileRefusals(t *testing.T) {
	r, data, opened, outside := envRuntime(t)
	secret := filepath.Join(outside, "credentials.env")
	write(t, secret, "AWS_SECRET_ACCESS_KEY=hush\n")
	write(t, filepath.Join(data, "s3", "bucket", "big.env"), strings.Repeat("A=1\n", maxEnvFileSize/4+1))
	write(t, filepath.Join(opened, "big.env"), strings.Repeat("A=1\n", maxEnvFileSize/4+1))
	write(t, filepath.Join(opened, "long.env"), "A="+strings.Repeat("x", 70000)+"\n")
	if err := os.Symlink(secret, filepath.Join(opened, "link.env")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(data, "s3", "bucket", "link.env")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(opened, "dir.env"), 0o755); err != nil {
		t.Fatal(err)
	}
	const prefix = "ResourceInitializationError: failed to download env files: "
	notFound := func(v string) string {
		return prefix + "unable to read env file " + v + ": no such file below a directory opened with --host-path"
	}
	for value, want := range map[string]string{
		secret:                            notFound(secret),
		"file://" + secret:                notFound("file://" + secret),
		filepath.Join(opened, "none.env"): notFound(filepath.Join(opened, "none.env")),
		filepath.Join(opened, "..", filepath.Base(outside), "credentials.env"): notFound(filepath.Join(opened, "..", filepath.Base(outside), "credentials.env")),
		filepath.Join(opened, "link.env"):                                      prefix + "unable to read env file " + filepath.Join(opened, "link.env") + ": it is, or its path passes through, a symbolic link, which vpcsim does not follow",
		filepath.Join(opened, "dir.env"):                                       prefix + "unable to read env file " + filepath.Join(opened, "dir.env") + ": not a regular file",
		filepath.Join(opened, "big.env"):                                       prefix + "unable to read env file " + filepath.Join(opened, "big.env") + ": larger than vpcsim's limit of 1048576 bytes",
		"arn:aws:s3:::bucket/none.env":                                         prefix + "unable to download env file with key none.env from bucket bucket, error: NoSuchKey: The specified key does not exist.",
		"arn:aws:s3:::bucket/../../x.env":                                      prefix + "unable to download env file with key ../../x.env from bucket bucket, error: NoSuchKey: The specified key does not exist.",
		"arn:aws:s3:::nobucket/a.env":                                          prefix + "unable to download env file with key a.env from bucket nobucket, error: NoSuchBucket: The specified bucket does not exist",
		"arn:aws:s3:::bucket/link.env":                                         prefix + "unable to download env file with key link.env from bucket bucket, error: AccessDenied: it is, or its path passes through, a symbolic link, which vpcsim does not follow",
		"arn:aws:s3:::bucket/big.env":                                          prefix + "unable to download env file with key big.env from bucket bucket, error: AccessDenied: larger than vpcsim's limit of 1048576 bytes",
		"arn:aws:s3:::Bad_Bucket/a.env":                                        prefix + "unable to parse bucket and key from s3 ARN specified in environmentFile arn:aws:s3:::Bad_Bucket/a.env",
		"s3://bucket/a.env":                                                    prefix + "unable to parse bucket and key from s3 ARN specified in environmentFile s3://bucket/a.env",
		filepath.Join(opened, "long.env"):                                      prefix + "bufio.Scanner: token too long",
	} {
		_, err := r.envFiles(files(value))
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", value, err, want)
		}
	}
	// Several failures: one reason each, joined with ";" as the agent joins them.
	_, err := r.envFiles(files(secret, "arn:aws:s3:::bucket/none.env"))
	if err == nil || strings.Count(err.Error(), ";") != 1 || strings.Contains(err.Error(), "hush") {
		t.Errorf("two failures: %v", err)
	}
	if _, err := r.envFiles(files(make([]string, 11)...)); err == nil || !strings.Contains(err.Error(), "more than the 10 ECS allows") {
		t.Errorf("11 files: %v", err)
	}
}

// TestEnvFileFIFO: a FIFO where a file is expected is refused at once; the
// task's bring-up does not wait for a writer.
func TestEnvFileFIFO(t *testing.T) {
	r, data, opened, _ := envRuntime(t)
	for _, p := range []string{filepath.Join(opened, "pipe.env"), filepath.Join(data, "s3", "bucket", "pipe.env")} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := mkfifo(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{filepath.Join(opened, "pipe.env"), "arn:aws:s3:::bucket/pipe.env"} {
		if _, err := r.envFiles(files(v)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o644) }
