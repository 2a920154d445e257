package hostnet

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestExecIn(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t)
	ctx := context.Background()
	host := newID("i")
	must(t, k.EnsureHost(ctx, host))
	id, err := statNetns(k.NetnsPath(host))
	must(t, err)

	out, err := commandIn(ctx, k.NetnsPath(host), "readlink", "/proc/self/ns/net").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("net:[%d]", id.ino); got != want {
		t.Errorf("the program ran in %s, want %s", got, want)
	}

	// Failures come back before anything changed.
	if err := ExecIn(k.NetnsPath(host), []string{"vpcsim-no-such-program"}); err == nil {
		t.Error("ExecIn of a missing program succeeded")
	}
	if err := ExecIn(k.NetnsPath("i-missing"), []string{"true"}); err == nil {
		t.Error("ExecIn into a missing namespace succeeded")
	}
}
