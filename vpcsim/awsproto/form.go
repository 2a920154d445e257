package awsproto

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Form reads an awsquery operation's input, serialized as the Query
// protocol serializes a model's shapes (botocore's QuerySerializer): a
// member is its name, a list's items Name.member.1, Name.member.2, …, a
// structure's members Name.Member, so a list of structures is
// Name.member.N.Member. A Form remembers which keys it was asked for:
// Unused lists the others, which a service refuses rather than ignore.
type Form struct {
	values url.Values
	prefix string
	asked  map[string]bool // shared with the Forms of its structures
}

// NewForm reads values.
func NewForm(values url.Values) *Form {
	return &Form{values: values, asked: map[string]bool{}}
}

// Get is the member's value and whether the request has it.
func (f *Form) Get(name string) (string, bool) {
	k := f.prefix + name
	f.asked[k] = true
	vs, ok := f.values[k]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// List is a list of strings: Name.member.1, Name.member.2, … up to the
// first index missing (an item past a gap is Unused).
func (f *Form) List(name string) []string {
	var items []string
	for i := 1; ; i++ {
		v, ok := f.Get(name + ".member." + strconv.Itoa(i))
		if !ok {
			return items
		}
		items = append(items, v)
	}
}

// Structs is a list of structures: the Forms of Name.member.1.*,
// Name.member.2.*, … up to the first index with no member.
func (f *Form) Structs(name string) []*Form {
	list := f.prefix + name + ".member."
	have := map[int]bool{}
	for k := range f.values {
		rest, ok := strings.CutPrefix(k, list)
		if !ok {
			continue
		}
		idx, _, ok := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(idx); ok && err == nil && strconv.Itoa(n) == idx {
			have[n] = true
		}
	}
	var items []*Form
	for i := 1; have[i]; i++ {
		items = append(items, f.Struct(name+".member."+strconv.Itoa(i)))
	}
	return items
}

// Struct is the Form of a structure member: Name.*.
func (f *Form) Struct(name string) *Form {
	return &Form{values: f.values, prefix: f.prefix + name + ".", asked: f.asked}
}

// Unused lists, sorted, the keys of the request no Get asked for: members
// the operation does not have, or list items past a gap.
func (f *Form) Unused() []string {
	var keys []string
	for k := range f.values {
		if !f.asked[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
