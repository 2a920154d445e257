package hostnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Flow logs come from the firewall's own verdicts: the rules of a flow-logged
// ENI copy each packet's headers to NFLOG group flowLogGroup with the prefix
// "A <eni-id>" (accepted) or "R <eni-id>" (rejected), and a capture per VPC
// namespace reads them from a netfilter netlink socket and hands them to the
// sink as netmodel.FlowPackets.

// WithFlowSink sets where captured flow-log packets go; without one nothing is
// captured.
func WithFlowSink(sink func(netmodel.FlowPacket)) Option {
	return func(k *Kernel) error {
		k.flowSink = sink
		return nil
	}
}

// captureFlowsLocked starts the capture of a VPC namespace when want and it
// has none, and reports whether it did (so that the caller can stop it again
// if what it goes with fails). Stopping is the caller's (stopCaptureLocked).
func (k *Kernel) captureFlowsLocked(ns string, want bool) (bool, error) {
	if !want || k.captures[ns] != nil || k.flowSink == nil {
		return false, nil
	}
	c, err := startFlowCapture(filepath.Join(netnsDir, ns), k.flowSink, k.log.Warn)
	if err != nil {
		return false, fmt.Errorf("flow logs in %s: %w", ns, err)
	}
	k.captures[ns] = c
	return true, nil
}

// stopCaptureLocked ends the capture of a namespace, if it has one.
func (k *Kernel) stopCaptureLocked(ns string) {
	if c := k.captures[ns]; c != nil {
		c.close()
		delete(k.captures, ns)
	}
}

// flowCapture reads one namespace's NFLOG group.
type flowCapture struct {
	conn *netlink.Conn
	done chan struct{}
}

// nfnetlink_log message types and attributes (linux/netfilter/nfnetlink_log.h).
const (
	nfnlSubsysULOG     = 4
	nfulnlMsgPacket    = 0
	nfulnlMsgConfig    = 1
	nfulaCfgCmd        = 1
	nfulaCfgMode       = 2
	nfulaCfgTimeout    = 4
	nfulnlCfgCmdBind   = 1
	nfulnlCfgCmdUnbind = 2
	nfulnlCopyPacket   = 2
	nfulaTimestamp     = 3
	nfulaPayload       = 9
	nfulaPrefix        = 10
	nfnetlinkV0        = 0
	flowCaptureBuffer  = 4 << 20
	flowCaptureFlush   = 10 // in hundredths of a second
)

func startFlowCapture(nsPath string, sink func(netmodel.FlowPacket), warn func(string, ...any)) (*flowCapture, error) {
	fd, err := openNetns(nsPath)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: fd})
	if err != nil {
		return nil, fmt.Errorf("netfilter netlink: %w", err)
	}
	// A burst must not be lost to a small socket buffer; losses are reported.
	_ = conn.SetReadBuffer(flowCaptureBuffer)
	if err := nflogConfig(conn, []byte{nfulnlCfgCmdBind}, nfulaCfgCmd); err != nil {
		conn.Close()
		return nil, fmt.Errorf("bind NFLOG group %d: %w", flowLogGroup, err)
	}
	mode := binary.BigEndian.AppendUint32(nil, flowLogSnaplen)
	mode = append(mode, nfulnlCopyPacket, 0)
	if err := nflogConfig(conn, mode, nfulaCfgMode); err != nil {
		conn.Close()
		return nil, fmt.Errorf("NFLOG copy mode: %w", err)
	}
	// The kernel batches log messages for up to a second by default; a tenth
	// of that keeps flow logs close to the traffic.
	if err := nflogConfig(conn, binary.BigEndian.AppendUint32(nil, flowCaptureFlush), nfulaCfgTimeout); err != nil {
		conn.Close()
		return nil, fmt.Errorf("NFLOG flush timeout: %w", err)
	}
	c := &flowCapture{conn: conn, done: make(chan struct{})}
	go c.read(sink, warn)
	return c, nil
}

// nflogConfig sends one configuration attribute for the flow-log group.
func nflogConfig(conn *netlink.Conn, value []byte, attr uint16) error {
	_, err := conn.Execute(nflogConfigMessage(value, attr, netlink.Acknowledge))
	return err
}

// nflogConfigMessage is a configuration request for the flow-log group.
func nflogConfigMessage(value []byte, attr uint16, flags netlink.HeaderFlags) netlink.Message {
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attr, value)
	attrs, _ := ae.Encode() // one attribute of a few bytes: it cannot fail
	// nfgenmsg: family AF_UNSPEC, version 0, the group as resource ID.
	data := append([]byte{unix.AF_UNSPEC, nfnetlinkV0}, binary.BigEndian.AppendUint16(nil, flowLogGroup)...)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nfnlSubsysULOG<<8 | nfulnlMsgConfig), Flags: netlink.Request | flags},
		Data:   append(data, attrs...),
	}
}

