//go:build faultinject

package fault

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Enabled reports whether this binary can inject faults.
const Enabled = true

var (
	once  sync.Once
	name  string
	after int // kill at this hit (1-based)
	mu    sync.Mutex
	hits  int
)

func parse() {
	spec := os.Getenv("VPCSIM_FAULT")
	name, after = spec, 1
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		n, err := strconv.Atoi(spec[i+1:])
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "fault: VPCSIM_FAULT=%q: want NAME or NAME@N with N ≥ 1\n", spec)
			os.Exit(2)
		}
		name, after = spec[:i], n
	}
}

// Point kills the process with SIGKILL when VPCSIM_FAULT names it and this is
// the chosen hit. Nothing runs after it: no deferred call, no flush, exactly
// as a crash or `kill -9`.
func Point(p string) {
	once.Do(parse)
	if p != name {
		return
	}
	mu.Lock()
	hits++
	kill := hits == after
	mu.Unlock()
	if kill {
		fmt.Fprintf(os.Stderr, "fault: SIGKILL at %s (hit %d)\n", p, after)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
