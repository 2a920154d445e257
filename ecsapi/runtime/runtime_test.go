package runtime

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/identifiers"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// TestNewRefusesBadNamespace: a namespace containerd would refuse is refused
// before anything is started or connected to.
func TestNewRefusesBadNamespace(t *testing.T) {
	for _, ns := range []string{"", "two words", "-vpcsim", "vpcsim/x"} {
		if _, err := New(context.Background(), t.TempDir(), WithNamespace(ns), WithContainerdAddress("/nonexistent.sock")); err == nil || !strings.HasPrefix(err.Error(), "containerd namespace: ") {
			t.Errorf("namespace %q: %v, want a refusal of the namespace", ns, err)
		}
	}
}

func TestProcessArgs(t *testing.T) {
	imgEP, imgCmd := []string{"/entry"}, []string{"serve", "-p", "80"}
	for _, tc := range []struct {
		name        string
		ep, command []string
		want        []string
	}{
		{"image's own", nil, nil, []string{"/entry", "serve", "-p", "80"}},
		{"command replaces CMD", nil, []string{"run"}, []string{"/entry", "run"}},
		{"entryPoint drops CMD", []string{"/bin/sh"}, nil, []string{"/bin/sh"}},
		{"both", []string{"/bin/sh", "-c"}, []string{"exit 3"}, []string{"/bin/sh", "-c", "exit 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := processArgs(tc.ep, tc.command, imgEP, imgCmd); !slices.Equal(got, tc.want) {
				t.Errorf("processArgs = %q, want %q", got, tc.want)
			}
		})
	}
	if got := processArgs(nil, nil, nil, nil); len(got) != 0 {
		t.Errorf("no command anywhere = %q", got)
	}
}

func TestEnvironment(t *testing.T) {
	kv := func(n, v string) ecstypes.KeyValuePair { return ecstypes.KeyValuePair{Name: &n, Value: &v} }
	got := environment([]ecstypes.KeyValuePair{kv("A", "1"), kv("B", "2"), kv("A", "3"), {}})
	if want := []string{"A=3", "B=2"}; !slices.Equal(got, want) {
		t.Errorf("environment = %q, want %q (an override wins, in place)", got, want)
	}
}

