package runtime

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi"
)

// envFiles reads a container's environmentFiles. ECS fetches them from S3, which
// no machine of vpcsim's reaches; a local file (an absolute path, or file://PATH)
// is read instead, in ECS's format: VARIABLE=VALUE lines, # comments, blank lines
// ignored. The container's environment wins over its files, as in ECS.
func envFiles(files []ecsapi.EnvironmentFile) ([]ecsapi.KeyValuePair, error) {
	var out []ecsapi.KeyValuePair
	for _, f := range files {
		path := strings.TrimPrefix(deref(f.Value), "file://")
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("ResourceInitializationError: failed to download env files: %s: vpcsim reads environment files from local paths (/path or file:///path), not from S3", deref(f.Value))
		}
		kv, err := readEnvFile(path)
		if err != nil {
			return nil, fmt.Errorf("ResourceInitializationError: failed to read env file %s: %w", path, err)
		}
		out = append(out, kv...)
	}
	return out, nil
}

func readEnvFile(path string) ([]ecsapi.KeyValuePair, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []ecsapi.KeyValuePair
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" {
			continue
		}
		out = append(out, ecsapi.KeyValuePair{Name: &name, Value: &value})
	}
	return out, sc.Err()
}
