package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// refCIDR is what the fuzzers take for a valid IPv4 CIDR block: "a.b.c.d/n", four
// decimal octets 0–255 and a length 0–32, no sign, space or leading zero. It is
// written without net/netip so that a change of parser in the code under test
// shows up here. (unverified: whether AWS accepts leading zeros; vpcsim does not.)
func refCIDR(s string) (octets [4]byte, bits int, ok bool) {
	addr, n, found := strings.Cut(s, "/")
	if !found {
		return octets, 0, false
	}
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return octets, 0, false
	}
	for i, p := range parts {
		v, ok := refDecimal(p, 255)
		if !ok {
			return octets, 0, false
		}
		octets[i] = byte(v)
	}
	bits, ok = refDecimal(n, 32)
	return octets, bits, ok
}

func refDecimal(s string, limit int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, v <= limit
}

// refMasked writes the block the octets and length name, host bits cleared.
func refMasked(o [4]byte, bits int) string {
	v := uint64(o[0])<<24 | uint64(o[1])<<16 | uint64(o[2])<<8 | uint64(o[3])
	v &^= (1 << (32 - bits)) - 1
	return fmt.Sprintf("%d.%d.%d.%d/%d", byte(v>>24), byte(v>>16), byte(v>>8), byte(v), bits)
}

func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	e, ok := AsAPIError(err)
	if !ok || e.Code != code || e.Message != msg {
		t.Fatalf("%s: %v, want %s %q", what, err, code, msg)
	}
}

var cidrSeeds = []string{
	"10.0.0.0/16", "100.68.0.18/18", "10.0.0.0/8", "10.0.0.0/29", "0.0.0.0/0", "255.255.255.255/32",
	"10.0.0.300/16", "10.0.0.0/33", "10.0.0.0/016", "010.0.0.0/16", "10.0.0.0/+16", "10.0.0.0/-1",
	"10.0.0/16", "10.0.0.0", "10.0.0.0/", " 10.0.0.0/16", "10.0.0.0/16\x00", "::ffff:10.0.0.0/112",
	"2001:db8::/32", "1.2.3.4%eth0/24", "0x0a.0.0.0/16", "", "/", "10.0.0.0/1_6", "１0.0.0.0/16",
	"127.0.0.0/16", "169.254.0.0/16", "169.253.0.0/16", "224.0.0.0/16", "239.255.255.240/28", "240.0.0.0/16",
	"0.1.0.0/16", "1.0.0.0/16", "223.255.0.0/16", "100.64.0.0/16",
}

// FuzzParseCIDR checks parseCIDR against refCIDR: the same strings are valid; a
// valid one comes back with its host bits cleared and round-trips through its
// own String; an invalid one is EC2's InvalidParameterValue, word for word.
func FuzzParseCIDR(f *testing.F) {
	for _, s := range cidrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseCIDR(s)
		o, bits, ok := refCIDR(s)
		if !ok {
			wantAPIError(t, fmt.Sprintf("parseCIDR(%q)", s), err, "InvalidParameterValue",
				"Value ("+s+") for parameter cidrBlock is invalid. This is not a valid CIDR block.")
			return
		}
		if err != nil {
			t.Fatalf("parseCIDR(%q): %v", s, err)
		}
		if got := p.String(); got != refMasked(o, bits) {
			t.Fatalf("parseCIDR(%q) = %s, want %s", s, got, refMasked(o, bits))
		}
		if again, err := parseCIDR(p.String()); err != nil || again != p {
			t.Fatalf("%q → %s → %v, %v", s, p, again, err)
		}
		if !p.Contains(netip.AddrFrom4(o)) {
			t.Fatalf("%s does not contain the address %q names", p, s)
		}
	})
}

// refNoVPCRange reports whether a block lies in a range no VPC may hold: this
// network (0/8), loopback (127/8), link-local (169.254/16), multicast and
// reserved (224/4, 240/4). Written from the octets, without net/netip.
func refNoVPCRange(o [4]byte) bool {
	return o[0] == 0 || o[0] == 127 || (o[0] == 169 && o[1] == 254) || o[0] >= 224
}

