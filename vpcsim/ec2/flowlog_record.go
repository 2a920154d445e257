package ec2

import (
	"cmp"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// Capture windows: records are written every window, by default every 5 s,
// and never later than the shortest MaxAggregationInterval (60 s) allows.
const (
	defaultFlowLogInterval = 5 * time.Second
	maxFlowLogInterval     = 60 * time.Second
)

// maxPendingFlows bounds the flows one capture window holds. The packets of
// further flows are counted per ENI and written as one SKIPDATA record, as AWS
// writes when a window exceeds its capacity.
const maxPendingFlows = 1 << 16

// WithDataDir sets the data directory that flow log records are written
// below, as their destinations would hold them: those of cloud-watch-logs and
// kinesis-data-firehose flow logs in <dir>/flowlogs, those of s3 flow logs in
// <dir>/s3 (the machine's S3, where ECS reads environment files too); `file`
// flow logs may name files in <dir>/flowlogs/file. Without it records of
// the first three are dropped, once logged per flow log. Nothing is written
// through a symbolic link (see package hostpath).
func WithDataDir(dir string) Option {
	return func(c *Cloud) {
		if abs, err := filepath.Abs(dir); err == nil {
			c.flowLogs.rec.data, _ = hostpath.NewRoot(abs)
		}
	}
}

// WithHostPaths names the directories the operator opened to the API (serve
// --host-path): `file` flow logs may name files below them too.
func WithHostPaths(roots []hostpath.Root) Option {
	return func(c *Cloud) { c.flowLogs.rec.opened = roots }
}

// WithFlowLogInterval sets the capture window: how often records are written
// (default 5 s). A window above 60 s is cut to 60 s, the shortest
// MaxAggregationInterval, so that no flow log's records wait longer than it says.
func WithFlowLogInterval(d time.Duration) Option {
	return func(c *Cloud) { c.flowLogs.rec.interval = d }
}

// flowRecorder aggregates packets into flows for the current capture window.
type flowRecorder struct {
	data     hostpath.Root   // the data directory; zero: none
	opened   []hostpath.Root // directories opened with --host-path
	interval time.Duration

	// flushMu makes flushes one at a time, so files get their records in order.
	flushMu sync.Mutex

	// mu guards the capture window and the delivery state below.
	mu      sync.Mutex
	flows   map[flowKey]*flowAgg
	skipped map[string]*flowAgg // ENI → its packets the window had no room for
	running bool                // a flushLoop goroutine is on
	failed  map[string]string   // flow log → why its last write failed
	warned  map[string]bool     // flow logs whose records were dropped for want of a dir
}

// flowKey is one flow of one ENI: the records' 5-tuple and action.
type flowKey struct {
	ENI              string
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Accept           bool
}

// flowAgg is what one capture window saw of a flow.
type flowAgg struct {
	Packets, Bytes int64
	Start, End     time.Time // of the first and the last packet
}

func (a *flowAgg) add(t time.Time, bytes int) {
	if a.Packets == 0 || t.Before(a.Start) {
		a.Start = t
	}
	if a.Packets == 0 || t.After(a.End) {
		a.End = t
	}
	a.Packets++
	a.Bytes += int64(bytes)
}

// window is the capture window, within its bounds.
func (r *flowRecorder) window() time.Duration {
	if r.interval <= 0 {
		return defaultFlowLogInterval
	}
	return min(r.interval, maxFlowLogInterval)
}

// RecordFlow counts one packet of a flow-logged ENI into the current capture
// window. It is safe to call concurrently and cheap (one lock, one map
// update), and it never waits for the model, so the dataplane may call it at
// any time, even from within SetFirewall. Every window the records are
// written to the flow logs that capture the ENI then, each keeping the
// actions its TrafficType asks for; packets of an ENI that no flow log
// captures any more are dropped.
func (c *Cloud) RecordFlow(p netmodel.FlowPacket) {
	if p.Time.IsZero() {
		p.Time = c.now()
	}
	k := flowKey{ENI: p.ENI, Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, Accept: p.Accept}
	r := &c.flowLogs.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.flows[k]
	switch {
	case a != nil:
	case len(r.flows) < maxPendingFlows:
		if r.flows == nil {
			r.flows = map[flowKey]*flowAgg{}
		}
		a = &flowAgg{}
		r.flows[k] = a
	default:
		if r.skipped == nil {
			r.skipped = map[string]*flowAgg{}
		}
		if a = r.skipped[p.ENI]; a == nil {
			a = &flowAgg{}
			r.skipped[p.ENI] = a
		}
	}
	a.add(p.Time, p.Bytes)
	if !r.running {
		r.running = true
		go c.flushLoop()
	}
}

// flushLoop writes the records every capture window while packets come, and
// ends after a window without any: an idle Cloud runs no goroutine for flow
// logs, and RecordFlow starts the loop again.
func (c *Cloud) flushLoop() {
	r := &c.flowLogs.rec
	tick := time.NewTicker(r.window())
	defer tick.Stop()
	for range tick.C {
		c.FlushFlowLogs()
		r.mu.Lock()
		idle := len(r.flows) == 0 && len(r.skipped) == 0
		if idle {
			r.running = false
		}
		r.mu.Unlock()
		if idle {
			return
		}
	}
}

// FlushFlowLogs ends the current capture window now: it writes every record
// the window holds and returns when they are written. For tests, and at
// shutdown so that no captured traffic is lost. It reads the model, so a
// Dataplane method must not call it (RecordFlow it may).
func (c *Cloud) FlushFlowLogs() {
	r := &c.flowLogs.rec
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	flows, skipped := r.flows, r.skipped
	r.flows, r.skipped = nil, nil
	r.mu.Unlock()
	if len(flows) == 0 && len(skipped) == 0 {
		return
	}
	byENI := map[string][]flowKey{}
	for k := range flows {
		byENI[k.ENI] = append(byENI[k.ENI], k)
	}
	for eni := range skipped {
		if _, ok := byENI[eni]; !ok {
			byENI[eni] = nil
		}
	}
	enis := c.flowENIs(byENI)
	var lines []flowLine
	for _, e := range enis {
		keys := byENI[e.ID]
		slices.SortFunc(keys, func(a, b flowKey) int { return compareFlows(a, b, flows) })
		for _, k := range keys {
			lines = append(lines, flowLine{eni: e, key: k, agg: *flows[k], status: "OK"})
		}
		if s := skipped[e.ID]; s != nil {
			lines = append(lines, flowLine{eni: e, key: flowKey{ENI: e.ID}, agg: *s, status: "SKIPDATA"})
		}
	}
	c.writeFlowLines(lines)
}

// compareFlows orders a window's flows as their records are written: by the
// time of their first packet, then by their 5-tuple and action.
func compareFlows(a, b flowKey, flows map[flowKey]*flowAgg) int {
	return cmp.Or(
		flows[a].Start.Compare(flows[b].Start),
		a.Src.Compare(b.Src), a.Dst.Compare(b.Dst),
		cmp.Compare(a.SrcPort, b.SrcPort), cmp.Compare(a.DstPort, b.DstPort),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(action(a.Accept), action(b.Accept)),
	)
}

// flowENI is what records say of an ENI and where they go: read from the model
// when they are written, so that a flush holds the model's lock only briefly.
type flowENI struct {
	ID, OwnerID, VPCID, SubnetID, InstanceID, AZID string
	Addrs                                          []netip.Addr // IPv4, the primary first, then IPv6
	VPCCIDRs                                       []netip.Prefix
	Logs                                           []FlowLog
}

// primary is the ENI's primary IPv4 address; invalid for an ENI of an
// IPv6-only subnet, which has none.
func (e *flowENI) primary() netip.Addr {
	if len(e.Addrs) == 0 || !e.Addrs[0].Is4() {
		return netip.Addr{}
	}
	return e.Addrs[0]
}

// flowENIs reads the named ENIs and their flow logs from the model, sorted by
// ID; ENIs that are gone are left out.
func (c *Cloud) flowENIs(ids map[string][]flowKey) []*flowENI {
	c.mu.Lock()
	defer c.unlock()
	var out []*flowENI
	for id := range ids {
		e := c.eni(id)
		if e == nil {
			continue
		}
		fe := &flowENI{ID: e.ID, OwnerID: e.OwnerID, VPCID: e.VPCID, SubnetID: e.SubnetID}
		if e.Attachment != nil {
			fe.InstanceID = e.Attachment.InstanceID
		}
		if sub := c.subnet(e.SubnetID); sub != nil {
			fe.AZID = sub.AZID
		}
		if v := c.vpc(e.VPCID); v != nil {
			fe.VPCCIDRs = append(v.CIDRs(), v.IPv6CIDRs()...)
		}
		fe.Addrs = e.addrs()
		for _, f := range c.flowLogsOfLocked(e) {
			fe.Logs = append(fe.Logs, *f)
		}
		out = append(out, fe)
	}
	slices.SortFunc(out, func(a, b *flowENI) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// deliveryErrors copies why each flow log's last write failed.
func (r *flowRecorder) deliveryErrors() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.failed))
	for id, msg := range r.failed {
		out[id] = msg
	}
	return out
}
