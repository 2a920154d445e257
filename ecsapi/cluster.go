package ecsapi

import (
	"context"
	"iter"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// clusterRec is a cluster as stored; deleted clusters stay, INACTIVE, as in ECS.
type clusterRec struct {
	Region string           `json:"region"`
	Seq    int64            `json:"seq"`
	C      ecstypes.Cluster `json:"cluster"`
}

const defaultCluster = "default"

var clusterNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

func (s *Service) clusterARN(sc Scope, name string) string { return s.arn(sc, "cluster/"+name) }

// clusterLocked resolves a cluster named by name or ARN ("" = default); only an
// ACTIVE cluster is found.
func (s *Service) clusterLocked(m *model, sc Scope, ref *string) (*clusterRec, error) {
	name := deref(ref)
	if name == "" {
		name = defaultCluster
	}
	key := name
	if !strings.HasPrefix(name, "arn:") {
		key = s.clusterARN(sc, name)
	}
	c, _ := m.clusters.Get(key)
	if c == nil || c.Region != sc.Region || deref(c.C.Status) != "ACTIVE" {
		return nil, clusterNotFound()
	}
	return c, nil
}

// CreateCluster makes a cluster; creating one that exists answers it unchanged.
func (s *Service) CreateCluster(ctx context.Context, sc Scope, in *ecstypes.CreateClusterRequest) (*ecstypes.CreateClusterResponse, error) {
	name := deref(in.ClusterName)
	if name == "" {
		name = defaultCluster
	}
	if !clusterNameRE.MatchString(name) {
		return nil, invalidParam("Cluster name can only contain alphanumeric characters, hyphens, and underscores, and can be at most 255 characters long.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	arn := s.clusterARN(sc, name)
	if c, _ := m.clusters.Get(arn); c != nil && deref(c.C.Status) == "ACTIVE" {
		return &ecstypes.CreateClusterResponse{Cluster: s.renderClusterLocked(m, c, allClusterFields)}, nil
	}
	active := 1
	for c := range m.clusters.All() {
		if c.Region == sc.Region && deref(c.C.Status) == "ACTIVE" {
			active++
		}
	}
	if e := s.quotas.Check(quota.Clusters, active); e != nil {
		return nil, quotaErr(e)
	}
	settings := in.Settings
	if len(settings) == 0 {
		settings = []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: str("disabled")}}
	}
	c := &clusterRec{Region: sc.Region, Seq: s.nextSeq(), C: ecstypes.Cluster{
		ClusterArn: &arn, ClusterName: &name, Status: str("ACTIVE"), Tags: in.Tags, Settings: settings,
		Configuration: in.Configuration, CapacityProviders: in.CapacityProviders,
		DefaultCapacityProviderStrategy: in.DefaultCapacityProviderStrategy,
	}}
	m.clusters.Put(c)
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.CreateClusterResponse{Cluster: s.renderClusterLocked(m, c, allClusterFields)}, nil
}

var allClusterFields = []ecstypes.ClusterField{ecstypes.ClusterFieldTags, ecstypes.ClusterFieldSettings, ecstypes.ClusterFieldStatistics, ecstypes.ClusterFieldConfigurations}

// renderClusterLocked answers a cluster with its live counts and the optional
// parts that include asks for.
func (s *Service) renderClusterLocked(m *model, c *clusterRec, include []ecstypes.ClusterField) *ecstypes.Cluster {
	out := c.C
	var registered, running, pending int32
	for ci := range m.instances.All() {
		if ci.ClusterARN == *c.C.ClusterArn && deref(ci.CI.Status) != "INACTIVE" {
			registered++
		}
	}
	for t := range m.tasks.All() {
		if t.ClusterARN != *c.C.ClusterArn {
			continue
		}
		switch st := t.status(); {
		case st == TaskStatusRunning:
			running++
		case st.pending():
			pending++
		}
	}
	if deref(c.C.Status) == "ACTIVE" {
		out.RegisteredContainerInstancesCount, out.RunningTasksCount, out.PendingTasksCount = &registered, &running, &pending
	} else {
		zero := int32(0)
		out.RegisteredContainerInstancesCount, out.RunningTasksCount, out.PendingTasksCount = &zero, &zero, &zero
	}
	var services int32
	for r := range m.services.All() {
		if r.ClusterARN == *c.C.ClusterArn && r.status() == serviceActive {
			services++
		}
	}
	out.ActiveServicesCount = &services
	out.Statistics, out.Tags, out.Settings, out.Configuration = nil, nil, nil, nil
	out.CapacityProviders = nonNil(c.C.CapacityProviders)
	out.DefaultCapacityProviderStrategy = nonNil(c.C.DefaultCapacityProviderStrategy)
	if slices.Contains(include, ecstypes.ClusterFieldStatistics) {
		out.Statistics = []ecstypes.KeyValuePair{}
	}
	if slices.Contains(include, ecstypes.ClusterFieldTags) {
		out.Tags = nonNil(c.C.Tags)
	}
	if slices.Contains(include, ecstypes.ClusterFieldSettings) {
		out.Settings = c.C.Settings
	}
	if slices.Contains(include, ecstypes.ClusterFieldConfigurations) {
		out.Configuration = c.C.Configuration
	}
	return &out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// DescribeClusters answers the named clusters (default: "default"); unknown ones
// come back as MISSING failures.
func (s *Service) DescribeClusters(ctx context.Context, sc Scope, in *ecstypes.DescribeClustersRequest) (*ecstypes.DescribeClustersResponse, error) {
	names := in.Clusters
	if len(names) == 0 {
		names = []string{defaultCluster}
	}
	if len(names) > 100 {
		return nil, invalidParam("clusters can have at most 100 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	out := &ecstypes.DescribeClustersResponse{Clusters: []ecstypes.Cluster{}, Failures: []ecstypes.Failure{}}
	for _, n := range names {
		arn := n
		if !strings.HasPrefix(n, "arn:") {
			arn = s.clusterARN(sc, n)
		}
		c, _ := m.clusters.Get(arn)
		if c == nil || c.Region != sc.Region {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: &arn, Reason: str("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, *s.renderClusterLocked(m, c, in.Include))
	}
	return out, nil
}

// ListClusters lists the ARNs of the region's active clusters.
func (s *Service) ListClusters(ctx context.Context, sc Scope, in *ecstypes.ListClustersRequest) (*ecstypes.ListClustersResponse, error) {
	s.mu.Lock()
	var arns []string
	for _, c := range sortedRecs(s.clusters.All(), func(c *clusterRec) int64 { return c.Seq }) {
		if c.Region == sc.Region && deref(c.C.Status) == "ACTIVE" {
			arns = append(arns, *c.C.ClusterArn)
		}
	}
	s.mu.Unlock()
	p, next, err := page(arns, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListClustersResponse{ClusterArns: nonNil(p), NextToken: next}, nil
}

// DeleteCluster makes an empty cluster INACTIVE.
func (s *Service) DeleteCluster(ctx context.Context, sc Scope, in *ecstypes.DeleteClusterRequest) (*ecstypes.DeleteClusterResponse, error) {
	if deref(in.Cluster) == "" {
		return nil, invalidParam("cluster can not be blank.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	c, err := s.clusterLocked(m, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	for ci := range m.instances.All() {
		if ci.ClusterARN == *c.C.ClusterArn && deref(ci.CI.Status) != "INACTIVE" {
			return nil, &Error{Type: "ClusterContainsContainerInstancesException", Message: "The Cluster cannot be deleted while Container Instances are active or draining."}
		}
	}
	for r := range m.services.All() {
		if r.ClusterARN == *c.C.ClusterArn && r.status() != serviceInactive {
			return nil, &Error{Type: "ClusterContainsServicesException", Message: "The Cluster cannot be deleted while Services are active."}
		}
	}
	for t := range m.tasks.All() {
		if t.ClusterARN == *c.C.ClusterArn && t.status() != TaskStatusStopped {
			return nil, &Error{Type: "ClusterContainsTasksException", Message: "The Cluster cannot be deleted while Tasks are active."}
		}
	}
	c, _ = m.clusters.Edit(*c.C.ClusterArn)
	c.C.Status = str("INACTIVE")
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.DeleteClusterResponse{Cluster: s.renderClusterLocked(m, c, nil)}, nil
}

// sortedRecs lists records in creation order.
func sortedRecs[T any](recs iter.Seq[*T], seq func(*T) int64) []*T {
	out := slices.Collect(recs)
	slices.SortStableFunc(out, func(a, b *T) int { return int(seq(a) - seq(b)) })
	return out
}

// checkTags applies ECS's tag rules: at most 50, keys 1–128 and values up to 256
// characters, no aws: prefix.
func checkTags(tags []ecstypes.Tag) error {
	if len(tags) > 50 {
		return invalidParam("Tags can have at most 50 items.")
	}
	for _, t := range tags {
		k := deref(t.Key)
		switch {
		case k == "" || len(k) > 128:
			return invalidParam("Tag keys must be between 1 and 128 characters.")
		case len(deref(t.Value)) > 256:
			return invalidParam("Tag values must be at most 256 characters.")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return invalidParam("Tag keys cannot start with aws:.")
		}
	}
	return nil
}
