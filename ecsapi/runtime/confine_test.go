package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

func TestParseSecurityOptions(t *testing.T) {
	for _, tc := range []struct {
		opts    []string
		want    securityOptions
		wantErr string
	}{
		{opts: nil},
		{opts: []string{"no-new-privileges"}, want: securityOptions{noNewPrivileges: true}},
		{opts: []string{"no-new-privileges=true", "no-new-privileges:false"}, want: securityOptions{}},
		{opts: []string{"seccomp=unconfined"}, want: securityOptions{seccomp: "unconfined"}},
		{opts: []string{"seccomp:builtin"}, want: securityOptions{seccomp: "builtin"}},
		// ECS documents apparmor:PROFILE and label:value, dockerd also takes "=".
		{opts: []string{"apparmor:my-profile"}, want: securityOptions{appArmor: "my-profile"}},
		{opts: []string{"apparmor=unconfined"}, want: securityOptions{appArmor: "unconfined"}},
		{opts: []string{"label:type:svirt_apache_t", "label=level:s0:c100,c200", "disable"},
			want: securityOptions{labels: []string{"type:svirt_apache_t", "level:s0:c100,c200", "disable"}}},
		{opts: []string{"credentialspec:file://gmsa.json"}, want: securityOptions{credentialSpecs: []string{"file://gmsa.json"}}},
		{opts: []string{"seccomp=/etc/profile.json"}, wantErr: "seccomp=/etc/profile.json: only seccomp=unconfined and seccomp=builtin"},
		{opts: []string{"privileged"}, wantErr: `invalid --security-opt 1: "privileged"`},
		{opts: []string{"writable-cgroups=true"}, wantErr: `invalid --security-opt 2: "writable-cgroups=true"`},
		{opts: []string{"no-new-privileges=maybe"}, wantErr: `invalid --security-opt 2: "no-new-privileges=maybe"`},
	} {
		got, err := parseSecurityOptions(tc.opts)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, want an error with %q", tc.opts, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %+v, %v; want %+v", tc.opts, got, err, tc.want)
		}
	}
}

