package ec2

import (
	"slices"
	"unicode/utf8"
)

// EC2 filter values are patterns: * matches any run of characters, ? any one,
// and a backslash makes the next character literal (a lone backslash at the
// end matches nothing). A Describe call compiles each value once and matches
// it in time linear in the value matched (a bit-parallel run of the pattern's
// automaton, a few words wide), whatever the pattern: a backtracking matcher
// takes quadratic time on patterns such as "*aaa…ab", which EC2's bounds on
// filters (200 values of 255 characters) do not rule out.

// glob is a compiled filter value. Position i of its automaton means "the
// first i tokens matched"; a star token keeps its position on any character
// and may be skipped. Position sets are bit sets of words words.
type glob struct {
	exact  []rune // set (non-nil) when the value has no wildcard: equality decides
	broken bool   // a lone backslash at the end: nothing matches
	n      int    // tokens; position n accepts
	fixed  int    // tokens that take one character (all but the star)
	words  int
	star   []uint64
	any    []uint64          // the positions whose token is ?
	ascii  []uint64          // 128 sets, one per ASCII literal
	other  map[rune][]uint64 // the other literals'
}

// compileGlob compiles a filter value, split into characters (see chars).
func compileGlob(p []rune) *glob {
	g := &glob{}
	wild := false
	var toks []rune // literal characters, or -1 for ?, -2 for *
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			toks = append(toks, p[i])
			wild = true
		case c == '\\':
			g.broken = true
			return g
		case c == '?':
			toks = append(toks, -1)
			wild = true
		case c == '*':
			wild = true
			if len(toks) == 0 || toks[len(toks)-1] != -2 { // ** is *
				toks = append(toks, -2)
			}
		default:
			toks = append(toks, c)
		}
	}
	if !wild {
		g.exact = append([]rune{}, toks...)
		return g
	}
	g.n, g.words = len(toks), len(toks)/64+1
	g.fixed = g.n - countStars(toks)
	g.star, g.any, g.ascii = make([]uint64, g.words), make([]uint64, g.words), make([]uint64, 128*g.words)
	for i, tk := range toks {
		switch {
		case tk == -1:
			setBit(g.any, i)
		case tk == -2:
			setBit(g.star, i)
		case tk < 128:
			setBit(g.ascii[int(tk)*g.words:], i)
		default:
			if g.other == nil {
				g.other = map[rune][]uint64{}
			}
			if g.other[tk] == nil {
				g.other[tk] = make([]uint64, g.words)
			}
			setBit(g.other[tk], i)
		}
	}
	return g
}

func setBit(s []uint64, i int) { s[i/64] |= 1 << (i % 64) }

func countStars(toks []rune) int {
	n := 0
	for _, tk := range toks {
		if tk == -2 {
			n++
		}
	}
	return n
}

// match reports whether the value t (split into characters) matches.
func (g *glob) match(t []rune) bool {
	switch {
	case g.broken:
		return false
	case g.exact != nil:
		return slices.Equal(g.exact, t)
	case len(t) < g.fixed, g.fixed == g.n && len(t) != g.n:
		return false // too short, or not the length a pattern without * takes
	case g.words == 1:
		return g.match1(t)
	}
	var buf [4]uint64 // EC2's 255 characters fit
	d := append(buf[:0], make([]uint64, g.words)...)
	star, any := g.star[:len(d)], g.any[:len(d)]
	d[0] = 1
	g.closure(d)
	for _, c := range t {
		lit := g.literal(c)
		if lit == nil {
			lit = any // no token is c: only ? advances
		}
		lit = lit[:len(d)]
		carry, live := uint64(0), uint64(0)
		for w := range d {
			moved := d[w] & (any[w] | lit[w])
			d[w] = moved<<1 | carry | d[w]&star[w]
			carry = moved >> 63
			live |= d[w]
		}
		if live == 0 {
			return false
		}
		g.closure(d)
	}
	return d[g.n/64]&(1<<(g.n%64)) != 0
}

// match1 is match for patterns of fewer than 64 tokens, the usual ones.
func (g *glob) match1(t []rune) bool {
	star, any := g.star[0], g.any[0]
	d := uint64(1)
	d |= d & star << 1
	for _, c := range t {
		adv := any
		if lit := g.literal(c); lit != nil {
			adv |= lit[0]
		}
		if d = (d&adv)<<1 | d&star; d == 0 {
			return false
		}
		d |= d & star << 1
	}
	return d&(1<<g.n) != 0
}

// literal is the set of positions whose token is the character c (nil: none).
func (g *glob) literal(c rune) []uint64 {
	if c >= 0 && c < 128 {
		return g.ascii[int(c)*g.words : int(c+1)*g.words]
	}
	return g.other[c]
}

// closure adds the position after each active star, since a star may match
// nothing. One step is enough: no two stars are adjacent.
func (g *glob) closure(d []uint64) {
	carry := uint64(0)
	for w := range d {
		s := d[w] & g.star[w]
		d[w] |= s<<1 | carry
		carry = s >> 63
	}
}

// globMatch matches one filter value against one value.
func globMatch(pattern, s string) bool { return compileGlob(chars(pattern)).match(chars(s)) }

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
