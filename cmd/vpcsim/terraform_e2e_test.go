package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// The bounds of each OpenTofu command. Generous: they are only reached when
// something hangs, and the provider polls with its own back-off.
const (
	tofuInitTimeout    = 2 * time.Minute
	tofuApplyTimeout   = 10 * time.Minute
	tofuPlanTimeout    = 5 * time.Minute
	tofuDestroyTimeout = 10 * time.Minute
	tofuOutputTimeout  = time.Minute
)

// terraformStacks are the reference stacks in testdata/terraform; skip says
// why a stack cannot pass yet ("" runs it).
var terraformStacks = []struct {
	name  string
	skip  string
	check func(ctx context.Context, s *server, out map[string]string) error
}{
	{name: "seed", check: checkSeedStack},
	{name: "production", check: checkProductionStack},
}

// TestTerraform applies the reference stacks of testdata/terraform with
// OpenTofu and the real hashicorp/aws provider (5.45.0, from
// ../shared/tools/terraform) against a fresh vpcsim: `tofu apply`, then a
// second `tofu plan` that must find nothing to change (everything the
// provider reads back is what it wrote), then `tofu destroy`, after which
// nothing the stack made may be left. A stack that fails is destroyed all the
// same, in a cleanup with a context of its own.
func TestTerraform(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	tools := installTerraform(t)
	for _, stack := range terraformStacks {
		t.Run(stack.name, func(t *testing.T) {
			if stack.skip != "" {
				t.Skip(stack.skip)
			}
			t.Parallel()
			s := startServer(t)
			tf := newTofuRun(t, s, tools, filepath.Join("../../testdata/terraform", stack.name))
			tf.init()
			// After startServer, so that it runs before the server is stopped.
			t.Cleanup(tf.destroyIfApplied)
			tf.apply()
			if stack.check != nil {
				ctx, cancel := context.WithTimeout(testContext(t), patience)
				err := stack.check(ctx, s, tf.outputs())
				cancel()
				if err != nil {
					tf.fatalf("after apply: %v", err)
				}
			}
			tf.planNoChanges()
			tf.destroy()
			ctx, cancel := context.WithTimeout(testContext(t), time.Minute)
			defer cancel()
			if left := leftAfterDestroy(ctx, s); len(left) > 0 {
				tf.fatalf("after tofu destroy, still there: %s", strings.Join(left, "; "))
			}
		})
	}
}

// terraformTools is where ../shared/tools/terraform/install.sh put OpenTofu
// and the provider's filesystem mirror.
type terraformTools struct {
	binDir    string // holds tofu
	cliConfig string // the CLI config naming the mirror, for TF_CLI_CONFIG_FILE
}

var installExports = regexp.MustCompile(`export PATH="([^"]*):\$PATH" TF_CLI_CONFIG_FILE="([^"]*)"`)

// installTerraform unpacks OpenTofu and the provider with the shared
// install.sh: into $VPCSIM_TF_DIR when set (install.sh's own variable, a cache
// kept between runs), else into the test's temporary directory (about 600 MB,
// removed after the test). It skips, or with VPCSIM_REQUIRE_E2E=1 fails,
// when the shared tools are not beside the repository.
func installTerraform(t *testing.T) terraformTools {
	t.Helper()
	script, err := filepath.Abs("../../../shared/tools/terraform/install.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		if os.Getenv("VPCSIM_REQUIRE_E2E") == "1" {
			t.Fatalf("OpenTofu and the AWS provider not found (VPCSIM_REQUIRE_E2E=1): %v", err)
		}
		t.Skipf("OpenTofu and the AWS provider not found: %v (they come with ../shared/tools/terraform; set VPCSIM_REQUIRE_E2E=1 to make this a failure)", err)
	}
	dir := os.Getenv("VPCSIM_TF_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("bash %s %s: %v\n%s", script, dir, err, out)
	}
	m := installExports.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("bash %s %s printed no `export PATH=... TF_CLI_CONFIG_FILE=...`:\n%s", script, dir, out)
	}
	tools := terraformTools{binDir: m[1], cliConfig: m[2]}
	for _, f := range []string{filepath.Join(tools.binDir, "tofu"), tools.cliConfig} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("after install.sh: %v\n%s", err, out)
		}
	}
	return tools
}

