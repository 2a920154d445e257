package ec2query

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestImplementedAreModelOperations(t *testing.T) {
	impl := Implemented()
	if !slices.IsSorted(impl) {
		t.Error("Implemented() is not sorted")
	}
	ops := ModelOperations()
	for _, name := range impl {
		if _, ok := slices.BinarySearch(ops, name); !ok {
			t.Errorf("%s is implemented but is not an EC2 operation", name)
		}
	}
	if len(ops) < 700 {
		t.Errorf("the model lists %d operations; model_gen.go looks truncated", len(ops))
	}
}

// TestRequestKeysInModel checks every query tag of every request type against the
// keys botocore's model allows for its operation: a misspelt tag would silently
// never match what clients send.
func TestRequestKeysInModel(t *testing.T) {
	for _, name := range Implemented() {
		a := actions[name]
		allowed := modelKeys(name)
		paths := queryPaths(a.req)
		if len(paths) == 0 {
			t.Errorf("%s: request type %v has no query fields", name, a.req)
		}
		for _, p := range paths {
			if allowed[p] {
				continue
			}
			// An ignored field may stand for a whole structure or list.
			prefix := false
			for k := range allowed {
				prefix = prefix || strings.HasPrefix(k, p+".")
			}
			if !prefix {
				t.Errorf("%s: %v has key %q, which the model does not", name, a.req, p)
			}
		}
		if allowed["DryRun"] && !slices.Contains(paths, "DryRun") {
			t.Errorf("%s: the model has DryRun, %v does not", name, a.req)
		}
		if allowed["MaxResults"] && !slices.Contains(paths, "MaxResults") {
			t.Errorf("%s: the model has MaxResults/NextToken, %v does not page", name, a.req)
		}
	}
}

// TestModelGenCurrent regenerates model_gen.go from the installed botocore and
// fails if the checked-in file differs (run `go generate` to update it).
func TestModelGenCurrent(t *testing.T) {
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatalf("python3 with botocore is required (VPCSIM_REQUIRE_E2E=1): %v", err)
		}
		t.Skipf("python3 with botocore not available: %v", err)
	}
	out, err := exec.Command("python3", "testdata/genmodel.py", "-").Output()
	if err != nil {
		t.Fatalf("genmodel.py: %v", err)
	}
	have, err := os.ReadFile("model_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if formatted, err := format.Source(out); err == nil {
		out = formatted // the generator formats only when it finds gofmt
	}
	if !bytes.Equal(out, have) {
		// A different botocore release may add operations; the installed one is
		// the reference, so the file must follow it.
		t.Errorf("model_gen.go is stale for the installed botocore; run `go generate ./vpcsim/ec2/ec2query`")
	}
}