// FuzzCreateVpcCIDR sends any string as CreateVpc's CidrBlock: a malformed one is
// InvalidParameterValue, one outside /16–/28 or in a reserved range
// InvalidVpc.Range (AWS-SEMANTICS §5), and a refused VPC leaves nothing behind,
// in the model or in the kernel.
func FuzzCreateVpcCIDR(f *testing.F) {
	for _, s := range cidrSeeds {
		f.Add(s)
	}
	ctx := context.Background()
	dp := netmodeltest.NewFakeDataplane()
	c, err := New(ctx, vpcsim.NewMemStore(), dp)
	if err != nil {
		f.Fatal(err)
	}
	before, err := c.DescribeVpcs(ctx, west, nil, nil) // makes the default VPC
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := c.CreateVpc(ctx, west, CreateVpcInput{CIDRBlock: s})
		o, bits, ok := refCIDR(s)
		switch {
		case s == "":
			wantAPIError(t, "CreateVpc without a block", err, "MissingParameter", "The request must contain the parameter cidrBlock")
		case !ok:
			wantAPIError(t, fmt.Sprintf("CreateVpc(%q)", s), err, "InvalidParameterValue",
				"Value ("+s+") for parameter cidrBlock is invalid. This is not a valid CIDR block.")
		case bits < 16 || bits > 28 || refNoVPCRange(o):
			wantAPIError(t, fmt.Sprintf("CreateVpc(%q)", s), err, "InvalidVpc.Range", "The CIDR '"+s+"' is invalid.")
		default:
			if err != nil {
				t.Fatalf("CreateVpc(%q): %v", s, err)
			}
			if v.CIDR.String() != refMasked(o, bits) {
				t.Fatalf("CreateVpc(%q) made %s, want %s", s, v.CIDR, refMasked(o, bits))
			}
			if err := c.DeleteVpc(ctx, west, v.ID); err != nil {
				t.Fatal(err)
			}
		}
		after, err := c.DescribeVpcs(ctx, west, nil, nil)
		if err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("after CreateVpc(%q) the VPCs are %+v (%v), want %+v", s, after, err, before)
		}
		if len(dp.VPCs) != 1 {
			t.Fatalf("after CreateVpc(%q) the kernel has %d VPCs", s, len(dp.VPCs))
		}
	})
}

