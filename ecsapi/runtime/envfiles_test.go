package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi"
)

func TestEnvFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(path, []byte("# settings\nA=1\n\nB=two=2\nnot a pair\nA=3\n"), 0o600)
	kv, err := envFiles([]ecsapi.EnvironmentFile{{Value: ecsapi.Ptr("file://" + path), Type: ecsapi.EnvironmentFileTypeS3}})
	if err != nil {
		t.Fatal(err)
	}
	// The container's own environment comes after the files, and wins.
	got := environment(append(kv, ecsapi.KeyValuePair{Name: ecsapi.Ptr("B"), Value: ecsapi.Ptr("mine")}))
	if strings.Join(got, " ") != "A=3 B=mine" {
		t.Fatalf("environment %v", got)
	}
	_, err = envFiles([]ecsapi.EnvironmentFile{{Value: ecsapi.Ptr("arn:aws:s3:::bucket/app.env")}})
	if err == nil || !strings.HasPrefix(err.Error(), "ResourceInitializationError: ") {
		t.Fatalf("an S3 file: %v", err)
	}
}
