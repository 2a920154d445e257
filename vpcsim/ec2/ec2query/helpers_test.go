package ec2query

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/awstest/awscli"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// testServer is an httptest server running the EC2 Query handler over a real
// Cloud with the fake dataplane and an in-memory store.
type testServer struct {
	*httptest.Server
	cloud *ec2sim.Cloud
	dp    *netmodeltest.FakeDataplane
	store *vpcsim.MemStore
	logs  *bytes.Buffer
}

func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	dp, st := netmodeltest.NewFakeDataplane(), vpcsim.NewMemStore()
	c, err := ec2sim.New(context.Background(), st, dp, ec2sim.WithInPlaceCheck(), ec2sim.WithAccount("123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(NewHandler(c, log, opts...))
	t.Cleanup(func() {
		srv.Close()
		c.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: srv, cloud: c, dp: dp, store: st, logs: &logs}
}

// signed is an Authorization header in us-west-2, the region the tests use.
const signed = "AWS4-HMAC-SHA256 Credential=test/20261124/us-west-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef0123"

// post sends a form request as an SDK does and returns status and body.
func (ts *testServer) post(t *testing.T, params url.Values) (int, []byte) {
	t.Helper()
	if params.Get("Version") == "" {
		params.Set("Version", "2016-11-15")
	}
	req, err := http.NewRequest("POST", ts.URL+"/", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", signed)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// call posts Action with key/value pairs, and fails the test unless it succeeds.
func (ts *testServer) call(t *testing.T, action string, kv ...string) []byte {
	t.Helper()
	status, body := ts.post(t, form(action, kv...))
	if status != 200 {
		t.Fatalf("%s: HTTP %d: %s", action, status, body)
	}
	return body
}

// fail posts Action and returns the EC2 error it answers with.
func (ts *testServer) fail(t *testing.T, action string, kv ...string) (int, string, string) {
	t.Helper()
	status, body := ts.post(t, form(action, kv...))
	var e struct {
		Code      string `xml:"Errors>Error>Code"`
		Message   string `xml:"Errors>Error>Message"`
		RequestID string `xml:"RequestID"`
	}
	if err := xml.Unmarshal(body, &e); err != nil || e.Code == "" || e.RequestID == "" {
		t.Fatalf("%s: not an EC2 error (HTTP %d, %v): %s", action, status, err, body)
	}
	return status, e.Code, e.Message
}

func form(action string, kv ...string) url.Values {
	v := url.Values{"Action": {action}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// cli runs an aws CLI binary against the server and decodes its JSON output.
type cli struct {
	name, bin string
	env       []string
	url       string // the endpoint; set per server
}

// findCLIs returns the aws CLIs present: v1 (`aws` on PATH) and v2 (/usr/bin/aws).
// A missing CLI skips its part of the test, unless VPCSIM_REQUIRE_E2E=1 makes
// that a failure, so CI can never skip these tests silently.
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
	for _, c := range []struct{ name, bin, want string }{{"v1", "python3 -m awscli", "aws-cli/1."}, {"v2", awscli.V2, "aws-cli/2."}} {
		path, err := awscli.Path(c.name) // the CLI, started once (see awstest/awscli)
		if err == nil {
			var ver []byte
			ver, err = exec.Command(path, "--version").CombinedOutput()
			if err == nil && !strings.HasPrefix(string(ver), c.want) {
				err = &exec.Error{Name: c.bin, Err: os.ErrNotExist}
				t.Logf("%s is %s, not %s", path, strings.TrimSpace(string(ver)), c.want)
			}
		}
		if err != nil {
			if require {
				t.Errorf("aws CLI %s (%s) is required (VPCSIM_REQUIRE_E2E=1) but unusable: %v", c.name, c.bin, err)
			} else {
				t.Logf("skipping aws CLI %s: %s unusable: %v", c.name, c.bin, err)
			}
			continue
		}
		out = append(out, cli{name: c.name, bin: path, env: env})
	}
	if len(out) == 0 && !require {
		t.Skip("no aws CLI found (set VPCSIM_REQUIRE_E2E=1 to make this a failure)")
	}
	return out
}

// run runs `aws --endpoint-url URL ec2 args...`; it returns the decoded JSON
// output (nil when there is none), stderr and the exit code.
func (c cli) run(t *testing.T, args ...string) (map[string]any, string, int) {
	t.Helper()
	full := append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)
	cmd := exec.Command(c.bin, full...)
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

// ok runs the CLI and fails the test unless it succeeds.
func (c cli) ok(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("%s aws %s: exit %d: %s", c.name, strings.Join(args, " "), code, stderr)
	}
	return out
}

// refused runs the CLI and returns the error code it reports.
func (c cli) refused(t *testing.T, args ...string) string {
	t.Helper()
	_, stderr, code := c.run(t, args...)
	if code == 0 {
		t.Fatalf("%s aws %s succeeded, want an error", c.name, strings.Join(args, " "))
	}
	// "An error occurred (InvalidSubnet.Conflict) when calling the CreateSubnet operation: …"
	_, rest, ok := strings.Cut(stderr, "An error occurred (")
	if !ok {
		t.Fatalf("%s aws %s: unexpected stderr: %s", c.name, strings.Join(args, " "), stderr)
	}
	codeName, _, _ := strings.Cut(rest, ")")
	return codeName
}

// path walks decoded JSON: path(v, "Vpc", "Tags", 0, "Key").
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

// eachCLI runs flow with each aws CLI present, in parallel, each against a
// server of its own.
func eachCLI(t *testing.T, flow func(t *testing.T, c cli, ts *testServer)) {
	t.Helper()
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL
			flow(t, c, ts)
		})
	}
}

// expecter returns a check that a value decoded from a CLI's output is the
// one wanted, type and all (JSON numbers are float64).
func expecter(t *testing.T) func(what string, got, want any) {
	return func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v (%T), want %v (%T)", what, got, got, want, want)
		}
	}
}
