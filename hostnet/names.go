package hostnet

import (
	"crypto/sha256"
	"fmt"
	"net"
	"strings"
)

const (
	// DefaultPrefix starts the name of every namespace vpcsim makes.
	DefaultPrefix = "vs-"

	// Link names inside a VPC namespace: prefix + 11 hex digits of the object's ID,
	// 15 characters, the kernel's limit (IFNAMSIZ-1).
	bridgePrefix    = "vs-b" // a subnet's bridge
	bridgeEndPrefix = "vs-e" // an ENI's bridge-side veth end
	parkedPrefix    = "vs-p" // an ENI's own end while it is attached to nothing
	idHexLen        = 11

	netnsDir = "/run/netns"
)

// idHex returns the first 11 hex digits of an ID of the given kind ("subnet",
// "eni"). The IDs vpcsim makes carry 17, so 11 leave 44 random bits: link names
// cannot collide in practice.
func idHex(kind, id string) (string, error) {
	rest, ok := strings.CutPrefix(id, kind+"-")
	if !ok || len(rest) < idHexLen {
		return "", fmt.Errorf("%q is not a %s ID with at least %d hex digits", id, kind, idHexLen)
	}
	h := rest[:idHexLen]
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("%q is not a %s ID: %q is not lower-case hex", id, kind, h)
		}
	}
	return h, nil
}

// bridgeName is the name of a subnet's bridge in its VPC namespace.
func bridgeName(subnetID string) (string, error) {
	h, err := idHex("subnet", subnetID)
	if err != nil {
		return "", err
	}
	return bridgePrefix + h, nil
}

// eniNames are the names an ENI's veth pair can have.
type eniNames struct {
	bridgeEnd string // vs-e…, always in the VPC namespace
	parked    string // vs-p…, the ENI's own end while parked (and while it moves)
}

func namesOfENI(eniID string) (eniNames, error) {
	h, err := idHex("eni", eniID)
	if err != nil {
		return eniNames{}, err
	}
	return eniNames{bridgeEnd: bridgeEndPrefix + h, parked: parkedPrefix + h}, nil
}

// maxDevice bounds the device index: eth<N> must fit the kernel's 15 characters,
// and EC2 itself stops far below this.
const maxDevice = 999

func deviceName(device int) (string, error) {
	if device < 0 || device > maxDevice {
		return "", fmt.Errorf("device index %d out of range 0..%d", device, maxDevice)
	}
	return fmt.Sprintf("eth%d", device), nil
}

// checkNameComponent refuses what cannot be (part of) a file name under /run/netns.
func checkNameComponent(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if len(s) > 200 {
		return fmt.Errorf("%s %q is too long", what, s)
	}
	if s[0] == '.' {
		return fmt.Errorf("%s %q starts with a dot", what, s)
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%s %q: only letters, digits, '-', '_' and '.' are allowed", what, s)
		}
	}
	return nil
}

// checkPrefix refuses a namespace prefix that would let vpcsim name something
// Down would not find, or that could not be a file name.
func checkPrefix(p string) error {
	if !strings.HasPrefix(p, DefaultPrefix) {
		return fmt.Errorf("namespace prefix %q must start with %q", p, DefaultPrefix)
	}
	return checkNameComponent("namespace prefix", p)
}

// bridgeMAC is a fixed MAC for a subnet's bridge. A Linux bridge whose address
// was not set explicitly takes the lowest MAC among its ports, so the router's
// MAC (.1) would change as ENIs come and go and hosts would keep a stale ARP entry.
// The first octet 06 is locally administered unicast and differs from the 0a
// that vpcsim gives ENIs.
func bridgeMAC(subnetID string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("vpcsim bridge " + subnetID))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = 0x06
	return mac
}

// Names inside an EC2 instance's namespace for ECS tasks in bridge network mode.
const (
	dockerBridgeName = "vs-dbr0" // the instance's docker0, holding 172.17.0.1/16
	taskVethPrefix   = "vs-v"    // a bridge-mode task's veth end, a port of vs-dbr0
)

// taskVethName is the name of a bridge-mode task's veth end in its instance's
// namespace: vs-v + the first 11 hex digits of the task ID ("task-<32 hex>").
func taskVethName(task string) (string, error) {
	h, err := idHex("task", task)
	if err != nil {
		return "", err
	}
	return taskVethPrefix + h, nil
}
