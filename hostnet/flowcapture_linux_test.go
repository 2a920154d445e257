package hostnet

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// A process forked while a capture runs keeps a copy of its socket until it
// execs; a capture started again in that moment must still bind the group.
func TestFlowCaptureRestartsWhileACopyOfItsSocketLives(t *testing.T) {
	lab := newSGLab(t)
	ctx := context.Background()
	logged := lab.fw(map[string]netmodel.FirewallENI{"b": {FlowLogs: []netmodel.FlowLogSink{{ID: "fl-1", TrafficType: "ALL"}}}}, nil)
	must(t, lab.k.SetFirewall(ctx, logged))

	// The copy a forked child would hold.
	ns, err := lab.k.nsName(lab.vpc.ID)
	must(t, err)
	lab.k.mu.Lock()
	c := lab.k.captures[ns]
	lab.k.mu.Unlock()
	if c == nil {
		t.Fatal("a flow-logged ENI, yet no capture runs")
	}
	raw, err := c.conn.SyscallConn()
	must(t, err)
	copyFD := -1
	must(t, raw.Control(func(fd uintptr) { copyFD, err = unix.Dup(int(fd)) }))
	must(t, err)
	defer unix.Close(copyFD)

	must(t, lab.k.SetFirewall(ctx, lab.fw(nil, nil)))
	if lab.captures() {
		t.Fatal("no ENI is flow-logged, yet the capture still runs")
	}
	must(t, lab.k.SetFirewall(ctx, logged))
	if !lab.captures() {
		t.Fatal("flow logs are back, yet no capture runs")
	}
}