// FuzzRuleCIDR authorizes and revokes an ingress rule with any string as its
// IPv4 and IPv6 peer: a malformed block is refused with EC2's message and adds no
// rule; an accepted one is stored canonical, and revoking the string given
// removes exactly that rule.
func FuzzRuleCIDR(f *testing.F) {
	for _, s := range cidrSeeds {
		f.Add(s)
	}
	ctx := context.Background()
	c, v := cloudWithVPC(f)
	g, err := c.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: "web", Description: "web"})
	if err != nil {
		f.Fatal(err)
	}
	port := int32(443)
	rulesOf := func(t *testing.T) []Rule {
		t.Helper()
		gs, err := c.DescribeSecurityGroups(ctx, west, []string{g.ID}, nil, nil)
		if err != nil || len(gs) != 1 {
			t.Fatalf("DescribeSecurityGroups: %v", err)
		}
		return gs[0].Rules
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v6 := range []bool{false, true} {
			perm := Permission{Protocol: "tcp", FromPort: &port, ToPort: &port}
			if v6 {
				perm.CIDRsV6 = []Peer{{Value: s}}
			} else {
				perm.CIDRs = []Peer{{Value: s}}
			}
			in := AuthorizeInput{Group: GroupRef{ID: g.ID}, Permissions: []Permission{perm}}
			before := rulesOf(t)
			added, err := c.AuthorizeSecurityGroup(ctx, west, in)
			var want string // the canonical block, "" when s is not one of this family
			if v6 {
				if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is6() {
					want = p.Masked().String()
				}
			} else if o, bits, ok := refCIDR(s); ok {
				want = refMasked(o, bits)
			}
			if want == "" {
				wantAPIError(t, fmt.Sprintf("Authorize(%q, v6=%v)", s, v6), err, "InvalidParameterValue", "CIDR block "+s+" is malformed")
				if after := rulesOf(t); !reflect.DeepEqual(after, before) {
					t.Fatalf("a refused rule changed the group: %+v", after)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Authorize(%q, v6=%v): %v", s, v6, err)
			}
			got := added[0].CIDRv4
			if v6 {
				got = added[0].CIDRv6
			}
			if len(added) != 1 || got != want {
				t.Fatalf("Authorize(%q, v6=%v) added %+v, want the block %s", s, v6, added, want)
			}
			if p, err := netip.ParsePrefix(got); err != nil || p.String() != got {
				t.Fatalf("stored block %q does not round-trip: %v", got, err)
			}
			gone, err := c.RevokeSecurityGroup(ctx, west, in)
			if err != nil || len(gone) != 1 || gone[0].ID != added[0].ID {
				t.Fatalf("Revoke(%q, v6=%v) = %+v, %v; want the rule %s", s, v6, gone, err, added[0].ID)
			}
			if after := rulesOf(t); !reflect.DeepEqual(after, before) {
				t.Fatalf("after authorize and revoke of %q the group has %+v, want %+v", s, after, before)
			}
		}
	})
}

// cloudWithVPC is a Cloud over a fake dataplane with one VPC, 10.0.0.0/16.
func cloudWithVPC(tb testing.TB) (*Cloud, VPC) {
	tb.Helper()
	c, err := New(context.Background(), vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Wait)
	v, err := c.CreateVpc(context.Background(), west, CreateVpcInput{CIDRBlock: "10.0.0.0/16"})
	if err != nil {
		tb.Fatal(err)
	}
	return c, v
}

// refLast is the broadcast address of p, computed bit by bit.
func refLast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}

// refReserved reports whether a is one of the five addresses AWS keeps in every
// subnet (AWS-SEMANTICS §5): the network address and the next three, and the last.
func refReserved(p netip.Prefix, a netip.Addr) bool {
	n := p.Masked().Addr()
	return a == n || a == n.Next() || a == n.Next().Next() || a == n.Next().Next().Next() || a == refLast(p)
}

// ipamWorld is a subnet under a sequence of ENI operations, with the test's own
// record of which ENI holds which address to hold the Cloud to.
type ipamWorld struct {
	c      *Cloud
	sub    Subnet
	enis   []string              // live ENIs, in creation order
	holder map[netip.Addr]string // address → ENI, as the test expects it
}

func (w *ipamWorld) usable() int {
	return (1 << (32 - w.sub.CIDR.Bits())) - 5
}

