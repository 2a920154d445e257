package main

import (
	"path/filepath"
	"testing"
)

// TestAcceptanceVPC runs ../shared/acceptance/01-vpc.sh, the EC2 surface as a
// user drives it.
func TestAcceptanceVPC(t *testing.T) {
	runWithEachCLI(t, filepath.Join(sharedDir(t), "01-vpc.sh"))
}

// TestECSAwsvpc runs testdata/cli/ecs-awsvpc.sh, the seed's ECS walkthrough in
// awsvpc mode with real containers.
func TestECSAwsvpc(t *testing.T) {
	runWithEachCLI(t, "../../testdata/cli/ecs-awsvpc.sh")
}

// TestECSOps runs testdata/cli/ecs-ops.sh, every implemented ECS operation that
// ecs-awsvpc.sh does not call.
func TestECSOps(t *testing.T) {
	runWithEachCLI(t, "../../testdata/cli/ecs-ops.sh")
}

// runWithEachCLI runs a script with aws-cli v1 and v2, each against a fresh
// vpcsim; the script finds the acceptance helpers at $ACCEPTANCE_LIB.
func runWithEachCLI(t *testing.T, script string) {
	requireE2E(t)
	lib := filepath.Join(sharedDir(t), "lib.sh")
	script, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	for name, cli := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t)
			s.extraEnv = []string{"ACCEPTANCE_LIB=" + lib}
			s.runScript(t, script, cli)
		})
	}
}
