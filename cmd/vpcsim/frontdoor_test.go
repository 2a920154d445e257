package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

// The front door's end-to-end tests: who may drive a real `vpcsim serve`, and
// what clients that may not can cost it. They drive the binary as the issue's
// repro does (raw requests a web page or an attacker would make), and check
// that the aws CLIs, boto3 and aws-sdk-go-v2 still work. Most need no kernel:
// their servers run with --dataplane none.

// rawCall sends one request as a browser or a script would, Host and all,
// and returns the status and body of the answer.
func rawCall(t *testing.T, s *server, method, path, host string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jsonError and xmlError read ECS's and EC2's error bodies.
func jsonError(t *testing.T, body string) (typ, msg string) {
	t.Helper()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an ECS error: %v %s", err, body)
	}
	return e.Type, e.Message
}

func xmlError(t *testing.T, body string) (code, msg string) {
	t.Helper()
	var e struct {
		Code    string `xml:"Errors>Error>Code"`
		Message string `xml:"Errors>Error>Message"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil || e.Code == "" {
		t.Fatalf("not an EC2 error: %v %s", err, body)
	}
	return e.Code, e.Message
}

func portOf(s *server) string {
	_, port, _ := net.SplitHostPort(s.listen)
	return port
}

// TestFrontDoorWebPagesE2E: the repro. A page that rebinds its name
// to 127.0.0.1 cannot register a task definition, a cross-site form cannot
// create a VPC, an <img> (a GET) cannot either, and a page cannot reach
// vpcsim's own commands; the refusals are 403s in each protocol's shape, and
// nothing is made. The aws CLIs, boto3 and aws-sdk-go-v2 work as before.
func TestFrontDoorWebPagesE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	port := portOf(s)
	ctx := testContext(t)
	cfg := sdkConfig(s, "us-east-1")
	cfg.RetryMaxAttempts = 1
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)

	register := map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition", "Content-Type": "application/x-amz-json-1.1"}
	taskdef := `{"family":"pwn","containerDefinitions":[{"name":"c","image":"busybox","memory":32,"privileged":true}]}`
	for _, tc := range []struct {
		name, host string
		origin     string
	}{
		{"rebinding page", "rebind.attacker.example:" + port, "http://rebind.attacker.example:" + port},
		{"rebound name, no origin", "rebind.attacker.example:" + port, ""},
		{"cross-origin page", "127.0.0.1:" + port, "https://attacker.example"},
	} {
		h := map[string]string{"Origin": tc.origin}
		for k, v := range register {
			h[k] = v
		}
		status, body := rawCall(t, s, "POST", "/", tc.host, h, taskdef)
		if typ, msg := jsonError(t, body); status != 403 || typ != "AccessDeniedException" || !strings.Contains(msg, "vpcsim does not serve") {
			t.Errorf("%s: RegisterTaskDefinition answered %d %s", tc.name, status, body)
		}
	}
	if l, err := es.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{}); err != nil || len(l.TaskDefinitionArns) != 0 {
		t.Errorf("task definitions after the refusals: %v %v", l, err)
	}

	// A form on any site posts to 127.0.0.1 without JavaScript; browsers say
	// where it comes from.
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
	status, body := rawCall(t, s, "POST", "/", "127.0.0.1:"+port, form, "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.66.0.0/16")
	if code, _ := xmlError(t, body); status != 403 || code != "UnauthorizedOperation" {
		t.Errorf("cross-site form CreateVpc: %d %s", status, body)
	}
	// An <img> sends a GET, with no Origin (and, from an old browser, no
	// Sec-Fetch-Site either).
	status, body = rawCall(t, s, "GET", "/?Action=CreateVpc&Version=2016-11-15&CidrBlock=10.67.0.0/16", "127.0.0.1:"+port, nil, "")
	if code, msg := xmlError(t, body); status != 403 || code != "UnauthorizedOperation" || !strings.Contains(msg, "signed with SigV4") {
		t.Errorf("GET CreateVpc: %d %s", status, body)
	}
	vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vpcs.Vpcs {
		if !aws.ToBool(v.IsDefault) {
			t.Errorf("a VPC was made by a refused request: %s %s", aws.ToString(v.VpcId), aws.ToString(v.CidrBlock))
		}
	}
	// vpcsim's own commands change the machine's routes: no page reaches them.
	status, body = rawCall(t, s, "POST", adminPath+"disconnect?vpc="+aws.ToString(vpcs.Vpcs[0].VpcId), "127.0.0.1:"+port,
		map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-site"}, "")
	if status != 403 || !strings.Contains(body, `"error":"vpcsim does not serve requests of web pages`) {
		t.Errorf("admin call from a page: %d %s", status, body)
	}

	// What users run works: the SDK at 127.0.0.1 and at localhost, both aws
	// CLIs, boto3, and vpcsim's own commands.
	for _, endpoint := range []string{s.endpoint, "http://localhost:" + port} {
		c := cfg
		c.BaseEndpoint = aws.String(endpoint)
		if _, err := ec2.NewFromConfig(c).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.70.0.0/16")}); err != nil {
			t.Errorf("aws-sdk-go-v2 at %s: %v", endpoint, err)
		}
		if _, err := ecs.NewFromConfig(c).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Errorf("aws-sdk-go-v2 at %s: %v", endpoint, err)
		}
	}
	for name, cli := range awsCLIs(t) {
		for _, args := range [][]string{{"ec2", "create-vpc", "--cidr-block", "10.71.0.0/16"}, {"ecs", "list-clusters"}, {"sts", "get-caller-identity"}} {
			cmd := exec.Command(cli, append([]string{"--endpoint-url", s.endpoint, "--output", "json"}, args...)...)
			cmd.Env = s.env("AWS_MAX_ATTEMPTS=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("aws-cli %s %s: %v %s", name, args, err, out)
			}
		}
	}
	boto3 := `
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test")
boto3.client("ec2", **kw).describe_vpcs()
boto3.client("ecs", **kw).list_clusters()
boto3.client("sts", **kw).get_caller_identity()
print("ok")
`
	if out, err := exec.Command("python3", "-c", boto3, s.endpoint).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("boto3: %v %s", err, out)
	}
	if out, err := s.vpcsim("sg", "explain", "eni-00000000000000000", "--from", "10.0.0.1", "--port", "80"); err == nil ||
		!strings.Contains(string(out), "InvalidNetworkInterfaceID.NotFound") && !strings.Contains(string(out), "does not exist") {
		t.Errorf("vpcsim sg explain (served, then refused by the model): %v %s", err, out)
	}
}

