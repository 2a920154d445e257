package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The agreement check: what the API says, read back only through the API, and
// what the kernel and containerd hold, read back only with ip, nft and ctr,
// must describe the same world. It is what a crash must never break.

// apiWorld is the part of the API's answers that the kernel must mirror.
type apiWorld struct {
	vpcs      []ec2types.Vpc
	subnets   []ec2types.Subnet
	enis      []ec2types.NetworkInterface
	instances []ec2types.Instance // not terminated
	tasks     []ecstypes.Task     // every task of every cluster
}

func readAPI(t *testing.T, ctx context.Context, ec *ec2.Client, es *ecs.Client) apiWorld {
	t.Helper()
	var w apiWorld
	vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.vpcs = vpcs.Vpcs
	subs, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.subnets = subs.Subnets
	enis, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.enis = enis.NetworkInterfaces
	insts, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != ec2types.InstanceStateNameTerminated {
				w.instances = append(w.instances, i)
			}
		}
	}
	clusters := ecs.NewListClustersPaginator(es, &ecs.ListClustersInput{})
	for clusters.HasMorePages() {
		page, err := clusters.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.ClusterArns {
			for _, desired := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
				tasks := ecs.NewListTasksPaginator(es, &ecs.ListTasksInput{Cluster: aws.String(c), DesiredStatus: desired})
				for tasks.HasMorePages() {
					l, err := tasks.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if len(l.TaskArns) == 0 {
						continue
					}
					d, err := es.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(c), Tasks: l.TaskArns})
					if err != nil {
						t.Fatal(err)
					}
					w.tasks = append(w.tasks, d.Tasks...)
				}
			}
		}
	}
	return w
}

// settle waits until no task is between RUNNING and STOPPED, as a restarted
// server finishes what the crash interrupted, and returns the world then.
func settle(t *testing.T, ctx context.Context, ec *ec2.Client, es *ecs.Client) apiWorld {
	t.Helper()
	deadline := time.Now().Add(patience)
	var last string
	for {
		w := readAPI(t, ctx, ec, es)
		var moving []string
		for _, task := range w.tasks {
			status, desired := aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)
			if status != "STOPPED" && (status != "RUNNING" || desired != "RUNNING") {
				moving = append(moving, taskID(task)+" "+status+"→"+desired)
			}
		}
		// The reads are one after another: a world read twice alike was not
		// changing under them.
		now := fingerprint(w)
		if len(moving) == 0 && now == last {
			return w
		}
		last = now
		if time.Now().After(deadline) {
			t.Fatalf("tasks still moving %v after the restart: %v", patience, moving)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fingerprint sums up what settle compares between two reads.
func fingerprint(w apiWorld) string {
	var b strings.Builder
	for _, s := range w.subnets {
		fmt.Fprintf(&b, "%s=%d ", aws.ToString(s.SubnetId), aws.ToInt32(s.AvailableIpAddressCount))
	}
	for _, e := range w.enis {
		fmt.Fprintf(&b, "%s:%s:%v ", aws.ToString(e.NetworkInterfaceId), e.Status, eniIPs(e))
	}
	for _, t := range w.tasks {
		fmt.Fprintf(&b, "%s:%s ", taskID(t), aws.ToString(t.LastStatus))
	}
	return b.String()
}

func taskID(t ecstypes.Task) string {
	arn := aws.ToString(t.TaskArn)
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// taskENI is the ENI ID in a task's attachment, if any.
func taskENI(t ecstypes.Task) string {
	for _, a := range t.Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "networkInterfaceId" {
				return aws.ToString(d.Value)
			}
		}
	}
	return ""
}

// ipLink is one link as `ip -j addr` shows it.
type ipLink struct {
	Name     string `json:"ifname"`
	MAC      string `json:"address"`
	Master   string `json:"master"`
	LinkKind string `json:"link_type"`
	Addrs    []struct {
		Family string `json:"family"`
		Local  string `json:"local"`
	} `json:"addr_info"`
}

func linksIn(t *testing.T, netns string) []ipLink {
	t.Helper()
	out, err := exec.Command("ip", "-j", "-n", netns, "addr", "show").Output()
	if err != nil {
		t.Fatalf("ip -n %s addr: %v", netns, err)
	}
	var links []ipLink
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("ip -j -n %s addr: %v", netns, err)
	}
	return links
}

func (l ipLink) ipv4() []string {
	var out []string
	for _, a := range l.Addrs {
		if a.Family == "inet" {
			out = append(out, a.Local)
		}
	}
	slices.Sort(out)
	return out
}

// hex11 is how hostnet names an object: a prefix and the first 11 hex digits
// of its ID.
func hex11(id string) string {
	h := id[strings.IndexByte(id, '-')+1:]
	return h[:min(11, len(h))]
}