func (c *flowCapture) read(sink func(netmodel.FlowPacket), warn func(string, ...any)) {
	defer close(c.done)
	for {
		msgs, err := c.conn.Receive()
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				warn("flow logs: the kernel dropped captured packets (socket buffer full)")
				continue
			}
			return // closed
		}
		for _, m := range msgs {
			if m.Header.Type != netlink.HeaderType(nfnlSubsysULOG<<8|nfulnlMsgPacket) || len(m.Data) < 4 {
				continue
			}
			if p, ok := parseFlowPacket(m.Data[4:]); ok {
				sink(p)
			}
		}
	}
}

// close unbinds the group before it closes the socket: the kernel frees the
// group when the socket is released, and a process this one forks holds a copy
// of the socket until it execs, so after a bare close the next capture of the
// namespace could find the group still bound and be refused (EPERM). The
// unbind is processed within the send, so the group is free when it returns.
func (c *flowCapture) close() {
	_, _ = c.conn.Send(nflogConfigMessage([]byte{nfulnlCfgCmdUnbind}, nfulaCfgCmd, 0))
	c.conn.Close()
	<-c.done
}

// parseFlowPacket reads an NFLOG packet message's attributes: the prefix names
// the verdict and the ENI, the payload is the IPv4 or IPv6 packet from its
// header on.
func parseFlowPacket(b []byte) (netmodel.FlowPacket, bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return netmodel.FlowPacket{}, false
	}
	var prefix string
	var payload []byte
	var ts time.Time
	for ad.Next() {
		switch ad.Type() {
		case nfulaPrefix:
			prefix = strings.TrimRight(ad.String(), "\x00")
		case nfulaPayload:
			payload = ad.Bytes()
		case nfulaTimestamp:
			if v := ad.Bytes(); len(v) == 16 {
				ts = time.Unix(int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))*1000)
			}
		}
	}
	action, eni, ok := strings.Cut(prefix, " ")
	if !ok || (action != "A" && action != "R") {
		return netmodel.FlowPacket{}, false
	}
	p, ok := parseIP(payload)
	if !ok {
		return netmodel.FlowPacket{}, false
	}
	p.ENI, p.Accept = eni, action == "A"
	if ts.IsZero() {
		ts = time.Now() // the forward path rarely stamps packets
	}
	p.Time = ts
	return p, true
}

// parseIP reads a packet of either family.
func parseIP(b []byte) (netmodel.FlowPacket, bool) {
	if len(b) > 0 && b[0]>>4 == 6 {
		return parseIPv6(b)
	}
	return parseIPv4(b)
}

// parseIPv4 reads addresses, protocol, ports and length from an IPv4 header.
func parseIPv4(b []byte) (netmodel.FlowPacket, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return netmodel.FlowPacket{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	p := netmodel.FlowPacket{
		Src:   netip.AddrFrom4([4]byte(b[12:16])),
		Dst:   netip.AddrFrom4([4]byte(b[16:20])),
		Proto: b[9],
		Bytes: int(binary.BigEndian.Uint16(b[2:4])),
	}
	fragOffset := binary.BigEndian.Uint16(b[6:8]) & 0x1fff
	if (p.Proto == unix.IPPROTO_TCP || p.Proto == unix.IPPROTO_UDP) && fragOffset == 0 && len(b) >= ihl+4 {
		p.SrcPort = binary.BigEndian.Uint16(b[ihl:])
		p.DstPort = binary.BigEndian.Uint16(b[ihl+2:])
	}
	return p, true
}

// IPv6 extension headers that parseIPv6 steps over to the protocol.
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6DestOpts = 60
)

// parseIPv6 reads addresses, protocol, ports and length from an IPv6 header.
// The protocol is the transport's: hop-by-hop, routing, destination options
// and fragment headers are stepped over while what was captured holds them
// (the snaplen leaves 20 bytes for them and the ports); any other next header
// (AH, ESP, no next header), or one cut short, is recorded as the protocol,
// without ports. A fragment but the first has no ports either.
func parseIPv6(b []byte) (netmodel.FlowPacket, bool) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return netmodel.FlowPacket{}, false
	}
	p := netmodel.FlowPacket{
		Src:   netip.AddrFrom16([16]byte(b[8:24])),
		Dst:   netip.AddrFrom16([16]byte(b[24:40])),
		Proto: b[6],
		Bytes: 40 + int(binary.BigEndian.Uint16(b[4:6])),
	}
	off, first := 40, true
	for ext := true; ext && len(b) >= off+8; {
		switch p.Proto {
		case ip6HopByHop, ip6Routing, ip6DestOpts:
			p.Proto, off = b[off], off+8*(int(b[off+1])+1)
		case ip6Fragment:
			first = first && binary.BigEndian.Uint16(b[off+2:off+4])&0xfff8 == 0
			p.Proto, off = b[off], off+8
		default:
			ext = false
		}
	}
	if (p.Proto == unix.IPPROTO_TCP || p.Proto == unix.IPPROTO_UDP) && first && len(b) >= off+4 {
		p.SrcPort = binary.BigEndian.Uint16(b[off:])
		p.DstPort = binary.BigEndian.Uint16(b[off+2:])
	}
	return p, true
}
