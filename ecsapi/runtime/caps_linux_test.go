package runtime

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/containerd/pkg/cap"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// testCapabilities: a container's process holds exactly Docker's default
// capabilities (read from the kernel: CapEff in /proc/self/status), plus what
// linuxParameters.capabilities adds, and no ambient or inheritable ones.
func testCapabilities(t *testing.T, ctx context.Context, r *Runtime) {
	status := func(lp *ecstypes.LinuxParameters, user string) map[string][]string {
		t.Helper()
		c := container("caps", "nginx", "cat", "/proc/self/status")
		c.Def.LinuxParameters = lp
		if user != "" {
			c.Def.User = ecstypes.Ptr(user)
		}
		ex := newExits()
		task := newTask(ex, "", c)
		if _, err := r.Start(ctx, task); err != nil {
			t.Fatal(err)
		}
		if ev := ex.wait(t); ev.code != 0 {
			t.Fatalf("Exited%+v", ev)
		}
		if _, err := r.Stop(ctx, task.TaskID); err != nil {
			t.Error(err)
		}
		b, err := os.ReadFile(r.LogPath(task.TaskID, "caps"))
		if err != nil {
			t.Fatal(err)
		}
		sets := map[string][]string{}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || !strings.HasPrefix(k, "Cap") {
				continue
			}
			bits, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			names, _ := cap.FromBitmap(bits)
			sets[k] = slices.Sorted(slices.Values(names))
		}
		if len(sets) != 5 {
			t.Fatalf("no capability lines in the container's /proc/self/status:\n%s", b)
		}
		return sets
	}
	defaults := slices.Sorted(slices.Values(dockerDefaultCapabilities))
	want := func(what string, sets map[string][]string, eff, bnd []string) {
		t.Helper()
		if !slices.Equal(sets["CapEff"], eff) || !slices.Equal(sets["CapPrm"], eff) || !slices.Equal(sets["CapBnd"], bnd) ||
			len(sets["CapInh"]) > 0 || len(sets["CapAmb"]) > 0 {
			t.Errorf("%s: %v\nwant effective and permitted %v, bounding %v", what, sets, eff, bnd)
		}
	}
	want("no capabilities asked", status(nil, ""), defaults, defaults)
	withNetAdmin := slices.Sorted(slices.Values(append([]string{"CAP_NET_ADMIN"}, defaults...)))
	want("add NET_ADMIN", status(&ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Add: []string{"NET_ADMIN"}}}, ""), withNetAdmin, withNetAdmin)
	withoutRaw := slices.DeleteFunc(slices.Clone(defaults), func(c string) bool { return c == "CAP_NET_RAW" })
	want("drop NET_RAW", status(&ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Drop: []string{"NET_RAW"}}}, ""), withoutRaw, withoutRaw)
	// Another user keeps the bounding set only, as under Docker.
	want("user 1000", status(nil, "1000"), nil, defaults)
}
