// Package ec2 is the EC2 domain of vpcsim (the VPC part): regions, VPCs,
// subnets and their addresses, security groups and the firewalls they make,
// ENIs, instances, tags, filters and flow logs. Cloud is its API; it keeps its
// model in the shared store, tells the machine through netmodel.Dataplane, and
// publishes what commits change on the bus (InstanceChanged, ENIChanged).
// Its callers import it as ec2sim, since aws-sdk-go-v2's EC2 client, which
// tests use beside it, is package ec2 too.
package ec2
