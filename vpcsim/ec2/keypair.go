package ec2

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// KeyPair is an EC2 key pair: the public half, as EC2 keeps it (the private
// half of a key it made is handed out once, by CreateKeyPair, and never
// kept). Instances name them; vpcsim's instances run no sshd, so a key pair
// is what describes a launch.
type KeyPair struct {
	ID          string    `json:"id"` // key-…
	Region      string    `json:"region"`
	OwnerID     string    `json:"owner"`
	Name        string    `json:"name"`
	Type        string    `json:"type"` // rsa or ed25519
	Fingerprint string    `json:"fingerprint"`
	PublicKey   string    `json:"publicKey"` // OpenSSH's one-line form
	Created     time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
	Seq         int64     `json:"seq"`
}

func copyKeyPair(k *KeyPair) KeyPair {
	out := *k
	out.Tags = slices.Clone(k.Tags)
	return out
}

// checkKeyName applies EC2's rule: up to 255 ASCII characters.
func checkKeyName(name string) error {
	if name == "" {
		return missingParameter("KeyName")
	}
	if len(name) > 255 || strings.IndexFunc(name, func(r rune) bool { return r > 127 }) >= 0 {
		return invalidValue("Value (%s) for parameter keyName is invalid. Up to 255 ASCII characters.", name)
	}
	return nil
}

// keyPairNamedLocked finds a key pair of the scope's region by name.
func (c *Cloud) keyPairNamedLocked(s Scope, name string) *KeyPair {
	for k := range c.model().keyPairs.All() {
		if k.Region == s.Region && k.Name == name {
			return k
		}
	}
	return nil
}

func keyPairNotFound(name string) error {
	return Errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", name)
}

// CreateKeyPair makes a key pair of the type asked for (rsa, 2048 bits, by
// default, or ed25519) and answers it with its private key (PEM), which
// vpcsim does not keep.
func (c *Cloud) CreateKeyPair(ctx context.Context, s Scope, name, keyType, format string, tags []Tag) (KeyPair, string, error) {
	if err := checkKeyName(name); err != nil {
		return KeyPair{}, "", err
	}
	switch format {
	case "", "pem":
	case "ppk":
		return KeyPair{}, "", Errorf("UnsupportedOperation", "The parameter KeyFormat ppk is not supported by vpcsim yet.")
	default:
		return KeyPair{}, "", invalidValue("Value (%s) for parameter keyFormat is invalid. Valid values are pem, ppk.", format)
	}
	if err := checkTags(tags); err != nil {
		return KeyPair{}, "", err
	}
	var pub []byte // the SSH wire form
	var material, fingerprint string
	switch keyType {
	case "", "rsa":
		keyType = "rsa"
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return KeyPair{}, "", err
		}
		material = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return KeyPair{}, "", err
		}
		// EC2's fingerprint of a key it made: SHA-1 of the PKCS#8 private key.
		sum := sha1.Sum(der)
		fingerprint = colonHex(sum[:])
		pub = sshRSA(&key.PublicKey)
	case "ed25519":
		pk, sk, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return KeyPair{}, "", err
		}
		pub = sshEd25519(pk)
		material = openSSHPrivateKey(pub, pk, sk, name)
		fingerprint = sha256Fingerprint(pub)
	default:
		return KeyPair{}, "", invalidValue("Value (%s) for parameter keyType is invalid. Valid values are rsa, ed25519.", keyType)
	}
	k, err := c.storeKeyPair(ctx, s, name, keyType, fingerprint, pub, tags)
	return k, material, err
}

