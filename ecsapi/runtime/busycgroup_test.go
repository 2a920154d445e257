package runtime

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// A restart's cleanup of a task's earlier attempt may leave its cgroup to the
// task's stop only when busy cgroups are all that failed.
func TestOnlyBusyCgroups(t *testing.T) {
	busy := fmt.Errorf("remove the cgroup /sys/fs/cgroup/x: %w", unix.EBUSY)
	for _, c := range []struct {
		err  error
		want bool
	}{
		{busy, true},
		{errors.Join(busy, fmt.Errorf("remove the cgroup /sys/fs/cgroup/y: %w", unix.EBUSY)), true},
		{errors.Join(errors.Join(busy), nil), true},
		{errors.Join(busy, errors.New("delete container vs-1-web: not found")), false},
		{errors.New("stop container vs-1-web: deadline exceeded"), false},
	} {
		if got := onlyBusyCgroups(c.err); got != c.want {
			t.Errorf("onlyBusyCgroups(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