// e2eKeyEnv gives a server the signature tests' key.
var e2eKeyEnv = "VPCSIM_ACCESS_KEYS=" + e2eKey + ":" + e2eSecret

// TestFrontDoorKeysE2E: with access keys, vpcsim's own commands must be
// signed (the CLI signs them with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY),
// a body signed as UNSIGNED-PAYLOAD is refused, an ECS credential scope naming
// no region is refused, and a client without a key is refused on its headers,
// before it sends its body.
func TestFrontDoorKeysE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly(), withServeEnv(e2eKeyEnv))
	ctx := testContext(t)
	cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(e2eKey, e2eSecret, ""),
		BaseEndpoint: aws.String(s.endpoint), RetryMaxAttempts: 1, HTTPClient: awstest.HTTPClient()}
	ec, es := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)

	// The admin path, unsigned: refused, as any unsigned call.
	status, body := rawCall(t, s, "GET", adminPath+"sg/explain?from=nowhere", "", nil, "")
	if status != 403 || !strings.Contains(body, "signed with its access keys only") {
		t.Errorf("unsigned admin call: %d %s", status, body)
	}
	// Signed by the CLI, with the keys the aws CLI would use.
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.5.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.5.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := ec.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	explain := func(key, secret string) (string, error) {
		cmd := exec.Command(binary, "sg", "explain", aws.ToString(eni.NetworkInterface.NetworkInterfaceId), "--from", "10.5.1.9", "--port", "80")
		cmd.Env = append(os.Environ(), "VPCSIM_ENDPOINT="+s.endpoint, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-west-2")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := explain(e2eKey, e2eSecret); err != nil || !strings.Contains(out, "tcp 10.5.1.9 → ") {
		t.Errorf("vpcsim sg explain, signed: %v %s", err, out)
	}
	for _, tc := range []struct{ key, secret, want string }{
		{e2eKey, "not-the-secret", "The request signature we calculated does not match"},
		{"AKIDVPCSIME2E00002", e2eSecret, "The security token included in the request is invalid."},
		{"", "", "Request is missing Authentication Token"},
	} {
		if out, err := explain(tc.key, tc.secret); err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "AWS_ACCESS_KEY_ID") {
			t.Errorf("vpcsim sg explain as %q: %v %s, want a refusal saying %q", tc.key, err, out, tc.want)
		}
	}

	// UNSIGNED-PAYLOAD: the signature covers no body, so any body could
	// ride on it. AWS hashes EC2 and ECS bodies itself; so does vpcsim.
	unsignedPayload := func(body string, header map[string]string) (int, string) {
		req, _ := http.NewRequest("POST", s.endpoint+"/", strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		creds, _ := cfg.Credentials.Retrieve(ctx)
		service := map[bool]string{true: "ecs", false: "ec2"}[header["X-Amz-Target"] != ""]
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", service, "us-west-2", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body = unsignedPayload("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.6.0.0/16", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code, _ := xmlError(t, body); status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("EC2 with UNSIGNED-PAYLOAD: %d %s", status, body)
	}
	status, body = unsignedPayload(`{"clusterName":"unsigned"}`, map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.CreateCluster"})
	if typ, _ := jsonError(t, body); status != 400 || typ != "com.amazon.coral.service#InvalidSignatureException" {
		t.Errorf("ECS with UNSIGNED-PAYLOAD: %d %s", status, body)
	}
	if c, err := es.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil || len(c.ClusterArns) != 0 {
		t.Errorf("clusters after the refusal: %v %v", c, err)
	}
	if v, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("cidr"), Values: []string{"10.6.0.0/16"}}}}); err != nil || len(v.Vpcs) != 0 {
		t.Errorf("VPCs after the refusal: %v %v", v, err)
	}

	// A credential scope naming no region ECS serves.
	mars := cfg
	mars.Region = "mars-north-1"
	_, err = ecs.NewFromConfig(mars).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("mars")})
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 || ae.ErrorCode() != "InvalidSignatureException" ||
		!strings.Contains(ae.ErrorMessage(), "'mars-north-1'") {
		t.Errorf("ECS in mars-north-1: %v", err)
	}

	// Refused on the headers alone: the body never comes, the answer does.
	for name, auth := range map[string]string{
		"unsigned":    "",
		"unknown key": "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/" + time.Now().UTC().Format("20060102") + "/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	} {
		c, err := net.Dial("tcp", s.listen)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute)) // generous: the answer needs no body at all
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\nX-Amz-Date: %s\r\n",
			s.listen, time.Now().UTC().Format("20060102T150405Z"))
		if auth != "" {
			fmt.Fprintf(c, "Authorization: %s\r\n", auth)
		}
		io.WriteString(c, "\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("%s, body unsent: no answer: %v", name, err)
		} else if resp.StatusCode != 400 && resp.StatusCode != 401 {
			t.Errorf("%s, body unsent: HTTP %d", name, resp.StatusCode)
		}
		c.Close()
	}
}