// ImportKeyPair keeps the public key a caller made: OpenSSH's one-line form
// or RFC 4716's, RSA (1024 to 4096 bits) or ED25519.
func (c *Cloud) ImportKeyPair(ctx context.Context, s Scope, name string, material []byte, tags []Tag) (KeyPair, error) {
	if err := checkKeyName(name); err != nil {
		return KeyPair{}, err
	}
	if len(material) == 0 {
		return KeyPair{}, missingParameter("PublicKeyMaterial")
	}
	if err := checkTags(tags); err != nil {
		return KeyPair{}, err
	}
	pub, keyType, err := parseSSHPublicKey(material)
	if err != nil {
		return KeyPair{}, Errorf("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	// EC2's fingerprint of an imported key: RFC 4716's MD5 for RSA, OpenSSH's
	// SHA-256 for ED25519.
	fingerprint := sha256Fingerprint(pub)
	if keyType == "rsa" {
		sum := md5.Sum(pub)
		fingerprint = colonHex(sum[:])
	}
	return c.storeKeyPair(ctx, s, name, keyType, fingerprint, pub, tags)
}

func (c *Cloud) storeKeyPair(ctx context.Context, s Scope, name, keyType, fingerprint string, pub []byte, tags []Tag) (KeyPair, error) {
	if err := c.lock(ctx, s); err != nil {
		return KeyPair{}, err
	}
	defer c.unlock()
	if c.keyPairNamedLocked(s, name) != nil {
		return KeyPair{}, Errorf("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	}
	algo := "ssh-rsa"
	if keyType == "ed25519" {
		algo = "ssh-ed25519"
	}
	k := &KeyPair{
		ID: newID("key"), Region: s.Region, OwnerID: c.account, Name: name, Type: keyType, Fingerprint: fingerprint,
		PublicKey: algo + " " + base64.StdEncoding.EncodeToString(pub), Created: c.now().UTC().Truncate(time.Millisecond),
		Tags: tags, Seq: c.nextSeq(),
	}
	c.model().keyPairs.Put(k)
	if err := c.commitLocked(); err != nil {
		return KeyPair{}, err
	}
	return copyKeyPair(k), nil
}

// DescribeKeyPairs lists the region's key pairs: those named or given by ID
// (all must exist), filtered.
func (c *Cloud) DescribeKeyPairs(ctx context.Context, s Scope, names, ids []string, f []Filter) ([]KeyPair, error) {
	return describeFiltered(ctx, c, s, f, func() ([]KeyPair, error) {
		all := inRegion(sortedBySeq(c.model().keyPairs.All(), func(k *KeyPair) int64 { return k.Seq }), s, func(k *KeyPair) string { return k.Region })
		if len(names) == 0 && len(ids) == 0 {
			return copies(all, nil, copyKeyPair)
		}
		var out []*KeyPair
		for _, name := range names {
			i := slices.IndexFunc(all, func(k *KeyPair) bool { return k.Name == name })
			if i < 0 {
				return nil, keyPairNotFound(name)
			}
			out = append(out, all[i])
		}
		for _, id := range ids {
			i := slices.IndexFunc(all, func(k *KeyPair) bool { return k.ID == id })
			if i < 0 {
				return nil, Errorf("InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
			}
			if !slices.Contains(out, all[i]) {
				out = append(out, all[i])
			}
		}
		return copies(out, nil, copyKeyPair)
	}, func(k *KeyPair) []Tag { return k.Tags }, keyPairFilter)
}

func keyPairFilter(k *KeyPair, name string) ([]string, bool) {
	switch name {
	case "key-pair-id":
		return []string{k.ID}, true
	case "key-name":
		return []string{k.Name}, true
	case "fingerprint":
		return []string{k.Fingerprint}, true
	}
	return nil, false
}

// DeleteKeyPair removes a key pair by name or ID; as EC2's, deleting a name
// that has none succeeds. It answers the ID of what it removed.
func (c *Cloud) DeleteKeyPair(ctx context.Context, s Scope, name, id string) (string, error) {
	if name == "" && id == "" {
		return "", missingParameter("KeyName")
	}
	if err := c.lock(ctx, s); err != nil {
		return "", err
	}
	defer c.unlock()
	var k *KeyPair
	if name != "" {
		k = c.keyPairNamedLocked(s, name)
	} else {
		if err := checkID("InvalidKeyPair.Malformed", "key", id); err != nil {
			return "", err
		}
		if k = get(c.model().keyPairs, id); k == nil || k.Region != s.Region {
			return "", Errorf("InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
		}
	}
	if k == nil {
		return "", nil
	}
	c.model().keyPairs.Delete(k.ID)
	return k.ID, c.commitLocked()
}

// The SSH forms of public and private keys (RFC 4253, and OpenSSH's
// PROTOCOL.key for the private key file).

func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

// sshMPInt is RFC 4251's mpint of a non-negative integer.
func sshMPInt(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return sshString(b)
}

func sshRSA(k *rsa.PublicKey) []byte {
	out := sshString([]byte("ssh-rsa"))
	out = append(out, sshMPInt(big.NewInt(int64(k.E)))...)
	return append(out, sshMPInt(k.N)...)
}

func sshEd25519(k ed25519.PublicKey) []byte {
	return append(sshString([]byte("ssh-ed25519")), sshString(k)...)
}

// openSSHPrivateKey is an unencrypted ED25519 key in OpenSSH's file format.
func openSSHPrivateKey(pub []byte, pk ed25519.PublicKey, sk ed25519.PrivateKey, comment string) string {
	check := make([]byte, 4)
	rand.Read(check)
	var priv bytes.Buffer
	priv.Write(check)
	priv.Write(check)
	priv.Write(sshString([]byte("ssh-ed25519")))
	priv.Write(sshString(pk))
	priv.Write(sshString(sk))
	priv.Write(sshString([]byte(comment)))
	for i := byte(1); priv.Len()%8 != 0; i++ {
		priv.WriteByte(i)
	}
	var out bytes.Buffer
	out.WriteString("openssh-key-v1\x00")
	out.Write(sshString([]byte("none")))
	out.Write(sshString([]byte("none")))
	out.Write(sshString(nil))
	out.Write(binary.BigEndian.AppendUint32(nil, 1))
	out.Write(sshString(pub))
	out.Write(sshString(priv.Bytes()))
	return string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: out.Bytes()}))
}

// parseSSHPublicKey reads a public key in OpenSSH's one-line form
// ("ssh-rsa AAAA… comment") or RFC 4716's, and answers its wire form and
// type; RSA keys must be of 1024 to 4096 bits.
func parseSSHPublicKey(material []byte) ([]byte, string, error) {
	text := strings.TrimSpace(string(material))
	var b64 string
	if strings.HasPrefix(text, "---- BEGIN SSH2 PUBLIC KEY ----") {
		var body []string
		cont := false
		for _, line := range strings.Split(text, "\n")[1:] {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "---- END SSH2 PUBLIC KEY ----"):
				b64 = strings.Join(body, "")
			case cont || strings.Contains(line, ":"):
				cont = strings.HasSuffix(line, "\\") // a header, maybe continued
			default:
				body = append(body, line)
			}
		}
	} else if f := strings.Fields(text); len(f) >= 2 {
		b64 = f[1]
	}
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(blob) == 0 {
		return nil, "", fmt.Errorf("not a public key")
	}
	fields, err := sshFields(blob)
	if err != nil || len(fields) < 2 {
		return nil, "", fmt.Errorf("not a public key")
	}
	switch string(fields[0]) {
	case "ssh-rsa":
		if len(fields) != 3 {
			return nil, "", fmt.Errorf("not an RSA key")
		}
		// EC2 documents 1024, 2048 and 4096 bits, and takes OpenSSH's
		// default (3072) too.
		bits := new(big.Int).SetBytes(fields[2]).BitLen()
		if bits < 1024 || bits > 4096 {
			return nil, "", fmt.Errorf("RSA keys of %d bits are not supported", bits)
		}
		return blob, "rsa", nil
	case "ssh-ed25519":
		if len(fields) != 2 || len(fields[1]) != ed25519.PublicKeySize {
			return nil, "", fmt.Errorf("not an ED25519 key")
		}
		return blob, "ed25519", nil
	}
	return nil, "", fmt.Errorf("key type %q not supported", fields[0])
}

// sshFields splits a wire form into its length-prefixed strings.
func sshFields(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("truncated")
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, fmt.Errorf("truncated")
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func sha256Fingerprint(pub []byte) string {
	sum := sha256.Sum256(pub)
	return base64.StdEncoding.EncodeToString(sum[:])
}
