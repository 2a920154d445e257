package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// The whole EC2 model survives a reopen of the file.
func TestCloudOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	ctx := context.Background()
	s := ec2sim.Scope{Region: "eu-west-1"}
	db, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ec2sim.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.CreateVpc(ctx, s, ec2sim.CreateVpcInput{CIDRBlock: "10.3.0.0/16", Tags: []ec2sim.Tag{{Key: "Name", Value: "kept"}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err = ec2sim.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DescribeVpcs(ctx, s, []string{v.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Tags[0].Value != "kept" || got[0].CIDR != v.CIDR {
		t.Fatalf("after reopen: %+v", got[0])
	}
	all, _ := c.DescribeVpcs(ctx, s, nil, nil)
	if len(all) != 2 {
		t.Fatalf("want the default VPC and ours, got %d (a second default VPC?)", len(all))
	}
}