// specWith applies opts to containerd's default spec, after Docker's
// default capabilities as containerSpec sets them.
func specWith(t *testing.T, privileged bool, opts []oci.SpecOpts) *oci.Spec {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
	all := append([]oci.SpecOpts{withCapabilities(nil, nil, privileged)}, opts...)
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "x"}, all...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfinement(t *testing.T) {
	noAppArmor := hostSecurity{}
	t.Run("Docker's seccomp profile by default", func(t *testing.T) {
		opts, err := confinement(securityOptions{}, false, noAppArmor)
		if err != nil {
			t.Fatal(err)
		}
		s := specWith(t, false, opts)
		if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != "SCMP_ACT_ERRNO" || len(s.Linux.Seccomp.Syscalls) == 0 {
			t.Fatalf("seccomp %+v, want Docker's default profile (deny what is not listed)", s.Linux.Seccomp)
		}
		// unshare is allowed only to holders of CAP_SYS_ADMIN, which the
		// defaults lack.
		for _, sc := range s.Linux.Seccomp.Syscalls {
			if slices.Contains(sc.Names, "unshare") && sc.Action == "SCMP_ACT_ALLOW" {
				t.Errorf("unshare allowed without CAP_SYS_ADMIN: %+v", sc)
			}
		}
		if s.Process.NoNewPrivileges || s.Process.ApparmorProfile != "" {
			t.Errorf("noNewPrivileges %v, AppArmor %q: want neither", s.Process.NoNewPrivileges, s.Process.ApparmorProfile)
		}
	})
	t.Run("seccomp=unconfined and privileged have none", func(t *testing.T) {
		for _, tc := range []struct {
			so         securityOptions
			privileged bool
		}{{securityOptions{seccomp: "unconfined"}, false}, {securityOptions{}, true}, {securityOptions{seccomp: "builtin"}, true}} {
			opts, err := confinement(tc.so, tc.privileged, noAppArmor)
			if err != nil {
				t.Fatal(err)
			}
			if s := specWith(t, tc.privileged, opts); s.Linux.Seccomp != nil {
				t.Errorf("%+v privileged=%v: a seccomp profile", tc.so, tc.privileged)
			}
		}
	})
	t.Run("no-new-privileges", func(t *testing.T) {
		opts, _ := confinement(securityOptions{noNewPrivileges: true}, true, noAppArmor)
		if s := specWith(t, true, opts); !s.Process.NoNewPrivileges {
			t.Error("noNewPrivileges not set (privileged keeps it, as under Docker)")
		}
	})
	t.Run("AppArmor", func(t *testing.T) {
		var loaded []string
		load := func(name string) error { loaded = append(loaded, name); return nil }
		withParser := hostSecurity{appArmor: true, appArmorParser: true, loadAppArmor: load}
		for _, tc := range []struct {
			name       string
			host       hostSecurity
			so         securityOptions
			privileged bool
			want       string
		}{
			{"no AppArmor in the kernel", hostSecurity{loadAppArmor: load}, securityOptions{}, false, ""},
			{"no AppArmor in the kernel, a profile asked", hostSecurity{loadAppArmor: load}, securityOptions{appArmor: "mine"}, false, ""},
			{"the default profile", withParser, securityOptions{}, false, appArmorDefaultProfile},
			{"no apparmor_parser: skipped", hostSecurity{appArmor: true, loadAppArmor: load}, securityOptions{}, false, ""},
			{"no apparmor_parser, a loaded profile", hostSecurity{appArmor: true, loadAppArmor: load}, securityOptions{appArmor: "mine"}, false, "mine"},
			{"privileged", withParser, securityOptions{}, true, "unconfined"},
			{"privileged with a profile", withParser, securityOptions{appArmor: "mine"}, true, "mine"},
			{"unconfined", withParser, securityOptions{appArmor: "unconfined"}, false, "unconfined"},
		} {
			loaded = nil
			opts, err := confinement(tc.so, tc.privileged, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			s := specWith(t, tc.privileged, opts)
			if s.Process.ApparmorProfile != tc.want {
				t.Errorf("%s: AppArmor profile %q, want %q", tc.name, s.Process.ApparmorProfile, tc.want)
			}
			if wantLoad := tc.want == appArmorDefaultProfile; wantLoad != (len(loaded) == 1) {
				t.Errorf("%s: loaded %v", tc.name, loaded)
			}
		}
		failing := hostSecurity{appArmor: true, appArmorParser: true, loadAppArmor: func(string) error { return errors.New("parser error") }}
		opts, _ := confinement(securityOptions{}, false, failing)
		ctx := namespaces.WithNamespace(context.Background(), "vpcsim")
		if _, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "x"}, opts...); err == nil || !strings.Contains(err.Error(), "parser error") {
			t.Errorf("a profile that cannot be loaded: %v, want the container to fail", err)
		}
	})
	t.Run("SELinux labels without SELinux change nothing", func(t *testing.T) {
		opts, err := confinement(securityOptions{labels: []string{"type:spc_t"}}, false, noAppArmor)
		if err != nil {
			t.Fatal(err)
		}
		if s := specWith(t, false, opts); s.Process.SelinuxLabel != "" || s.Linux.MountLabel != "" {
			t.Errorf("labels %q %q on a machine without SELinux", s.Process.SelinuxLabel, s.Linux.MountLabel)
		}
	})
	t.Run("credentialspec fails", func(t *testing.T) {
		if _, err := confinement(securityOptions{credentialSpecs: []string{"x"}}, false, noAppArmor); err == nil || !strings.Contains(err.Error(), "Active Directory") {
			t.Errorf("credentialspec: %v", err)
		}
	})
}

