package awscli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSameAsTheCLI runs each call twice, once through Path's fork server and
// once as the CLI's own process, and wants the same stdout, stderr, exit
// status and request: the arguments, environment (the region, the
// credentials), working directory (a relative file://) and stdin reach the
// call as they reach a fresh aws.
func TestSameAsTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the aws CLIs; skipped in -short mode")
	}
	var mu sync.Mutex
	var seen []string // what the server received, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		if i := strings.Index(auth, "Credential="); i >= 0 {
			auth = strings.SplitN(auth[i:], ",", 2)[0]
		}
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %s %s", r.Method, r.Header.Get("X-Amz-Target"), auth, body))
		mu.Unlock()
		switch {
		case strings.Contains(string(body), "Action=GetCallerIdentity"):
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId><Account>123456789012</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListClusters"):
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"clusterArns":["arn:aws:ecs:eu-west-1:123456789012:cluster/a"]}`)
		default:
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(400)
			fmt.Fprint(w, `<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-1' does not exist</Message></Error></Errors><RequestID>r</RequestID></Response>`)
		}
	}))
	defer srv.Close()

	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	if err := os.WriteFile(filepath.Join(home, "input.json"), []byte(`{"maxResults": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		args  []string
		stdin string
	}{
		{args: []string{"--version"}},
		{args: []string{"ec2", "describe-vpcs", "--no-such-option"}},
		{args: []string{"--endpoint-url", srv.URL, "sts", "get-caller-identity"}},
		{args: []string{"--endpoint-url", srv.URL, "--output", "text", "ec2", "describe-vpcs", "--vpc-ids", "vpc-1"}},
		{args: []string{"--endpoint-url", srv.URL, "ecs", "list-clusters", "--cli-input-json", "file://input.json"}},
		{args: []string{"--endpoint-url", srv.URL, "ecs", "list-clusters", "--cli-input-json", "file:///dev/stdin"}, stdin: `{"maxResults": 7}`},
	}
	run := func(argv []string, stdin string) string {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env, cmd.Dir, cmd.Stdin = env, home, strings.NewReader(stdin)
		stdout, stderr, code, err := Run(cmd)
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		mu.Lock()
		defer mu.Unlock()
		got := fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s\nrequests:\n%s", code, stdout, stderr, strings.Join(seen, "\n"))
		seen = nil
		return got
	}

	for _, name := range []string{"v1", "v2"} {
		t.Run(name, func(t *testing.T) {
			direct := []string{V2}
			if name == "v1" {
				out, err := exec.Command("python3", "-c", "import sys, awscli; print(sys.executable)").Output()
				if err != nil {
					skipOrFail(t, "aws-cli v1 (python3 -m awscli) is missing")
				}
				direct = []string{strings.TrimSpace(string(out)), "-m", "awscli"}
			} else if _, err := os.Stat(V2); err != nil {
				skipOrFail(t, "aws-cli v2 is missing")
			}
			forked, err := Path(name)
			if err != nil {
				t.Fatal(err)
			}
			if forked == V2 {
				t.Skipf("%s is not a Python script: Path runs it as it is", V2)
			}
			for _, c := range calls {
				want := run(append(direct, c.args...), c.stdin)
				if got := run(append([]string{forked}, c.args...), c.stdin); got != want {
					t.Errorf("aws %s\n--- through the fork server:\n%s\n--- as its own process:\n%s", strings.Join(c.args, " "), got, want)
				}
			}
		})
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
		t.Fatalf("%s (VPCSIM_REQUIRE_E2E=1)", why)
	}
	t.Skip(why)
}
