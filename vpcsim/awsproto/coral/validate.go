package coral

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ConstraintViolation is one member of a request that breaks a constraint of the
// model. Path names the member as AWS does: "networkConfiguration.awsvpcConfiguration.subnets",
// "tags.1.member.key" (list elements are counted from 1).
type ConstraintViolation struct {
	Path       string
	Value      string // as AWS quotes it: null, 'abc', '70000', '[a, b]'
	Constraint string // "Member must not be null", "Member must have length less than or equal to 128", …
}

// ValidationError lists every constraint a request breaks, in member order.
type ValidationError struct {
	Violations []ConstraintViolation
}

// Error words the violations as AWS's Java services do:
// "1 validation error detected: Value null at 'cluster' failed to satisfy constraint: Member must not be null".
func (e *ValidationError) Error() string {
	var b strings.Builder
	n := len(e.Violations)
	if n == 1 {
		b.WriteString("1 validation error detected: ")
	} else {
		fmt.Fprintf(&b, "%d validation errors detected: ", n)
	}
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "Value %s at '%s' failed to satisfy constraint: %s", v.Value, v.Path, v.Constraint)
	}
	return b.String()
}

// Constraints are a service model's constraints as its generated shapes carry
// them: each field's tag named Tag (`ecs:"required,min=1,max=128,pattern=X"`,
// see ecsapi/ecstypes/gen/README.md), the regular expressions of the pattern
// shapes and the values of the enum shapes, both keyed by shape name.
type Constraints struct {
	Tag      string
	Patterns map[string]string
	Enums    map[string][]string

	rules    sync.Map // reflect.Type → []rule
	compiled sync.Map // shape name → *regexp.Regexp
}

// Validate checks v, a pointer to (or value of) a generated structure, against the
// constraints of the model recorded in its fields' tags: required members,
// lengths, ranges, enum values and patterns, at any depth. It returns nil or a
// *ValidationError listing every violation. Unknown enum values are violations,
// as on AWS's side.
func (c *Constraints) Validate(v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("coral: Validate: %T is not a structure", v)
	}
	var vs []ConstraintViolation
	c.validateStruct(rv, "", &vs)
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: vs}
}

// rule is the parsed `ecs` tag of one field.
type rule struct {
	index                  int
	name                   string // wire name
	required               bool
	min, max               *float64
	itemMin, itemMax       *float64
	enum, pattern, itemPat string
}

func (c *Constraints) rulesOf(t reflect.Type) []rule {
	if r, ok := c.rules.Load(t); ok {
		return r.([]rule)
	}
	var rs []rule
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		r := rule{index: i, name: name}
		for _, tc := range strings.Split(f.Tag.Get(c.Tag), ",") {
			k, val, _ := strings.Cut(tc, "=")
			num := func() *float64 {
				x, err := strconv.ParseFloat(val, 64)
				if err != nil {
					panic(fmt.Sprintf("coral: bad %s tag %q on %s.%s", c.Tag, tc, t.Name(), f.Name))
				}
				return &x
			}
			switch k {
			case "":
			case "required":
				r.required = true
			case "min":
				r.min = num()
			case "max":
				r.max = num()
			case "itemmin":
				r.itemMin = num()
			case "itemmax":
				r.itemMax = num()
			case "enum":
				r.enum = val
			case "pattern":
				r.pattern = val
			case "itempattern":
				r.itemPat = val
			default:
				panic(fmt.Sprintf("coral: unknown %s tag %q on %s.%s", c.Tag, tc, t.Name(), f.Name))
			}
		}
		rs = append(rs, r)
	}
	c.rules.Store(t, rs)
	return rs
}

// CheckPatterns compiles every pattern of the model, for a test of the
// generated tables: Validate would panic on one that does not compile.
func (c *Constraints) CheckPatterns() error {
	for shape, p := range c.Patterns {
		if _, err := regexp.Compile(`^(?:` + p + `)$`); err != nil {
			return fmt.Errorf("pattern of %s: %w", shape, err)
		}
	}
	return nil
}

// patternOf compiles a model pattern, anchored: AWS matches the whole value.
func (c *Constraints) patternOf(shape string) *regexp.Regexp {
	if re, ok := c.compiled.Load(shape); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(`^(?:` + c.Patterns[shape] + `)$`)
	c.compiled.Store(shape, re)
	return re
}

