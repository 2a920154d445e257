package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRouterE2E: the listener answers a request for an API vpcsim does not
// serve as that API's protocol family answers one it cannot route: the aws
// CLIs' IAM and ELBv2 calls (Query, signed for iam and elasticloadbalancing)
// get InvalidAction, no longer EC2's UnsupportedOperation, and CloudWatch
// Logs' (JSON 1.1) UnknownOperationException; STS is still STS's.
func TestRouterE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	for name, cli := range awsCLIs(t) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"iam", "list-users"}, "(InvalidAction)"},
			{[]string{"elbv2", "describe-load-balancers"}, "(InvalidAction)"},
			{[]string{"logs", "describe-log-groups"}, "(UnknownOperationException)"},
		} {
			cmd := exec.Command(cli, append([]string{"--endpoint-url", s.endpoint, "--output", "json"}, tc.args...)...)
			cmd.Env = s.env("AWS_MAX_ATTEMPTS=1")
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("aws-cli %s %s: %v %s, want an error %s", name, tc.args, err, out, tc.want)
			}
		}
		cmd := exec.Command(cli, "--endpoint-url", s.endpoint, "--output", "text", "--query", "Account", "sts", "get-caller-identity")
		cmd.Env = s.env("AWS_MAX_ATTEMPTS=1")
		if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) != 12 || strings.Trim(strings.TrimSpace(string(out)), "0123456789") != "" {
			t.Errorf("aws-cli %s sts get-caller-identity: %v %s", name, err, out)
		}
	}
}
