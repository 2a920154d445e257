package ssm

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// The largest values of the tiers, in characters.
const (
	maxStandardValue = 4096
	maxAdvancedValue = 8192
)

// defaultKeyID is the key a SecureString is encrypted with when none is named:
// the account's AWS managed key for SSM.
const defaultKeyID = "alias/aws/ssm"

// amiValue is the form of an aws:ec2:image parameter's value.
var amiValue = regexp.MustCompile(`^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)

// PutParameter creates a parameter, or with Overwrite stores a new version of
// one (what the request leaves out is kept from the version before: its
// description, allowed pattern, key, data type, and an advanced tier).
func (s *Service) PutParameter(ctx context.Context, sc Scope, in *ssmtypes.PutParameterRequest) (*ssmtypes.PutParameterResult, error) {
	name, value := *in.Name, *in.Value
	overwrite := in.Overwrite != nil && *in.Overwrite
	if err := checkName(name); err != nil {
		return nil, err
	}
	if value == "" {
		return nil, violation("Value", "''", "Member must have length greater than or equal to 1")
	}
	if overwrite && len(in.Tags) > 0 {
		return nil, validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if in.Policies != nil {
		return nil, validation("Parameter policies are not supported by vpcsim yet.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.db.Begin()
	defer tx.Abort()
	params := s.params.In(tx)
	key := paramKey(sc.Region, name)
	old, exists := params.Get(key)
	if exists && !overwrite {
		return nil, errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	if !exists && countIn(params, sc.Region) >= s.max {
		return nil, errorf("ParameterLimitExceeded", "You have reached the maximum number of standard parameters for this AWS account and Region (%d). To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).", s.max)
	}
	var prev *version
	if exists {
		prev = old.latest()
	}
	v, err := newVersion(in, prev)
	if err != nil {
		return nil, err
	}
	v.Modified, v.User = s.now(), s.user()
	rec := &paramRec{Key: key, Region: sc.Region, Name: name}
	if exists {
		rec = old.clone()
		if len(rec.Versions) >= MaxVersions {
			if oldest := rec.Versions[0]; len(oldest.Labels) > 0 {
				return nil, errorf("ParameterMaxVersionLimitExceeded", "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, oldest.Version)
			}
			rec.Versions = slices.Delete(rec.Versions, 0, 1)
		}
		v.Version = prev.Version + 1
	} else {
		v.Version = 1
		for _, t := range in.Tags {
			rec.setTag(*t.Key, *t.Value)
		}
	}
	rec.Versions = append(rec.Versions, v)
	params.Put(rec)
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &ssmtypes.PutParameterResult{Version: ssmtypes.Ptr(v.Version), Tier: ssmtypes.ParameterTier(v.Tier)}, nil
}

// countIn counts a region's parameters.
func countIn(params storage.View[paramRec], region string) int {
	n := 0
	for r := range params.All() {
		if r.Region == region {
			n++
		}
	}
	return n
}

// user is who stored a version, as LastModifiedUser names it: the account's
// root, as vpcsim has no IAM users.
func (s *Service) user() string { return "arn:aws:iam::" + s.account + ":root" }

// newVersion checks what a PutParameter stores and makes the version of it,
// prev the latest version (nil for a new parameter).
func newVersion(in *ssmtypes.PutParameterRequest, prev *version) (version, error) {
	v := version{Type: string(in.Type), Value: *in.Value, DataType: deref(in.DataType)}
	if prev != nil {
		if v.Type == "" {
			v.Type = prev.Type
		}
		v.Description, v.AllowedPattern, v.KeyID = prev.Description, prev.AllowedPattern, prev.KeyID
		if v.DataType == "" {
			v.DataType = prev.DataType
		}
		if v.Type != prev.Type && isPath(*in.Name) {
			return v, errorf("HierarchyTypeMismatchException", "Parameter Store does not support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.")
		}
	}
	if v.Type == "" {
		return v, validation("A parameter type is required when you create a parameter.")
	}
	if in.Description != nil {
		v.Description = *in.Description
	}
	if in.AllowedPattern != nil {
		v.AllowedPattern = *in.AllowedPattern
	}
	if v.DataType == "" {
		v.DataType = "text"
	}
	switch v.DataType {
	case "text", "aws:ssm:integration":
	case "aws:ec2:image":
		if v.Type != "String" {
			return v, validation("Parameters of data type aws:ec2:image must be of type String.")
		}
		if !amiValue.MatchString(v.Value) {
			return v, validation("Parameter value, %s, is not a valid AMI ID for the aws:ec2:image data type.", v.Value)
		}
	default:
		return v, validation("The following data type is not supported: %s (Data type names are all lowercase.)", v.DataType)
	}
	if in.KeyId != nil && v.Type != "SecureString" {
		return v, validation("KeyId is required for SecureString type parameter only.")
	}
	switch {
	case v.Type != "SecureString":
		v.KeyID = ""
	case in.KeyId != nil:
		v.KeyID = *in.KeyId
	case prev == nil || prev.KeyID == "":
		v.KeyID = defaultKeyID
	}
	if v.Type == "SecureString" {
		v.Ciphertext = ciphertext(len(v.Value))
	}
	if v.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + v.AllowedPattern + `)$`)
		if err != nil {
			return v, errorf("InvalidAllowedPatternException", "The allowed pattern %s is not valid: %v", v.AllowedPattern, err)
		}
		if !re.MatchString(v.Value) {
			return v, errorf("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
		}
	}
	tier, err := tierOf(in.Tier, v.Value, prev)
	if err != nil {
		return v, err
	}
	v.Tier = tier
	return v, nil
}

// tierOf is the tier a new version is stored in: the one asked for
// (Intelligent-Tiering: Standard while the value fits, else Advanced), or
// the version before's, or Standard; an advanced parameter stays advanced.
func tierOf(asked ssmtypes.ParameterTier, value string, prev *version) (string, error) {
	n := utf8.RuneCountInString(value)
	tier := string(asked)
	switch {
	case tier == "Intelligent-Tiering" && n > maxStandardValue:
		tier = "Advanced"
	case tier == "Intelligent-Tiering":
		tier = "Standard"
		if prev != nil && prev.Tier == "Advanced" {
			tier = "Advanced"
		}
	case tier == "" && prev != nil:
		tier = prev.Tier
	case tier == "":
		tier = "Standard"
	}
	if tier == "Standard" && prev != nil && prev.Tier == "Advanced" {
		return "", validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	}
	if tier == "Standard" && n > maxStandardValue {
		return "", validation("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html", maxStandardValue)
	}
	if n > maxAdvancedValue {
		return "", validation("Advanced tier parameters support a maximum parameter value of %d characters.", maxAdvancedValue)
	}
	return tier, nil
}

// violation is a constraint AWS's validator checks beyond the model's, in its words.
func violation(member, value, constraint string) error {
	ve := &ssmtypes.ValidationError{}
	ve.Violations = append(ve.Violations, ssmtypes.ConstraintViolation{Path: lowerFirst(member), Value: value, Constraint: constraint})
	return ve
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (r *paramRec) setTag(key, value string) {
	i, found := slices.BinarySearchFunc(r.Tags, key, func(t tag, k string) int { return strings.Compare(t.Key, k) })
	if found {
		r.Tags[i].Value = value
		return
	}
	r.Tags = slices.Insert(r.Tags, i, tag{key, value})
}

// MaxTags is how many tags a parameter may have.
const MaxTags = 50

// checkTags refuses tags of AWS's own (aws:…) and keys given twice.
func checkTags(tags []ssmtypes.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := *t.Key
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return validation("Tag keys beginning with aws: are reserved for AWS use: %s", k)
		}
		if seen[k] {
			return validation("Duplicate tag key: %s", k)
		}
		seen[k] = true
	}
	if len(tags) > MaxTags {
		return errorf("TooManyTagsError", "The Tags parameter contains more than %d tags.", MaxTags)
	}
	return nil
}
