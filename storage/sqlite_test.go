package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
)

func TestApplyAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply([]vpcsim.Change{
		{Kind: "k", ID: "b", Body: []byte(`{"n":2}`)},
		{Kind: "k", ID: "a", Body: []byte(`{"n":1}`)},
		{Kind: "other", ID: "a", Body: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply([]vpcsim.Change{{Kind: "k", ID: "b", Body: []byte(`{"n":3}`)}, {Kind: "other", ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Load("k")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0]) != `{"n":1}` || string(got[1]) != `{"n":3}` {
		t.Fatalf("loaded %q", got)
	}
	if other, _ := db.Load("other"); len(other) != 0 {
		t.Fatalf("deleted document still there: %q", other)
	}
}

// The whole EC2 model survives a reopen of the file.
func TestCloudOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpcsim.db")
	ctx := context.Background()
	s := vpcsim.Scope{Region: "eu-west-1"}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := vpcsim.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.CreateVpc(ctx, s, vpcsim.CreateVpcInput{CIDRBlock: "10.3.0.0/16", Tags: []vpcsim.Tag{{Key: "Name", Value: "kept"}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err = vpcsim.New(ctx, db, nil)
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

// TestFresh: a database is new when there was no file, or an empty one;
// once opened it has its table, and the next open knows it.
func TestFresh(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "none.db"), empty} {
		for i, want := range []bool{true, false} {
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if db.Fresh() != want {
				t.Errorf("%s, open %d: Fresh() = %v, want %v", filepath.Base(path), i+1, db.Fresh(), want)
			}
			db.Close()
		}
	}
}