func TestSystemControls(t *testing.T) {
	sc := func(kv ...string) []ecstypes.SystemControl {
		var out []ecstypes.SystemControl
		for i := 0; i < len(kv); i += 2 {
			out = append(out, ecstypes.SystemControl{Namespace: ecstypes.Ptr(kv[i]), Value: ecstypes.Ptr(kv[i+1])})
		}
		return out
	}
	got, err := systemControls(sc("net.core.somaxconn", "1024", "kernel.shmmax", "1", "fs.mqueue.msg_max", "20"), ecstypes.NetworkModeAwsvpc, "")
	if want := map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "1", "fs.mqueue.msg_max": "20"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("systemControls = %v, %v", got, err)
	}
	for _, tc := range []struct {
		controls []ecstypes.SystemControl
		mode     ecstypes.NetworkMode
		ipc      ecstypes.IpcMode
		want     string
	}{
		{sc("vm.swappiness", "1"), ecstypes.NetworkModeBridge, "", "vm.swappiness is not a namespaced kernel parameter"},
		{sc("kernel.pid_max", "10"), ecstypes.NetworkModeBridge, "", "kernel.pid_max is not a namespaced"},
		{sc("net.ipv4.ip_forward", "1"), ecstypes.NetworkModeHost, "", "not supported with the host network mode"},
		{sc("kernel.sem", "1 2 3 4"), ecstypes.NetworkModeBridge, ecstypes.IpcModeHost, "not supported with ipcMode host"},
	} {
		if _, err := systemControls(tc.controls, tc.mode, tc.ipc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v in %s/%s: %v, want %q", tc.controls, tc.mode, tc.ipc, err, tc.want)
		}
	}
}

func TestTaskNamespacesAndDevices(t *testing.T) {
	r := &Runtime{hostDevices: []string{"/dev/zero", "/dev/snd"}}
	run := ecsapi.TaskRun{}
	for _, tc := range []struct {
		pid  ecstypes.PidMode
		ipc  ecstypes.IpcMode
		want string
	}{
		{ecstypes.PidModeHost, "", "pidMode host shares this machine's process namespace"},
		{"", ecstypes.IpcModeHost, "ipcMode host shares this machine's IPC namespace"},
	} {
		run.PidMode, run.IpcMode = tc.pid, tc.ipc
		if _, err := r.sharedNamespaces(run); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--allow-host-namespaces") {
			t.Errorf("pid %q ipc %q without the operator's leave: %v", tc.pid, tc.ipc, err)
		}
	}
	r.allowHostNamespaces = true
	run.PidMode, run.IpcMode = ecstypes.PidModeHost, ecstypes.IpcModeHost
	opts, err := r.sharedNamespaces(run)
	if err != nil {
		t.Fatal(err)
	}
	s := specWith(t, false, opts)
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == "pid" || ns.Type == "ipc" {
			t.Errorf("namespace %s still private", ns.Type)
		}
	}
	run.PidMode, run.IpcMode = "", ecstypes.IpcModeTask
	if _, err := r.sharedNamespaces(run); err == nil || !strings.Contains(err.Error(), "ipcMode task is not supported") {
		t.Errorf("ipcMode task: %v", err)
	}
	run.PidMode, run.IpcMode = ecstypes.PidModeTask, ""
	r.logDir = t.TempDir() + "/logs"
	if _, err := r.sharedNamespaces(run); err == nil || !strings.Contains(err.Error(), "pause process is gone") {
		t.Errorf("pidMode task without its pause process: %v", err)
	}
	run.PidMode, run.IpcMode = "", ecstypes.IpcModeNone
	opts, _ = r.sharedNamespaces(run)
	for _, m := range specWith(t, false, opts).Mounts {
		if m.Destination == "/dev/shm" {
			t.Error("ipcMode none keeps /dev/shm")
		}
	}

	dev := func(path string) ecstypes.Device { return ecstypes.Device{HostPath: ecstypes.Ptr(path)} }
	for _, p := range []string{"/dev/zero", "/dev/snd/timer", "/dev/../dev/zero"} {
		if _, err := r.devices([]ecstypes.Device{dev(p)}); err != nil {
			t.Errorf("device %s, opened by the operator: %v", p, err)
		}
	}
	for _, p := range []string{"/dev/sda", "/dev/zeroes", "/dev/snd/../mem", "/"} {
		if _, err := r.devices([]ecstypes.Device{dev(p)}); err == nil || !strings.Contains(err.Error(), "--host-device") {
			t.Errorf("device %s, not opened: %v", p, err)
		}
	}
}

