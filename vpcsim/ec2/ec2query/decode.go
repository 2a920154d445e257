package ec2query

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The EC2 Query protocol flattens a request into form keys: a member is named by
// its query name (see model_gen.go), a nested member adds ".Name", and a list
// element adds ".1", ".2", … (Filter.1.Name, Filter.1.Value.1). decode reverses
// that into a Go struct whose fields carry the key in a `query:"Name"` tag:
//
//	type describeVpcsRequest struct {
//		VpcIDs  []string      `query:"VpcId"`   // VpcId.1, VpcId.2, …
//		Filters []filterParam `query:"Filter"`  // Filter.1.Name, Filter.1.Value.1, …
//		_       ignored       `query:"ClientToken"` // accepted and deliberately unused
//	}
//
// Supported field types: string, bool, the int kinds, pointers to them (nil = not
// given), structs, and slices of any of these. decode is driven by the keys of the
// request, never by the indices in them, so hostile input (Foo.99999999999) costs
// nothing and nothing in here can panic on input.

// ignored marks a parameter a request type accepts and deliberately does not use
// (e.g. a ClientToken where retries are harmless). Use it on a blank field.
type ignored struct{}

// decodeError is a parameter the request type cannot take: either a key it has no
// field for (unknown), or a value of the wrong type (bad).
type decodeError struct {
	Key      string
	Value    string
	Expected string // "" = unknown key; else the type the value must have
}

func (e *decodeError) Error() string {
	if e.Expected == "" {
		return "unknown parameter " + e.Key
	}
	return fmt.Sprintf("parameter %s: %q is not %s", e.Key, e.Value, e.Expected)
}

// node is one level of the key tree: Filter → 1 → Name.
type node struct {
	key      string // the full key up to here, as the client wrote it
	value    string
	hasValue bool
	kids     map[string]*node
}

// buildTree splits every key on "." into a tree. A key with an empty segment
// ("A..B", "A.") can name no member: it is returned as unknown.
func buildTree(params url.Values) (*node, []string) {
	root := &node{}
	var bad []string
	for key, vals := range params {
		segs := strings.Split(key, ".")
		if slices.Contains(segs, "") {
			bad = append(bad, key)
			continue
		}
		n := root
		for i, s := range segs {
			if n.kids == nil {
				n.kids = map[string]*node{}
			}
			k := n.kids[s]
			if k == nil {
				k = &node{key: strings.Join(segs[:i+1], ".")}
				n.kids[s] = k
			}
			n = k
		}
		if len(vals) > 0 {
			// A repeated key keeps its first value, as a form parser reading the
			// first occurrence would.
			n.value, n.hasValue = vals[0], true
		}
	}
	slices.Sort(bad)
	return root, bad
}

// decode fills the struct req points to from params. It returns the keys req has no
// field for (sorted), and the first value of the wrong type as a *decodeError.
// Keys are visited in sorted order, so the error reported is deterministic.
func decode(params url.Values, req any) (unknown []string, err error) {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("decode: want a pointer to a struct, have %T", req)
	}
	root, bad := buildTree(params)
	d := &decoder{unknown: bad}
	d.structure(root, v.Elem())
	slices.Sort(d.unknown)
	if d.err != nil {
		return d.unknown, d.err
	}
	return d.unknown, nil
}

type decoder struct {
	unknown []string
	err     error
}

func (d *decoder) fail(n *node, expected string) {
	if d.err == nil {
		d.err = &decodeError{Key: n.key, Value: n.value, Expected: expected}
	}
}

// leaves adds every key at or below n to the unknown list.
func (d *decoder) leaves(n *node) {
	if n.hasValue {
		d.unknown = append(d.unknown, n.key)
	}
	for _, k := range n.kids {
		d.leaves(k)
	}
}

