package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecsjson"
	"github.com/vpcsim/vpcsim/vpcsim/ec2/ec2query"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmjson"
)

var update = flag.Bool("update", false, "rewrite README.md's coverage section from the code")

// coverage renders the README's coverage section: every EC2, ECS and SSM operation
// of botocore's models, and whether vpcsim implements it.
func coverage() string {
	var b strings.Builder
	table(&b, "EC2", ec2query.Implemented(), ec2query.ModelOperations(), "UnsupportedOperation")
	table(&b, "ECS", ecsjson.Implemented(), ecsjson.ModelOperations(), "UnsupportedFeatureException")
	table(&b, "SSM", ssmjson.Implemented(), ssmjson.ModelOperations(), "UnsupportedOperationException")
	b.WriteString("\nSTS: GetCallerIdentity implemented; other STS operations answer an error.\n")
	return b.String()
}

func table(b *strings.Builder, api string, impl, all []string, refusal string) {
	fmt.Fprintf(b, "\n### %s: %d of %d operations implemented\n\n", api, len(impl), len(all))
	b.WriteString("| Operation | Status |\n|---|---|\n")
	var missing []string
	for _, op := range all {
		if slices.Contains(impl, op) {
			fmt.Fprintf(b, "| %s | implemented |\n", op)
		} else {
			missing = append(missing, op)
		}
	}
	fmt.Fprintf(b, "\nNot implemented yet (%d), answering `%s`:\n\n<details><summary>the list</summary>\n\n%s\n\n</details>\n",
		len(missing), refusal, strings.Join(missing, ", "))
}

// TestReadmeCoverage keeps README.md's coverage table true to the code
// (go test ./cmd/vpcsim -run TestReadmeCoverage -update rewrites it).
func TestReadmeCoverage(t *testing.T) { keepReadmeSection(t, "coverage", coverage()) }

// keepReadmeSection checks that README.md holds want between the markers
// <!-- NAME:begin --> and <!-- NAME:end -->, or with -update writes it there.
func keepReadmeSection(t *testing.T, name, want string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s markers", name)
	}
	if readme[i+len(begin):j] == want {
		return
	}
	if !*update {
		t.Fatalf("README.md's %s section differs from the code: run go test ./cmd/vpcsim -run %s -update", name, t.Name())
	}
	readme = readme[:i+len(begin)] + want + readme[j:]
	if err := os.WriteFile("../../README.md", []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
}
