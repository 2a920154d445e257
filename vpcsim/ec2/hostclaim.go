package ec2

import (
	"context"
	"slices"

	"github.com/vpcsim/vpcsim/storage"
)

// A host claim is a namespace of the dataplane that another service owns and
// EC2 keeps: ECS claims the namespace of a task in bridge or none mode before
// making it and releases it after removing it, so the topology that EC2's
// reconciliation makes true names it, and a restart keeps it with the
// containers still running in it. (The namespaces of awsvpc tasks are EC2's
// own: the task's ENI names its host.)
type HostClaim struct {
	Host   string `json:"host"`
	Owner  string `json:"owner"` // who claimed it: a task's ARN
	Region string `json:"region"`
	Seq    int64  `json:"seq"`
}

const kindHostClaim = "ec2.host-claim"

var hostClaimKind = storage.Kind[HostClaim]{Name: kindHostClaim, ID: func(h *HostClaim) string { return h.Host }}

// Markers are facts about the database itself, by name.
var markerKind = storage.Kind[string]{Name: "ec2.marker", ID: func(m *string) string { return *m }}

// markerHostClaims says the database has recorded host claims since it was
// made or since the first start-up of a vpcsim that knows them. One written
// before has no claim for the namespaces ECS made for its bridge and none
// mode tasks: that first start-up keeps every host namespace (ECS claims
// those of its live tasks as it starts), and the next one removes the rest.
const markerHostClaims = "host-claims"

// ClaimHost records that owner owns the namespace named host, which EC2's
// reconciliation keeps from now on. Claiming it again (by any owner) keeps
// the first claim.
func (c *Cloud) ClaimHost(ctx context.Context, s Scope, host, owner string) error {
	c.mu.Lock()
	defer c.unlock()
	m := c.model()
	if _, ok := m.hostClaims.Get(host); ok {
		return nil
	}
	m.hostClaims.Put(&HostClaim{Host: host, Owner: owner, Region: s.Region, Seq: c.nextSeq()})
	return c.commitLocked()
}

// ReleaseHost forgets a claim; releasing one that is gone succeeds. The
// owner removes the namespace first: from now on a reconciliation would.
func (c *Cloud) ReleaseHost(ctx context.Context, host string) error {
	c.mu.Lock()
	defer c.unlock()
	m := c.model()
	if _, ok := m.hostClaims.Get(host); !ok {
		return nil
	}
	m.hostClaims.Delete(host)
	return c.commitLocked()
}

// HostClaims lists every claim, oldest first: what an owner checks at
// start-up against what it still needs.
func (c *Cloud) HostClaims() []HostClaim {
	c.mu.Lock()
	defer c.unlock()
	var out []HostClaim
	for _, h := range sortedBySeq(c.model().hostClaims.All(), func(h *HostClaim) int64 { return h.Seq }) {
		out = append(out, *h)
	}
	return slices.Clip(out)
}
