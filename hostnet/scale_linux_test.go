package hostnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// scaleENIs is how many ENIs TestThousandsOfENIsInOneGroup puts in one VPC
// and one group (VPCSIM_SCALE_ENIS overrides it, to look for a limit).
func scaleENIs(t *testing.T) int {
	if s := os.Getenv("VPCSIM_SCALE_ENIS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("VPCSIM_SCALE_ENIS: %v", err)
		}
		return n
	}
	return 3000
}

// 3,000 ENIs in one VPC and one self-referencing group, through the EC2 model
// and the kernel dataplane: every create, attach, detach and delete succeeds
// (the whole-VPC replace of every change stopped fitting one nftables
// transaction at the 916th ENI), and the group's rules hold on real packets
// at that size.
func TestThousandsOfENIsInOneGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("minutes of veths made and removed: the run without -short has it")
	}
	t.Parallel()
	requireRoot(t)
	ctx := context.Background()
	k, err := New(WithPrefix(testPrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	dp := &timedFirewall{Kernel: k}
	cloud, err := ec2sim.New(ctx, vpcsim.NewMemStore(), dp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Wait)
	s := ec2sim.Scope{Region: "us-west-2"}
	v, err := cloud.CreateVpc(ctx, s, ec2sim.CreateVpcInput{CIDRBlock: "10.0.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	// Four subnets: a subnet is one Linux bridge, and a bridge takes at most
	// 1,024 ports (BR_MAX_PORTS).
	var subs []ec2sim.Subnet
	for i := range 4 {
		sub, err := cloud.CreateSubnet(ctx, s, ec2sim.CreateSubnetInput{VPCID: v.ID, CIDR: fmt.Sprintf("10.0.%d.0/22", 4*i), AZ: "us-west-2a"})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	sub := subs[0]
	newGroup := func(name string) string {
		g, err := cloud.CreateSecurityGroup(ctx, s, ec2sim.CreateSecurityGroupInput{VPCID: v.ID, Name: name, Description: name})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	sg, outsider := newGroup("members"), newGroup("outsider")
	p80 := int32(80)
	if _, err := cloud.AuthorizeSecurityGroup(ctx, s, ec2sim.AuthorizeInput{Group: ec2sim.GroupRef{ID: sg}, Permissions: []ec2sim.Permission{
		{Protocol: "tcp", FromPort: &p80, ToPort: &p80, Groups: []ec2sim.Peer{{Value: sg}}},
	}}); err != nil {
		t.Fatal(err)
	}

	n := scaleENIs(t)
	start := time.Now()
	ids := make([]string, 0, n)
	for i := range n {
		e, err := cloud.CreateNetworkInterface(ctx, s, ec2sim.CreateNetworkInterfaceInput{SubnetID: subs[i%len(subs)].ID, Groups: []string{sg}})
		if err != nil {
			t.Fatalf("CreateNetworkInterface #%d of %d: %v", i+1, n, err)
		}
		ids = append(ids, e.ID)
	}
	t.Logf("%d ENIs made in %v, of which %s", n, time.Since(start).Round(time.Millisecond), dp.report())

	// Three tasks' ENIs at that size: a and b members of the group, c not.
	hosts := map[string]string{}
	addrs := map[string]netip.Addr{}
	for _, name := range []string{"a", "b", "c"} {
		groups := []string{sg}
		if name == "c" {
			groups = []string{outsider}
		}
		e, err := cloud.CreateTaskENI(ctx, s, sub.ID, groups, "task "+name, false)
		if err != nil {
			t.Fatalf("task ENI %s: %v", name, err)
		}
		host := "task-" + name + "-" + randHex(6)
		if _, err := cloud.AttachTaskENI(ctx, s, e.ID, "", host); err != nil {
			t.Fatalf("attach the ENI of task %s: %v", name, err)
		}
		hosts[name], addrs[name] = host, e.PrimaryIP()
		t.Cleanup(func() {
			if err := cloud.DeleteTaskENI(context.Background(), s, e.ID); err != nil {
				t.Errorf("detach and delete the ENI of task %s: %v", name, err)
			}
		})
	}
	for _, port := range []int{80, 81} {
		serveIn(t, k.NetnsPath(hosts["b"]), addrs["b"], port, "hello\n")
	}
	dial := func(from string, port int, timeout time.Duration) error {
		return inNetns(k.NetnsPath(hosts[from]), func() error {
			c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(addrs["b"], uint16(port)).String(), timeout)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	// The member connects (tried until it answers: a SYN may be lost to a
	// busy machine, not to the rules); another port, and a sender outside
	// the group, are dropped.
	for deadline := time.Now().Add(patience); ; {
		err := dial("a", 80, 2*time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a member of the group → b:80 with %d ENIs in the group: %v, want it admitted", n, err)
		}
	}
	if err := dial("a", 81, dropWait); err == nil {
		t.Errorf("a member of the group → b:81 answered, want it dropped")
	}
	if err := dial("c", 80, dropWait); err == nil {
		t.Errorf("an address outside the group → b:80 answered, want it dropped")
	}

	// An instance's attach and detach at that size.
	insts, err := cloud.RunInstances(ctx, s, ec2sim.RunInstancesInput{ImageID: "ami-12345678", InstanceType: "c5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID, SecurityGroupIDs: []string{sg}})
	if err != nil {
		t.Fatal(err)
	}
	cloud.Wait()
	for _, id := range ids[:2] {
		att, err := cloud.AttachNetworkInterface(ctx, s, id, insts[0].ID, 1)
		if err != nil {
			t.Fatalf("attach %s: %v", id, err)
		}
		if err := cloud.DetachNetworkInterface(ctx, s, att, false); err != nil {
			t.Fatalf("detach %s: %v", id, err)
		}
	}
	if _, err := cloud.TerminateInstances(ctx, s, []string{insts[0].ID}); err != nil {
		t.Fatal(err)
	}
	cloud.Wait()

	start = time.Now()
	for i, id := range ids {
		if err := cloud.DeleteNetworkInterface(ctx, s, id); err != nil {
			t.Fatalf("DeleteNetworkInterface #%d of %d: %v", i+1, n, err)
		}
	}
	t.Logf("%d ENIs deleted in %v, of which %s", n, time.Since(start).Round(time.Millisecond), dp.report())
}

// timedFirewall is the kernel dataplane, timing its firewall changes: what
// part of an ENI's cost is the firewall's.
type timedFirewall struct {
	*Kernel
	n   int
	sum time.Duration
}

func (d *timedFirewall) ChangeFirewall(ctx context.Context, ch netmodel.FirewallChange) error {
	start := time.Now()
	defer func() { d.n, d.sum = d.n+1, d.sum+time.Since(start) }()
	return d.Kernel.ChangeFirewall(ctx, ch)
}

// report says how long the changes since the last report took, and resets.
func (d *timedFirewall) report() string {
	if d.n == 0 {
		return "no firewall change"
	}
	defer func() { d.n, d.sum = 0, 0 }()
	return fmt.Sprintf("%d firewall changes took %v (%v each)", d.n, d.sum.Round(time.Millisecond), (d.sum / time.Duration(d.n)).Round(time.Microsecond))
}