// vmHWM is the peak resident memory of a process, from /proc/PID/status.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestFrontDoorSlowBodiesE2E: the half-sent bodies, smaller. 300
// clients each announce a 1 MiB body, send all of it but its last byte and
// stall. The server's peak memory stays within a bound that does not grow
// with them (it read them all, 300 MiB and more, before); every one of them
// is answered and closed when its time is up, and the server still serves.
func TestFrontDoorSlowBodiesE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, apiOnly())
	ctx := testContext(t)
	es := ecs.NewFromConfig(sdkConfig(s, "us-east-1"))
	for range 3 {
		if _, err := es.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	pid := s.cmd.Process.Pid
	base := vmHWM(t, pid)
	const clients, bodySize = 300, 1 << 20
	// A generous bound, ten times the body budget (16 MiB): the server grows
	// by some 70 MiB, most of it garbage of bodies read and dropped; it grew
	// by 350 MiB when it read every body.
	const bound = 160 << 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	body := strings.Repeat(" ", bodySize-1)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { mu.Lock(); done++; mu.Unlock() }()
			c, err := net.Dial("tcp", s.listen)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"+
				"Content-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n%s", s.listen, bodySize, body)
			io.Copy(io.Discard, c) // until the server answers and closes
		}()
	}
	for {
		if grown := vmHWM(t, pid) - base; grown > bound {
			t.Fatalf("the server's peak memory grew by %d MiB with %d slow clients (bound %d MiB)", grown>>20, clients, bound>>20)
		}
		mu.Lock()
		n := done
		mu.Unlock()
		if n == clients {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d slow clients are still connected", clients-n, clients)
		case <-time.After(100 * time.Millisecond):
		}
	}
	wg.Wait()
	t.Logf("peak memory grew by %d MiB with %d slow clients", (vmHWM(t, pid)-base)>>20, clients)
	if _, err := es.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Errorf("after the slow clients: %v", err)
	}
}

