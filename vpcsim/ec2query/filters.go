package ec2query

import (
	"github.com/vpcsim/vpcsim/vpcsim"
)

// matchFilters filters the static tables (regions and zones) that the domain
// exposes unfiltered, with the domain's own rules.
func matchFilters(fs []vpcsim.Filter, values func(name string) (string, bool)) (bool, error) {
	return vpcsim.MatchFilters(fs, func(name string) ([]string, bool) {
		v, ok := values(name)
		return []string{v}, ok
	})
}