func sortedKids(n *node) []string {
	names := make([]string, 0, len(n.kids))
	for name := range n.kids {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// structure decodes n's children into the fields of struct v.
func (d *decoder) structure(n *node, v reflect.Value) {
	if n.hasValue && n.key != "" {
		d.unknown = append(d.unknown, n.key) // "Placement=x": a structure takes no value
	}
	fields := queryFields(v.Type())
	for _, name := range sortedKids(n) {
		kid := n.kids[name]
		f, ok := fields[name]
		if !ok {
			d.leaves(kid)
			continue
		}
		if f.typ == reflect.TypeFor[ignored]() {
			continue
		}
		d.value(kid, v.FieldByIndex(f.index))
	}
}

type queryField struct {
	index []int
	typ   reflect.Type
}

// queryFields maps query names to fields. The fields of an embedded struct without
// a query tag are promoted, as encoding/json promotes them, so common parameters
// (DryRun, MaxResults/NextToken) live in small structs that requests embed.
func queryFields(t reflect.Type) map[string]queryField {
	m := map[string]queryField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("query")
		if !ok && f.Anonymous && f.Type.Kind() == reflect.Struct {
			for name, sub := range queryFields(f.Type) {
				m[name] = queryField{index: append([]int{i}, sub.index...), typ: sub.typ}
			}
			continue
		}
		// An unexported field cannot be set; a tag on one would be a mistake that
		// must not turn into a panic on input.
		if tag != "" && tag != "-" && (f.IsExported() || f.Type == reflect.TypeFor[ignored]()) {
			m[tag] = queryField{index: []int{i}, typ: f.Type}
		}
	}
	return m
}

func (d *decoder) value(n *node, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem())
	case reflect.Struct:
		d.structure(n, v)
	case reflect.Slice:
		d.list(n, v)
	case reflect.String:
		if !d.scalar(n) {
			return
		}
		v.SetString(n.value)
	case reflect.Bool:
		if !d.scalar(n) {
			return
		}
		switch strings.ToLower(n.value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(n, "Boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n) {
			return
		}
		i, err := strconv.ParseInt(strings.TrimSpace(n.value), 10, v.Type().Bits())
		if err != nil {
			d.fail(n, "Integer")
			return
		}
		v.SetInt(i)
	default:
		// A request type with a field decode cannot fill is a programming error;
		// report the key rather than panic.
		d.fail(n, "a supported type")
	}
}

// scalar reports whether n is a plain value; keys below it are unknown.
func (d *decoder) scalar(n *node) bool {
	for _, k := range n.kids {
		d.leaves(k)
	}
	if !n.hasValue {
		return false
	}
	return true
}

// list decodes n's numbered children, in index order, into slice v. Indices need
// not be dense: SubnetId.1 and SubnetId.3 make a list of two.
func (d *decoder) list(n *node, v reflect.Value) {
	if n.hasValue {
		d.unknown = append(d.unknown, n.key) // "SubnetId=x" for a list: not a key the model has
	}
	type elem struct {
		i int64
		n *node
	}
	var elems []elem
	for name, kid := range n.kids {
		i, err := strconv.ParseInt(name, 10, 32)
		if err != nil || i < 1 || name[0] == '+' {
			d.leaves(kid)
			continue
		}
		elems = append(elems, elem{i, kid})
	}
	slices.SortFunc(elems, func(a, b elem) int { return int(a.i - b.i) })
	s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
	for j, e := range elems {
		d.value(e.n, s.Index(j))
	}
	v.Set(s)
}

// queryPaths lists the keys a request type can decode, with list indices as N, in
// the form model_gen.go uses, so tests can check every tag against the model.
func queryPaths(t reflect.Type) []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				tag, ok := f.Tag.Lookup("query")
				if !ok && f.Anonymous && f.Type.Kind() == reflect.Struct {
					walk(f.Type, prefix)
					continue
				}
				if tag == "" || tag == "-" || (!f.IsExported() && f.Type != reflect.TypeFor[ignored]()) {
					continue
				}
				p := tag
				if prefix != "" {
					p = prefix + "." + tag
				}
				if f.Type == reflect.TypeFor[ignored]() {
					out = append(out, p)
					continue
				}
				walk(f.Type, p)
			}
		case reflect.Slice:
			walk(t.Elem(), prefix+".N")
		default:
			out = append(out, prefix)
		}
	}
	walk(t, "")
	slices.Sort(out)
	return out
}