func TestContainerID(t *testing.T) {
	task := "0123456789abcdef0123456789abcdef"
	if got := containerID(task, "web"); got != "vs-"+task+"-web" {
		t.Errorf("containerID = %q", got)
	}
	seen := map[string]string{}
	for _, name := range []string{"web", "a__b", "a--b", "trailing-", "_x", strings.Repeat("n", 255), strings.Repeat("n", 254) + "m"} {
		id := containerID(task, name)
		if err := identifiers.Validate(id); err != nil {
			t.Errorf("containerID(%q) = %q: %v", name, id, err)
		}
		if !strings.HasPrefix(id, "vs-"+task+"-") {
			t.Errorf("containerID(%q) = %q lost its prefix", name, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("containerID(%q) = containerID(%q) = %q", name, other, id)
		}
		seen[id] = name
	}
	if id := containerID(strings.Repeat("t", 90), "web"); identifiers.Validate(id) != nil || !strings.HasPrefix(id, "vs-") {
		t.Errorf("long task ID gave %q", id)
	}
}

func TestSafeName(t *testing.T) {
	for _, name := range []string{"../../etc/passwd", "a/b", ".", strings.Repeat("x", 300)} {
		got := safeName(name)
		if strings.ContainsAny(got, "/.") || len(got) > 120 || got == "" {
			t.Errorf("safeName(%q) = %q", name, got)
		}
	}
	if safeName("web_1-a") != "web_1-a" {
		t.Error("an ECS container name must be kept as is")
	}
}

func TestNormalizeImage(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                         "docker.io/library/nginx:latest",
		"nginx:latest":                  "docker.io/library/nginx:latest",
		"library/nginx:1.25":            "docker.io/library/nginx:1.25",
		"public.ecr.aws/nginx/nginx:1":  "public.ecr.aws/nginx/nginx:1",
		"localhost:5000/app":            "localhost:5000/app:latest",
		"registry.invalid/x:1":          "registry.invalid/x:1",
		"docker.io/library/nginx:1.2.3": "docker.io/library/nginx:1.2.3",
	} {
		if got, err := NormalizeImage(in); err != nil || got != want {
			t.Errorf("NormalizeImage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeImage("Nginx:latest"); err == nil {
		t.Error("an invalid reference was accepted")
	}
}

func TestRefNameToImage(t *testing.T) {
	for in, want := range map[string]string{
		"latest":                         "",
		"1.25":                           "",
		"nginx:latest":                   "docker.io/library/nginx:latest",
		"docker.io/library/nginx:latest": "docker.io/library/nginx:latest",
		"localhost/app:1":                "localhost/app:1",
	} {
		if got := refNameToImage(in); got != want {
			t.Errorf("refNameToImage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestManagedConfig(t *testing.T) {
	cfg := managedConfig("/d/containerd", "/d/containerd/containerd.sock")
	for _, want := range []string{
		"version = 2",
		`root = "/d/containerd/root"`,
		`state = "/d/containerd/state"`,
		`address = "/d/containerd/containerd.sock"`,
		`address = "/d/containerd/containerd.sock.ttrpc"`,
		`"io.containerd.grpc.v1.cri"`,
		`path = "/d/containerd/opt"`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "/run/containerd") {
		t.Error("config points at the system containerd's directory")
	}
}

// TestSpecResources checks the resource and security options on a spec, with
// no image (WithImageConfig is left out).
func TestSpecResources(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	def := ecstypes.ContainerDefinition{
		Name: ecstypes.Ptr("app"), Memory: i32(64), MemoryReservation: i32(32), Cpu: i32(0),
		Ulimits: []ecstypes.Ulimit{{Name: "nofile", SoftLimit: i32(100), HardLimit: i32(200)}},
		LinuxParameters: &ecstypes.LinuxParameters{
			SharedMemorySize: i32(8),
			Tmpfs:            []ecstypes.Tmpfs{{ContainerPath: ecstypes.Ptr("/scratch"), Size: i32(4)}},
			Capabilities:     &ecstypes.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"CHOWN"}},
		},
		ReadonlyRootFilesystem: ecstypes.Ptr(true),
		Hostname:               ecstypes.Ptr("ignored-in-awsvpc"),
	}
	run := ecsapi.TaskRun{TaskID: "t", NetnsPath: "/run/netns/x", NetworkMode: ecstypes.NetworkModeAwsvpc}
	opts, err := containerSpec(run, ecsapi.ContainerRun{Def: def}, nil, imageConfig{Cmd: []string{"/bin/true"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	opts = opts[1:] // WithImageConfig needs an image
	ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "vs-t-app"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mem := s.Linux.Resources.Memory
	if *mem.Limit != 64<<20 || *mem.Reservation != 32<<20 {
		t.Errorf("memory = %d/%d", *mem.Limit, *mem.Reservation)
	}
	if *s.Linux.Resources.CPU.Shares != 2 {
		t.Errorf("cpu shares = %d, want the floor 2", *s.Linux.Resources.CPU.Shares)
	}
	if !slices.Contains(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}) {
		t.Errorf("rlimits = %v", s.Process.Rlimits)
	}
	if !s.Root.Readonly || s.Hostname != "" {
		t.Errorf("readonly %v, hostname %q", s.Root.Readonly, s.Hostname)
	}
	if !slices.Contains(s.Process.Capabilities.Bounding, "CAP_NET_ADMIN") || slices.Contains(s.Process.Capabilities.Bounding, "CAP_CHOWN") {
		t.Errorf("capabilities = %v", s.Process.Capabilities.Bounding)
	}
	var shm, tmp bool
	for _, m := range s.Mounts {
		shm = shm || m.Destination == "/dev/shm" && slices.Contains(m.Options, "size=8m")
		tmp = tmp || m.Destination == "/scratch" && m.Type == "tmpfs" && slices.Contains(m.Options, "size=4m")
	}
	if !shm || !tmp {
		t.Errorf("mounts = %v", s.Mounts)
	}
	joined := false
	for _, ns := range s.Linux.Namespaces {
		joined = joined || ns.Type == specs.NetworkNamespace && ns.Path == "/run/netns/x"
	}
	if !joined {
		t.Errorf("namespaces = %v", s.Linux.Namespaces)
	}
	if !slices.Equal(s.Process.Args, []string{"/bin/true"}) {
		t.Errorf("args = %q", s.Process.Args)
	}
}

// TestCheckInitBinary: the init must be a static ELF executable.
func TestCheckInitBinary(t *testing.T) {
	if err := checkInitBinary(""); err == nil {
		t.Error("no init binary: no error")
	}
	if err := checkInitBinary("/etc/passwd"); err == nil {
		t.Error("not an ELF file: no error")
	}
	if err := checkInitBinary("/bin/sh"); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("a dynamically linked binary: %v", err)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("no /bin/busybox (Debian's busybox-static) to stand for a static binary")
	}
	if err := checkInitBinary("/bin/busybox"); err != nil {
		t.Errorf("a static binary: %v", err)
	}
}

// TestSpecInit: initProcessEnabled mounts the init and puts it before the command.
func TestSpecInit(t *testing.T) {
	def := ecstypes.ContainerDefinition{Name: ecstypes.Ptr("app"), LinuxParameters: &ecstypes.LinuxParameters{InitProcessEnabled: ecstypes.Ptr(true)}}
	opts, err := containerSpec(ecsapi.TaskRun{TaskID: "t"}, ecsapi.ContainerRun{Def: def}, nil, imageConfig{Cmd: []string{"/app", "-v"}}, "/usr/bin/vpcsim")
	if err != nil {
		t.Fatal(err)
	}
	ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "vs-t-app"}, opts[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/dev/init", "init", "--", "/app", "-v"}; !slices.Equal(s.Process.Args, want) {
		t.Errorf("args = %q, want %q", s.Process.Args, want)
	}
	if !slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool {
		return m.Destination == "/dev/init" && m.Source == "/usr/bin/vpcsim" && slices.Contains(m.Options, "ro")
	}) {
		t.Errorf("mounts = %v", s.Mounts)
	}
}
