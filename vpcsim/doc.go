// Package vpcsim holds what every service of vpcsim shares: the store the
// domains keep their models in (Store, MemStore: package storage's, under the
// names the domains take) and the data directory's layout (S3Dir). The rest
// of what they share is a package of its own below it:
//
//	awsproto/     the API listener's router and what the protocols share; sigv4/
//	bus/          the event bus: committed changes' events, to each subscriber
//	fault/        crash points for tests (-tags faultinject)
//	frontdoor/    who may talk to the listener
//	hostpath/     files a request names, opened without following links
//	netmodel/     the Dataplane port between EC2 and the machine; netmodeltest/, its fake
//	quota/        the one table of resource bounds
//	awstest/      test support: SDK clients, the bad-input runner, the aws CLIs
//
// The EC2 domain is vpcsim/ec2 (its Query handlers vpcsim/ec2/ec2query); the
// ECS domain is ecsapi. ARCHITECTURE.md says how the parts meet.
package vpcsim
