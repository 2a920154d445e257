package runtime

import (
	"context"
	"slices"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/pkg/cap"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestDockerCapabilities(t *testing.T) {
	defaults := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	all := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"}
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
	}{
		{name: "nothing asked", want: defaults},
		{name: "sorted and without repeats", add: []string{"KILL", "CHOWN"}, want: defaults},
		{name: "add", add: []string{"NET_ADMIN"}, want: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_RAW"}},
		{name: "add a default again", add: []string{"KILL"}, want: defaults},
		{name: "drop", drop: []string{"NET_RAW"}, want: []string{"CAP_CHOWN", "CAP_KILL"}},
		{name: "drop before add", add: []string{"NET_RAW"}, drop: []string{"NET_RAW"}, want: defaults},
		{name: "drop ALL keeps what is added", add: []string{"NET_ADMIN"}, drop: []string{"ALL"}, want: []string{"CAP_NET_ADMIN"}},
		{name: "drop ALL alone", drop: []string{"ALL"}, want: nil},
		{name: "add ALL less drop", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"}, want: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_RAW"}},
		{name: "add ALL wins over drop ALL", add: []string{"ALL"}, drop: []string{"ALL"}, want: all},
		{name: "Docker's spellings", add: []string{"cap_net_admin", "all"}, drop: []string{"sys_admin"}, want: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_RAW"}},
		{name: "privileged ignores add and drop", add: []string{"NET_ADMIN"}, drop: []string{"ALL"}, privileged: true, want: all},
	}
	for _, tt := range tests {
		if got := dockerCapabilities(defaults, all, tt.add, tt.drop, tt.privileged); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestDefaultCapabilitiesAreContainerds: containerd's default spec grants
// Docker's default set, no more; dockerDefaultCapabilities says so.
func TestDefaultCapabilitiesAreContainerds(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got, want := slices.Sorted(slices.Values(s.Process.Capabilities.Bounding)), slices.Sorted(slices.Values(dockerDefaultCapabilities))
	if !slices.Equal(got, want) {
		t.Errorf("containerd's default %v, Docker's %v", got, want)
	}
}

// TestSpecCapabilities: the spec of a container definition carries Docker's
// capability set, only in the bounding set for a non-root user, and all of
// them for a privileged one whatever add and drop say.
func TestSpecCapabilities(t *testing.T) {
	spec := func(def ecstypes.ContainerDefinition) *oci.Spec {
		t.Helper()
		def.Name = ecstypes.Ptr("app")
		opts, err := containerSpec(ecsapi.TaskRun{TaskID: "t"}, ecsapi.ContainerRun{Def: def}, nil, imageConfig{Cmd: []string{"/bin/true"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
		s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "vs-t-app"}, opts[1:]...) // [0] needs an image
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	defaults := slices.Sorted(slices.Values(dockerDefaultCapabilities))
	s := spec(ecstypes.ContainerDefinition{})
	c := s.Process.Capabilities
	if !slices.Equal(c.Bounding, defaults) || !slices.Equal(c.Effective, defaults) || !slices.Equal(c.Permitted, defaults) || len(c.Inheritable) > 0 || len(c.Ambient) > 0 {
		t.Errorf("no capabilities asked: %+v", c)
	}
	s = spec(ecstypes.ContainerDefinition{LinuxParameters: &ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Add: []string{"NET_ADMIN"}}}})
	if c := s.Process.Capabilities; !slices.Contains(c.Effective, "CAP_NET_ADMIN") || len(c.Effective) != len(defaults)+1 {
		t.Errorf("add NET_ADMIN: %+v", c)
	}
	// WithUser needs the image's rootfs: set the user it would resolve.
	s = &oci.Spec{Process: &specs.Process{User: specs.User{UID: 1000}}}
	if err := withCapabilities(nil, nil, false)(context.Background(), nil, nil, s); err != nil {
		t.Fatal(err)
	}
	if c := s.Process.Capabilities; !slices.Equal(c.Bounding, defaults) || len(c.Effective) > 0 || len(c.Permitted) > 0 {
		t.Errorf("user 1000: %+v", c)
	}
	current, err := cap.Current()
	if err != nil {
		t.Fatal(err)
	}
	s = spec(ecstypes.ContainerDefinition{Privileged: ecstypes.Ptr(true), LinuxParameters: &ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Drop: []string{"ALL"}}}})
	if c := s.Process.Capabilities; !slices.Equal(c.Bounding, slices.Compact(slices.Sorted(slices.Values(current)))) {
		t.Errorf("privileged: %v, want this process's %v", c.Bounding, current)
	}
}
