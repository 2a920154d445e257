package ecsjson

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awstest/awscli"
)

// TestAWSCLI drives the real aws CLI v1 (python3 -m awscli) and v2 (/usr/bin/aws)
// against the stub-backed handler and checks what they parse out of its answers
// and errors: a wrong member name or type shows up as a missing or mistyped value,
// a wrong error shape as a wrong code or message.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		// make test runs it in full first; its race-detector run is -short.
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL

			out := c.ok(t, "ecs", "create-cluster", "--cluster-name", "web", "--tags", "key=team,value=a")
			expect(t, "clusterArn", str(out, "cluster", "clusterArn"), "arn:aws:ecs:us-west-2:123456789012:cluster/web")
			expect(t, "runningTasksCount", path(out, "cluster", "runningTasksCount"), 0.0)
			expect(t, "tag", str(out, "cluster", "tags", 0, "value"), "a")
			if l, ok := path(out, "cluster", "statistics").([]any); !ok || len(l) != 0 {
				t.Errorf("statistics = %v, want []", path(out, "cluster", "statistics"))
			}

			out = c.ok(t, "ecs", "describe-clusters", "--clusters", "web", "gone")
			expect(t, "clusters", len(list(out, "clusters")), 1)
			expect(t, "failure", str(out, "failures", 0, "reason"), "MISSING")

			out = c.ok(t, "ecs", "run-task", "--task-definition", "web:1")
			expect(t, "lastStatus", str(out, "tasks", 0, "lastStatus"), "PROVISIONING")
			expect(t, "launchType", str(out, "tasks", 0, "launchType"), "EC2")
			expect(t, "version", path(out, "tasks", 0, "version"), 1.0)
			expect(t, "attachment", str(out, "tasks", 0, "attachments", 0, "details", 0, "value"), "subnet-0abc")
			// v1 prints timestamps as received (epoch seconds), v2 as ISO 8601.
			switch at := path(out, "tasks", 0, "createdAt").(type) {
			case float64:
				expect(t, "createdAt", at, 1732478212.123)
			case string:
				if tm, err := time.Parse(time.RFC3339Nano, at); err != nil || !tm.Equal(created) {
					t.Errorf("createdAt %q (%v), want %v", at, err, created)
				}
			default:
				t.Errorf("createdAt = %v (%T)", at, at)
			}

			for _, e := range []struct {
				args      []string
				code, msg string
			}{
				{[]string{"ecs", "delete-cluster", "--cluster", "gone"}, "ClusterNotFoundException", "Cluster not found."},
				{[]string{"ecs", "create-cluster", "--cluster-name", "taken"}, "ClientException", `Cluster taken <&> "quoted".`},
				{[]string{"ecs", "put-account-setting", "--name", "serviceLongArnFormat", "--value", "enabled"}, "UnsupportedFeatureException", "The operation PutAccountSetting is not supported by vpcsim yet."},
				{[]string{"ecs", "list-clusters"}, "ServerException", "Service Unavailable. Please try again later."},
				{[]string{"ecs", "run-task", "--task-definition", "web", "--launch-type", "EC3"}, "InvalidParameterException",
					"1 validation error detected: Value 'EC3' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]"},
			} {
				code, msg := c.refused(t, e.args...)
				if code != e.code || msg != e.msg {
					t.Errorf("aws %s: (%s) %q, want (%s) %q", strings.Join(e.args, " "), code, msg, e.code, e.msg)
				}
			}
		})
	}
}

func expect(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v (%T), want %v (%T)", what, got, got, want, want)
	}
}

// cli runs an aws CLI against the server and decodes its JSON output.
type cli struct {
	name string
	cmd  []string
	env  []string
	url  string
}

