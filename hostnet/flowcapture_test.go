package hostnet

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// ip6Packet is an IPv6 packet from src to dst with the given next header,
// headers after the fixed one (extension headers, then the transport's
// start) and a payload length of payloadLen.
func ip6Packet(src, dst string, next byte, payloadLen uint16, rest ...byte) []byte {
	b := make([]byte, 40, 40+len(rest))
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:], payloadLen)
	b[6], b[7] = next, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, rest...)
}

func TestParseIPv6FlowPacket(t *testing.T) {
	src, dst := netip.MustParseAddr("fd00::10"), netip.MustParseAddr("fd00::11")
	ports := []byte{0x9c, 0x40, 0, 80}         // 40000 → 80
	hopByHop := []byte{6, 0, 5, 2, 0, 0, 1, 0} // next TCP, 8 bytes: router alert
	fragment := func(next byte, offset uint16) []byte {
		b := []byte{next, 0, 0, 0, 0, 0, 0, 1}
		binary.BigEndian.PutUint16(b[2:], offset<<3)
		return b
	}
	destOpts16 := append([]byte{17, 1}, make([]byte, 14)...) // next UDP, 16 bytes
	for _, c := range []struct {
		name string
		pkt  []byte
		want netmodel.FlowPacket
	}{
		{"tcp", ip6Packet("fd00::10", "fd00::11", 6, 20, ports...),
			netmodel.FlowPacket{Proto: 6, SrcPort: 40000, DstPort: 80, Bytes: 60}},
		{"hop-by-hop then tcp", ip6Packet("fd00::10", "fd00::11", 0, 28, append(hopByHop, ports...)...),
			netmodel.FlowPacket{Proto: 6, SrcPort: 40000, DstPort: 80, Bytes: 68}},
		{"destination options then udp", ip6Packet("fd00::10", "fd00::11", 60, 24, append(destOpts16, ports...)...),
			netmodel.FlowPacket{Proto: 17, SrcPort: 40000, DstPort: 80, Bytes: 64}},
		{"first fragment", ip6Packet("fd00::10", "fd00::11", 44, 28, append(fragment(6, 0), ports...)...),
			netmodel.FlowPacket{Proto: 6, SrcPort: 40000, DstPort: 80, Bytes: 68}},
		{"later fragment", ip6Packet("fd00::10", "fd00::11", 44, 28, append(fragment(6, 185), ports...)...),
			netmodel.FlowPacket{Proto: 6, Bytes: 68}},
		{"icmpv6", ip6Packet("fd00::10", "fd00::11", 58, 16, 128, 0, 0, 0),
			netmodel.FlowPacket{Proto: 58, Bytes: 56}},
		{"extension header cut off by the snaplen", ip6Packet("fd00::10", "fd00::11", 0, 100, 6, 0),
			netmodel.FlowPacket{Proto: 0, Bytes: 140}},
		{"ports cut off", ip6Packet("fd00::10", "fd00::11", 0, 100, append(hopByHop, 0x9c)...),
			netmodel.FlowPacket{Proto: 6, Bytes: 140}},
		{"esp", ip6Packet("fd00::10", "fd00::11", 50, 20, ports...),
			netmodel.FlowPacket{Proto: 50, Bytes: 60}},
	} {
		got, ok := parseIP(c.pkt)
		c.want.Src, c.want.Dst = src, dst
		if !ok || got != c.want {
			t.Errorf("%s: got %+v (ok %v), want %+v", c.name, got, ok, c.want)
		}
	}
	if _, ok := parseIP(ip6Packet("fd00::10", "fd00::11", 6, 0)[:39]); ok {
		t.Error("a cut IPv6 header parsed")
	}
}
