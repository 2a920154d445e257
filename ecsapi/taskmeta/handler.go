// Package taskmeta serves the ECS task metadata endpoint (v3 and v4) that every
// task finds at ECS_CONTAINER_METADATA_URI_V4, in the JSON shape the ECS agent
// gives it, from the snapshots the ECS domain provides. Protocol only.
package taskmeta

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// New is the endpoint of one task, served from the service's snapshots.
func New(s *ecsapi.Service, taskARN string) http.Handler {
	stats := &statsKeeper{s: s, taskARN: taskARN}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.Metadata(taskARN)
		if !ok {
			http.NotFound(w, r)
			return
		}
		// /v4/<id>[/task|/taskWithTags|/stats|/task/stats], and the same under /v3.
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) < 2 || (parts[0] != "v4" && parts[0] != "v3") {
			http.NotFound(w, r)
			return
		}
		v4 := parts[0] == "v4"
		name := containerOf(m, parts[1])
		if name == "" {
			http.NotFound(w, r)
			return
		}
		switch strings.Join(parts[2:], "/") {
		case "":
			writeJSON(w, container(m, name, v4))
		case "task":
			writeJSON(w, task(m, v4, false))
		case "taskWithTags":
			writeJSON(w, task(m, v4, true))
		case "stats", "task/stats":
			read, err := stats.read(r.Context(), m, v4)
			if err != nil {
				// The agent's answer when its stats engine has nothing to say.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode("Unable to get task stats for: " + taskARN)
				return
			}
			if parts[2] == "stats" {
				writeJSON(w, statsOrNone(read[name], v4))
				return
			}
			byID := map[string]any{}
			for _, c := range m.Task.Containers {
				byID[deref(c.RuntimeId)] = statsOrNone(read[deref(c.Name)], v4)
			}
			writeJSON(w, byID)
		default:
			http.NotFound(w, r)
		}
	})
}

// statsOrNone is a container's statistics, or what the agent says of a
// container it has none of (not running): {} in v4, null in v3.
func statsOrNone(st *statsJSON, v4 bool) any {
	switch {
	case st != nil:
		return st
	case v4:
		return struct{}{}
	}
	return nil
}

func containerOf(m ecsapi.TaskMeta, id string) string {
	for name, cid := range m.ContainerIDs {
		if cid == id {
			return name
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func stamp(t *ecstypes.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.Time().UTC().Format(time.RFC3339Nano)
}

// task renders the task document.
func task(m ecsapi.TaskMeta, v4, withTags bool) map[string]any {
	t := m.Task
	cluster := deref(t.ClusterArn)
	if t.LaunchType != ecstypes.LaunchTypeFargate {
		cluster = cluster[strings.LastIndexByte(cluster, '/')+1:]
	}
	out := map[string]any{
		"Cluster": cluster, "TaskARN": deref(t.TaskArn), "Family": m.Family, "Revision": m.Revision,
		"DesiredStatus": deref(t.DesiredStatus), "KnownStatus": deref(t.LastStatus),
		"Limits":           map[string]any{"CPU": float64(m.TaskCPU) / 1024, "Memory": m.TaskMemory},
		"AvailabilityZone": deref(t.AvailabilityZone), "LaunchType": string(t.LaunchType),
	}
	if s := stamp(t.PullStartedAt); s != "" {
		out["PullStartedAt"], out["PullStoppedAt"] = s, stamp(t.PullStoppedAt)
	}
	if v4 && m.VPCID != "" {
		out["VPCID"] = m.VPCID
	}
	if m.ServiceName != "" {
		out["ServiceName"] = m.ServiceName
	}
	var cs []map[string]any
	for _, c := range t.Containers {
		cs = append(cs, container(m, deref(c.Name), v4))
	}
	out["Containers"] = cs
	if withTags {
		tags := map[string]string{}
		for _, tg := range t.Tags {
			tags[deref(tg.Key)] = deref(tg.Value)
		}
		out["TaskTags"] = tags
	}
	return out
}

// container renders one container's document.
func container(m ecsapi.TaskMeta, name string, v4 bool) map[string]any {
	t := m.Task
	c := containerNamed(m, name)
	cpu, _ := strconv.Atoi(deref(c.Cpu))
	mem, _ := strconv.Atoi(deref(c.Memory))
	out := map[string]any{
		"DockerId": deref(c.RuntimeId), "Name": name, "DockerName": dockerName(m, name),
		"Image": deref(c.Image), "ImageID": deref(c.ImageDigest),
		"Labels": map[string]string{
			"com.amazonaws.ecs.cluster":                 deref(t.ClusterArn),
			"com.amazonaws.ecs.container-name":          name,
			"com.amazonaws.ecs.task-arn":                deref(t.TaskArn),
			"com.amazonaws.ecs.task-definition-family":  m.Family,
			"com.amazonaws.ecs.task-definition-version": m.Revision,
		},
		"DesiredStatus": deref(t.DesiredStatus), "KnownStatus": deref(c.LastStatus),
		"Limits": map[string]any{"CPU": cpu, "Memory": mem},
		"Type":   "NORMAL", "ContainerARN": deref(c.ContainerArn),
	}
	if s := stamp(t.CreatedAt); s != "" {
		out["CreatedAt"] = s
	}
	if s := stamp(t.StartedAt); s != "" {
		out["StartedAt"] = s
	}
	if c.ExitCode != nil {
		out["ExitCode"] = *c.ExitCode
	}
	if n, ok := m.RestartCounts[name]; ok && v4 {
		out["RestartCount"] = n
	}
	if n := m.Network; n != nil {
		net := map[string]any{"NetworkMode": "awsvpc", "IPv4Addresses": []string{n.IPv4Address}}
		if n.IPv6Address != "" {
			net["IPv6Addresses"] = []string{n.IPv6Address}
		}
		if v4 {
			net["AttachmentIndex"] = 0
			net["MACAddress"] = n.MAC
			net["IPv4SubnetCIDRBlock"] = n.SubnetCIDR
			if n.IPv6SubnetCIDR != "" {
				net["IPv6SubnetCIDRBlock"] = n.IPv6SubnetCIDR
			}
			net["PrivateDNSName"] = n.DNSName
			net["SubnetGatewayIpv4Address"] = n.Gateway
			net["DomainNameServers"] = n.DNSServers
			net["DomainNameSearchList"] = n.SearchList
		}
		out["Networks"] = []map[string]any{net}
	}
	return out
}

// containerNamed is the task's container of that name.
func containerNamed(m ecsapi.TaskMeta, name string) ecstypes.Container {
	for _, c := range m.Task.Containers {
		if deref(c.Name) == name {
			return c
		}
	}
	return ecstypes.Container{}
}

// dockerName is the name the agent gives a container's Docker container.
func dockerName(m ecsapi.TaskMeta, name string) string {
	return "ecs-" + m.Family + "-" + m.Revision + "-" + name
}
