package ec2query

import ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"

// matchFilters filters the static tables (regions and zones) that the domain
// exposes unfiltered, with the domain's own rules.
func matchFilters(fs []ec2sim.Filter, values func(name string) (string, bool)) (bool, error) {
	return ec2sim.MatchFilters(fs, func(name string) ([]string, bool) {
		v, ok := values(name)
		return []string{v}, ok
	})
}
