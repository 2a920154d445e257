// Package netmodeltest holds the test double of netmodel.Dataplane: a fake
// that keeps in memory what it was asked for and records every call, so that
// the domains' rules are tested without root. It imports netmodel only, so any
// package's tests may use it, package ec2's own included.
package netmodeltest
