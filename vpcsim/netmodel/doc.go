// Package netmodel is the port between the EC2 domain and the machine: the
// Dataplane interface and the values it takes (VPCs, subnets, ENIs, the
// topology, the firewalls and their changes, flow-log packets), with the pure
// methods on them. The domain (package ec2) computes these values from its
// model and calls a Dataplane; hostnet implements one with the kernel. It is a
// package of its own so that hostnet and the fake depend on the port alone,
// not on the EC2 domain.
//
// NopDataplane, the dataplane of `--dataplane none`, is here too; the fake
// that tests use is in netmodeltest.
package netmodel