// tofuRun is one stack applied to one server: its working copy, the
// environment of its commands and a transcript of every command and its
// output, which goes into every failure message.
type tofuRun struct {
	t          *testing.T
	s          *server
	dir        string
	env        []string
	transcript strings.Builder
	applied    bool // apply was started: the state may hold something to destroy
	destroyed  bool
}

// newTofuRun copies the stack's configuration (its *.tf files, not a
// .terraform directory or state that someone's own run left there) to a
// temporary directory.
func newTofuRun(t *testing.T, s *server, tools terraformTools, stackDir string) *tofuRun {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(stackDir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.tf files in %s: %v", stackDir, err)
	}
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &tofuRun{t: t, s: s, dir: dir, env: tofuEnv(tools, t.TempDir())}
}

// tofuEnv is the environment of the tofu commands: this process's, without
// any AWS_ or TF_ setting of the person running the tests (a profile, a
// plugin cache, another CLI config; TF_LOG* stay, for debugging), plus the
// installed tofu first on PATH, its CLI config (the local provider mirror:
// no registry is reachable), a HOME of its own, the provider's credentials
// and region for vpcsim, and no EC2 instance metadata lookups.
func tofuEnv(tools terraformTools, home string) []string {
	var env []string
	path := ""
	for _, e := range os.Environ() {
		k, v, _ := strings.Cut(e, "=")
		switch {
		case k == "PATH":
			path = v
		case k == "HOME":
		case strings.HasPrefix(k, "AWS_"):
		case strings.HasPrefix(k, "TF_") && !strings.HasPrefix(k, "TF_LOG"):
		default:
			env = append(env, e)
		}
	}
	return append(env,
		"PATH="+tools.binDir+":"+path,
		"TF_CLI_CONFIG_FILE="+tools.cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"HOME="+home,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-west-2",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
}

// run runs `tofu ARGS...` in the stack's copy within timeout of ctx and
// returns its combined output and exit code (-1 when it did not exit by
// itself). At the deadline tofu gets SIGINT, on which it stops its operations
// and writes its state, and SIGKILL 30 seconds later; its provider plugins,
// in its process group, go with it.
func (r *tofuRun) run(ctx context.Context, timeout time.Duration, args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tofu, err := lookPathIn("tofu", r.env)
	if err != nil {
		fmt.Fprintf(&r.transcript, "$ tofu %s\n%v\n\n", strings.Join(args, " "), err)
		return err.Error(), -1
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, tofu, args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	err = cmd.Run()
	if cmd.Process != nil && ctx.Err() != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	status := fmt.Sprintf("exit %d", code)
	if ctx.Err() != nil {
		status = fmt.Sprintf("%v (%s), %s", ctx.Err(), timeout, status)
	} else if err != nil && code == -1 {
		status = err.Error()
	}
	fmt.Fprintf(&r.transcript, "$ tofu %s\n%s(%s after %s)\n\n", strings.Join(args, " "), out.String(), status, time.Since(start).Round(time.Millisecond))
	return out.String(), code
}

// lookPathIn finds file on the PATH of env (its last PATH=).
func lookPathIn(file string, env []string) (string, error) {
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH %s", file, path)
}

// report is a failure message: what failed, every tofu command so far with
// its output, and the end of the server's log.
func (r *tofuRun) report(format string, args ...any) string {
	return fmt.Sprintf(format, args...) + "\n--- tofu, every step ---\n" + r.transcript.String() +
		"--- server log ---\n" + tail(r.s.logText(), 60)
}

func (r *tofuRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatal(r.report(format, args...))
}

func (r *tofuRun) varArgs() []string { return []string{"-var", "endpoint=" + r.s.endpoint} }

func (r *tofuRun) init() {
	r.t.Helper()
	if _, code := r.run(testContext(r.t), tofuInitTimeout, "init", "-input=false", "-no-color"); code != 0 {
		r.fatalf("tofu init failed")
	}
}

func (r *tofuRun) apply() {
	r.t.Helper()
	r.applied = true
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, r.varArgs()...)
	if _, code := r.run(testContext(r.t), tofuApplyTimeout, args...); code != 0 {
		r.fatalf("tofu apply failed")
	}
}

// planNoChanges runs a second plan: exit 0 says the infrastructure matches
// the configuration, 2 that the provider read back something other than what
// it wrote (a perpetual diff), 1 an error.
func (r *tofuRun) planNoChanges() {
	r.t.Helper()
	args := append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}, r.varArgs()...)
	switch _, code := r.run(testContext(r.t), tofuPlanTimeout, args...); code {
	case 0:
	case 2:
		r.fatalf("tofu plan after apply wants changes: what vpcsim answers back differs from what the provider wrote")
	default:
		r.fatalf("tofu plan after apply failed")
	}
}

