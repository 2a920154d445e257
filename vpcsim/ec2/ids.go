package ec2

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// newID returns an AWS-style identifier: prefix, a dash and 17 hex digits.
func newID(prefix string) string {
	b := make([]byte, 9)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)[:17]
}

// newMAC returns a locally administered unicast MAC with AWS's 0a: first octet.
func newMAC() string {
	b := make([]byte, 5)
	rand.Read(b)
	return fmt.Sprintf("0a:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4])
}

// kindOf names the resource type of an ID as EC2's messages and DescribeTags do.
func kindOf(id string) string {
	switch {
	case strings.HasPrefix(id, "vpc-"):
		return "vpc"
	case strings.HasPrefix(id, "subnet-"):
		return "subnet"
	case strings.HasPrefix(id, "sg-"):
		return "security-group"
	case strings.HasPrefix(id, "sgr-"):
		return "security-group-rule"
	case strings.HasPrefix(id, "eni-"):
		return "network-interface"
	case strings.HasPrefix(id, "i-"):
		return "instance"
	case strings.HasPrefix(id, "dopt-"):
		return "dhcp-options"
	case strings.HasPrefix(id, "fl-"):
		return "vpc-flow-log"
	case strings.HasPrefix(id, "rtb-"):
		return "route-table"
	case strings.HasPrefix(id, "key-"):
		return "key-pair"
	case strings.HasPrefix(id, "vol-"):
		return "volume"
	case strings.HasPrefix(id, "igw-"):
		return "internet-gateway"
	case strings.HasPrefix(id, "eigw-"):
		return "egress-only-internet-gateway"
	case strings.HasPrefix(id, "eipalloc-"):
		return "elastic-ip"
	case strings.HasPrefix(id, "nat-"):
		return "natgateway"
	case strings.HasPrefix(id, "ami-"):
		return "image"
	case strings.HasPrefix(id, "acl-"):
		return "network-acl"
	case strings.HasPrefix(id, "pcx-"):
		return "vpc-peering-connection"
	case strings.HasPrefix(id, "lt-"):
		return "launch-template"
	case strings.HasPrefix(id, "pl-"):
		return "prefix-list"
	}
	return "resource"
}

// checkID refuses an ID that does not have the resource's form, as EC2 does
// ("Invalid id: …") before it looks anything up.
func checkID(code, prefix, id string) error {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || rest == "" || len(rest) > 17 {
		return Errorf(code, "Invalid id: \"%s\" (expecting \"%s-...\")", id, prefix)
	}
	if _, err := hex.DecodeString(padEven(rest)); err != nil {
		return Errorf(code, "Invalid id: \"%s\" (expecting \"%s-...\")", id, prefix)
	}
	return nil
}

func padEven(s string) string {
	if len(s)%2 == 1 {
		return "0" + s
	}
	return s
}
