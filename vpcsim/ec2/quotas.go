package ec2

import (
	"iter"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// WithQuotas sets the bounds on what callers can make (default: the local
// profile). Every bound is checked under the model lock, with the creation.
func WithQuotas(l quota.Limits) Option { return func(c *Cloud) { c.quotas = l } }

// Quotas is the bounds in effect.
func (c *Cloud) Quotas() quota.Limits { return c.quotas }

// checkQuota refuses total resources (those there and those a call adds)
// beyond a quota, with EC2's error.
func (c *Cloud) checkQuota(name quota.Name, total int) error {
	if e := c.quotas.Check(name, total); e != nil {
		return Errorf(e.Code, "%s", e.Message)
	}
	return nil
}

// countWhere counts the values of a model map that keep holds for.
func countWhere[T any](all iter.Seq[*T], keep func(*T) bool) int {
	n := 0
	for v := range all {
		if keep(v) {
			n++
		}
	}
	return n
}
