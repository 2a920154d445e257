package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
)

// The data directory and the namespace prefix, driven as the repro
// drives them: another user's data directory, two servers on one data
// directory or one prefix, a database emptied under kernel objects, a data
// directory that fills up.

// TestServeRefusesAnotherUsersDataDir: a 0700 data directory that another
// user owns is refused, untouched (that user could plant links in it).
func TestServeRefusesAnotherUsersDataDir(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	out := refusedServe(t, nil, "--dataplane", "none", "--data-dir", dir)
	if want := "data directory " + dir + " is owned by uid 4242, not by the user vpcsim runs as (uid 0)"; !strings.Contains(out, want) {
		t.Errorf("serve said:\n%s\nwant %q", out, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("serve wrote in the directory it refused: %v", entries)
	}
}

// TestOneServerPerDataDir: a second serve on a data directory in use refuses
// to start, naming the first; so does `vpcsim down`.
func TestOneServerPerDataDir(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	dir := t.TempDir()
	first := startServer(t, apiOnly(), inDataDir(dir))
	pid := first.cmd.Process.Pid
	out := refusedServe(t, nil, "--dataplane", "none", "--data-dir", dir)
	want := "data directory " + dir + " is in use by vpcsim serve (pid " + strconv.Itoa(pid) + ", data directory " + dir + ", listening on " + first.listen + ")"
	if !strings.Contains(out, want) {
		t.Errorf("the second serve said:\n%s\nwant %q", out, want)
	}
	down, err := first.vpcsim("down", "--data-dir", dir)
	if err == nil || !strings.Contains(string(down), "is in use by vpcsim serve (pid "+strconv.Itoa(pid)) {
		t.Errorf("vpcsim down beside the server: %v %s", err, down)
	}
	// The first still answers, alone.
	if _, err := ec2.NewFromConfig(sdkConfig(first, "us-east-1")).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("the first server: %v", err)
	}
}

// TestOneServerPerPrefix: a second kernel server with the same namespace
// prefix, or one that overlaps it, refuses to start, naming the first, whose
// namespaces stay.
func TestOneServerPerPrefix(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s, _, ns := serverWithVPC(t, "10.13.0.0/16")
	pid := s.cmd.Process.Pid
	for _, prefix := range []string{s.prefix, s.prefix + "x-"} {
		out := refusedServe(t, nil, "--data-dir", t.TempDir(), "--netns-prefix", prefix)
		if !strings.Contains(out, "namespace prefix "+prefix) || !strings.Contains(out, "vpcsim serve (pid "+strconv.Itoa(pid)+", data directory "+s.dataDir) {
			t.Errorf("a second serve with prefix %s said:\n%s", prefix, out)
		}
		if _, err := os.Stat(ns); err != nil {
			t.Fatalf("the first server's VPC namespace: %v", err)
		}
	}
	down, err := s.vpcsim("down", "--data-dir", t.TempDir()) // VPCSIM_NETNS_PREFIX is s.prefix
	if err == nil || !strings.Contains(string(down), "namespace prefix "+s.prefix+" is in use by vpcsim serve (pid "+strconv.Itoa(pid)) {
		t.Errorf("vpcsim down of the prefix in use: %v %s", err, down)
	}
	if _, err := os.Stat(ns); err != nil {
		t.Fatalf("the first server's VPC namespace after down was refused: %v", err)
	}
}

// TestNewDatabaseKeepsStrays: a database emptied to zero bytes starts empty
// and removes none of the kernel objects of its prefix that it does not
// know; it says to run `vpcsim down`, which then removes them.
func TestNewDatabaseKeepsStrays(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s, vpcID, ns := serverWithVPC(t, "10.14.0.0/16")
	s.stop(syscall.SIGTERM)
	db := filepath.Join(s.dataDir, "vpcsim.db")
	for _, p := range []string{db + "-wal", db + "-shm"} {
		os.Remove(p)
	}
	if err := os.Truncate(db, 0); err != nil {
		t.Fatal(err)
	}
	s.start()
	if _, err := os.Stat(ns); err != nil {
		t.Fatalf("the new database's start removed %s: %v\n%s", ns, err, tail(s.logText(), 20))
	}
	if log := s.logText(); !strings.Contains(log, "the database is new") || !strings.Contains(log, "run `vpcsim down`") {
		t.Errorf("the server did not say to run vpcsim down:\n%s", tail(log, 20))
	}
	ec := ec2.NewFromConfig(sdkConfig(s, "us-east-1"))
	if _, err := ec.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}); err == nil {
		t.Error("the emptied database still knows the VPC")
	}
	s.stop(syscall.SIGTERM)
	if out, err := s.vpcsim("down", "--data-dir", s.dataDir); err != nil {
		t.Fatalf("vpcsim down: %v %s", err, out)
	}
	if _, err := os.Stat(ns); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("vpcsim down left %s: %v", ns, err)
	}
}

// serverWithVPC is a kernel server with one VPC: its ID and its namespace.
func serverWithVPC(t *testing.T, cidr string) (*server, string, string) {
	t.Helper()
	s := startServer(t)
	ctx := testContext(t)
	vpc, err := ec2.NewFromConfig(sdkConfig(s, "us-east-1")).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: &cidr})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vpc.Vpc.VpcId)
	return s, id, filepath.Join("/run/netns", s.prefix+id)
}

// TestDataDirFull: with its data directory on a full filesystem, a call that
// changes something answers an AWS-shaped server error in both protocols
// whose message names the directory and says it is full; once there is room
// again, calls succeed.
func TestDataDirFull(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Fatalf("mount a small tmpfs for the data directory: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	s := startServer(t, apiOnly(), inDataDir(dir))
	ctx := testContext(t)
	cfg := sdkConfig(s, "us-east-1")
	cfg.RetryMaxAttempts = 1
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	if _, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.15.0.0/16")}); err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	want := "vpcsim could not save this change: its data directory " + dir + " is full (no space left on device)."
	_, err = ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.16.0.0/16")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalError" || !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Errorf("EC2 CreateVpc on a full disk: %v, want InternalError %q", err, want)
	}
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("full")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServerException" || !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Errorf("ECS CreateCluster on a full disk: %v, want ServerException %q", err, want)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.16.0.0/16")}); err != nil {
		t.Errorf("CreateVpc with room again: %v", err)
	}
	if _, err := es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("full")}); err != nil {
		t.Errorf("CreateCluster with room again: %v", err)
	}
}
