package ec2

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// EC2's filter values (the EC2 API reference, Filter): "* specifies that zero or
// more characters must match, and ? specifies that exactly one character must
// match. Use a backslash to escape special characters. For example, a filter
// value of \*amazon\?\\ specifies the literal string *amazon?\." The reference
// matcher below is that sentence as a dynamic program, written independently of
// globMatch's backtracking, so the fuzzers can hold one against the other.
//
// Two points AWS does not document, decided here and held by the tests: a
// character is a Unicode character, and each byte that is not valid UTF-8 is a
// character of its own; a lone backslash at the end of a value matches nothing.

// refUnits splits s into its characters.
func refUnits(s string) []string {
	var out []string
	for len(s) > 0 {
		_, n := utf8.DecodeRuneInString(s)
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

type refToken struct {
	kind byte   // 'L' a literal character, '?' any one, '*' any run, 'X' nothing
	lit  string // the character of an 'L'
}

func refTokens(pattern string) []refToken {
	units := refUnits(pattern)
	var out []refToken
	for i := 0; i < len(units); i++ {
		switch u := units[i]; {
		case u == `\` && i+1 < len(units):
			i++
			out = append(out, refToken{'L', units[i]})
		case u == `\`:
			out = append(out, refToken{kind: 'X'})
		case u == "*" || u == "?":
			out = append(out, refToken{kind: u[0]})
		default:
			out = append(out, refToken{'L', u})
		}
	}
	return out
}

// refMatch reports whether s matches pattern: m[i][j] says whether tokens[i:]
// match units[j:].
func refMatch(pattern, s string) bool {
	toks, units := refTokens(pattern), refUnits(s)
	m := make([][]bool, len(toks)+1)
	for i := range m {
		m[i] = make([]bool, len(units)+1)
	}
	m[len(toks)][len(units)] = true
	for i := len(toks) - 1; i >= 0; i-- {
		for j := len(units); j >= 0; j-- {
			switch tk := toks[i]; tk.kind {
			case '*':
				m[i][j] = m[i+1][j] || (j < len(units) && m[i][j+1])
			case '?':
				m[i][j] = j < len(units) && m[i+1][j+1]
			case 'L':
				m[i][j] = j < len(units) && units[j] == tk.lit && m[i+1][j+1]
			}
		}
	}
	return m[0][0]
}

// escapeGlob writes s as a filter value that matches s alone.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, u := range refUnits(s) {
		if u == "*" || u == "?" || u == `\` {
			b.WriteByte('\\')
		}
		b.WriteString(u)
	}
	return b.String()
}

// TestRefMatch pins the reference to the documented examples, so the fuzzers
// compare globMatch against the documentation and not against a second guess.
func TestRefMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{`\*amazon\?\\`, `*amazon?\`, true},
		{`\*amazon\?\\`, `xamazonx\`, false},
		{`*`, ``, true},
		{`*`, "any\x00thing\xff", true},
		{`?`, ``, false},
		{`?`, `é`, true}, // one character, two bytes
		{`??`, `é`, false},
		{`?`, "\xff", true},
		{"\xff", "\xfe", false}, // two different bytes are two different characters
		{`web-*`, `web-1`, true},
		{`web-*`, `web`, false},
		{`*-prod`, `a-prod`, true},
		{`a*b*c`, `abxbc`, true},
		{`a*b*c`, `acb`, false},
		{`10.0.?.0/24`, `10.0.1.0/24`, true},
		{`10.0.?.0/24`, `10.0.10.0/24`, false},
		{`abc\`, `abc\`, false}, // a trailing backslash escapes nothing
		{`\a`, `a`, true},
	} {
		if got := refMatch(c.pattern, c.s); got != c.want {
			t.Errorf("refMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// FuzzGlobMatch holds globMatch to the reference, and to the properties a user
// relies on: a value without wildcards matches exactly itself, an escaped value
// matches exactly the string it escapes, and * matches everything.
func FuzzGlobMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{`*`, ``},
		{`\*amazon\?\\`, `*amazon?\`},
		{`a*b*c`, `abxbc`},
		{`*a*a*a*a*b`, `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`},
		{`?é?`, `xéy`},
		{"\xff", "\xfe"},
		{"\xef\xbf\xbd", "\xff"}, // U+FFFD itself against an invalid byte
		{`abc\`, `abc\`},
		{`\`, ``},
		{`*\*`, `a*`},
		{`\\*`, `\abc`},
		{`sg-*`, `sg-0123456789abcdef0`},
		{`10.0.*.0/24`, `10.0.12.0/24`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern)*len(s) > 1<<20 {
			return // the reference's table would be large; nothing new is found there
		}
		got := globMatch(pattern, s)
		if want := refMatch(pattern, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, the reference says %v", pattern, s, got, want)
		}
		if !strings.ContainsAny(pattern, `*?\`) && got != (pattern == s) {
			t.Fatalf("globMatch(%q, %q) = %v for a value without wildcards", pattern, s, got)
		}
		if !globMatch(escapeGlob(s), s) {
			t.Fatalf("escaped %q (%q) does not match itself", s, escapeGlob(s))
		}
		if globMatch(escapeGlob(pattern), s) != (pattern == s) {
			t.Fatalf("escaped %q matches %q", pattern, s)
		}
		if !globMatch("*", s) {
			t.Fatalf("* does not match %q", s)
		}
		if got && !globMatch("*"+pattern, pattern+s) {
			t.Fatalf("a leading * does not extend the match of %q to %q", pattern, pattern+s)
		}
	})
}

// FuzzMatchAll checks how a filter name picks the values it matches: tag:KEY the
// values of that tag, tag-key the keys, tag-value the values, a name the
// resource type knows its own values, and any other name is refused with EC2's
// error whether or not a resource is there to match (checkFilters).
func FuzzMatchAll(f *testing.F) {
	for _, seed := range [][5]string{
		{"tag:Name", "web*", "Name", "web-1", ""},
		{"tag:Name", "web*", "name", "web-1", ""}, // tag keys are case-sensitive
		{"tag:", "*", "", "", ""},
		{"tag-key", "N?me", "Name", "x", ""},
		{"tag-value", `\*`, "k", "*", ""},
		{"state", "avail*", "k", "v", ""},
		{"State", "available", "k", "v", ""},
		{"nonsense", "x", "k", "v", ""},
		{"tag:k", "v", "k", "v", "also"},                      // several values: any may match
		{"tag:k", strings.Repeat("*", 256), "k", "v", ""},     // beyond EC2's 255 characters
		{"nonsense", "x", "k", "v", strings.Repeat("é", 256)}, // the bound comes before the name
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, name, pattern, key, value, other string) {
		tags := []Tag{{Key: key, Value: value}}
		values := func(n string) ([]string, bool) {
			if n == "state" {
				return []string{"available"}, true
			}
			return nil, false
		}
		// What the resource has for the name, as the EC2 docs define the names.
		var have []string
		known := true
		switch {
		case strings.HasPrefix(name, "tag:"):
			if name[len("tag:"):] == key {
				have = []string{value}
			}
		case name == "tag-key":
			have = []string{key}
		case name == "tag-value":
			have = []string{value}
		case name == "state":
			have = []string{"available"}
		default:
			known = false
		}
		patterns := []string{pattern}
		if other != "" {
			patterns = append(patterns, other)
		}
		want := false // values of one filter are ORed
		for _, p := range patterns {
			for _, h := range have {
				want = want || refMatch(p, h)
			}
		}
		// Filters are ANDed: one that matches every resource with a tag does not
		// narrow the answer.
		fs := []Filter{{Name: name, Values: patterns}, {Name: "tag-key", Values: []string{"*"}}}
		got, err := matchAll(fs, tags, values)
		cerr := checkFilters(fs, values)
		if tooLongForAFilter(patterns...) {
			// EC2's bound comes before the names are read.
			wantAPIError(t, fmt.Sprintf("filter values %q", patterns), err, "FilterLimitExceeded", "The maximum length for a filter value is 255 characters")
			return
		}
		if !known {
			e, ok := AsAPIError(err)
			if !ok || e.Code != "InvalidParameterValue" || e.Message != "The filter '"+name+"' is invalid" {
				t.Fatalf("filter %q: %v, want InvalidParameterValue", name, err)
			}
			if ce, ok := AsAPIError(cerr); !ok || *ce != *e {
				t.Fatalf("checkFilters(%q) = %v, matchAll said %v", name, cerr, err)
			}
			return
		}
		if err != nil || cerr != nil {
			t.Fatalf("filter %q refused: %v / %v", name, err, cerr)
		}
		if got != want {
			t.Fatalf("filter %q=%q on tag %q=%q: %v, want %v", name, patterns, key, value, got, want)
		}
	})
}

// FuzzDescribeTagFilter tags a real VPC and asks DescribeVpcs for it by tag:
// the VPC is listed exactly when the filter value matches the tag's value, and
// a tag CreateTags refuses leaves the VPC's tags as they were.
func FuzzDescribeTagFilter(f *testing.F) {
	for _, seed := range [][3]string{
		{"Name", "web-1", "web-*"},
		{"Name", "web-1", "web-?"},
		{"Name", "web-1", "Web-1"},
		{"team", "a*b", `a\*b`},
		{"aws:reserved", "x", "*"},
		{"", "empty key", "*"},
		{"k", strings.Repeat("v", 257), "*"},
		{"k", "", ""},
		{"k", "\x00\xff", "??"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	ctx := context.Background()
	c, err := New(ctx, vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane())
	if err != nil {
		f.Fatal(err)
	}
	v, err := c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: "10.0.0.0/16", Tags: []Tag{{Key: "keep", Value: "me"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, value, pattern string) {
		byTag := []Filter{{Name: "tag:" + key, Values: []string{pattern}}}
		if err := c.CreateTags(ctx, west, []string{v.ID}, []Tag{{Key: key, Value: value}}); err != nil {
			if e, ok := AsAPIError(err); !ok || e.Code != "InvalidParameterValue" {
				t.Fatalf("CreateTags %q=%q: %v", key, value, err)
			}
			got, err := c.DescribeVpcs(ctx, west, []string{v.ID}, nil)
			if err != nil || len(got) != 1 || len(got[0].Tags) != 1 || got[0].Tags[0] != (Tag{Key: "keep", Value: "me"}) {
				t.Fatalf("a refused CreateTags changed the VPC: %+v %v", got, err)
			}
			return
		}
		defer func() {
			if key != "keep" {
				if err := c.DeleteTags(ctx, west, []string{v.ID}, []TagSpec{{Key: key}}); err != nil {
					t.Fatal(err)
				}
			} else if err := c.CreateTags(ctx, west, []string{v.ID}, []Tag{{Key: "keep", Value: "me"}}); err != nil {
				t.Fatal(err)
			}
		}()
		got, err := c.DescribeVpcs(ctx, west, []string{v.ID}, byTag)
		switch {
		case tooLongForAFilter(pattern):
			wantAPIError(t, fmt.Sprintf("filter value %q", pattern), err, "FilterLimitExceeded", "The maximum length for a filter value is 255 characters")
		case err != nil:
			t.Fatal(err)
		default:
			if want := refMatch(pattern, value); (len(got) == 1) != want {
				t.Fatalf("tag %q=%q, filter value %q: listed %v, want %v", key, value, pattern, len(got) == 1, want)
			}
		}
		// The literal value, escaped, always finds it, when EC2 takes a filter
		// value that long.
		escaped := escapeGlob(value)
		got, err = c.DescribeVpcs(ctx, west, []string{v.ID}, []Filter{{Name: "tag:" + key, Values: []string{escaped}}})
		if tooLongForAFilter(escaped) {
			wantAPIError(t, fmt.Sprintf("filter value %q", escaped), err, "FilterLimitExceeded", "The maximum length for a filter value is 255 characters")
		} else if err != nil || len(got) != 1 {
			t.Fatalf("tag %q=%q: its escaped value finds %d VPCs (%v)", key, value, len(got), err)
		}
	})
}

// tooLongForAFilter reports whether a value is beyond the 255 characters EC2
// takes in a filter value (counted without unicode/utf8: an invalid byte is a
// character of its own).
func tooLongForAFilter(values ...string) bool {
	for _, v := range values {
		if len([]rune(v)) > 255 {
			return true
		}
	}
	return false
}

// TestUnknownFilterWithNothingToMatch: EC2 refuses an unknown filter name
// whether or not any resource is left to match it: none in the region, none
// named, or all ruled out by an earlier filter.
func TestUnknownFilterWithNothingToMatch(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	colour := Filter{Name: "colour", Values: []string{"blue"}}
	miss := Filter{Name: "tag:Name", Values: []string{"no such tag"}}
	for name, describe := range map[string]func([]Filter) error{
		"vpcs":     func(f []Filter) error { _, err := tc.DescribeVpcs(ctx, west, nil, f); return err },
		"subnets":  func(f []Filter) error { _, err := tc.DescribeSubnets(ctx, west, nil, f); return err },
		"groups":   func(f []Filter) error { _, err := tc.DescribeSecurityGroups(ctx, west, nil, nil, f); return err },
		"rules":    func(f []Filter) error { _, err := tc.DescribeSecurityGroupRules(ctx, west, nil, f); return err },
		"enis":     func(f []Filter) error { _, err := tc.DescribeNetworkInterfaces(ctx, west, nil, f); return err },
		"instance": func(f []Filter) error { _, err := tc.DescribeInstances(ctx, west, nil, f); return err },
		"flowlogs": func(f []Filter) error { _, err := tc.DescribeFlowLogs(ctx, west, nil, f); return err },
		"tags":     func(f []Filter) error { _, err := tc.DescribeTags(ctx, west, f); return err },
	} {
		for _, fs := range [][]Filter{{colour}, {miss, colour}} {
			err := describe(fs)
			if e, ok := AsAPIError(err); !ok || e.Code != "InvalidParameterValue" || e.Message != "The filter 'colour' is invalid" {
				t.Errorf("%s with %v: %v, want InvalidParameterValue", name, fs, err)
			}
		}
	}
	// network-interface.* names are known, or not, without an ENI to look at.
	_, err := tc.DescribeInstances(ctx, west, nil, []Filter{{Name: "network-interface.colour", Values: []string{"x"}}})
	wantCode(t, err, "InvalidParameterValue")
}
