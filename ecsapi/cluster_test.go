package ecsapi

import (
	"context"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestClusters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.cluster(t, "demo")
	if deref(c.ClusterArn) != "arn:aws:ecs:us-west-2:000000000000:cluster/demo" || deref(c.Status) != "ACTIVE" || deref(c.RegisteredContainerInstancesCount) != 0 {
		t.Fatalf("created %+v", c)
	}
	again := w.cluster(t, "demo")
	if deref(again.ClusterArn) != deref(c.ClusterArn) {
		t.Fatal("creating an existing cluster must answer it")
	}
	_, err := w.CreateCluster(ctx, west, &ecstypes.CreateClusterRequest{ClusterName: str("no spaces")})
	wantErr(t, err, "InvalidParameterException", "")

	d := must(w.DescribeClusters(ctx, west, &ecstypes.DescribeClustersRequest{Clusters: []string{"demo", "nope"}}))(t)
	if len(d.Clusters) != 1 || len(d.Failures) != 1 || deref(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe %+v", d)
	}
	l := must(w.ListClusters(ctx, west, &ecstypes.ListClustersRequest{}))(t)
	if len(l.ClusterArns) != 1 {
		t.Fatalf("list %+v", l)
	}
	if l := must(w.ListClusters(ctx, Scope{Region: "eu-west-1"}, &ecstypes.ListClustersRequest{}))(t); len(l.ClusterArns) != 0 {
		t.Fatal("clusters are per region")
	}

	w.instance(t, "c5.large", "demo")
	_, err = w.DeleteCluster(ctx, west, &ecstypes.DeleteClusterRequest{Cluster: str("demo")})
	wantErr(t, err, "ClusterContainsContainerInstancesException", "")
	d = must(w.DescribeClusters(ctx, west, &ecstypes.DescribeClustersRequest{Clusters: []string{"demo"}}))(t)
	if deref(d.Clusters[0].RegisteredContainerInstancesCount) != 1 {
		t.Fatalf("count %+v", d.Clusters[0])
	}

	w.cluster(t, "empty")
	del := must(w.DeleteCluster(ctx, west, &ecstypes.DeleteClusterRequest{Cluster: str("empty")}))(t)
	if deref(del.Cluster.Status) != "INACTIVE" {
		t.Fatalf("deleted %+v", del.Cluster)
	}
	_, err = w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{Cluster: str("empty")})
	wantErr(t, err, "ClusterNotFoundException", "Cluster not found.")
	_, err = w.ListTasks(ctx, west, &ecstypes.ListTasksRequest{})
	wantErr(t, err, "ClusterNotFoundException", "Cluster not found.")
}

func TestTags(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	arn := w.cluster(t, "tagged").ClusterArn
	must(w.TagResource(ctx, west, &ecstypes.TagResourceRequest{ResourceArn: arn, Tags: []ecstypes.Tag{{Key: str("team"), Value: str("a")}, {Key: str("env"), Value: str("dev")}}}))(t)
	must(w.TagResource(ctx, west, &ecstypes.TagResourceRequest{ResourceArn: arn, Tags: []ecstypes.Tag{{Key: str("team"), Value: str("b")}}}))(t)
	must(w.UntagResource(ctx, west, &ecstypes.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"env"}}))(t)
	got := must(w.ListTagsForResource(ctx, west, &ecstypes.ListTagsForResourceRequest{ResourceArn: arn}))(t)
	if len(got.Tags) != 1 || deref(got.Tags[0].Value) != "b" {
		t.Fatalf("tags %+v", got.Tags)
	}
	_, err := w.ListTagsForResource(ctx, west, &ecstypes.ListTagsForResourceRequest{ResourceArn: str("arn:aws:ecs:us-west-2:000000000000:cluster/none")})
	wantErr(t, err, "ResourceNotFoundException", "")
}
