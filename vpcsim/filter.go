package vpcsim

import (
	"strings"
	"unicode/utf8"
)

// matchAll reports whether a resource passes every filter: for each filter, one
// of the resource's values for that name matches one of the filter's values.
// values gives the resource's values for a filter name, and false for a name the
// resource type has no filter of; tag:KEY, tag-key and tag-value are answered
// from tags. Every name is checked before any is matched, so a filter that rules
// the resource out does not hide an unknown name after it.
func matchAll(filters []Filter, tags []Tag, values func(name string) ([]string, bool)) (bool, error) {
	if err := checkFilters(filters, values); err != nil {
		return false, err
	}
	for _, f := range filters {
		have, known := tagValues(f.Name, tags)
		if !known {
			have, known = values(f.Name)
		}
		if !known {
			return false, invalidFilter(f.Name)
		}
		if !anyMatch(f.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

// checkFilters refuses the filter names a resource type has no filter of,
// whether or not any resource is there to be matched, as EC2 does; values is
// as for matchAll.
func checkFilters(filters []Filter, values func(name string) ([]string, bool)) error {
	for _, f := range filters {
		if _, ok := tagValues(f.Name, nil); ok {
			continue
		}
		if _, ok := values(f.Name); !ok {
			return invalidFilter(f.Name)
		}
	}
	return nil
}

func invalidFilter(name string) error {
	return invalidValue("The filter '%s' is invalid", name)
}

func tagValues(name string, tags []Tag) ([]string, bool) {
	switch {
	case strings.HasPrefix(name, "tag:"):
		key := strings.TrimPrefix(name, "tag:")
		var vs []string
		for _, t := range tags {
			if t.Key == key {
				vs = append(vs, t.Value)
			}
		}
		return vs, true
	case name == "tag-key":
		vs := make([]string, 0, len(tags))
		for _, t := range tags {
			vs = append(vs, t.Key)
		}
		return vs, true
	case name == "tag-value":
		vs := make([]string, 0, len(tags))
		for _, t := range tags {
			vs = append(vs, t.Value)
		}
		return vs, true
	}
	return nil, false
}

func anyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if globMatch(p, h) {
				return true
			}
		}
	}
	return false
}

// globMatch matches EC2 filter wildcards: * any run, ? any one character, \ escapes.
func globMatch(pattern, s string) bool {
	p, t := chars(pattern), chars(s)
	// star remembers where the last * was, to backtrack to.
	pi, ti, starP, starT := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == t[ti]:
			pi += 2
			ti++
		case pi < len(p) && p[pi] == '?':
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			starP, starT = pi, ti
			pi++
		case pi < len(p) && p[pi] != '\\' && p[pi] == t[ti]:
			pi++
			ti++
		case starP >= 0:
			starT++
			pi, ti = starP+1, starT
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// chars splits s into characters to match: its runes, with each byte that is not
// valid UTF-8 a character of its own, distinct from every rune and from the other
// bytes ([]rune would make them all U+FFFD, so "\xff" would match "\xfe").
func chars(s string) []rune {
	out := make([]rune, 0, len(s))
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			r = utf8.MaxRune + 1 + rune(s[0])
		}
		out = append(out, r)
		s = s[n:]
	}
	return out
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// MatchFilters applies EC2's filter rules to a resource that has no tags (static
// tables such as regions and zones): every filter must match, any value may, * and
// ? are wildcards, and an unknown filter name is InvalidParameterValue.
func MatchFilters(filters []Filter, values func(name string) ([]string, bool)) (bool, error) {
	return matchAll(filters, nil, values)
}
