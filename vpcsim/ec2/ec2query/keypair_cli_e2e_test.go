package ec2query

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyPairsWithSSHKeygen checks key pairs against OpenSSH's own tools,
// through both aws CLIs: a key made by ssh-keygen imports with the
// fingerprint EC2 gives it (MD5 of the public key for RSA, SHA-256 for
// ED25519, as ssh-keygen -l prints them), and the private key CreateKeyPair
// hands out is one ssh-keygen reads, whose public half DescribeKeyPairs
// answers.
func TestKeyPairsWithSSHKeygen(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the aws CLIs; skipped in -short mode")
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatalf("ssh-keygen not found (VPCSIM_REQUIRE_E2E=1; Debian's openssh-client has it): %v", err)
		}
		t.Skipf("ssh-keygen not found (Debian's openssh-client has it): %v", err)
	}
	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, c := range findCLIs(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			c.url = ts.URL
			dir := t.TempDir()
			for _, k := range []struct{ typ, hash string }{{"rsa", "md5"}, {"ed25519", "sha256"}} {
				file := filepath.Join(dir, k.typ)
				run(t, keygen, "-q", "-t", k.typ, "-N", "", "-C", "me@laptop", "-f", file)
				imported := c.ok(t, "ec2", "import-key-pair", "--key-name", k.typ, "--public-key-material", "fileb://"+file+".pub")
				// "2048 MD5:aa:bb:… me@laptop (RSA)", "256 SHA256:AbC… me@laptop (ED25519)"
				fields := strings.Fields(run(t, keygen, "-l", "-E", k.hash, "-f", file+".pub"))
				_, want, _ := strings.Cut(fields[1], ":")
				if got, _ := imported["KeyFingerprint"].(string); strings.TrimRight(got, "=") != want {
					t.Errorf("%s: imported fingerprint %q, ssh-keygen's %q", k.typ, got, want)
				}
			}
			made := c.ok(t, "ec2", "create-key-pair", "--key-name", "made", "--key-type", "ed25519")
			file := filepath.Join(dir, "made")
			material, _ := made["KeyMaterial"].(string)
			if err := os.WriteFile(file, []byte(material+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			derived := strings.Fields(run(t, keygen, "-y", "-f", file))
			desc := c.ok(t, "ec2", "describe-key-pairs", "--key-names", "made", "--include-public-key")
			pairs, _ := desc["KeyPairs"].([]any)
			if len(pairs) != 1 {
				t.Fatalf("describe-key-pairs: %v", desc)
			}
			pair, _ := pairs[0].(map[string]any)
			public, _ := pair["PublicKey"].(string)
			if stored := strings.Fields(public); len(stored) < 2 || stored[0] != derived[0] || stored[1] != derived[1] || pair["KeyType"] != "ed25519" {
				t.Errorf("the stored public key %q, ssh-keygen's from the private key %q", public, derived)
			}
			if code := c.refused(t, "ec2", "import-key-pair", "--key-name", "rsa", "--public-key-material", "fileb://"+filepath.Join(dir, "rsa.pub")); code != "InvalidKeyPair.Duplicate" {
				t.Errorf("a second import of a name: %s", code)
			}
			c.ok(t, "ec2", "delete-key-pair", "--key-name", "made")
		})
	}
}
