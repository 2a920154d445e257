package ecsapi

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
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
		if t.InstanceARN == instanceARN && t.BridgeAddr != "" && t.status() != TaskStatusStopped {
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
func forwards(t ecstypes.Task) []PortForward {
	var out []PortForward
	for _, c := range t.Containers {
		for _, b := range c.NetworkBindings {
			proto := "tcp"
			if b.Protocol == ecstypes.TransportProtocolUdp {
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
	case ecstypes.NetworkModeHost:
		return s.netns(t.EC2ID), nil
	case ecstypes.NetworkModeNone:
		if s.taskNet == nil {
			return "", nil
		}
		if err := s.claimHost(ctx, t); err != nil {
			return "", err
		}
		return s.netns(t.host()), s.taskNet.EnsureHost(ctx, t.host())
	case ecstypes.NetworkModeBridge, "":
		if s.taskNet == nil || t.BridgeAddr == "" {
			return "", nil
		}
		addr, err := netip.ParseAddr(t.BridgeAddr)
		if err != nil {
			return "", err
		}
		if err := s.claimHost(ctx, t); err != nil {
			return "", err
		}
		return s.netns(t.host()), s.taskNet.AttachBridgeTask(ctx, t.EC2ID, t.host(), addr, forwards(t.T))
	}
	return "", nil
}

// claimHost records the task's namespace with EC2 before it is made, so
// that EC2's reconciliation (at the next start-up) keeps it, and what runs in
// it, for as long as the task lives.
func (s *Service) claimHost(ctx context.Context, t taskRec) error {
	if err := s.ec2.ClaimHost(ctx, ec2sim.Scope{Region: t.Region}, t.host(), *t.T.TaskArn); err != nil {
		return fmt.Errorf("claim the task's namespace: %w", err)
	}
	return nil
}

// detachNetwork undoes attachNetwork.
func (s *Service) detachNetwork(ctx context.Context, t taskRec) error {
	if s.taskNet == nil {
		return nil
	}
	var err error
	switch t.Mode {
	case ecstypes.NetworkModeNone:
		err = s.taskNet.DeleteHost(ctx, t.host())
	case ecstypes.NetworkModeBridge, "":
		if t.BridgeAddr == "" {
			return nil
		}
		err = s.taskNet.DetachBridgeTask(ctx, t.EC2ID, t.host())
	default:
		return nil
	}
	if err != nil {
		return err // the claim stays: the next start-up removes the namespace
	}
	return s.ec2.ReleaseHost(ctx, t.host())
}

// releaseHostsOfGoneTasks removes, at start-up, the namespaces ECS claimed
// for tasks that have stopped or are forgotten (vpcsim stopped between
// removing a namespace and releasing it, or failed to remove it), and
// releases their claims. It claims those of live bridge and none mode tasks
// that a database from before claims did not record.
func (s *Service) releaseHostsOfGoneTasks(ctx context.Context) {
	type want struct{ region, owner string }
	live := map[string]want{}
	s.mu.Lock()
	for t := range s.tasks.All() {
		if t.status() != TaskStatusStopped && !t.AWSVPC && (t.Mode == ecstypes.NetworkModeNone || t.BridgeAddr != "") {
			live[t.host()] = want{t.Region, *t.T.TaskArn}
		}
	}
	s.mu.Unlock()
	claimed := map[string]bool{}
	for _, c := range s.ec2.HostClaims() {
		claimed[c.Host] = true
		if _, ok := live[c.Host]; ok || !strings.HasPrefix(c.Owner, "arn:aws:ecs:") {
			continue
		}
		if s.taskNet != nil {
			if err := s.taskNet.DeleteHost(ctx, c.Host); err != nil {
				s.log.Error("remove the namespace of a stopped task (the next start-up retries)", "host", c.Host, "err", err)
				continue
			}
		}
		if err := s.ec2.ReleaseHost(ctx, c.Host); err != nil {
			s.log.Error("release the namespace of a stopped task (the next start-up retries)", "host", c.Host, "err", err)
		}
	}
	if s.taskNet == nil {
		return
	}
	for _, host := range slices.Sorted(maps.Keys(live)) {
		if w := live[host]; !claimed[host] {
			if err := s.ec2.ClaimHost(ctx, ec2sim.Scope{Region: w.region}, host, w.owner); err != nil {
				s.log.Error("claim a task's namespace", "host", host, "err", err)
			}
		}
	}
}
