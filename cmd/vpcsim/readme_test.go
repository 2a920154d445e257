package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/ec2query"
)

var update = flag.Bool("update", false, "rewrite README.md's coverage section from the code")

// coverage renders the README's coverage section: every EC2 operation of
// botocore's model, and whether vpcsim implements it.
func coverage() string {
	impl := ec2query.Implemented()
	var b strings.Builder
	fmt.Fprintf(&b, "### EC2: %d of %d operations implemented\n\n", len(impl), len(ec2query.ModelOperations()))
	b.WriteString("| Operation | Status |\n|---|---|\n")
	var missing []string
	for _, op := range ec2query.ModelOperations() {
		if slices.Contains(impl, op) {
			fmt.Fprintf(&b, "| %s | implemented |\n", op)
		} else {
			missing = append(missing, op)
		}
	}
	fmt.Fprintf(&b, "\nNot implemented yet (%d), answering `UnsupportedOperation`:\n\n<details><summary>the list</summary>\n\n%s\n\n</details>\n",
		len(missing), strings.Join(missing, ", "))
	b.WriteString("\nSTS: GetCallerIdentity implemented; other STS operations answer an error.\n")
	return b.String()
}

// TestReadmeCoverage keeps README.md's coverage table true to the code
// (go test ./cmd/vpcsim -run TestReadmeCoverage -update rewrites it).
func TestReadmeCoverage(t *testing.T) {
	const begin, end = "<!-- coverage:begin -->\n", "<!-- coverage:end -->"
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no coverage markers")
	}
	want := coverage()
	if readme[i+len(begin):j] == want {
		return
	}
	if !*update {
		t.Fatal("README.md's coverage table differs from the code: run go test ./cmd/vpcsim -run TestReadmeCoverage -update")
	}
	readme = readme[:i+len(begin)] + want + readme[j:]
	if err := os.WriteFile("../../README.md", []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
}
