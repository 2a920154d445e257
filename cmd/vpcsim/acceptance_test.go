package main

import (
	"path/filepath"
	"testing"
)

// TestAcceptanceVPC runs ../shared/acceptance/01-vpc.sh, the EC2 surface as a
// user drives it, with aws-cli v1 and v2, each against a fresh vpcsim.
func TestAcceptanceVPC(t *testing.T) {
	requireE2E(t)
	dir := sharedDir(t)
	for name, cli := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t)
			s.runScript(t, filepath.Join(dir, "01-vpc.sh"), cli)
		})
	}
}