func (r *tofuRun) destroy() {
	r.t.Helper()
	if err := r.runDestroy(testContext(r.t)); err != nil {
		r.fatalf("%v", err)
	}
}

func (r *tofuRun) runDestroy(ctx context.Context) error {
	args := append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, r.varArgs()...)
	if _, code := r.run(ctx, tofuDestroyTimeout, args...); code != 0 {
		return errors.New("tofu destroy failed")
	}
	r.destroyed = true
	return nil
}

// destroyIfApplied is the cleanup: a stack whose test ended before its
// destroy succeeded is destroyed with a context of its own (the test's may be
// over).
func (r *tofuRun) destroyIfApplied() {
	if !r.applied || r.destroyed {
		return
	}
	if err := r.runDestroy(context.Background()); err != nil {
		r.t.Error(r.report("cleanup: %v; the server's cleanup removes what it can", err))
	}
}

// outputs are the stack's outputs (`tofu output -json`) that are strings.
func (r *tofuRun) outputs() map[string]string {
	r.t.Helper()
	text, code := r.run(testContext(r.t), tofuOutputTimeout, "output", "-json", "-no-color")
	if code != 0 {
		r.fatalf("tofu output failed")
	}
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		r.fatalf("tofu output -json: %v", err)
	}
	out := map[string]string{}
	for k, v := range raw {
		// A string as itself, anything else (a list) as its JSON.
		var s string
		if json.Unmarshal(v.Value, &s) != nil {
			s = string(v.Value)
		}
		out[k] = s
	}
	return out
}

// checkSeedStack checks what the seed stack made, as 02-seed.sh checks it by
// hand: the VPC with DNS hostnames, the instance running, and the instance
// registered in the cluster that its user data names.
func checkSeedStack(ctx context.Context, s *server, out map[string]string) error {
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	for _, k := range []string{"vpc_id", "subnet_id", "security_group_id", "cluster_name", "instance_id", "task_definition_arn"} {
		if out[k] == "" {
			return fmt.Errorf("output %s is missing: %v", k, out)
		}
	}
	attr, err := ec.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(out["vpc_id"]), Attribute: ec2types.VpcAttributeNameEnableDnsHostnames})
	if err != nil {
		return fmt.Errorf("DescribeVpcAttribute: %w", err)
	}
	if attr.EnableDnsHostnames == nil || !aws.ToBool(attr.EnableDnsHostnames.Value) {
		return fmt.Errorf("%s: enableDnsHostnames is not true", out["vpc_id"])
	}
	insts, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{out["instance_id"]}})
	if err != nil {
		return fmt.Errorf("DescribeInstances: %w", err)
	}
	if len(insts.Reservations) != 1 || len(insts.Reservations[0].Instances) != 1 {
		return fmt.Errorf("DescribeInstances %s: %d reservations", out["instance_id"], len(insts.Reservations))
	}
	inst := insts.Reservations[0].Instances[0]
	if inst.State == nil || inst.State.Name != ec2types.InstanceStateNameRunning || aws.ToString(inst.SubnetId) != out["subnet_id"] {
		return fmt.Errorf("instance %s: state %v, subnet %s", out["instance_id"], inst.State, aws.ToString(inst.SubnetId))
	}
	for {
		list, err := es.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(out["cluster_name"])})
		if err != nil {
			return fmt.Errorf("ListContainerInstances: %w", err)
		}
		if len(list.ContainerInstanceArns) == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the instance did not register in cluster %s (its user data names it): %d container instances", out["cluster_name"], len(list.ContainerInstanceArns))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// leftAfterDestroy lists what a destroyed stack left in us-west-2: VPCs,
