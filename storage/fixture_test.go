package storage_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstest"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/storage"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// TestFixtureV1 opens a database the first layout's vpcsim wrote
// (testdata/make-fixture.sh, at commit 61aa8e7: a VPC with two subnets, a
// group, a spare ENI, an instance registered in an ECS cluster, a flow log,
// two task definitions, a running awsvpc task, a stopped one and a bridge
// one) with today's code: the file is upgraded as it opens, every document
// is of its kind's first format, and both models load it whole, again after
// a reopen.
func TestFixtureV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	copyFile(t, "testdata/fixture-v1.db", path)
	for open := 1; open <= 2; open++ {
		db, err := storage.Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", open, err)
		}
		checkFixture(t, db)
		db.Close()
	}
}

// fixtureWritten is a minute after make-fixture.sh wrote testdata/fixture-v1.db.
var fixtureWritten = time.Date(2026, 12, 2, 3, 24, 0, 0, time.UTC)

func checkFixture(t *testing.T, db *storage.SQLite) {
	t.Helper()
	ctx := context.Background()
	if db.Fresh() {
		t.Fatal("the fixture was taken for a new database")
	}
	kinds := map[string]int{"ec2.region": 1, "ec2.vpc": 2, "ec2.subnet": 5, "ec2.security-group": 3, "ec2.network-interface": 3,
		"ec2.instance": 1, "ec2.flow-log": 1, "ecs.cluster": 1, "ecs.container-instance": 1, "ecs.task-definition": 2, "ecs.revision": 2, "ecs.task": 3}
	for kind, n := range kinds {
		docs, err := db.Load(kind)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != n {
			t.Errorf("%s: %d documents, want %d", kind, len(docs), n)
		}
		for _, d := range docs {
			if d.Version != 1 {
				t.Errorf("%s %s is of format %d, want 1", kind, d.ID, d.Version)
			}
		}
	}

	// The clock stops a minute after the fixture was written: ECS forgets a
	// task an hour after it stopped, and this test must not depend on when
	// it runs.
	now := func() time.Time { return fixtureWritten }
	cloud, err := ec2sim.New(ctx, db, nil, ec2sim.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	ec2 := ec2sim.Scope{Region: "us-east-1"}
	vpcs, err := cloud.DescribeVpcs(ctx, ec2, nil, []ec2sim.Filter{{Name: "tag:Name", Values: []string{"fixture"}}})
	if err != nil || len(vpcs) != 1 || vpcs[0].CIDR.String() != "10.20.0.0/16" {
		t.Fatalf("the fixture's VPC: %+v %v", vpcs, err)
	}
	vpc := vpcs[0].ID
	byVPC := []ec2sim.Filter{{Name: "vpc-id", Values: []string{vpc}}}
	if subs, _ := cloud.DescribeSubnets(ctx, ec2, nil, byVPC); len(subs) != 2 {
		t.Errorf("subnets %+v", subs)
	}
	groups, _ := cloud.DescribeSecurityGroups(ctx, ec2, nil, nil, append(byVPC, ec2sim.Filter{Name: "group-name", Values: []string{"web"}}))
	if len(groups) != 1 || len(groups[0].Rules) != 3 { // two ingress, the default egress
		t.Fatalf("group web %+v", groups)
	}
	enis, _ := cloud.DescribeNetworkInterfaces(ctx, ec2, nil, byVPC)
	var spare, task int
	for _, e := range enis {
		if slices.Contains(e.Tags, ec2sim.Tag{Key: "role", Value: "spare"}) && e.Status == "available" {
			spare++
		}
		if e.RequesterManaged && e.Status == "in-use" {
			task++
		}
	}
	if len(enis) != 3 || spare != 1 || task != 1 {
		t.Errorf("ENIs %+v", enis)
	}
	insts, _ := cloud.DescribeInstances(ctx, ec2, nil, byVPC)
	if len(insts) != 1 || insts[0].State != ec2sim.StateRunning || insts[0].Type != "c5.large" {
		t.Fatalf("instances %+v", insts)
	}
	if fls, _ := cloud.DescribeFlowLogs(ctx, ec2, nil, nil); len(fls) != 1 || fls[0].ResourceID != vpc || fls[0].LogDestination != "arn:aws:s3:::fixture-bucket/flows" {
		t.Errorf("flow logs %+v", fls)
	}

	ecs, err := ecsapi.New(ctx, db, cloud, ecstest.NewFakeRuntime(), ecsapi.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ecs.Close(); cloud.Wait() }()
	sc := ecsapi.Scope{Region: "us-east-1"}
	cluster := ecstypes.Ptr("fixture")
	cl, err := ecs.DescribeClusters(ctx, sc, &ecstypes.DescribeClustersRequest{Clusters: []string{"fixture"}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
	if err != nil || len(cl.Clusters) != 1 || *cl.Clusters[0].RegisteredContainerInstancesCount != 1 || len(cl.Clusters[0].Tags) != 1 {
		t.Fatalf("cluster %+v %v", cl, err)
	}
	tds, _ := ecs.ListTaskDefinitions(ctx, sc, &ecstypes.ListTaskDefinitionsRequest{})
	if len(tds.TaskDefinitionArns) != 2 {
		t.Errorf("task definitions %v", tds.TaskDefinitionArns)
	}
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		l, err := ecs.ListTasks(ctx, sc, &ecstypes.ListTasksRequest{Cluster: cluster, DesiredStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, l.TaskArns...)
	}
	tasks, err := ecs.DescribeTasks(ctx, sc, &ecstypes.DescribeTasksRequest{Cluster: cluster, Tasks: arns})
	if err != nil || len(tasks.Tasks) != 3 {
		t.Fatalf("tasks %+v %v", tasks, err)
	}
	var running, stopped int
	for _, tk := range tasks.Tasks {
		switch {
		case *tk.LastStatus == "RUNNING":
			running++
		case *tk.LastStatus == "STOPPED" && tk.StoppedReason != nil && *tk.StoppedReason == "fixture: stopped":
			stopped++
		}
	}
	if running != 2 || stopped != 1 {
		t.Errorf("tasks: %d running, %d stopped by the user; want 2 and 1", running, stopped)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
