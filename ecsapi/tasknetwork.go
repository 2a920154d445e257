package ecsapi

import (
	"context"
	"maps"
	"net/netip"
	"slices"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
)

// TaskNetwork is what the domain needs of the dataplane for tasks that are not
// in awsvpc mode (awsvpc tasks get their namespace with their ENI from EC2).
type TaskNetwork interface {
	// AttachBridgeTask gives the task's namespace an eth0 with addr on the
	// instance's docker0-like bridge, and forwards each host port of the instance
	// to the task.
	AttachBridgeTask(ctx context.Context, instance, task string, addr netip.Addr, ports []PortForward) error
	// DetachBridgeTask removes what AttachBridgeTask made, the namespace included.
	DetachBridgeTask(ctx context.Context, instance, task string) error
	// EnsureHost makes a namespace with loopback only (network mode none);
	// DeleteHost removes it and what runs in it.
	EnsureHost(ctx context.Context, host string) error
	DeleteHost(ctx context.Context, host string) error
}

// PortForward is one host port of a bridge-mode task.
type PortForward struct {
	Proto         string // "tcp" or "udp"
	HostPort      uint16
	ContainerPort uint16
}

// WithTaskNetwork makes bridge and none mode tasks real (default: they get no
// network of their own).
func WithTaskNetwork(n TaskNetwork) Option { return func(s *Service) { s.taskNet = n } }

// bridgeNet is the docker0-like network of every container instance.
var bridgeNet = netip.MustParsePrefix("172.17.0.0/16")

// bridgeAddrLocked picks the lowest address of the instance's bridge network that
// no live task on it holds (.1 is the bridge).
func (s *Service) bridgeAddrLocked(m *model, instanceARN string) string {
	held := map[string]bool{}
	for t := range m.tasks.All() {
		if t.InstanceARN == instanceARN && t.BridgeAddr != "" && deref(t.T.LastStatus) != "STOPPED" {
			held[t.BridgeAddr] = true
		}
	}
	a := bridgeNet.Addr().Next().Next()
	for held[a.String()] {
		a = a.Next()
	}
	return a.String()
}

// forwards lists the host ports a bridge task holds, from its bindings.
func forwards(t Task) []PortForward {
	var out []PortForward
	for _, c := range t.Containers {
		for _, b := range c.NetworkBindings {
			proto := "tcp"
			if b.Protocol == TransportProtocolUdp {
				proto = "udp"
			}
			out = append(out, PortForward{Proto: proto, HostPort: uint16(deref(b.HostPort)), ContainerPort: uint16(deref(b.ContainerPort))})
		}
	}
	return out
}

// attachNetwork gives a non-awsvpc task its network: bridge (own namespace on
// the instance's bridge), host (the instance's own namespace) or none
// (loopback only). It answers the namespace the containers join.
func (s *Service) attachNetwork(ctx context.Context, t taskRec) (string, error) {
	switch t.Mode {
	case NetworkModeHost:
		return s.netns(t.EC2ID), nil
	case NetworkModeNone:
		if s.taskNet == nil {
			return "", nil
		}
		return s.netns(t.host()), s.taskNet.EnsureHost(ctx, t.host())
	case NetworkModeBridge, "":
		if s.taskNet == nil || t.BridgeAddr == "" {
			return "", nil
		}
		addr, err := netip.ParseAddr(t.BridgeAddr)
		if err != nil {
			return "", err
		}
		return s.netns(t.host()), s.taskNet.AttachBridgeTask(ctx, t.EC2ID, t.host(), addr, forwards(t.T))
	}
	return "", nil
}

// detachNetwork undoes attachNetwork.
func (s *Service) detachNetwork(ctx context.Context, t taskRec) error {
	if s.taskNet == nil {
		return nil
	}
	switch t.Mode {
	case NetworkModeNone:
		return s.taskNet.DeleteHost(ctx, t.host())
	case NetworkModeBridge, "":
		if t.BridgeAddr != "" {
			return s.taskNet.DetachBridgeTask(ctx, t.EC2ID, t.host())
		}
	}
	return nil
}

// LiveHosts lists the namespaces of tasks in the store that are not STOPPED and
// whose namespace EC2 does not know (bridge and none mode), so that EC2's
// start-up reconciliation keeps them with their containers.
func LiveHosts(st vpcsim.Store) ([]string, error) {
	tasks, err := storage.Read(st, taskKind)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, arn := range slices.Sorted(maps.Keys(tasks)) {
		t := tasks[arn]
		if deref(t.T.LastStatus) == "STOPPED" || t.AWSVPC {
			continue
		}
		if t.Mode == NetworkModeNone || t.BridgeAddr != "" {
			hosts = append(hosts, t.host())
		}
	}
	return hosts, nil
}