// subnets and security groups beyond the region's default VPC, instances not
// terminated (EC2 shows terminated ones for a while), network interfaces,
// active clusters and active task definitions.
func leftAfterDestroy(ctx context.Context, s *server) []string {
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	var left []string
	note := func(what string, err error) { left = append(left, fmt.Sprintf("%s: %v", what, err)) }
	defaultVPC := map[string]bool{}
	if vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		note("DescribeVpcs", err)
	} else {
		for _, v := range vpcs.Vpcs {
			if aws.ToBool(v.IsDefault) {
				defaultVPC[aws.ToString(v.VpcId)] = true
			} else {
				left = append(left, "VPC "+aws.ToString(v.VpcId))
			}
		}
	}
	if subs, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		note("DescribeSubnets", err)
	} else {
		for _, sub := range subs.Subnets {
			if !defaultVPC[aws.ToString(sub.VpcId)] {
				left = append(left, "subnet "+aws.ToString(sub.SubnetId))
			}
		}
	}
	if sgs, err := ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}); err != nil {
		note("DescribeSecurityGroups", err)
	} else {
		for _, g := range sgs.SecurityGroups {
			if !defaultVPC[aws.ToString(g.VpcId)] || aws.ToString(g.GroupName) != "default" {
				left = append(left, "security group "+aws.ToString(g.GroupId))
			}
		}
	}
	if insts, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		note("DescribeInstances", err)
	} else {
		for _, r := range insts.Reservations {
			for _, i := range r.Instances {
				if i.State == nil || i.State.Name != ec2types.InstanceStateNameTerminated {
					left = append(left, fmt.Sprintf("instance %s (%v)", aws.ToString(i.InstanceId), i.State))
				}
			}
		}
	}
	if enis, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{}); err != nil {
		note("DescribeNetworkInterfaces", err)
	} else {
		for _, n := range enis.NetworkInterfaces {
			left = append(left, "network interface "+aws.ToString(n.NetworkInterfaceId))
		}
	}
	if cl, err := es.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		note("ListClusters", err)
	} else {
		for _, arn := range cl.ClusterArns {
			left = append(left, "cluster "+arn)
		}
	}
	if tds, err := es.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{}); err != nil {
		note("ListTaskDefinitions", err)
	} else {
		for _, arn := range tds.TaskDefinitionArns {
			left = append(left, "active task definition "+arn)
		}
	}
	return left
}

