package ssm

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// filter is one ParameterStringFilter, checked, with its option's default.
type filter struct {
	key, option string
	values      []string
}

// pathRE is a path: "/" or a name of the hierarchy, a trailing slash allowed.
var pathRE = regexp.MustCompile(`^/(?:[a-zA-Z0-9_.\-]+(?:/[a-zA-Z0-9_.\-]+)*/?)?$`)

// checkPath refuses a Path (GetParametersByPath's, a Path filter's) as AWS does.
func checkPath(p string) error {
	l := strings.ToLower(p)
	if !pathRE.MatchString(p) || strings.HasPrefix(l, "/ssm") || (strings.HasPrefix(l, "/aws") && !public(strings.TrimSuffix(l, "/")+"/")) {
		return validation(msgBadFilterPath)
	}
	return nil
}

var (
	typeValues = []string{"String", "StringList", "SecureString"}
	tierValues = []string{"Standard", "Advanced", "Intelligent-Tiering"}
)

// checkFilters checks ParameterFilters as AWS does: for GetParametersByPath
// (byPath) Type, KeyId, Label, DataType and tag:…; for DescribeParameters
// Name, Path, Type, KeyId, Tier, DataType and tag:….
func checkFilters(in []ssmtypes.ParameterStringFilter, byPath bool) ([]filter, error) {
	var out []filter
	seen := map[string]bool{}
	for _, f := range in {
		key := *f.Key
		isTag := strings.HasPrefix(key, "tag:")
		switch {
		case isTag, key == "Type", key == "KeyId", key == "DataType":
		case byPath && key == "Label":
		case !byPath && (key == "Name" || key == "Path" || key == "Tier"):
		case byPath:
			return nil, errorf("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId].", key)
		default:
			return nil, errorf("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [Path, Name, Type, KeyId, Tier].", key)
		}
		if seen[key] {
			return nil, errorf("InvalidFilterKey", "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true
		opt := deref(f.Option)
		if opt == "" {
			opt = "Equals"
			if key == "Path" {
				opt = "OneLevel"
			}
		}
		switch {
		case key == "Path" && opt != "Recursive" && opt != "OneLevel":
			return nil, errorf("InvalidFilterOption", "The following filter option is not valid: %s. Valid options include: [Recursive, OneLevel].", opt)
		case key == "Label" && opt != "Equals":
			return nil, errorf("InvalidFilterOption", "The following filter option is not valid: %s. Valid options include: [Equals].", opt)
		case key == "Name" && opt == "Contains":
		case key != "Path" && opt != "Equals" && opt != "BeginsWith":
			return nil, errorf("InvalidFilterOption", "The following filter option is not valid: %s. Valid options include: [BeginsWith, Equals].", opt)
		}
		if len(f.Values) == 0 && !isTag {
			return nil, errorf("InvalidFilterValue", "The following filter values are missing : null for filter key %s.", key)
		}
		for _, v := range f.Values {
			var err error
			switch key {
			case "Type":
				err = oneOf(v, typeValues)
			case "Tier":
				err = oneOf(v, tierValues)
			case "Path":
				err = checkPath(v)
				if err == nil && (strings.HasPrefix(strings.ToLower(v), "/aws") || strings.HasPrefix(strings.ToLower(v), "/ssm")) {
					err = validation(msgCommonFilter)
				}
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, filter{key: key, option: opt, values: f.Values})
	}
	return out, nil
}

func oneOf(v string, valid []string) error {
	if slices.Contains(valid, v) {
		return nil
	}
	return errorf("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [%s].", v, strings.Join(valid, ", "))
}

// matches reports whether a parameter passes every filter; v is the version
// a Label filter selects (else the latest).
func matches(r *paramRec, fs []filter) (*version, bool) {
	v := r.latest()
	for _, f := range fs {
		var field string
		switch {
		case f.key == "Name":
			field = "/" + strings.TrimPrefix(r.Name, "/")
			if f.option == "Contains" {
				if !slices.ContainsFunc(f.values, func(x string) bool { return strings.Contains(r.Name, x) }) {
					return nil, false
				}
				continue
			}
			if !compare(field, f.option, f.values, func(x string) string { return "/" + strings.TrimPrefix(x, "/") }) {
				return nil, false
			}
			continue
		case f.key == "Path":
			if !slices.ContainsFunc(f.values, func(p string) bool { return under(r.Name, p, f.option == "Recursive") }) {
				return nil, false
			}
			continue
		case f.key == "Label":
			lv := slices.IndexFunc(r.Versions, func(x version) bool {
				return slices.ContainsFunc(f.values, func(l string) bool { return slices.Contains(x.Labels, l) })
			})
			if lv < 0 {
				return nil, false
			}
			v = &r.Versions[lv]
			continue
		case strings.HasPrefix(f.key, "tag:"):
			tv, ok := r.tagValue(strings.TrimPrefix(f.key, "tag:"))
			if !ok || (len(f.values) > 0 && !compare(tv, f.option, f.values, nil)) {
				return nil, false
			}
			continue
		case f.key == "Type":
			field = v.Type
		case f.key == "KeyId":
			field = v.KeyID
		case f.key == "Tier":
			field = v.Tier
		case f.key == "DataType":
			field = v.DataType
		}
		if field == "" || !compare(field, f.option, f.values, nil) {
			return nil, false
		}
	}
	return v, true
}

// compare matches a field against a filter's values (each through norm, if any).
func compare(field, option string, values []string, norm func(string) string) bool {
	return slices.ContainsFunc(values, func(x string) bool {
		if norm != nil {
			x = norm(x)
		}
		if option == "BeginsWith" {
			return strings.HasPrefix(field, x)
		}
		return field == x
	})
}

// sortedIn is a region's parameters, by name.
func (s *Service) sortedIn(region string) []*paramRec {
	var out []*paramRec
	for r := range s.params.All() {
		if r.Region == region {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *paramRec) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func byName[T any](name func(T) string) (func(T) string, func(T, string) bool) {
	return name, func(x T, cursor string) bool { return name(x) > cursor }
}

// GetParametersByPath answers the parameters below a path (directly below
// it, or at any depth when Recursive), by name, up to 10 a page. A path of
// AWS's public namespace (/aws/service/…) answers its public parameters.
func (s *Service) GetParametersByPath(ctx context.Context, sc Scope, in *ssmtypes.GetParametersByPathRequest) (*ssmtypes.GetParametersByPathResult, error) {
	path := *in.Path
	if err := checkPath(path); err != nil {
		return nil, err
	}
	fs, err := checkFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	recursive := in.Recursive != nil && *in.Recursive
	s.mu.Lock()
	defer s.mu.Unlock()
	candidates := publicUnder(sc.Region, path, recursive)
	if !public(strings.TrimSuffix(path, "/") + "/") {
		candidates = nil
		for _, r := range s.sortedIn(sc.Region) {
			if under(r.Name, path, recursive) {
				candidates = append(candidates, r)
			}
		}
	}
	all := []ssmtypes.Parameter{}
	for _, r := range candidates {
		if v, ok := matches(r, fs); ok {
			all = append(all, s.parameter(r, v, decrypt(in.WithDecryption), ""))
		}
	}
	cursor, after := byName(func(p ssmtypes.Parameter) string { return *p.Name })
	page, next, err := pageOf(all, in.NextToken, in.MaxResults, 10, cursor, after)
	if err != nil {
		return nil, err
	}
	return &ssmtypes.GetParametersByPathResult{Parameters: page, NextToken: next}, nil
}

// DescribeParameters answers the metadata of the region's parameters that
// pass the filters (Filters, the older form, or ParameterFilters), by name,
// up to 50 a page (default 10). No parameter is shared with this account,
// so Shared answers none.
func (s *Service) DescribeParameters(ctx context.Context, sc Scope, in *ssmtypes.DescribeParametersRequest) (*ssmtypes.DescribeParametersResult, error) {
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, validation("You can use either Filters or ParameterFilters in a single request.")
	}
	pf := in.ParameterFilters
	for _, f := range in.Filters {
		opt := "Equals"
		if f.Key == ssmtypes.ParametersFilterKeyName {
			opt = "BeginsWith"
		}
		pf = append(pf, ssmtypes.ParameterStringFilter{Key: ssmtypes.Ptr(string(f.Key)), Option: &opt, Values: f.Values})
	}
	fs, err := checkFilters(pf, false)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := []ssmtypes.ParameterMetadata{}
	if in.Shared == nil || !*in.Shared {
		for _, r := range s.sortedIn(sc.Region) {
			if _, ok := matches(r, fs); ok {
				all = append(all, s.metadata(r))
			}
		}
	}
	cursor, after := byName(func(p ssmtypes.ParameterMetadata) string { return *p.Name })
	page, next, err := pageOf(all, in.NextToken, in.MaxResults, 10, cursor, after)
	if err != nil {
		return nil, err
	}
	return &ssmtypes.DescribeParametersResult{Parameters: page, NextToken: next}, nil
}
