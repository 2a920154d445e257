package coral

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// SerializationError is a body the JSON 1.1 deserializer refuses: not JSON, not an
// object, or a member of the wrong JSON type. It becomes a SerializationException.
// An empty Message means AWS sends none (a body that is not JSON at all).
type SerializationError struct {
	Message string
}

func (e *SerializationError) Error() string {
	if e.Message == "" {
		return "SerializationException"
	}
	return "SerializationException: " + e.Message
}

// Decode reads a JSON 1.1 request body into out, a pointer to a generated
// structure, as AWS's (Java, Coral) deserializer does:
//
//   - the body must be one JSON object, in UTF-8; anything else is a
//     SerializationException with no message;
//   - members are matched by exact (case-sensitive) name; unknown members are
//     ignored; null is the same as absent;
//   - a value of the wrong JSON type is a SerializationException worded as Coral
//     words it ("NUMBER_VALUE cannot be converted to String", "Unexpected field
//     type", "Start of structure or map found where not expected");
//   - a number with a fraction or exponent given for an integer is truncated, as
//     Java's number coercion does.
func Decode(body []byte, out any, classPrefix string) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return &SerializationError{}
	}
	// JSON is UTF-8 (RFC 8259 §8.1) and Jackson refuses other bytes; Go's reader
	// would turn them into U+FFFD and let a request store what was never sent.
	if !utf8.Valid(body) {
		return &SerializationError{}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return &SerializationError{}
	}
	if _, err := d.Token(); err != io.EOF {
		return &SerializationError{} // trailing data after the object
	}
	root, ok := v.(map[string]any)
	if !ok {
		return &SerializationError{}
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return errors.New("coral: Decode needs a pointer to a structure")
	}
	return (&decoder{classPrefix}).assignStruct(rv.Elem(), root)
}

var (
	timestampType = reflect.TypeFor[Timestamp]()
	documentType  = reflect.TypeFor[json.RawMessage]()
)

// decoder holds what Coral's messages name of a service: its classes'
// package ("com.amazonaws.ecs.v20141113."), for javaClass.
type decoder struct {
	classPrefix string
}

// assign stores the decoded JSON value v (nil, bool, string, json.Number,
// []any or map[string]any) into dst.
func (d *decoder) assign(dst reflect.Value, v any) error {
	if v == nil {
		return nil // null: absent
	}
	t := dst.Type()
	switch {
	case t == documentType:
		b, err := json.Marshal(v)
		if err != nil {
			return &SerializationError{Message: "Unexpected value type in payload"}
		}
		dst.SetBytes(b)
		return nil
	case t == timestampType:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, "Date")
		}
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(n)); err != nil {
			return &SerializationError{Message: "NUMBER_VALUE cannot be converted to Date"}
		}
		dst.Set(reflect.ValueOf(ts))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.assign(p.Elem(), v); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(v, "String")
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		switch b := v.(type) {
		case bool:
			dst.SetBool(b)
			return nil
		case string:
			return &SerializationError{Message: "Unexpected token received from parser"}
		}
		return mismatch(v, "Boolean")
	case reflect.Int32, reflect.Int64:
		java := "Integer"
		if t.Kind() == reflect.Int64 {
			java = "Long"
		}
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, java)
		}
		i, ok := toInt(n, t.Bits())
		if !ok {
			return &SerializationError{Message: numberKind(n) + " cannot be converted to " + java}
		}
		dst.SetInt(i)
		return nil
	case reflect.Float64, reflect.Float32:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, "Double")
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) {
			return &SerializationError{Message: numberKind(n) + " cannot be converted to Double"}
		}
		dst.SetFloat(f)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blob
			s, ok := v.(string)
			if !ok {
				if _, isMap := v.(map[string]any); isMap {
					return startOfStructure()
				}
				return &SerializationError{Message: "only base-64-encoded strings are convertible to bytes"}
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return &SerializationError{Message: "only base-64-encoded strings are convertible to bytes"}
			}
			dst.SetBytes(b)
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			if _, isMap := v.(map[string]any); isMap {
				return startOfStructure()
			}
			return &SerializationError{Message: "Unexpected field type"}
		}
		s := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			if err := d.assign(s.Index(i), e); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			if _, isList := v.([]any); isList {
				return &SerializationError{Message: "Unrecognized collection type java.util.Map<java.lang.String, " + d.javaClass(t.Elem()) + ">"}
			}
			return &SerializationError{Message: "Unexpected field type"}
		}
		mv := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := d.assign(ev, e); err != nil {
				return err
			}
			mv.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(mv)
		return nil
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			if _, isList := v.([]any); isList {
				return &SerializationError{Message: "Unrecognized collection type class " + d.javaClass(t)}
			}
			return &SerializationError{Message: "Unexpected field type"}
		}
		return d.assignStruct(dst, m)
	}
	return errors.New("coral: cannot decode into " + t.String())
}

func (d *decoder) assignStruct(dst reflect.Value, m map[string]any) error {
	fields := fieldsOf(dst.Type())
	// Members are read in the order of the structure, not of the body, so the
	// first error reported does not depend on Go's map order.
	for _, f := range fields {
		v, ok := m[f.name]
		if !ok {
			continue
		}
		if err := d.assign(dst.Field(f.index), v); err != nil {
			return err
		}
	}
	return nil
}

type field struct {
	name  string
	index int
}

var fieldsCache sync.Map // reflect.Type → []field

func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldsCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name: name, index: i})
	}
	fieldsCache.Store(t, fs)
	return fs
}

// mismatch words a scalar of the wrong JSON type as Coral does.
func mismatch(v any, java string) error {
	var msg string
	switch v := v.(type) {
	case bool:
		if v {
			msg = "TRUE_VALUE cannot be converted to " + java
		} else {
			msg = "FALSE_VALUE cannot be converted to " + java
		}
	case string:
		msg = "STRING_VALUE cannot be converted to " + java
	case json.Number:
		msg = numberKind(v) + " cannot be converted to " + java
	case []any:
		msg = "Unrecognized collection type class java.lang." + java
		if java == "Date" {
			msg = "Unrecognized collection type class java.util.Date"
		}
	case map[string]any:
		return startOfStructure()
	}
	return &SerializationError{Message: msg}
}

func startOfStructure() error {
	return &SerializationError{Message: "Start of structure or map found where not expected"}
}

// numberKind is the Jackson token of a JSON number: NUMBER_VALUE for an integer,
// DECIMAL_VALUE for one with a fraction or exponent.
func numberKind(n json.Number) string {
	if strings.ContainsAny(string(n), ".eE") {
		return "DECIMAL_VALUE"
	}
	return "NUMBER_VALUE"
}

// toInt converts a JSON number to an integer of the given size, truncating a
// fraction; it fails when the value does not fit.
func toInt(n json.Number, bits int) (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, bits); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	f = math.Trunc(f)
	lim := math.Ldexp(1, bits-1)
	if f < -lim || f >= lim {
		return 0, false
	}
	return int64(f), true
}

// javaClass names a structure's class the way Coral's messages name it
// (unverified for ECS: this follows DynamoDB's com.amazonaws.dynamodb.v20120810.X).
func (d *decoder) javaClass(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "java.lang.String"
	case reflect.Struct:
		// A shape renamed on a clash (gen/README.md) is known by its model name.
		name := strings.TrimSuffix(t.Name(), "Shape")
		return d.classPrefix + name
	}
	return t.String()
}