// TestFrontDoorIdleFloodE2E: the idle connections, smaller. A server
// allowed 256 open files gets 300 connections that each send a request and
// then sit idle: a legitimate call is still answered. (It waited for as long
// as they stayed, which was forever: idle connections had no timeout.)
func TestFrontDoorIdleFloodE2E(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is missing")
	}
	wrapper := filepath.Join(t.TempDir(), "vpcsim-256-files")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec prlimit --nofile=256:256 -- "+binary+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, apiOnly(), withBinary(wrapper))
	ctx := testContext(t)
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for range 300 {
		c, err := net.Dial("tcp", s.listen)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
		// A request, then nothing more: the connection is kept alive, idle.
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", s.listen)
	}
	cfg := sdkConfig(s, "us-east-1")
	cfg.RetryMaxAttempts = 1
	call, cancelCall := context.WithTimeout(ctx, time.Minute) // generous: it is answered at once
	defer cancelCall()
	if _, err := ec2.NewFromConfig(cfg).DescribeVpcs(call, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("a call behind 300 idle connections: %v\n%s", err, tail(s.logText(), 20))
	}
	if !strings.Contains(s.logText(), "--max-connections is lowered to half the open files allowed") {
		t.Errorf("the server did not say it lowered its connection cap:\n%s", tail(s.logText(), 20))
	}
}

// TestFrontDoorMetadataE2E: a task's metadata endpoint answers its own
// containers at 169.254.170.2, and refuses a request for another name (a page
// in the task that rebinds) or from a web page.
func TestFrontDoorMetadataE2E(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t)
	w := newEchoWorld(t, ctx, s, "10.7.0.0/16", "10.7.1.0/24", "meta", ec2types.InstanceTypeM5Large, 1)
	taskARN, err := w.runEcho(ctx, w.es)
	if err != nil {
		t.Fatal(err)
	}
	running := ecs.NewTasksRunningWaiter(w.es, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	out, err := running.WaitForOutput(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("meta"), Tasks: []string{taskARN}}, 2*time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(s.logText(), 30))
	}
	task := out.Tasks[0]
	arn := aws.ToString(task.Containers[0].ContainerArn)
	uri := "http://169.254.170.2/v4/" + arn[strings.LastIndexByte(arn, '/')+1:] + "/task"
	get := func(header ...string) string {
		args := []string{"exec", aws.ToString(task.TaskArn), "--", "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}"}
		for _, h := range header {
			args = append(args, "-H", h)
		}
		out, err := s.vpcsim(append(args, uri)...)
		if err != nil {
			t.Fatalf("curl %s in the task: %v %s", uri, err, out)
		}
		return string(out)
	}
	if got := get(); got != "200" {
		t.Errorf("the task's own request: HTTP %s", got)
	}
	if got := get("Host: rebind.attacker.example"); got != "403" {
		t.Errorf("a request for another name: HTTP %s", got)
	}
	if got := get("Origin: https://attacker.example", "Sec-Fetch-Site: cross-site"); got != "403" {
		t.Errorf("a web page's request: HTTP %s", got)
	}
	if _, err := w.es.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("meta"), Task: task.TaskArn}); err != nil {
		t.Error(err)
	}
}
