package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

// The key the signature tests' server knows; its secret has the characters
// real secrets have ('/', '+').
const (
	e2eKey    = "AKIDVPCSIME2E00001"
	e2eSecret = "vpcsim/e2e+Secret0123456789abcdefABCDEF"
)

// TestSignaturesE2E: a server given access keys serves requests signed with
// them, from aws-sdk-go-v2 and both aws CLIs, and refuses a wrong secret, an
// unknown key and an unsigned request with the errors EC2, STS and ECS give.
// Its data directory and containerd socket are private, and stay so across a
// restart that finds them looser.
func TestSignaturesE2E(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	// Its containerd's modes are checked, and not those of the shared one.
	s := startServer(t, ownContainerd(), withServeEnv("VPCSIM_ACCESS_KEYS="+e2eKey+":"+e2eSecret))
	if !strings.Contains(s.logText(), "SigV4 signatures are verified") {
		t.Errorf("the server does not say it verifies signatures:\n%s", s.logText())
	}

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		ctx := testContext(t)
		type clients struct {
			ec2 *ec2.Client
			sts *sts.Client
			ecs *ecs.Client
		}
		as := func(key, secret string) clients {
			cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
				BaseEndpoint: aws.String(s.endpoint), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()}
			return clients{ec2.NewFromConfig(cfg), sts.NewFromConfig(cfg), ecs.NewFromConfig(cfg)}
		}
		calls := func(c clients) [3]error {
			_, e1 := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			_, e2 := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			_, e3 := c.ecs.ListClusters(ctx, &ecs.ListClustersInput{})
			return [3]error{e1, e2, e3}
		}
		for i, err := range calls(as(e2eKey, e2eSecret)) {
			if err != nil {
				t.Errorf("call %d with the right key: %v", i, err)
			}
		}
		for _, tc := range []struct {
			what, key, secret string
			want              [3]string // EC2, STS, ECS: "status code"
		}{
			{"wrong secret", e2eKey, e2eSecret[:len(e2eSecret)-1] + "X",
				[3]string{"403 SignatureDoesNotMatch", "403 SignatureDoesNotMatch", "400 InvalidSignatureException"}},
			{"unknown key", "AKIDVPCSIME2E00002", e2eSecret,
				[3]string{"401 AuthFailure", "403 InvalidClientTokenId", "400 UnrecognizedClientException"}},
		} {
			for i, err := range calls(as(tc.key, tc.secret)) {
				var ae smithy.APIError
				var re *smithyhttp.ResponseError
				if !errors.As(err, &ae) || !errors.As(err, &re) {
					t.Errorf("%s, call %d: %v, want %s", tc.what, i, err, tc.want[i])
				} else if got := strconv.Itoa(re.HTTPStatusCode()) + " " + ae.ErrorCode(); got != tc.want[i] {
					t.Errorf("%s, call %d: %s (%s), want %s", tc.what, i, got, ae.ErrorMessage(), tc.want[i])
				}
			}
		}
	})

	for name, cli := range awsCLIs(t) {
		t.Run("aws-cli "+name, func(t *testing.T) {
			home := t.TempDir() // no config or credentials of the machine's
			run := func(key, secret string, args ...string) (string, error) {
				cmd := exec.Command(cli, append([]string{"--endpoint-url", s.endpoint, "--region", "us-west-2", "--output", "json"}, args...)...)
				cmd.Env = s.env("AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_MAX_ATTEMPTS=1",
					"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			commands := [][]string{{"ec2", "describe-vpcs"}, {"sts", "get-caller-identity"}, {"ecs", "list-clusters"}}
			for _, c := range commands {
				if out, err := run(e2eKey, e2eSecret, c...); err != nil {
					t.Errorf("%s with the right key: %v\n%s", c, err, out)
				}
			}
			for _, tc := range []struct {
				what, key, secret string
				extra             []string
				// What the CLI prints of the EC2, STS, ECS refusals: every
				// '|'-separated part (v2 puts its retry count between code and message).
				want [3]string
			}{
				{"wrong secret", e2eKey, "not-the-secret", nil,
					[3]string{"(SignatureDoesNotMatch)", "(SignatureDoesNotMatch)", "(InvalidSignatureException)"}},
				{"unknown key", "AKIDVPCSIME2E00002", e2eSecret, nil,
					[3]string{"(AuthFailure)", "(InvalidClientTokenId)", "(UnrecognizedClientException)"}},
				{"unsigned", e2eKey, e2eSecret, []string{"--no-sign-request"},
					[3]string{"(MissingParameter)|The request must contain the parameter AWSAccessKeyId",
						"(MissingAuthenticationToken)|Request is missing Authentication Token", "(MissingAuthenticationTokenException)"}},
			} {
				for i, c := range commands {
					out, err := run(tc.key, tc.secret, append(tc.extra, c...)...)
					if err == nil || slices.ContainsFunc(strings.Split(tc.want[i], "|"), func(w string) bool { return !strings.Contains(out, w) }) {
						t.Errorf("%s, %s: %v\n%s\nwant %s", tc.what, c, err, out, tc.want[i])
					}
				}
			}
		})
	}

	// vpcsim's own commands change the machine's routes: with keys they must
	// be signed too (TestFrontDoorKeysE2E has the signed ones).
	resp, err := http.Get(s.endpoint + adminPath + "sg/explain?from=nowhere")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Request is missing Authentication Token") {
		t.Errorf("admin path, unsigned: HTTP %d %s", resp.StatusCode, body)
	}

	wantPrivate(t, s)
	// A restart finds them loosened (by hand, or by an older vpcsim) and
	// tightens them.
	s.stop(syscall.SIGTERM)
	for _, p := range []string{s.dataDir, filepath.Join(s.dataDir, "containerd")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(s.dataDir, "vpcsim.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start()
	wantPrivate(t, s)
}

// wantPrivate checks the modes of what a running server keeps in its data
// directory: the directory and containerd's 0700, the database (and its WAL)
// and containerd's sockets 0600.
func wantPrivate(t *testing.T, s *server) {
	t.Helper()
	db := filepath.Join(s.dataDir, "vpcsim.db")
	sock := filepath.Join(s.dataDir, "containerd", "containerd.sock")
	for path, want := range map[string]os.FileMode{
		s.dataDir: 0o700, filepath.Join(s.dataDir, "containerd"): 0o700,
		db: 0o600, db + "-wal": 0o600, db + "-shm": 0o600, sock: 0o600, sock + ".ttrpc": 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

// TestServeRefusesOpenListen: serve given an address other machines reach and
// no access keys refuses at once, saying why, before it makes anything (its
// data directory is never created), so it never listens there.
func TestServeRefusesOpenListen(t *testing.T) {
	_, port, err := net.SplitHostPort(freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VPCSIM_ACCESS_KEYS") && !strings.HasPrefix(kv, "VPCSIM_LISTEN=") {
			env = append(env, kv)
		}
	}
	for _, listen := range []string{"0.0.0.0:" + port, ":" + port, "[::]:" + port} {
		dataDir := filepath.Join(t.TempDir(), "data")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, binary, "serve", "--listen", listen, "--dataplane", "none", "--data-dir", dataDir)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("serve --listen %s: %v, want exit status 2\n%s", listen, err, out)
		}
		if want := "--listen " + listen + " is reachable from other machines"; !strings.Contains(string(out), want) || !strings.Contains(string(out), "--access-keys") {
			t.Errorf("serve --listen %s says:\n%s\nwant %q and how to give keys", listen, out, want)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("serve --listen %s made its data directory (%v) before refusing", listen, err)
		}
	}
}
