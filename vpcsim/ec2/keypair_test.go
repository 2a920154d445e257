package ec2

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
)

// Key pairs: made (the private key handed out once, in PEM, with EC2's
// fingerprint of it) or imported (EC2's fingerprint of the public key),
// refused as EC2 refuses them, and required by RunInstances' KeyName.
func TestKeyPairRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	k, material, err := tc.CreateKeyPair(ctx, west, "deploy", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(material))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("an RSA key's material:\n%s", material)
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || priv.N.BitLen() != 2048 {
		t.Fatalf("the private key: %v", err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	sum := sha1.Sum(der)
	if k.Fingerprint != colonHex(sum[:]) || k.Type != "rsa" || !strings.HasPrefix(k.ID, "key-") || !strings.HasPrefix(k.PublicKey, "ssh-rsa AAAA") {
		t.Fatalf("the key pair %+v", k)
	}
	// Its public key is the private key's.
	blob, _ := base64.StdEncoding.DecodeString(strings.Fields(k.PublicKey)[1])
	if got := sshRSA(&priv.PublicKey); string(got) != string(blob) {
		t.Fatal("the stored public key is not the private key's")
	}
	_, _, err = tc.CreateKeyPair(ctx, west, "deploy", "ed25519", "", nil)
	wantCode(t, err, "InvalidKeyPair.Duplicate")
	ed, material, err := tc.CreateKeyPair(ctx, west, "edge", "ed25519", "", nil)
	if err != nil || !strings.Contains(material, "BEGIN OPENSSH PRIVATE KEY") || len(ed.Fingerprint) != 44 || ed.Type != "ed25519" {
		t.Fatalf("an ED25519 key pair: %v %+v\n%s", err, ed, material)
	}
	for _, c := range []struct {
		name, key, code string
	}{
		{"not a key", "hello", "InvalidKey.Format"},
		{"RSA of 512 bits", "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSA(&rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 511), E: 65537})), "InvalidKey.Format"},
		{"no key", "", "MissingParameter"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tc.ImportKeyPair(ctx, west, "imported", []byte(c.key), nil)
			wantCode(t, err, c.code)
		})
	}
	imported, err := tc.ImportKeyPair(ctx, west, "imported", []byte(rsaLine(t, 2048)+" me@laptop\n"), []Tag{{Key: "team", Value: "a"}})
	if err != nil || len(imported.Fingerprint) != 47 {
		t.Fatalf("an imported RSA key: %v %+v", err, imported)
	}
	_, _, err = tc.CreateKeyPair(ctx, west, strings.Repeat("k", 256), "", "", nil)
	wantCode(t, err, "InvalidParameterValue")
	_, _, err = tc.CreateKeyPair(ctx, west, "x", "dsa", "", nil)
	wantCode(t, err, "InvalidParameterValue")

	got := must[[]KeyPair](t)(tc.DescribeKeyPairs(ctx, west, nil, nil, []Filter{{Name: "tag:team", Values: []string{"a"}}}))
	if len(got) != 1 || got[0].Name != "imported" {
		t.Fatalf("by tag: %+v", got)
	}
	_, err = tc.DescribeKeyPairs(ctx, west, []string{"nope"}, nil, nil)
	wantCode(t, err, "InvalidKeyPair.NotFound")
	if got := must[[]KeyPair](t)(tc.DescribeKeyPairs(ctx, west, nil, nil, nil)); len(got) != 3 {
		t.Fatalf("all: %d", len(got))
	}

	// RunInstances names a key pair of the region.
	sub := tc.subnet(t, tc.vpc(t, "10.0.0.0/16").ID, "10.0.0.0/24")
	_, err = tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetID: sub.ID, KeyName: "nope"})
	wantCode(t, err, "InvalidKeyPair.NotFound")
	if _, err := tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetID: sub.ID, KeyName: "deploy"}); err != nil {
		t.Fatal(err)
	}

	// Deleting a name that has none succeeds, as EC2's does.
	if id, err := tc.DeleteKeyPair(ctx, west, "nope", ""); err != nil || id != "" {
		t.Fatalf("delete of no key pair: %q %v", id, err)
	}
	if id, err := tc.DeleteKeyPair(ctx, west, "", ed.ID); err != nil || id != ed.ID {
		t.Fatalf("delete by ID: %q %v", id, err)
	}
	_, err = tc.DeleteKeyPair(ctx, west, "", ed.ID)
	wantCode(t, err, "InvalidKeyPair.NotFound")
}

// rsaLine is an RSA public key of bits in OpenSSH's one-line form.
func rsaLine(t *testing.T, bits int) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSA(&key.PublicKey))
}