func TestTaskCgroupLimits(t *testing.T) {
	c := taskCgroups{parent: "/vpcsim/0011aabb", pidsLimit: 4096}
	if got, want := c.containerPath("t1", "vs-t1-web"), "/vpcsim/0011aabb/vs-t1/vs-t1-web"; got != want {
		t.Errorf("containerPath = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		cpu, mem int
		shares   uint64
		want     taskLimits
	}{
		// Fargate's 0.25 vCPU, 512 MiB: a quarter of each 100 ms period.
		{256, 512, 0, taskLimits{memoryBytes: 512 << 20, cpuQuota: 25_000, pids: 4096}},
		{4096, 0, 0, taskLimits{cpuQuota: 400_000, pids: 4096}},
		{1, 0, 0, taskLimits{cpuQuota: minCFSQuota, pids: 4096}},
		// No task-level cpu: the containers' shares, at least the kernel's 2.
		{0, 0, 300, taskLimits{cpuShares: 300, pids: 4096}},
		{0, 0, 0, taskLimits{cpuShares: 2, pids: 4096}},
	} {
		if got := c.limitsFor(tc.cpu, tc.mem, tc.shares); got != tc.want {
			t.Errorf("limitsFor(%d, %d, %d) = %+v, want %+v", tc.cpu, tc.mem, tc.shares, got, tc.want)
		}
	}
}

func TestRegistries(t *testing.T) {
	g, err := newRegistries([]string{"127.0.0.1:5000", "Registry.Local"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.0.0.1:5001": false, "registry.local": true, "registry.local:8443": true,
		"REGISTRY.LOCAL:80": true, "docker.io": false, "localhost:5000": false,
	} {
		if got := g.listed(host); got != want {
			t.Errorf("listed(%s) = %v, want %v", host, got, want)
		}
	}
	for image, refused := range map[string]bool{
		"nginx": false, "127.0.0.1:5000/app:1": false, "127.0.0.1:5001/app:1": true, "localhost:5000/app": true,
		"[::1]:5000/app": true, "0.0.0.0:80/app": true, "registry.local/app": false, "10.0.0.5:5000/app": false,
	} {
		err := g.check(image)
		if refused != (err != nil) {
			t.Errorf("check(%s) = %v, refused want %v", image, err, refused)
		}
		if err != nil && !strings.Contains(err.Error(), "--insecure-registry") {
			t.Errorf("check(%s) = %v: does not say how to allow it", image, err)
		}
	}
	// Listed registries are tried without verification, then plain HTTP;
	// others only over verified TLS, localhost included.
	for host, scheme := range map[string]string{"127.0.0.1:5000": "https", "localhost:5000": "https", "docker.io": "https"} {
		hosts, err := g.hosts(host)
		if err != nil || len(hosts) != 1 || hosts[0].Scheme != scheme {
			t.Errorf("hosts(%s) = %+v, %v", host, hosts, err)
		}
	}
	if _, err := newRegistries([]string{"http://x:5000"}); err == nil {
		t.Error("a registry given with a scheme was accepted")
	}
}

// TestRegistryDialGuard: a name that resolves to loopback is refused when
// dialled unless listed; a listed registry is reached over TLS without
// verification, or over plain HTTP when it speaks that.
func TestRegistryDialGuard(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "tls") }))
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "plain") }))
	defer plain.Close()
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsSrv.URL, "https://"))
	_, plainPort, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))

	g, err := newRegistries(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&http.Client{Transport: g.transport(false)}).Get("https://localhost:" + tlsPort + "/v2/")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("an unlisted name that resolves to loopback: %v, want refused", err)
	}

	g, err = newRegistries([]string{"localhost:" + tlsPort, "localhost:" + plainPort})
	if err != nil {
		t.Fatal(err)
	}
	for port, want := range map[string]string{tlsPort: "tls", plainPort: "plain"} {
		resp, err := (&http.Client{Transport: g.transport(true)}).Get("https://localhost:" + port + "/v2/")
		if err != nil {
			t.Errorf("listed localhost:%s: %v", port, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("listed localhost:%s answered %q, want %q", port, b, want)
		}
	}
}
