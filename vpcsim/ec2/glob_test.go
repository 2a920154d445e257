package ec2

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGlobLongPatterns holds the matcher to the reference (refMatch) on
// patterns of 60 to 300 characters, where its position sets take more than
// one word, and on values made to match them and then spoilt.
func TestGlobLongPatterns(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 6))
	alphabet := []string{"a", "b", "é", "\xff", "*", "?", `\`}
	for range 800 {
		var p strings.Builder
		for n := 60 + rng.IntN(240); n > 0; n-- {
			p.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		pattern := p.String()
		// A value the pattern matches: each wildcard replaced by what it takes.
		var v strings.Builder
		units := refUnits(pattern)
		for i := 0; i < len(units); i++ {
			switch u := units[i]; {
			case u == `\` && i+1 < len(units):
				i++
				v.WriteString(units[i])
			case u == "*":
				v.WriteString(strings.Repeat("ab", rng.IntN(3)))
			case u == "?":
				v.WriteString(alphabet[rng.IntN(4)])
			default:
				v.WriteString(u)
			}
		}
		for _, s := range []string{v.String(), v.String() + "a", "b" + v.String(), strings.Replace(v.String(), "a", "b", 1), ""} {
			if got, want := globMatch(pattern, s), refMatch(pattern, s); got != want {
				t.Fatalf("globMatch(%q, %q) = %v, the reference says %v", pattern, s, got, want)
			}
		}
	}
}