// snapshot is every ENI of the subnet, as Describe shows them.
func (w *ipamWorld) snapshot(t *testing.T) []ENI {
	t.Helper()
	es, err := w.c.DescribeNetworkInterfaces(context.Background(), west, nil, []Filter{{Name: "subnet-id", Values: []string{w.sub.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// check holds the Cloud to the record: the addresses held are exactly the
// recorded ones, each inside the subnet, none reserved or held twice, and the
// subnet's AvailableIpAddressCount agrees.
func (w *ipamWorld) check(t *testing.T, step string) {
	t.Helper()
	seen := map[netip.Addr]string{}
	for _, e := range w.snapshot(t) {
		for _, ip := range e.PrivateIPs {
			a := ip.Addr
			if !w.sub.CIDR.Contains(a) || refReserved(w.sub.CIDR, a) {
				t.Fatalf("%s: %s holds %s, outside %s or reserved", step, e.ID, a, w.sub.CIDR)
			}
			if other, dup := seen[a]; dup {
				t.Fatalf("%s: %s is held by %s and %s", step, a, other, e.ID)
			}
			seen[a] = e.ID
		}
	}
	if !reflect.DeepEqual(seen, w.holder) {
		t.Fatalf("%s: the subnet's addresses are %v, want %v", step, seen, w.holder)
	}
	w.c.mu.Lock()
	used := copyHolder(w.c.used[w.sub.ID])
	w.c.mu.Unlock()
	if !reflect.DeepEqual(used, w.holder) {
		t.Fatalf("%s: the allocator holds %v, the ENIs %v", step, used, w.holder)
	}
	subs, err := w.c.DescribeSubnets(context.Background(), west, []string{w.sub.ID}, nil)
	if err != nil || subs[0].AvailableIPs != w.usable()-len(w.holder) {
		t.Fatalf("%s: AvailableIpAddressCount %d (%v), want %d", step, subs[0].AvailableIPs, err, w.usable()-len(w.holder))
	}
}

// copyHolder copies m (which may be nil) to compare with DeepEqual.
func copyHolder(m map[netip.Addr]string) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// refused runs an operation that must be refused and checks that it changed nothing.
func (w *ipamWorld) refused(t *testing.T, step string, op func() error, code, msg string) {
	t.Helper()
	before := w.snapshot(t)
	wantAPIError(t, step, op(), code, msg)
	if after := w.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("%s: a refused call changed the ENIs:\n%+v\nwant\n%+v", step, after, before)
	}
}

// expectAddr is what the Cloud must answer when a is requested: "" when a is free.
func (w *ipamWorld) expectAddr(a netip.Addr, also map[netip.Addr]bool) (code, msg string) {
	switch {
	case !w.sub.CIDR.Contains(a):
		return "InvalidParameterValue", "Address does not fall within the subnet's address range"
	case refReserved(w.sub.CIDR, a):
		return "InvalidParameterValue", "Address is in subnet's reserved address range"
	case w.holder[a] != "" || also[a]:
		return "InvalidIPAddress.InUse", "Address " + a.String() + " is in use."
	}
	return "", ""
}

// FuzzSubnetAddresses runs a subnet (/24 to /28) through a sequence of ENI
// operations that ops spells, two bytes an operation, and after each checks the
// allocator: no address outside the subnet, reserved, or handed out twice; an
// address freed is free again; and every refusal is EC2's, changing nothing.
func FuzzSubnetAddresses(f *testing.F) {
	f.Add(uint8(4), []byte{0, 0, 0, 0, 2, 0, 0, 0})                                                 // fill, free, refill a /28
	f.Add(uint8(4), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // exhaust a /28
	f.Add(uint8(0), []byte{1, 0, 1, 8, 1, 9, 1, 11, 1, 12, 1, 255, 1, 7, 1, 12})                    // ask for reserved, edge and taken addresses
	f.Add(uint8(3), []byte{0, 0, 3, 5, 3, 200, 4, 0, 4, 0, 2, 0, 1, 12})                            // secondaries on a /27
	f.Add(uint8(4), []byte{5, 12, 5, 13, 0, 0, 3, 2, 2, 1, 6, 0, 6, 9})
	f.Fuzz(func(t *testing.T, size uint8, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		ctx := context.Background()
		c, v := cloudWithVPC(t)
		cidr := "10.0.8.0/" + strconv.Itoa(24+int(size)%5)
		sub, err := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: cidr, AZ: "us-west-2a"})
		if err != nil {
			t.Fatal(err)
		}
		w := &ipamWorld{c: c, sub: sub, holder: map[netip.Addr]string{}}
		// near names an address from a byte: below 128 counting up from eight
		// before the subnet, else counting down from eight after it, so both
		// edges, the reserved addresses and the neighbours come up often.
		n := 1 << (32 - sub.CIDR.Bits())
		near := func(b byte) netip.Addr {
			if b < 128 {
				return addrAt(sub.CIDR, int(b)-8)
			}
			return addrAt(sub.CIDR, n+7-int(b-128))
		}
		pick := func(b byte) string {
			if len(w.enis) == 0 {
				return ""
			}
			return w.enis[int(b)%len(w.enis)]
		}
		hold := func(e ENI) {
			for _, ip := range e.PrivateIPs {
				w.holder[ip.Addr] = e.ID
			}
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%7, ops[i+1]
			step := fmt.Sprintf("step %d (op %d, %d)", i/2, op, arg)
			switch op {
			case 0: // an ENI, address picked by the Cloud
				in := CreateNetworkInterfaceInput{SubnetID: sub.ID}
				if len(w.holder) >= w.usable() {
					w.refused(t, step, func() error { _, err := c.CreateNetworkInterface(ctx, west, in); return err },
						"InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '"+sub.ID+"' to satisfy the requested number of instances.")
					continue
				}
				e, err := c.CreateNetworkInterface(ctx, west, in)
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if code, msg := w.expectAddr(e.PrimaryIP(), nil); code != "" {
					t.Fatalf("%s: handed out %s, which is refused when asked for: %s", step, e.PrimaryIP(), msg)
				}
				w.enis = append(w.enis, e.ID)
				hold(e)
			case 1, 5: // an ENI asking for an address (5: and the same one again as a secondary)
				a := near(arg)
				in := CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: a.String()}
				code, msg := w.expectAddr(a, nil)
				if op == 5 {
					in.PrivateIPAddresses = []PrivateIPSpec{{Address: a.String()}}
					if code == "" {
						code, msg = w.expectAddr(a, map[netip.Addr]bool{a: true})
					}
				}
				if code != "" {
					w.refused(t, step, func() error { _, err := c.CreateNetworkInterface(ctx, west, in); return err }, code, msg)
					continue
				}
				e, err := c.CreateNetworkInterface(ctx, west, in)
				if err != nil {
					t.Fatalf("%s: asking for %s: %v", step, a, err)
				}
				if e.PrimaryIP() != a || len(e.PrivateIPs) != 1 {
					t.Fatalf("%s: asked for %s, got %+v", step, a, e.PrivateIPs)
				}
				w.enis = append(w.enis, e.ID)
				hold(e)
			case 2: // delete an ENI: its addresses are free again
				id := pick(arg)
				if id == "" {
					continue
				}
				if err := c.DeleteNetworkInterface(ctx, west, id); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				w.enis = slices.DeleteFunc(w.enis, func(x string) bool { return x == id })
				for a, h := range w.holder {
					if h == id {
						delete(w.holder, a)
					}
				}
			case 3: // secondaries picked by the Cloud
				id := pick(arg)
				if id == "" {
					continue
				}
				n := 1 + int(arg)%4
				in := AssignPrivateIPsInput{ENIID: id, SecondaryCount: n}
				if w.usable()-len(w.holder) < n {
					w.refused(t, step, func() error { _, err := c.AssignPrivateIPAddresses(ctx, west, in); return err },
						"InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '"+sub.ID+"' to satisfy the requested number of instances.")
					continue
				}
				added, err := c.AssignPrivateIPAddresses(ctx, west, in)
				if err != nil || len(added) != n {
					t.Fatalf("%s: assigned %v, %v; want %d addresses", step, added, err, n)
				}
				for _, a := range added {
					if code, msg := w.expectAddr(a, nil); code != "" {
						t.Fatalf("%s: assigned %s: %s", step, a, msg)
					}
					w.holder[a] = id
				}
			case 4: // give a secondary back
				id := pick(arg)
				if id == "" {
					continue
				}
				var secondary []netip.Addr
				for a, h := range w.holder {
					if h == id {
						secondary = append(secondary, a)
					}
				}
				es, err := c.DescribeNetworkInterfaces(ctx, west, []string{id}, nil)
				if err != nil {
					t.Fatal(err)
				}
				secondary = slices.DeleteFunc(secondary, func(a netip.Addr) bool { return a == es[0].PrimaryIP() })
				if len(secondary) == 0 {
					primary := es[0].PrimaryIP().String()
					w.refused(t, step, func() error { return c.UnassignPrivateIPAddresses(ctx, west, id, []string{primary}) },
						"InvalidParameterValue", "The primary IP address of an interface cannot be unassigned.")
					continue
				}
				slices.SortFunc(secondary, netip.Addr.Compare)
				a := secondary[int(arg)%len(secondary)]
				if err := c.UnassignPrivateIPAddresses(ctx, west, id, []string{a.String()}); err != nil {
					t.Fatalf("%s: unassign %s: %v", step, a, err)
				}
				delete(w.holder, a)
			case 6: // ask for an address as a secondary of an existing ENI
				id := pick(arg)
				if id == "" {
					continue
				}
				a := near(arg)
				in := AssignPrivateIPsInput{ENIID: id, Addresses: []string{a.String()}}
				if code, msg := w.expectAddr(a, nil); code != "" {
					w.refused(t, step, func() error { _, err := c.AssignPrivateIPAddresses(ctx, west, in); return err }, code, msg)
					continue
				}
				if _, err := c.AssignPrivateIPAddresses(ctx, west, in); err != nil {
					t.Fatalf("%s: assign %s: %v", step, a, err)
				}
				w.holder[a] = id
			}
			w.check(t, step)
		}
	})
}

// FuzzRequestedAddress asks for any string as an ENI's private address: only a
// dotted IPv4 address inside the subnet, not reserved and free, is taken; every
// other string is refused with EC2's error and makes no ENI.
func FuzzRequestedAddress(f *testing.F) {
	for _, s := range []string{
		"10.0.8.10", "10.0.8.0", "10.0.8.3", "10.0.8.4", "10.0.8.255", "10.0.9.1", "10.0.8.10/32",
		"010.0.8.10", "::ffff:10.0.8.10", "10.0.8.10%eth0", "999.1.1.1", "", " 10.0.8.10", "10.0.8.1\x00",
		"fe80::1", "10.0.8", "10.0.8.10.",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	c, v := cloudWithVPC(f)
	sub, err := c.CreateSubnet(ctx, west, CreateSubnetInput{VPCID: v.ID, CIDR: "10.0.8.0/24", AZ: "us-west-2a"})
	if err != nil {
		f.Fatal(err)
	}
	w := &ipamWorld{c: c, sub: sub, holder: map[netip.Addr]string{}}
	taken, err := c.CreateNetworkInterface(ctx, west, CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: "10.0.8.10"})
	if err != nil {
		f.Fatal(err)
	}
	w.holder[taken.PrimaryIP()] = taken.ID
	f.Fuzz(func(t *testing.T, s string) {
		in := CreateNetworkInterfaceInput{SubnetID: sub.ID, PrivateIPAddress: s}
		if s == "" {
			return // no address asked for: the Cloud picks one (FuzzSubnetAddresses)
		}
		// The reference: a dotted quad, read as refCIDR reads one.
		o, _, ok := refCIDR(s + "/32")
		if !ok {
			w.refused(t, fmt.Sprintf("asking for %q", s), func() error { _, err := c.CreateNetworkInterface(ctx, west, in); return err },
				"InvalidParameterValue", "invalid value for parameter address: "+s)
			return
		}
		a := netip.AddrFrom4(o)
		if code, msg := w.expectAddr(a, nil); code != "" {
			w.refused(t, fmt.Sprintf("asking for %q", s), func() error { _, err := c.CreateNetworkInterface(ctx, west, in); return err }, code, msg)
			return
		}
		e, err := c.CreateNetworkInterface(ctx, west, in)
		if err != nil || e.PrimaryIP() != a {
			t.Fatalf("asking for %q: %+v, %v", s, e.PrivateIPs, err)
		}
		if err := c.DeleteNetworkInterface(ctx, west, e.ID); err != nil {
			t.Fatal(err)
		}
		w.check(t, "after asking for "+s)
	})
}
