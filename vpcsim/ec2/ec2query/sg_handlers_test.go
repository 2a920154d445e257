package ec2query

import (
	"encoding/xml"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"reflect"
	"strings"
	"testing"
)

func TestPermissionsGrouping(t *testing.T) {
	rules := []ec2sim.Rule{
		{ID: "sgr-1", Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRv4: "10.0.0.0/8"},
		{ID: "sgr-2", Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDRv4: "0.0.0.0/0"},
		{ID: "sgr-3", Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRv6: "::/0", Description: "web"},
		{ID: "sgr-4", Protocol: "tcp", FromPort: 22, ToPort: 22, PeerGroupID: "sg-1", PeerOwnerID: "123"},
		{ID: "sgr-5", Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRv4: "192.168.0.0/16"},
		{ID: "sgr-6", Protocol: "icmp", FromPort: -1, ToPort: -1, PrefixList: "pl-1"},
		{ID: "sgr-7", Protocol: "-1", FromPort: -1, ToPort: -1, PeerGroupID: "sg-2", PeerOwnerID: "123"},
	}
	got := permissions(rules, false)
	p := func(v int32) *int32 { return &v }
	want := set[ipPermissionXML]{
		{IPProtocol: "tcp", FromPort: p(22), ToPort: p(22),
			IPRanges:         set[ipRangeXML]{{CidrIP: "10.0.0.0/8"}, {CidrIP: "192.168.0.0/16"}},
			UserIDGroupPairs: set[userIDGroupPairXML]{{UserID: "123", GroupID: "sg-1"}},
			IPv6Ranges:       set[ipv6RangeXML]{}, PrefixListIDs: set[prefixListIDXML]{}},
		{IPProtocol: "tcp", FromPort: p(80), ToPort: p(80),
			IPv6Ranges: set[ipv6RangeXML]{{CidrIPv6: "::/0", Description: "web"}},
			IPRanges:   set[ipRangeXML]{}, UserIDGroupPairs: set[userIDGroupPairXML]{}, PrefixListIDs: set[prefixListIDXML]{}},
		{IPProtocol: "icmp", FromPort: p(-1), ToPort: p(-1),
			PrefixListIDs: set[prefixListIDXML]{{PrefixListID: "pl-1"}},
			IPRanges:      set[ipRangeXML]{}, UserIDGroupPairs: set[userIDGroupPairXML]{}, IPv6Ranges: set[ipv6RangeXML]{}},
		{IPProtocol: "-1",
			UserIDGroupPairs: set[userIDGroupPairXML]{{UserID: "123", GroupID: "sg-2"}},
			IPRanges:         set[ipRangeXML]{}, IPv6Ranges: set[ipv6RangeXML]{}, PrefixListIDs: set[prefixListIDXML]{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ingress permissions\n%+v\nwant\n%+v", got, want)
	}
	egress := permissions(rules, true)
	if len(egress) != 1 || egress[0].FromPort != nil || len(egress[0].IPRanges) != 1 {
		t.Errorf("egress permissions %+v", egress)
	}
	// All-traffic permissions render without ports.
	type wrap struct {
		P set[ipPermissionXML] `xml:"ipPermissions"`
	}
	b, err := xml.Marshal(wrap{egress})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<ipPermissions><item><ipProtocol>-1</ipProtocol><groups></groups><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges></ipv6Ranges><prefixListIds></prefixListIds></item></ipPermissions>`; !strings.Contains(string(b), want) {
		t.Errorf("rendered %s", b)
	}
}