func eniIPs(e ec2types.NetworkInterface) []string {
	var ips []string
	for _, p := range e.PrivateIpAddresses {
		ips = append(ips, aws.ToString(p.PrivateIpAddress))
	}
	slices.Sort(ips)
	return ips
}

// checkAgree fails the test for every way the kernel or containerd differ
// from the API's world w: a namespace, bridge, veth, address or nftables map
// entry too many or missing, an address or MAC handed out twice, a subnet whose
// free-address count is not exactly its size less AWS's five and its ENIs'
// addresses, or a container without a running task (or the reverse).
func checkAgree(t *testing.T, s *server, w apiWorld) {
	t.Helper()
	// Namespaces: one per VPC, per instance that is up, per running awsvpc task.
	want := map[string]bool{}
	for _, v := range w.vpcs {
		want[s.prefix+aws.ToString(v.VpcId)] = true
	}
	for _, i := range w.instances {
		if st := i.State.Name; st == ec2types.InstanceStateNamePending || st == ec2types.InstanceStateNameRunning || st == ec2types.InstanceStateNameStopping {
			want[s.prefix+aws.ToString(i.InstanceId)] = true
		}
	}
	taskOfENI := map[string]ecstypes.Task{}
	for _, task := range w.tasks {
		if aws.ToString(task.LastStatus) == "RUNNING" {
			if id := taskENI(task); id != "" {
				want[s.prefix+"task-"+taskID(task)] = true
				taskOfENI[id] = task
			}
		}
	}
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), s.prefix) {
			have[e.Name()] = true
		}
	}
	for ns := range want {
		if !have[ns] {
			t.Errorf("namespace %s is missing", ns)
		}
	}
	for ns := range have {
		if !want[ns] {
			t.Errorf("namespace %s is left over: the API has nothing it belongs to", ns)
		}
	}

	// Addresses and MACs: each handed out once; each subnet's count exact.
	byIP, byMAC := map[string]string{}, map[string]string{}
	used := map[string]int{}
	for _, e := range w.enis {
		id := aws.ToString(e.NetworkInterfaceId)
		for _, ip := range eniIPs(e) {
			if other, dup := byIP[ip]; dup {
				t.Errorf("%s is the address of both %s and %s", ip, other, id)
			}
			byIP[ip] = id
			used[aws.ToString(e.SubnetId)]++
		}
		mac := aws.ToString(e.MacAddress)
		if other, dup := byMAC[mac]; dup {
			t.Errorf("%s is the MAC of both %s and %s", mac, other, id)
		}
		byMAC[mac] = id
	}
	for _, sub := range w.subnets {
		p := netip.MustParsePrefix(aws.ToString(sub.CidrBlock))
		size := 1 << (32 - p.Bits())
		if got, want := int(aws.ToInt32(sub.AvailableIpAddressCount)), size-5-used[aws.ToString(sub.SubnetId)]; got != want {
			t.Errorf("subnet %s reports %d free addresses; its ENIs leave %d", aws.ToString(sub.SubnetId), got, want)
		}
	}

	// Each VPC's namespace: a bridge per subnet, a bridge end per ENI, a
	// parked end per available ENI, nothing else of ours; its security-group
	// map holds exactly its ENIs' addresses.
	for _, v := range w.vpcs {
		vpcID := aws.ToString(v.VpcId)
		ns := s.prefix + vpcID
		if !have[ns] {
			continue
		}
		wantLinks := map[string]string{} // name → what it is for
		for _, sub := range w.subnets {
			if aws.ToString(sub.VpcId) == vpcID {
				wantLinks["vs-b"+hex11(aws.ToString(sub.SubnetId))] = aws.ToString(sub.SubnetId)
			}
		}
		var wantAddrs []string
		for _, e := range w.enis {
			if aws.ToString(e.VpcId) != vpcID {
				continue
			}
			id := aws.ToString(e.NetworkInterfaceId)
			wantLinks["vs-e"+hex11(id)] = id
			if e.Status == ec2types.NetworkInterfaceStatusAvailable {
				wantLinks["vs-p"+hex11(id)] = id
			}
			wantAddrs = append(wantAddrs, eniIPs(e)...)
		}
		haveLinks := map[string]ipLink{}
		for _, l := range linksIn(t, ns) {
			if strings.HasPrefix(l.Name, "vs-b") || strings.HasPrefix(l.Name, "vs-e") || strings.HasPrefix(l.Name, "vs-p") {
				haveLinks[l.Name] = l
			}
		}
		for name, of := range wantLinks {
			if _, ok := haveLinks[name]; !ok {
				t.Errorf("%s: link %s of %s is missing", ns, name, of)
			}
		}
		for name := range haveLinks {
			if _, ok := wantLinks[name]; !ok {
				t.Errorf("%s: link %s is left over", ns, name)
			}
		}
		slices.Sort(wantAddrs)
		if got := nftMapKeys(t, ns, "from-eni"); !slices.Equal(got, wantAddrs) {
			t.Errorf("%s: the security groups' map holds %v; the VPC's ENIs have %v", ns, got, wantAddrs)
		}
	}

	// Each attached ENI is in its instance's or task's namespace with its MAC
	// and addresses; an available one is parked with its MAC.
	for _, e := range w.enis {
		id, mac := aws.ToString(e.NetworkInterfaceId), aws.ToString(e.MacAddress)
		if aws.ToBool(e.RequesterManaged) && taskOfENI[id].TaskArn == nil {
			t.Errorf("%s (%v) was made for a task, and no running task has it: its address is lost", id, eniIPs(e))
		}
		var ns string
		switch {
		case e.Status == ec2types.NetworkInterfaceStatusAvailable:
			ns = s.prefix + aws.ToString(e.VpcId)
		case taskOfENI[id].TaskArn != nil:
			ns = s.prefix + "task-" + taskID(taskOfENI[id])
		case e.Attachment != nil && e.Attachment.InstanceId != nil:
			ns = s.prefix + aws.ToString(e.Attachment.InstanceId)
		default:
			t.Errorf("%s is %s but belongs to no running task or instance", id, e.Status)
			continue
		}
		if !have[ns] {
			continue // reported above
		}
		var found []ipLink
		for _, l := range linksIn(t, ns) {
			if strings.EqualFold(l.MAC, mac) && !strings.HasPrefix(l.Name, "vs-e") {
				found = append(found, l)
			}
		}
		switch {
		case len(found) != 1:
			t.Errorf("%s: %d links carry the MAC %s of %s, want 1", ns, len(found), mac, id)
		case e.Status != ec2types.NetworkInterfaceStatusAvailable && !slices.Equal(found[0].ipv4(), eniIPs(e)):
			t.Errorf("%s: %s (%s) holds %v, the API says %v", ns, found[0].Name, id, found[0].ipv4(), eniIPs(e))
		}
	}

	// containerd: a running container for each container of a running task,
	// nothing else, and an active snapshot per container.
	var wantCtrs []string
	for _, task := range w.tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" {
			continue
		}
		for _, c := range task.Containers {
			if aws.ToString(c.LastStatus) == "RUNNING" {
				wantCtrs = append(wantCtrs, aws.ToString(c.RuntimeId))
			}
		}
	}
	slices.Sort(wantCtrs)
	ctr := func(args ...string) []string {
		out, err := exec.Command("ctr", append([]string{"--address", s.ctrdAddress, "-n", s.ctrdNamespace}, args...)...).Output()
		if err != nil {
			t.Fatalf("ctr %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	if got := sortedCopy(ctr("containers", "ls", "-q")); !slices.Equal(got, wantCtrs) {
		t.Errorf("containerd holds containers %v; the running tasks' are %v", got, wantCtrs)
	}
	running := 0 // `ctr tasks ls` prints TASK PID STATUS
	for _, f := range ctr("tasks", "ls") {
		if f == "RUNNING" {
			running++
		}
	}
	if running != len(wantCtrs) {
		t.Errorf("containerd runs %d processes; the running tasks have %d containers", running, len(wantCtrs))
	}
	active := 0
	for _, f := range ctr("snapshots", "ls") {
		if f == "Active" {
			active++
		}
	}
	if active != len(wantCtrs) {
		t.Errorf("containerd holds %d active snapshots for %d containers", active, len(wantCtrs))
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// nftMapKeys lists the keys of a verdict map of vpcsim's security-group table.
func nftMapKeys(t *testing.T, netns, name string) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", netns, "nft", "-j", "list", "map", "inet", "vs-sg", name).Output()
	if err != nil {
		t.Errorf("nft list map %s in %s: %v", name, netns, err)
		return nil
	}
	var doc struct {
		Nftables []struct {
			Map *struct {
				Elem []json.RawMessage `json:"elem"`
			} `json:"map"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("nft -j: %v", err)
	}
	var keys []string
	for _, o := range doc.Nftables {
		if o.Map == nil {
			continue
		}
		for _, el := range o.Map.Elem {
			var pair []json.RawMessage // [key, verdict]
			var key string
			if json.Unmarshal(el, &pair) == nil && len(pair) == 2 && json.Unmarshal(pair[0], &key) == nil {
				keys = append(keys, key)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// answers checks that each running task of the echo image answers HTTP at
// its own address, from another instance of the VPC.
func answers(t *testing.T, s *server, w apiWorld, from ec2types.Instance) {
	t.Helper()
	for _, task := range w.tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" || len(task.Containers) == 0 || len(task.Containers[0].NetworkInterfaces) == 0 {
			continue
		}
		ip := aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
		out, err := s.tryFetch(aws.ToString(from.InstanceId), "http://"+ip+"/", func(out string) bool { return strings.Contains(out, ip) })
		if err != nil || !strings.Contains(out, ip) {
			t.Errorf("running task %s does not answer at %s: %v %s", taskID(task), ip, err, out)
		}
	}
}