// join names a member as Coral's messages do: by its Java field's name, the
// member's with its first letter in lower case ("Names" → 'names', as SSM's
// PascalCase members are named; ECS's camelCase ones stay as they are).
func join(path, name string) string {
	if r, size := utf8.DecodeRuneInString(name); size > 0 && unicode.IsUpper(r) {
		name = string(unicode.ToLower(r)) + name[size:]
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

func (c *Constraints) validateStruct(sv reflect.Value, path string, vs *[]ConstraintViolation) {
	for _, r := range c.rulesOf(sv.Type()) {
		fv := sv.Field(r.index)
		p := join(path, r.name)
		if fv.IsZero() && !(fv.Kind() == reflect.Slice && !fv.IsNil()) && !(fv.Kind() == reflect.Map && !fv.IsNil()) {
			// absent (nil, or the empty enum string)
			if r.required {
				*vs = append(*vs, ConstraintViolation{Path: p, Value: "null", Constraint: "Member must not be null"})
			}
			continue
		}
		c.validateValue(fv, p, r.min, r.max, r.enum, r.pattern, vs)
		switch fv.Kind() {
		case reflect.Slice:
			if fv.Type().Elem().Kind() == reflect.Uint8 {
				break // blob
			}
			for i := range fv.Len() {
				ev := fv.Index(i)
				ep := fmt.Sprintf("%s.%d.member", p, i+1)
				c.validateValue(ev, ep, r.itemMin, r.itemMax, r.enum, r.itemPat, vs)
			}
		case reflect.Map:
			iter := fv.MapRange()
			for iter.Next() {
				c.validateValue(iter.Value(), p+"."+iter.Key().String(), nil, nil, "", "", vs)
			}
		}
	}
}

// validateValue checks one present value against its constraints (for a list:
// its length; enum applies to the strings of a list) and descends into structures.
func (c *Constraints) validateValue(v reflect.Value, path string, min, max *float64, enum, pattern string, vs *[]ConstraintViolation) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	add := func(constraint string) {
		*vs = append(*vs, ConstraintViolation{Path: path, Value: quote(v), Constraint: constraint})
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Timestamp]() {
			return
		}
		c.validateStruct(v, path, vs)
	case reflect.String:
		s := v.String()
		n := float64(utf8.RuneCountInString(s))
		if min != nil && n < *min {
			add("Member must have length greater than or equal to " + num(*min))
		}
		if max != nil && n > *max {
			add("Member must have length less than or equal to " + num(*max))
		}
		if enum != "" && !slices.Contains(c.Enums[enum], s) {
			add("Member must satisfy enum value set: [" + strings.Join(c.Enums[enum], ", ") + "]")
		}
		if pattern != "" && !c.patternOf(pattern).MatchString(s) {
			add("Member must satisfy regular expression pattern: " + c.Patterns[pattern])
		}
	case reflect.Slice, reflect.Map:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		n := float64(v.Len())
		if min != nil && n < *min {
			add("Member must have length greater than or equal to " + num(*min))
		}
		if max != nil && n > *max {
			add("Member must have length less than or equal to " + num(*max))
		}
	case reflect.Int32, reflect.Int64, reflect.Float64, reflect.Float32:
		var x float64
		if v.CanInt() {
			x = float64(v.Int())
		} else {
			x = v.Float()
		}
		if min != nil && x < *min {
			add("Member must have value greater than or equal to " + num(*min))
		}
		if max != nil && x > *max {
			add("Member must have value less than or equal to " + num(*max))
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// quote renders a value as AWS's validation messages do.
func quote(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return "'" + v.String() + "'"
	case reflect.Int32, reflect.Int64:
		return "'" + strconv.FormatInt(v.Int(), 10) + "'"
	case reflect.Float32, reflect.Float64:
		return "'" + javaDouble(v.Float()) + "'"
	case reflect.Bool:
		return "'" + strconv.FormatBool(v.Bool()) + "'"
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = v.Index(i).String()
			}
			return "'[" + strings.Join(parts, ", ") + "]'"
		}
	}
	return "null"
}
