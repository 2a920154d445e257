package ec2

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
)

// TestCreateVpcRefusedRanges: no VPC in link-local (AWS documents it), this
// network, loopback, multicast or the reserved range; their neighbours are
// taken.
func TestCreateVpcRefusedRanges(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	for _, cidr := range []string{"169.254.0.0/16", "169.254.169.240/28", "127.0.0.0/16", "127.255.255.0/24", "0.0.0.0/16",
		"0.255.0.0/16", "224.0.0.0/16", "239.255.255.240/28", "240.0.0.0/16", "255.255.255.240/28"} {
		_, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: cidr})
		wantAPIError(t, "CreateVpc "+cidr, err, "InvalidVpc.Range", "The CIDR '"+cidr+"' is invalid.")
	}
	for _, cidr := range []string{"169.253.0.0/16", "169.255.0.0/16", "126.255.0.0/16", "128.0.0.0/16", "1.0.0.0/16", "223.255.255.240/28", "100.64.0.0/16"} {
		if _, err := tc.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: cidr}); err != nil {
			t.Errorf("CreateVpc %s: %v", cidr, err)
		}
	}
	if n := len(tc.dp.VPCs); n != 8 {
		t.Fatalf("the kernel has %d VPCs, want the default one and 7", n)
	}
}

// TestConnectRanges: vpcsim connect routes this machine into private and
// shared ranges; a public range only when the operator allowed it; a refused
// one never. A refusal changes nothing, in the model or the kernel.
func TestConnectRanges(t *testing.T) {
	ctx := context.Background()
	tc := newTestCloud(t)
	for _, cidr := range []string{"10.1.0.0/16", "172.16.5.0/24", "192.168.0.0/16", "100.64.0.0/16", "100.127.255.240/28"} {
		v := tc.vpc(t, cidr)
		if _, err := tc.ConnectVPC(ctx, v.ID, true); err != nil {
			t.Errorf("connect %s: %v", cidr, err)
		}
		if !tc.dp.VPCs[v.ID].Connect.IsValid() {
			t.Errorf("connect %s: the kernel routes nothing", cidr)
		}
	}
	public := tc.vpc(t, "8.8.0.0/16")
	shared := tc.vpc(t, "100.128.0.0/16") // just beyond 100.64.0.0/10
	for _, v := range []VPC{public, shared} {
		_, err := tc.ConnectVPC(ctx, v.ID, true)
		e, ok := AsAPIError(err)
		if !ok || e.Code != "OperationNotPermitted" || !strings.Contains(e.Message, v.CIDR.String()+" is not one of them") || !strings.Contains(e.Message, "--connect-public") {
			t.Errorf("connect %s: %v", v.CIDR, err)
		}
		if got := must[[]VPC](t)(tc.DescribeVpcs(ctx, west, []string{v.ID}, nil)); got[0].Connected || tc.dp.VPCs[v.ID].Connect.IsValid() {
			t.Errorf("a refused connect of %s changed the VPC (%v) or the kernel (%v)", v.CIDR, got[0].Connected, tc.dp.VPCs[v.ID].Connect)
		}
	}
	// Disconnecting is always allowed.
	if _, err := tc.ConnectVPC(ctx, public.ID, false); err != nil {
		t.Errorf("disconnect %s: %v", public.CIDR, err)
	}

	// With --connect-public the operator opens public ranges.
	open := tc.reopen(t, WithConnectPublic(true))
	if _, err := open.ConnectVPC(ctx, public.ID, true); err != nil || !open.dp.VPCs[public.ID].Connect.IsValid() {
		t.Fatalf("connect %s with --connect-public: %v", public.CIDR, err)
	}
	// A restart without it takes the machine out of the public VPC, and
	// leaves the private ones connected.
	closed := open.reopen(t)
	if got := must[[]VPC](t)(closed.DescribeVpcs(ctx, west, []string{public.ID}, nil)); got[0].Connected {
		t.Error("after a restart without --connect-public the public VPC is still connected")
	}
	if closed.dp.VPCs[public.ID].Connect.IsValid() {
		t.Error("after a restart without --connect-public the kernel still routes the public VPC")
	}
	private := must[[]VPC](t)(closed.DescribeVpcs(ctx, west, nil, []Filter{{Name: "cidr", Values: []string{"10.1.0.0/16"}}}))
	if !private[0].Connected || !closed.dp.VPCs[private[0].ID].Connect.IsValid() {
		t.Error("a restart disconnected a private VPC")
	}
}

// TestConnectNeverRefusedRanges: a VPC stored before CreateVpc refused its
// range (link-local here) is never routed, --connect-public or not.
func TestConnectNeverRefusedRanges(t *testing.T) {
	ctx := context.Background()
	tc := newTestCloud(t)
	v := tc.vpc(t, "10.9.0.0/16")
	stored := v
	stored.CIDR = netip.MustParsePrefix("169.254.0.0/16")
	body, err := json.Marshal(&stored)
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.store.Apply([]storage.Change{{Kind: kindVPC, ID: v.ID, Version: 1, Body: body}}); err != nil {
		t.Fatal(err)
	}
	open := tc.reopen(t, WithConnectPublic(true))
	_, err = open.ConnectVPC(ctx, v.ID, true)
	if e, ok := AsAPIError(err); !ok || e.Code != "OperationNotPermitted" || !strings.Contains(e.Message, "never routes") {
		t.Fatalf("connect a link-local VPC: %v", err)
	}
}
