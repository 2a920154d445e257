package ec2

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"
)

// EC2's bounds on one Describe call's filters. Both are refused with
// FilterLimitExceeded, in EC2's words.
const (
	// maxFilterValues bounds the values of all the call's filters together; a
	// filter given without values counts as one. (unverified: how EC2 counts a
	// filter without values.)
	maxFilterValues = 200
	// maxFilterValueLen bounds one value, in characters.
	maxFilterValueLen = 255
)

// checkFilterLimits refuses filters beyond EC2's bounds, before any is read.
func checkFilterLimits(filters []Filter) error {
	n := 0
	for _, f := range filters {
		n += max(1, len(f.Values))
		if n > maxFilterValues {
			return Errorf("FilterLimitExceeded", "The maximum number of filter values specified on a single call is %d", maxFilterValues)
		}
	}
	for _, f := range filters {
		for _, v := range f.Values {
			if utf8.RuneCountInString(v) > maxFilterValueLen {
				return Errorf("FilterLimitExceeded", "The maximum length for a filter value is %d characters", maxFilterValueLen)
			}
		}
	}
	return nil
}

// query is one Describe call's filters once checked: within EC2's bounds, and
// every name one the resource type has a filter of (see describeFiltered).
type query struct {
	filters  []Filter
	patterns [][]*glob // filters[i]'s values, compiled
	names    []string  // the distinct names, in the order given
	index    []int     // filters[i] reads names[index[i]]
}

// newQuery checks filters; values answers a name the resource type has (its
// values are not read), as for matchAll.
func newQuery(filters []Filter, values func(name string) ([]string, bool)) (*query, error) {
	if err := checkFilterLimits(filters); err != nil {
		return nil, err
	}
	if err := checkFilters(filters, values); err != nil {
		return nil, err
	}
	q := &query{filters: filters, index: make([]int, len(filters)), patterns: make([][]*glob, len(filters))}
	for i, f := range filters {
		for _, v := range f.Values {
			q.patterns[i] = append(q.patterns[i], compileGlob(chars(v)))
		}
		j := slices.Index(q.names, f.Name)
		if j < 0 {
			j = len(q.names)
			q.names = append(q.names, f.Name)
		}
		q.index[i] = j
	}
	return q, nil
}

// capture copies what a resource has for each of the query's names, as
// characters ready to match, so that the copy can be matched without the lock
// values reads under.
func (q *query) capture(tags []Tag, values func(name string) ([]string, bool)) [][][]rune {
	if len(q.names) == 0 {
		return nil
	}
	out := make([][][]rune, len(q.names))
	for i, name := range q.names {
		have, known := tagValues(name, tags)
		if !known {
			have, _ = values(name)
		}
		for _, h := range have {
			out[i] = append(out[i], chars(h))
		}
	}
	return out
}

// matches reports whether captured values pass every filter: for each, one of
// the values of its name matches one of its patterns.
func (q *query) matches(have [][][]rune) bool {
	for i := range q.filters {
		if !anyMatch(q.patterns[i], have[q.index[i]]) {
			return false
		}
	}
	return true
}

// describeFiltered answers a Describe call in two steps. Under the model lock it
// checks the filters, lists the resources (list makes the copies the call
// answers with) and captures each one's values for the filters' names
// (values, which may read the model). Then, without the lock, it keeps the
// copies that match: the matching, whose cost grows with the patterns, never
// holds up other calls. tags gives a copy's tags (nil: it has none).
func describeFiltered[T any](ctx context.Context, c *Cloud, s Scope, f []Filter, list func() ([]T, error),
	tags func(*T) []Tag, values func(item *T, name string) ([]string, bool)) ([]T, error) {
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	q, items, have, err := func() (*query, []T, [][][][]rune, error) {
		defer c.unlock()
		q, err := newQuery(f, func(name string) ([]string, bool) { return values(new(T), name) })
		if err != nil {
			return nil, nil, nil, err
		}
		items, err := list()
		if err != nil {
			return nil, nil, nil, err
		}
		have := make([][][][]rune, len(items))
		for i := range items {
			var t []Tag
			if tags != nil {
				t = tags(&items[i])
			}
			have[i] = q.capture(t, func(name string) ([]string, bool) { return values(&items[i], name) })
		}
		return q, items, have, nil
	}()
	if err != nil {
		return nil, err
	}
	if c.beforeFilter != nil {
		c.beforeFilter()
	}
	var out []T
	for i := range items {
		// A client that gave up does not keep a CPU busy.
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if q.matches(have[i]) {
			out = append(out, items[i])
		}
	}
	return out, nil
}

// matchAll reports whether a resource passes every filter: for each filter, one
// of the resource's values for that name matches one of the filter's values.
// values gives the resource's values for a filter name, and false for a name the
// resource type has no filter of; tag:KEY, tag-key and tag-value are answered
// from tags.
func matchAll(filters []Filter, tags []Tag, values func(name string) ([]string, bool)) (bool, error) {
	q, err := newQuery(filters, values)
	if err != nil {
		return false, err
	}
	return q.matches(q.capture(tags, values)), nil
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

func anyMatch(patterns []*glob, have [][]rune) bool {
	for _, p := range patterns {
		for _, h := range have {
			if p.match(h) {
				return true
			}
		}
	}
	return false
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
