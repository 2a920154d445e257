package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcsim/vpcsim/hostnet"
)

// IPv6 to "the internet", this machine: an instance of a dual-stack subnet
// whose ::/0 goes to an egress-only internet gateway reaches a server on the
// machine's IPv6 address, which sees the instance's own address (IPv6 is not
// translated), while the machine cannot open a connection to the instance;
// routed to an internet gateway instead, the machine can; without a route,
// the instance has no way out.
func TestEgressOnlyGatewayE2E(t *testing.T) {
	s, ctx, ec, vpcID := startVPC(t, "10.68.0.0/16")
	range6 := dualStack(t, ctx, ec, vpcID)
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.68.1.0/24"), Ipv6CidrBlock: aws.String(range6.String())})
	check(t, err)
	_, err = ec.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: sub.Subnet.SubnetId, AssignIpv6AddressOnCreation: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	check(t, err)
	eigw, err := ec.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: vpcID})
	check(t, err)
	eigwID := eigw.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId
	rts, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{*vpcID}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	check(t, err)
	main := rts.RouteTables[0].RouteTableId
	_, err = ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: main, DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: eigwID})
	check(t, err)
	// The group admits 8080 from anywhere, both families: what keeps the
	// machine out is the gateway.
	sg := webGroup(t, ctx, ec, vpcID)
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &sg, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	check(t, err)

	inst := launchInternet(t, ctx, ec, *sub.Subnet.SubnetId, sg, false)
	v6, err := netip.ParseAddr(aws.ToString(inst.Ipv6Address))
	if err != nil || !range6.Contains(v6) {
		t.Fatalf("the instance's IPv6 address %q is not of its subnet's %s", aws.ToString(inst.Ipv6Address), range6)
	}
	machine := hostnet.MachineAddr6(s.publicRange.Addr().Next())
	url := s.machineServerOn(t, machine)
	if got := s.fetch(t, inst, url); got != v6.String() {
		t.Errorf("the machine saw %q as the instance's address, want its own IPv6 address %s", got, v6)
	}

	s.serveIn(t, inst, 8080)
	// The server answers (the instance reaches its own address), so only a
	// connection the gateway drops can time out.
	if got := s.fetch(t, inst, "http://["+v6.String()+"]:8080/"); !strings.Contains(got, "hello from") {
		t.Fatalf("the instance's own server: %q", got)
	}
	if out, err := s.tryFromMachine(t, v6, 8080); !isTimeout(err) {
		t.Errorf("the machine's connection through the egress-only gateway: %q %v, want it dropped (a timeout)", out, err)
	}

	// Through an internet gateway, the machine gets in.
	igw, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	check(t, err)
	_, err = ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	check(t, err)
	_, err = ec.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: main, DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	check(t, err)
	if got := s.fetchFromMachine(t, v6, 8080); !strings.Contains(got, "hello from") {
		t.Errorf("GET [%s]:8080 from the machine through the internet gateway: %q", v6, got)
	}

	_, err = ec.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: main, DestinationIpv6CidrBlock: aws.String("::/0")})
	check(t, err)
	if out, err := s.vpcsim("exec", aws.ToString(inst.InstanceId), "--", "curl", "-s", "-f", "-m", "3", url); err == nil {
		t.Errorf("the instance reached the machine with no IPv6 route out: %s", out)
	}
}

// dualStack gives a VPC an Amazon-provided IPv6 block, waits for it to be
// associated, and returns its first /64.
func dualStack(t *testing.T, ctx context.Context, ec *ec2.Client, vpcID *string) netip.Prefix {
	t.Helper()
	_, err := ec.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	check(t, err)
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{*vpcID}})
		check(t, err)
		for _, a := range d.Vpcs[0].Ipv6CidrBlockAssociationSet {
			if a.Ipv6CidrBlockState != nil && a.Ipv6CidrBlockState.State == ec2types.VpcCidrBlockStateCodeAssociated {
				block := netip.MustParsePrefix(aws.ToString(a.Ipv6CidrBlock))
				if block.Bits() != 56 {
					t.Fatalf("the VPC's IPv6 block is %v, want a /56", block)
				}
				return netip.PrefixFrom(block.Addr(), 64)
			}
		}
	}
	t.Fatalf("the VPC's IPv6 block was never associated")
	return netip.Prefix{}
}

// machineServerOn is machineServer on one of the machine's addresses in
// vpcsim's internet.
func (s *server) machineServerOn(t *testing.T, addr netip.Addr) string {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprint(w, host)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// tryFromMachine GETs http://addr:port/ once from this machine's own
// namespace, after checking the route to addr leaves through a link of the
// test's: for an address that must not answer.
func (s *server) tryFromMachine(t *testing.T, addr netip.Addr, port int) (string, error) {
	t.Helper()
	s.mustRouteOwn(t, addr)
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + netip.AddrPortFrom(addr, uint16(port)).String() + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return resp.Status, nil
}

// isTimeout reports whether err is a timeout: what a dropped connection
// gives (a refused one reached something).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mustRouteOwn fails the test unless the machine's route to addr leaves
// through a link of the test server's (its traffic must go nowhere else).
func (s *server) mustRouteOwn(t *testing.T, addr netip.Addr) {
	t.Helper()
	route, err := exec.Command("ip", "route", "get", addr.String()).Output()
	if err != nil || !strings.Contains(string(route), " dev "+s.prefix) {
		t.Fatalf("ip route get %s: %s %v; it must leave through a link of the test's (%s…)", addr, route, err, s.prefix)
	}
}
