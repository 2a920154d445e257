package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestKillAndRestart kills vpcsim with SIGKILL, damages what it left in the
// kernel (an instance's namespace gone, a stray namespace of its prefix added),
// and checks that a restart serves the same state and repairs the kernel.
func TestKillAndRestart(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	ec := ec2.NewFromConfig(sdkConfig(s, "us-west-2"))

	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.3.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	ip := aws.ToString(run.Instances[0].PrivateIpAddress)
	waiter := ec2.NewInstanceRunningWaiter(ec, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute); err != nil {
		t.Fatal(err)
	}

	s.stop(syscall.SIGKILL)
	ipCmd := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	ipCmd("netns", "delete", s.prefix+id)
	stray := s.prefix + "vpc-00000000000000abc"
	ipCmd("netns", "add", stray)

	s.start()
	got, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	inst := got.Reservations[0].Instances[0]
	if inst.State.Name != types.InstanceStateNameRunning || aws.ToString(inst.PrivateIpAddress) != ip {
		t.Fatalf("after restart: %s %s, want running %s", inst.State.Name, aws.ToString(inst.PrivateIpAddress), ip)
	}
	out, err := s.vpcsim("exec", id, "--", "ip", "-o", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), "inet "+ip+"/24") {
		t.Fatalf("the instance's namespace was not rebuilt: %v %s\n%s", err, out, tail(s.logText(), 20))
	}
	if _, err := os.Stat("/run/netns/" + stray); err == nil {
		t.Fatalf("the stray namespace %s survived the restart", stray)
	}
}
