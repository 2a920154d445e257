package main

import (
	"context"
	"net/netip"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/hostnet"
)

// taskNet gives the ECS domain the kernel's bridge and none mode networks; it
// only translates the domain's port type into the dataplane's.
type taskNet struct{ k *hostnet.Kernel }

var _ ecsapi.TaskNetwork = taskNet{}

func (n taskNet) AttachBridgeTask(ctx context.Context, instance, task string, addr netip.Addr, ports []ecsapi.PortForward) error {
	fw := make([]hostnet.PortForward, len(ports))
	for i, p := range ports {
		fw[i] = hostnet.PortForward{Proto: p.Proto, HostPort: p.HostPort, ContainerPort: p.ContainerPort}
	}
	return n.k.AttachBridgeTask(ctx, instance, task, addr, fw)
}

func (n taskNet) DetachBridgeTask(ctx context.Context, instance, task string) error {
	return n.k.DetachBridgeTask(ctx, instance, task)
}

func (n taskNet) EnsureHost(ctx context.Context, host string) error { return n.k.EnsureHost(ctx, host) }
func (n taskNet) DeleteHost(ctx context.Context, host string) error { return n.k.DeleteHost(ctx, host) }

// linkStats gives the task metadata endpoint the counters of a task's links.
func linkStats(netnsPath string) (map[string]ecsapi.NetworkStats, error) {
	links, err := hostnet.LinkStatsIn(netnsPath)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ecsapi.NetworkStats, len(links))
	for name, l := range links {
		out[name] = ecsapi.NetworkStats(l)
	}
	return out, nil
}
