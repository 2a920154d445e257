package ecsapi

import (
	"errors"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The cluster query language of memberOf placement constraints, for what a
// vpcsim container instance has: its attributes (attribute:NAME, the agent's
// ecs.* ones and those it registered with), ec2InstanceId, agentConnected,
// runningTasksCount and task:group. Expressions combine with and (&&), or
// (||), not(…) and parentheses; comparisons are ==, !=, >, >=, <, <=, =~ and
// !~ (wildcards * and ?), exists, in [...] and not in [...].

// queryNode is a parsed expression.
type queryNode interface {
	eval(q queryTarget) bool
}

// queryTarget is what an expression is evaluated against: one instance.
type queryTarget struct {
	values func(subject string) []string // the subject's values on the instance (none: absent)
}

type queryAnd struct{ l, r queryNode }
type queryOr struct{ l, r queryNode }
type queryNot struct{ x queryNode }
type queryCmp struct {
	subject, op string
	values      []string
}

func (n queryAnd) eval(q queryTarget) bool { return n.l.eval(q) && n.r.eval(q) }
func (n queryOr) eval(q queryTarget) bool  { return n.l.eval(q) || n.r.eval(q) }
func (n queryNot) eval(q queryTarget) bool { return !n.x.eval(q) }

func (n queryCmp) eval(q queryTarget) bool {
	have := q.values(n.subject)
	if n.op == "exists" {
		return len(have) > 0
	}
	match := func(v string) bool {
		for _, want := range n.values {
			switch n.op {
			case "==", "in":
				if v == want {
					return true
				}
			case "=~":
				if ok, _ := path.Match(want, v); ok {
					return true
				}
			case ">", ">=", "<", "<=":
				if compareQuery(v, want, n.op) {
					return true
				}
			}
		}
		return false
	}
	switch n.op {
	case "!=", "not in", "!~":
		inverse := queryCmp{subject: n.subject, op: map[string]string{"!=": "==", "not in": "in", "!~": "=~"}[n.op], values: n.values}
		return !inverse.eval(q)
	}
	return slices.ContainsFunc(have, match)
}

// compareQuery orders numbers as numbers, anything else as text.
func compareQuery(a, b, op string) bool {
	c := strings.Compare(a, b)
	if x, err := strconv.ParseFloat(a, 64); err == nil {
		if y, err := strconv.ParseFloat(b, 64); err == nil {
			switch {
			case x < y:
				c = -1
			case x > y:
				c = 1
			default:
				c = 0
			}
		}
	}
	switch op {
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	}
	return c <= 0
}

// parseQuery parses a memberOf expression.
func parseQuery(expr string) (queryNode, error) {
	toks, err := queryTokens(expr)
	if err != nil {
		return nil, err
	}
	p := &queryParser{toks: toks}
	n, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = invalidQuery(expr)
	}
	if err != nil {
		return nil, invalidQuery(expr)
	}
	return n, nil
}

func invalidQuery(expr string) *Error {
	return invalidParam("Invalid expression for memberOf placement constraint: %s", expr)
}

// queryTokens splits an expression into words, quoted strings (kept with
// their quote, to tell them from keywords), operators and brackets.
func queryTokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("()[],", c):
			out = append(out, string(c))
			i++
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], byte(c))
			if end < 0 {
				return nil, invalidQuery(s)
			}
			out = append(out, s[i:i+end+2])
			i += end + 2
		case strings.ContainsRune("=!<>&|~", c):
			j := i
			for j < len(s) && strings.ContainsRune("=!<>&|~", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("()[],=!<>&|~'\"", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}

type queryParser struct {
	toks []string
	i    int
}

func (p *queryParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *queryParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *queryParser) or() (queryNode, error) {
	l, err := p.and()
	for err == nil && (strings.EqualFold(p.peek(), "or") || p.peek() == "||") {
		p.next()
		var r queryNode
		if r, err = p.and(); err == nil {
			l = queryOr{l, r}
		}
	}
	return l, err
}

func (p *queryParser) and() (queryNode, error) {
	l, err := p.factor()
	for err == nil && (strings.EqualFold(p.peek(), "and") || p.peek() == "&&") {
		p.next()
		var r queryNode
		if r, err = p.factor(); err == nil {
			l = queryAnd{l, r}
		}
	}
	return l, err
}

func (p *queryParser) factor() (queryNode, error) {
	switch t := p.peek(); {
	case strings.EqualFold(t, "not") || t == "!":
		p.next()
		x, err := p.factor()
		return queryNot{x}, err
	case t == "(":
		p.next()
		x, err := p.or()
		if err == nil && p.next() != ")" {
			err = errQuery
		}
		return x, err
	}
	return p.comparison()
}

func (p *queryParser) comparison() (queryNode, error) {
	subject := p.next()
	if subject == "" || strings.ContainsAny(subject, "()[],'\"") {
		return nil, errQuery
	}
	op := strings.ToLower(p.next())
	if op == "not" && strings.EqualFold(p.peek(), "in") {
		p.next()
		op = "not in"
	}
	switch op {
	case "exists":
		return queryCmp{subject: subject, op: op}, nil
	case "in", "not in":
		if p.next() != "[" {
			return nil, errQuery
		}
		var values []string
		for {
			v := p.next()
			if v == "" || v == "[" || v == "(" || v == ")" {
				return nil, errQuery
			}
			if v == "]" {
				break
			}
			if v != "," {
				values = append(values, unquote(v))
			}
		}
		return queryCmp{subject: subject, op: op, values: values}, nil
	case "==", "!=", ">", ">=", "<", "<=", "=~", "!~":
		v := p.next()
		if v == "" || strings.ContainsAny(v[:1], "()[],") {
			return nil, errQuery
		}
		return queryCmp{subject: subject, op: op, values: []string{unquote(v)}}, nil
	}
	return nil, errQuery
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') {
		return v[1 : len(v)-1]
	}
	return v
}

// errQuery stops a parse; parseQuery answers ECS's refusal instead.
var errQuery = errors.New("the expression does not parse")
