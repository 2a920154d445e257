package taskmeta_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// /stats and /task/stats have Docker's stats shape, with the fake runtime's
// figures, the previous reading as "pre", and the task's link counters shared
// among its containers.
func TestTaskStats(t *testing.T) {
	var (
		mu     sync.Mutex
		reads  uint64
		netnss []string
	)
	links := func(netnsPath string) (map[string]ecsapi.NetworkStats, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		netnss = append(netnss, netnsPath)
		return map[string]ecsapi.NetworkStats{"eth0": {RxBytes: 1000 * reads, RxPackets: 10 * reads, TxBytes: 400 * reads, TxPackets: 4 * reads}}, nil
	}
	mt := startTask(t, []ecstypes.ContainerDefinition{
		{Name: ecstypes.Ptr("app"), Image: ecstypes.Ptr("app:1"), Memory: ecstypes.Ptr(int32(128))},
		{Name: ecstypes.Ptr("side"), Image: ecstypes.Ptr("side:1")},
	}, ecsapi.WithLinkStats(links), ecsapi.WithNetnsPath(func(host string) string { return "/run/netns/vs-" + host }))
	ids := map[string]string{}
	for _, c := range mt.meta.Task.Containers {
		ids[*c.Name] = *c.RuntimeId
	}
	base := "http://" + mt.addr + "/v4/" + mt.meta.ContainerIDs["app"]

	var task map[string]map[string]any
	get(t, base+"/task/stats", &task)
	if len(task) != 2 || task[ids["app"]] == nil || task[ids["side"]] == nil {
		t.Fatalf("/task/stats is keyed by %v, want the runtime IDs %v", keys(task), ids)
	}
	first := task[ids["app"]]
	want := []string{"blkio_stats", "cpu_stats", "id", "memory_stats", "name", "network_rate_stats", "networks", "num_procs", "pids_stats", "precpu_stats", "preread", "read", "storage_stats"}
	if got := keys(first); !slices.Equal(got, want) {
		t.Errorf("keys %v, want Docker's and the agent's %v", got, want)
	}
	if first["id"] != ids["app"] || first["name"] != "/ecs-meta-1-app" || first["preread"] != "0001-01-01T00:00:00Z" {
		t.Errorf("id %v, name %v, preread %v", first["id"], first["name"], first["preread"])
	}
	if _, err := time.Parse(time.RFC3339Nano, first["read"].(string)); err != nil {
		t.Errorf("read: %v", err)
	}
	expect(t, first, "cpu_stats.cpu_usage.total_usage", 50e6)
	expect(t, first, "cpu_stats.cpu_usage.percpu_usage", []any{30e6, 20e6})
	expect(t, first, "cpu_stats.system_cpu_usage", 2e9)
	expect(t, first, "cpu_stats.online_cpus", 2)
	expect(t, first, "cpu_stats.throttling_data", map[string]any{"periods": 0., "throttled_periods": 0., "throttled_time": 0.})
	expect(t, first, "precpu_stats.cpu_usage.total_usage", 0)
	expect(t, first, "memory_stats.usage", 4<<20)
	expect(t, first, "memory_stats.limit", 128<<20)
	expect(t, first, "memory_stats.stats.rss", 3<<20)
	expect(t, first, "pids_stats", map[string]any{"current": 1.})
	expect(t, first, "blkio_stats.io_service_bytes_recursive", []any{map[string]any{"major": 254., "minor": 0., "op": "Read", "value": 4096.}})
	expect(t, first, "blkio_stats.sectors_recursive", []any{})
	// Two containers: each has half of eth0's 1000 bytes.
	expect(t, first, "networks.eth0", map[string]any{"rx_bytes": 500., "rx_packets": 5., "rx_errors": 0., "rx_dropped": 0., "tx_bytes": 200., "tx_packets": 2., "tx_errors": 0., "tx_dropped": 0.})
	expect(t, first, "network_rate_stats", map[string]any{"rx_bytes_per_sec": 0., "tx_bytes_per_sec": 0.})
	expect(t, task[ids["side"]], "memory_stats.limit", 2<<30)

	time.Sleep(20 * time.Millisecond)
	var second map[string]any
	get(t, base+"/stats", &second)
	if second["preread"] != first["read"] || second["id"] != ids["app"] {
		t.Errorf("the second reading's preread %v, want the first's read %v", second["preread"], first["read"])
	}
	expect(t, second, "precpu_stats.cpu_usage.total_usage", 50e6)
	expect(t, second, "cpu_stats.cpu_usage.total_usage", 100e6)
	rate := lookup(second, "network_rate_stats.rx_bytes_per_sec").(float64)
	if rate <= 0 || rate > 500/0.02 {
		t.Errorf("rx_bytes_per_sec %v after 500 more bytes in ≥ 20 ms", rate)
	}

	mu.Lock()
	if want := "/run/netns/vs-task-" + mt.arn[len(mt.arn)-32:]; len(netnss) != 2 || netnss[0] != want {
		t.Errorf("link counters read in %q, want %s twice", netnss, want)
	}
	mu.Unlock()

	// v3: the same document without network_rate_stats.
	var v3 map[string]any
	get(t, "http://"+mt.addr+"/v3/"+mt.meta.ContainerIDs["app"]+"/stats", &v3)
	if _, ok := v3["network_rate_stats"]; ok || v3["networks"] == nil {
		t.Errorf("v3 /stats: %v", v3)
	}
}

// lookup follows a dotted path through decoded JSON.
func lookup(doc map[string]any, path string) any {
	var v any = doc
	for _, key := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[key]
	}
	return v
}

// expect checks a value of the document; numbers compare as JSON's float64.
func expect(t *testing.T, doc map[string]any, path string, want any) {
	t.Helper()
	switch w := want.(type) {
	case int:
		want = float64(w)
	}
	if got := lookup(doc, path); mustJSON(got) != mustJSON(want) {
		t.Errorf("%s = %s, want %s", path, mustJSON(got), mustJSON(want))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
