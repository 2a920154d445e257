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

// TestECSAwsvpc runs testdata/cli/ecs-awsvpc.sh, the seed's ECS walkthrough in
// awsvpc mode up to real containers, with aws-cli v1 and v2.
func TestECSAwsvpc(t *testing.T) {
	requireE2E(t)
	dir := sharedDir(t)
	script, err := filepath.Abs("../../testdata/cli/ecs-awsvpc.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, cli := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t)
			s.extraEnv = []string{"ACCEPTANCE_LIB=" + filepath.Join(dir, "lib.sh")}
			s.runScript(t, script, cli)
		})
	}
}

// TestECSOps runs testdata/cli/ecs-ops.sh, every implemented ECS operation that
// ecs-awsvpc.sh does not call, with aws-cli v1 and v2.
func TestECSOps(t *testing.T) {
	requireE2E(t)
	dir := sharedDir(t)
	script, err := filepath.Abs("../../testdata/cli/ecs-ops.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, cli := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t)
			s.extraEnv = []string{"ACCEPTANCE_LIB=" + filepath.Join(dir, "lib.sh")}
			s.runScript(t, script, cli)
		})
	}
}