// checkProductionStack checks what the production stack made, through the
// API: the NAT gateway available with its Elastic IP, the private subnets
// routed to it and behind the network ACL, the shared VPC peered and routed
// to, with its subnet in its secondary block, the container hosts running from
// the ECS-optimized image with the root volume and metadata options asked
// for, and the service steady with its two tasks.
func checkProductionStack(ctx context.Context, s *server, out map[string]string) error {
	cfg := sdkConfig(s, "us-west-2")
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	nats, err := ec.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{out["nat_gateway_id"]}})
	if err != nil {
		return fmt.Errorf("DescribeNatGateways: %w", err)
	}
	if g := nats.NatGateways[0]; g.State != ec2types.NatGatewayStateAvailable || len(g.NatGatewayAddresses) != 1 || aws.ToString(g.NatGatewayAddresses[0].PublicIp) != out["nat_public_ip"] {
		return fmt.Errorf("the NAT gateway: %+v", g)
	}
	var private []string
	if err := json.Unmarshal([]byte(out["private_subnet_ids"]), &private); err != nil || len(private) != 2 {
		return fmt.Errorf("output private_subnet_ids %q: %v", out["private_subnet_ids"], err)
	}
	rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: private}}})
	if err != nil {
		return fmt.Errorf("DescribeRouteTables: %w", err)
	}
	if len(rts.RouteTables) != 1 || !slices.ContainsFunc(rts.RouteTables[0].Routes, func(r ec2types.Route) bool {
		return aws.ToString(r.NatGatewayId) == out["nat_gateway_id"] && r.State == ec2types.RouteStateActive
	}) {
		return fmt.Errorf("the private subnets' route table: %+v", rts.RouteTables)
	}
	if !slices.ContainsFunc(rts.RouteTables[0].Routes, func(r ec2types.Route) bool {
		return aws.ToString(r.DestinationIpv6CidrBlock) == "::/0" && strings.HasPrefix(aws.ToString(r.EgressOnlyInternetGatewayId), "eigw-") && r.State == ec2types.RouteStateActive
	}) {
		return fmt.Errorf("the private subnets' route table has no active IPv6 route to the egress-only gateway: %+v", rts.RouteTables[0].Routes)
	}
	// The shared VPC: peered, its secondary block holding its subnet, the
	// private subnets routed to it over the peering.
	pcx, err := ec.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{out["peering_id"]}})
	if err != nil || len(pcx.VpcPeeringConnections) != 1 || pcx.VpcPeeringConnections[0].Status.Code != ec2types.VpcPeeringConnectionStateReasonCodeActive {
		return fmt.Errorf("the peering connection: %v %+v", err, pcx)
	}
	if !slices.ContainsFunc(rts.RouteTables[0].Routes, func(r ec2types.Route) bool {
		return aws.ToString(r.VpcPeeringConnectionId) == out["peering_id"] && r.State == ec2types.RouteStateActive
	}) {
		return fmt.Errorf("the private subnets' route table has no active route over %s: %+v", out["peering_id"], rts.RouteTables[0].Routes)
	}
	shared, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{out["shared_subnet_id"]}})
	if err != nil || aws.ToString(shared.Subnets[0].CidrBlock) != "10.2.1.0/24" {
		return fmt.Errorf("the shared VPC's subnet: %v %+v", err, shared)
	}
	acls, err := ec.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{out["network_acl_id"]}})
	if err != nil || len(acls.NetworkAcls[0].Associations) != len(private) {
		return fmt.Errorf("the private subnets' network ACL: %v %+v", err, acls)
	}
	insts, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: private}}})
	if err != nil {
		return fmt.Errorf("DescribeInstances: %w", err)
	}
	n := 0
	for _, r := range insts.Reservations {
		for _, inst := range r.Instances {
			n++
			if inst.State.Name != ec2types.InstanceStateNameRunning || inst.PublicIpAddress != nil || inst.MetadataOptions.HttpTokens != ec2types.HttpTokensStateRequired {
				return fmt.Errorf("container host %s: %s, public address %v, tokens %s", aws.ToString(inst.InstanceId), inst.State.Name, aws.ToString(inst.PublicIpAddress), inst.MetadataOptions.HttpTokens)
			}
			// The subnets assign IPv6 addresses on creation.
			if inst.Ipv6Address == nil || len(inst.NetworkInterfaces) == 0 || len(inst.NetworkInterfaces[0].Ipv6Addresses) != 1 {
				return fmt.Errorf("container host %s has no IPv6 address: %+v", aws.ToString(inst.InstanceId), inst.NetworkInterfaces)
			}
		}
	}
	if n != 2 {
		return fmt.Errorf("%d container hosts in the private subnets, want 2", n)
	}
	svc, err := es.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("production"), Services: []string{"web"}})
	if err != nil || len(svc.Services) != 1 || svc.Services[0].RunningCount != 2 {
		return fmt.Errorf("the web service: %v %+v", err, svc)
	}
	return nil
}
