package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// echoImage is the test image built from testdata/images/echo.
const echoImage = "docker.io/vpcsim/echo:latest"

// buildEchoImage compiles testdata/images/echo into a static binary and packs it
// as a one-layer OCI archive named ref, with the binary as its entrypoint: how
// the tests get an image on machines that reach no registry, without committing
// image blobs.
func buildEchoImage(dir, ref string) (string, error) {
	bin := filepath.Join(dir, "echo")
	build := exec.Command("go", "build", "-o", bin, "../../testdata/images/echo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the echo server: %v %s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	layer, err := tarOf(map[string][]byte{"echo": exe, "tmp/": nil}, 0o755)
	if err != nil {
		return "", err
	}
	blobs := map[string][]byte{}
	put := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs["blobs/sha256/"+hex.EncodeToString(sum[:])] = b
		return d, len(b)
	}
	layerDigest, layerSize := put(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": time.Unix(0, 0).UTC(),
		"config": map[string]any{"Entrypoint": []string{"/echo"}, "Env": []string{"PATH=/"}, "ExposedPorts": map[string]any{"80/tcp": map[string]any{}}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	configDigest, configSize := put(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize}},
	})
	manifestDigest, manifestSize := put(manifest)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize,
			"annotations": map[string]string{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref},
		}},
	})
	blobs["index.json"] = index
	blobs["oci-layout"] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
	archive, err := tarOf(blobs, 0o644)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "echo.tar")
	return out, os.WriteFile(out, archive, 0o644)
}

// tarOf packs files (a name ending in / is a directory) in name order.
func tarOf(files map[string][]byte, mode int64) ([]byte, error) {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: mode, Size: int64(len(files[n])), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if n[len(n)-1] == '/' {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o1777, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}
