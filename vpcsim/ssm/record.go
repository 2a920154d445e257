package ssm

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// MaxVersions is how many versions of a parameter are kept: storing the
// 101st drops the oldest, as on AWS.
const MaxVersions = 100

// paramRec is one parameter with the versions kept, oldest first.
type paramRec struct {
	Key      string    `json:"key"` // paramKey
	Region   string    `json:"region"`
	Name     string    `json:"name"` // as it was created
	Versions []version `json:"versions"`
	Tags     []tag     `json:"tags,omitempty"` // sorted by key
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// version is one version of a parameter, as PutParameter stored it.
type version struct {
	Version int64  `json:"version"`
	Type    string `json:"type"` // String, StringList, SecureString
	// Value is the value as given, SecureString values too (see the package
	// documentation); Ciphertext is what a SecureString's readers see
	// without decryption.
	Value          string    `json:"value"`
	Ciphertext     string    `json:"ciphertext,omitempty"`
	KeyID          string    `json:"keyId,omitempty"` // SecureString only
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	Tier           string    `json:"tier"`
	DataType       string    `json:"dataType"`
	Labels         []string  `json:"labels,omitempty"`
	Modified       time.Time `json:"modified"`
	User           string    `json:"user"`
}

func (r *paramRec) latest() *version { return &r.Versions[len(r.Versions)-1] }

// find is the version of a number, nil when it is not kept.
func (r *paramRec) find(n int64) *version {
	for i := range r.Versions {
		if r.Versions[i].Version == n {
			return &r.Versions[i]
		}
	}
	return nil
}

// labelled is the version that holds a label, nil when none does.
func (r *paramRec) labelled(label string) *version {
	for i := range r.Versions {
		if slices.Contains(r.Versions[i].Labels, label) {
			return &r.Versions[i]
		}
	}
	return nil
}

func (r *paramRec) tagValue(key string) (string, bool) {
	for _, t := range r.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// clone is a deep copy, for a change staged on a copy of a committed record.
func (r *paramRec) clone() *paramRec {
	c := *r
	c.Versions = slices.Clone(r.Versions)
	for i := range c.Versions {
		c.Versions[i].Labels = slices.Clone(c.Versions[i].Labels)
	}
	c.Tags = slices.Clone(r.Tags)
	return &c
}

// ciphertext is an opaque stand-in for a KMS ciphertext of n bytes of
// plaintext: base64 of a blob that starts as KMS's do (AQICAH…), random, so
// that it tells nothing of the value but its size.
func ciphertext(n int) string {
	b := make([]byte, 5+32+12+n+16)
	rand.Read(b)
	copy(b, []byte{0x01, 0x02, 0x02, 0x00, 0x78})
	return base64.StdEncoding.EncodeToString(b)
}

// publicRec is AWS's public parameter of a name, from the catalogue: type
// String, data type text (as AWS answers these), version 1, modified when
// the image was made.
func publicRec(region, name string) (*paramRec, bool) {
	for _, p := range amicatalog.PublicParameters() {
		if p.Name == name {
			return &paramRec{Region: region, Name: name, Versions: []version{{
				Version: 1, Type: "String", Value: p.Value, Tier: "Standard", DataType: "text",
				Modified: publicModified(p), User: "",
			}}}, true
		}
	}
	return nil, false
}

// publicModified is when a public parameter last changed: its image's creation.
func publicModified(p amicatalog.PublicParameter) time.Time {
	var newest time.Time
	for _, im := range amicatalog.Images() {
		if strings.Contains(p.Value, im.ID) && im.CreationDate.After(newest) {
			newest = im.CreationDate
		}
	}
	if newest.IsZero() {
		for _, im := range amicatalog.Images() {
			if im.ECS != nil && strings.HasPrefix(p.Name, im.ECS.ParameterBasePath+"/") {
				newest = im.CreationDate
			}
		}
	}
	return newest
}

// publicUnder lists the public parameters below a path (recursive: at any depth).
func publicUnder(region, path string, recursive bool) []*paramRec {
	var out []*paramRec
	for _, p := range amicatalog.PublicParameters() {
		if under(p.Name, path, recursive) {
			r, _ := publicRec(region, p.Name)
			out = append(out, r)
		}
	}
	return out
}

// under reports whether name lies below path ("/a" or "/a/"; "/" is the
// root): directly below it, or at any depth when recursive.
func under(name, path string, recursive bool) bool {
	path = strings.TrimSuffix(path, "/") + "/"
	if path == "/" && !strings.HasPrefix(name, "/") {
		name = "/" + name // a root parameter without its slash
	}
	rest, ok := strings.CutPrefix(name, path)
	if !ok || rest == "" {
		return false
	}
	return recursive || !strings.Contains(rest, "/")
}

// arn is the ARN of a parameter of this account, or of AWS's public ones.
func (s *Service) arn(r *paramRec) string {
	if public(r.Name) {
		return arnOf(r.Region, "", r.Name)
	}
	return arnOf(r.Region, s.account, r.Name)
}

// shownValue is a version's value as a caller sees it.
func shownValue(v *version, decrypt bool) string {
	if v.Type == "SecureString" && !decrypt {
		return v.Ciphertext
	}
	return v.Value
}

func (s *Service) parameter(r *paramRec, v *version, decrypt bool, selector string) ssmtypes.Parameter {
	p := ssmtypes.Parameter{
		Name: ssmtypes.Ptr(r.Name), Type: ssmtypes.ParameterType(v.Type), Value: ssmtypes.Ptr(shownValue(v, decrypt)),
		Version: ssmtypes.Ptr(v.Version), LastModifiedDate: ssmtypes.NewTimestamp(v.Modified),
		ARN: ssmtypes.Ptr(s.arn(r)), DataType: ssmtypes.Ptr(v.DataType),
	}
	if selector != "" {
		p.Selector = ssmtypes.Ptr(selector)
	}
	return p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Service) metadata(r *paramRec) ssmtypes.ParameterMetadata {
	v := r.latest()
	return ssmtypes.ParameterMetadata{
		Name: ssmtypes.Ptr(r.Name), ARN: ssmtypes.Ptr(s.arn(r)), Type: ssmtypes.ParameterType(v.Type),
		KeyId: optional(v.KeyID), LastModifiedDate: ssmtypes.NewTimestamp(v.Modified),
		LastModifiedUser: ssmtypes.Ptr(v.User), Description: optional(v.Description),
		AllowedPattern: optional(v.AllowedPattern), Version: ssmtypes.Ptr(v.Version),
		Tier: ssmtypes.ParameterTier(v.Tier), Policies: []ssmtypes.ParameterInlinePolicy{},
		DataType: ssmtypes.Ptr(v.DataType),
	}
}

func (s *Service) history(r *paramRec, v *version, decrypt bool) ssmtypes.ParameterHistory {
	return ssmtypes.ParameterHistory{
		Name: ssmtypes.Ptr(r.Name), Type: ssmtypes.ParameterType(v.Type), KeyId: optional(v.KeyID),
		LastModifiedDate: ssmtypes.NewTimestamp(v.Modified), LastModifiedUser: ssmtypes.Ptr(v.User),
		Description: optional(v.Description), Value: ssmtypes.Ptr(shownValue(v, decrypt)),
		AllowedPattern: optional(v.AllowedPattern), Version: ssmtypes.Ptr(v.Version),
		Labels: slices.Clone(v.Labels), Tier: ssmtypes.ParameterTier(v.Tier),
		Policies: []ssmtypes.ParameterInlinePolicy{}, DataType: ssmtypes.Ptr(v.DataType),
	}
}