// findCLIs returns the aws CLIs present: v1 (python3 -m awscli) and v2
// (/usr/bin/aws). A missing CLI skips its part of the test, unless
// VPCSIM_REQUIRE_E2E=1 makes that a failure, so CI can never skip it silently.
func findCLIs(t *testing.T) []cli {
	t.Helper()
	home := t.TempDir()
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-west-2",
		"AWS_REGION=us-west-2", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_DEFAULT_OUTPUT=json", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
	)
	require := os.Getenv("VPCSIM_REQUIRE_E2E") == "1"
	var out []cli
	for _, c := range []struct {
		name string
		cmd  []string
		want string
	}{
		{"v1", []string{"python3", "-m", "awscli"}, "aws-cli/1."},
		{"v2", []string{awscli.V2}, "aws-cli/2."},
	} {
		// The CLI, started once (see awstest/awscli).
		bin, err := awscli.Path(c.name)
		var ver []byte
		if err == nil {
			c.cmd = []string{bin}
			ver, err = exec.Command(bin, "--version").CombinedOutput()
		}
		if err == nil && !strings.HasPrefix(string(ver), c.want) {
			err = &exec.Error{Name: strings.Join(c.cmd, " "), Err: os.ErrNotExist}
			t.Logf("%s is %s, not %s", strings.Join(c.cmd, " "), strings.TrimSpace(string(ver)), c.want)
		}
		if err != nil {
			if require {
				t.Errorf("aws CLI %s (%s) is required (VPCSIM_REQUIRE_E2E=1) but unusable: %v", c.name, strings.Join(c.cmd, " "), err)
			} else {
				t.Logf("skipping aws CLI %s: %s unusable: %v", c.name, strings.Join(c.cmd, " "), err)
			}
			continue
		}
		out = append(out, cli{name: c.name, cmd: c.cmd, env: env})
	}
	if len(out) == 0 && !require {
		t.Skip("no aws CLI found (set VPCSIM_REQUIRE_E2E=1 to make this a failure)")
	}
	return out
}

// run runs `aws --endpoint-url URL args...`; it returns the decoded JSON output
// (nil when there is none), stderr and the exit code.
func (c cli) run(t *testing.T, args ...string) (map[string]any, string, int) {
	t.Helper()
	full := append(append(c.cmd[1:len(c.cmd):len(c.cmd)], "--endpoint-url", c.url, "--output", "json"), args...)
	cmd := exec.Command(c.cmd[0], full...)
	cmd.Env = c.env
	stdout, stderr, code, err := awscli.Run(cmd)
	if err != nil {
		t.Fatalf("%s %v: %v", c.name, args, err)
	}
	var out map[string]any
	if s := strings.TrimSpace(stdout); s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("%s %v: output is not JSON: %v\n%s", c.name, args, err, s)
		}
	}
	return out, stderr, code
}

func (c cli) ok(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("%s aws %s: exit %d: %s", c.name, strings.Join(args, " "), code, stderr)
	}
	return out
}

// cliMessage finds the message in "… when calling the X operation: MESSAGE" (v1)
// and "… when calling the X operation (reached max retries: 0): MESSAGE" (v2).
var cliMessage = regexp.MustCompile(`(?s) operation(?: \([^)]*\))?: (.*)$`)

// refused runs the CLI and returns the error code and message it reports:
// "An error occurred (CODE) when calling the OP operation: MESSAGE".
func (c cli) refused(t *testing.T, args ...string) (string, string) {
	t.Helper()
	_, stderr, code := c.run(t, args...)
	if code == 0 {
		t.Fatalf("%s aws %s succeeded, want an error", c.name, strings.Join(args, " "))
	}
	_, rest, ok := strings.Cut(stderr, "An error occurred (")
	if !ok {
		t.Fatalf("%s aws %s: unexpected stderr: %s", c.name, strings.Join(args, " "), stderr)
	}
	codeName, rest, _ := strings.Cut(rest, ")")
	m := cliMessage.FindStringSubmatch(rest)
	if m == nil {
		t.Fatalf("%s aws %s: unexpected stderr: %s", c.name, strings.Join(args, " "), stderr)
	}
	return codeName, strings.TrimSpace(m[1])
}

// path walks decoded JSON: path(v, "cluster", "tags", 0, "key").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	s, _ := path(v, keys...).(string)
	return s
}

func list(v any, keys ...any) []any {
	l, _ := path(v, keys...).([]any)
	return l
}
