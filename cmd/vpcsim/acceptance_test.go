package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAcceptanceVPC runs ../shared/acceptance/01-vpc.sh, the EC2 surface as a
// user drives it.
func TestAcceptanceVPC(t *testing.T) {
	runAcceptance(t, bothSideBySide, filepath.Join(sharedDir(t), "01-vpc.sh"))
}

// TestECSAwsvpc runs testdata/cli/ecs-awsvpc.sh, the seed's ECS walkthrough in
// awsvpc mode with real containers.
func TestECSAwsvpc(t *testing.T) {
	runAcceptance(t, onlyV2, "../../testdata/cli/ecs-awsvpc.sh")
}

// TestECSOps runs testdata/cli/ecs-ops.sh, every implemented ECS operation that
// ecs-awsvpc.sh does not call.
func TestECSOps(t *testing.T) {
	runAcceptance(t, onlyV1, "../../testdata/cli/ecs-ops.sh")
}

// TestAcceptanceSeed runs ../shared/acceptance/02-seed.sh, the seed walkthrough,
// with Debian 12's busybox wget mended (see busyboxShim).
func TestAcceptanceSeed(t *testing.T) {
	runAcceptance(t, bothSideBySide, filepath.Join(sharedDir(t), "02-seed.sh"), "PATH="+busyboxShim(t)+":"+os.Getenv("PATH"))
}

// TestAcceptanceSG runs ../shared/acceptance/03-sg.sh, security groups on real
// packets. Three of its checks cannot pass on Debian 12 whatever vpcsim does:
// two run `wget -T` inside a task whose image holds the machine's own busybox
// (segfault, exit 7), and one runs `pgrep -f PATTERN` inside `bash -c` whose
// own command line matches it. testdata/cli/sg-egress.sh checks all three
// behaviours with a working probe instead.
func TestAcceptanceSG(t *testing.T) {
	// Side by side, but one `vpcsim connect` at a time: it routes the machine
	// into the script's VPC, and the other run's VPC has the same CIDR. (No
	// other test connects a VPC.)
	runAcceptance(t, bothConnectInTurn, filepath.Join(sharedDir(t), "03-sg.sh"), "PATH="+busyboxShim(t)+":"+os.Getenv("PATH"),
		"known:task egress to a group-referenced peer, replies pass",
		"known:a narrow egress rule is enough",
		"known:terminating an instance ends the processes in it")
}

// TestSGEgress runs testdata/cli/sg-egress.sh: a task's egress rules, flow
// logs and `vpcsim sg explain`.
func TestSGEgress(t *testing.T) {
	runAcceptance(t, onlyV2, "../../testdata/cli/sg-egress.sh")
}

// connectTurns returns a `vpcsim` for the script run named run that
// connects one run at a time: `vpcsim connect` waits until it can make the
// directory lock (mkdir is atomic), and `disconnect`, or a connect that
// failed, removes it. The lock is removed too when the run ends, after its
// server (and with it the route) is gone, if the run still holds it: call it
// before startServer.
func connectTurns(t *testing.T, lock, run string) string {
	t.Helper()
	t.Cleanup(func() {
		if holder, err := os.ReadFile(filepath.Join(lock, "holder")); err == nil && strings.TrimSpace(string(holder)) == run {
			os.RemoveAll(lock)
		}
	})
	dir := t.TempDir()
	script := fmt.Sprintf(`#!/bin/sh
lock=%[1]q
if [ "$1" = connect ]; then
	n=0
	until mkdir "$lock" 2>/dev/null; do
		n=$((n + 1))
		if [ "$n" -gt 3000 ]; then echo "vpcsim connect: another run held its VPC's route for 10 minutes" >&2; exit 1; fi
		sleep 0.2
	done
	echo %[3]q >"$lock/holder"
	%[2]q "$@" && exit 0
	rc=$?; rm -rf "$lock"; exit $rc
fi
%[2]q "$@"; rc=$?
if [ "$1" = disconnect ]; then rm -rf "$lock"; fi
exit $rc
`, lock, binary, run)
	if err := os.WriteFile(filepath.Join(dir, "vpcsim"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "vpcsim")
}

// busyboxShim returns a directory with a `busybox` that runs Debian's, except
// that `wget -T N` runs under `busybox timeout N`: Debian 12's busybox 1.35 is
// built without FEATURE_WGET_TIMEOUT and segfaults on -T.
func busyboxShim(t *testing.T) string {
	dir := t.TempDir()
	script := `#!/bin/sh
if [ "$1" = wget ]; then
	shift
	t=10 n=$# i=0
	while [ "$i" -lt "$n" ]; do
		a=$1; shift; i=$((i + 1))
		if [ "$a" = -T ]; then t=$1; shift; i=$((i + 1)); continue; fi
		set -- "$@" "$a"
	done
	exec /bin/busybox timeout "$t" /bin/busybox wget "$@"
fi
exec /bin/busybox "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "busybox"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// How runAcceptance runs a script: with which aws CLIs, and whether side by
// side or one after the other (either way beside the other parallel tests);
// connectInTurn lets one run at a time hold `vpcsim connect` (connectTurns).
// The shared acceptance scripts run with both CLIs; our own scripts each with
// one, v1 for one and v2 for the others: every operation they call meets both
// CLIs in the protocol packages' TestAWSCLI, and each CLI run costs a minute
// of CPU (a Python start per call) that CI does not have to spare.
type scriptRuns struct {
	clis          []string
	parallel      bool
	connectInTurn bool
}

var (
	bothSideBySide    = scriptRuns{clis: []string{"v1", "v2"}, parallel: true}
	bothConnectInTurn = scriptRuns{clis: []string{"v1", "v2"}, parallel: true, connectInTurn: true}
	onlyV1            = scriptRuns{clis: []string{"v1"}, parallel: true}
	onlyV2            = scriptRuns{clis: []string{"v2"}, parallel: true}
)

// runAcceptance runs a script with the aws CLIs runs names, each against a
// fresh vpcsim; the script finds the acceptance helpers at $ACCEPTANCE_LIB.
// Extra arguments are environment variables for the script, and
// "known:CHECK" names a check that may fail (see server.knownFailures).
func runAcceptance(t *testing.T, runs scriptRuns, script string, extra ...string) {
	requireE2E(t)
	t.Parallel()
	lib := filepath.Join(sharedDir(t), "lib.sh")
	script, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	clis := awsCLIs(t)
	lock := filepath.Join(t.TempDir(), "connected")
	for _, name := range runs.clis {
		cli := clis[name]
		if cli == "" {
			continue // awsCLIs said why (or failed the test, in CI)
		}
		t.Run(name, func(t *testing.T) {
			if runs.parallel {
				t.Parallel()
			}
			var turns string
			if runs.connectInTurn { // before the server: its lock outlives the server's route
				turns = connectTurns(t, lock, name)
			}
			s := startServer(t)
			s.extraEnv = []string{"ACCEPTANCE_LIB=" + lib}
			if turns != "" {
				s.extraEnv = append(s.extraEnv, "VPCSIM="+turns)
			}
			for _, e := range extra {
				if name, ok := strings.CutPrefix(e, "known:"); ok {
					s.knownFailures = append(s.knownFailures, name)
				} else {
					s.extraEnv = append(s.extraEnv, e)
				}
			}
			s.runScript(t, script, cli)
		})
	}
}
