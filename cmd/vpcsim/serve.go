package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecsjson"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
	"github.com/vpcsim/vpcsim/ecsapi/taskmeta"
	"github.com/vpcsim/vpcsim/hostnet"
	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/ec2/ec2query"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/ssm"
	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmjson"
)

// metadataAddr is where the ECS agent serves task metadata, seen from a task;
// vpcsim listens on metadataPort there and redirects, as the agent does.
var metadataAddr = netip.MustParseAddrPort("169.254.170.2:80")

const metadataPort = 51679

func serve(ctx context.Context, args []string) error {
	cfg, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	// The managed containerd and its shims inherit this environment and
	// outlive vpcsim: the secrets stay with vpcsim alone.
	os.Unsetenv("VPCSIM_ACCESS_KEYS")
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	var dp netmodel.Dataplane = netmodel.NopDataplane{}
	var kernel *hostnet.Kernel
	// The kernel captures flow-log packets from the start; the Cloud that
	// records them comes after it.
	var flows atomic.Pointer[ec2sim.Cloud]
	flowSink := func(p netmodel.FlowPacket) {
		if c := flows.Load(); c != nil {
			c.RecordFlow(p)
		}
	}
	kernelDP := cfg.dataplane == "kernel"
	if kernelDP {
		if err := hostnet.Privileged(); err != nil {
			return err
		}
	}

	// The data directory is checked and taken, and so is the namespace
	// prefix, before anything on the machine is touched.
	dbPath := filepath.Join(cfg.dataDir, "vpcsim.db")
	if err := privateDataDir(cfg.dataDir, dbPath); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := openedInsideData(cfg.dataDir, cfg.hostPaths); err != nil {
		return err
	}
	me := holder{PID: os.Getpid(), DataDir: cfg.dataDir, Listen: cfg.listen}
	if kernelDP {
		me.Prefix = cfg.netnsPrefix
	}
	dataLock, err := lockDataDir(cfg.dataDir, me)
	if err != nil {
		return err
	}
	defer dataLock.Close()
	if kernelDP {
		pl, err := lockPrefix(cfg.netnsPrefix, me)
		if err != nil {
			return err
		}
		defer pl.Close()
	}
	var hostPaths []hostpath.Root
	for _, d := range cfg.hostPaths {
		r, err := hostpath.NewRoot(d)
		if err != nil {
			return err
		}
		hostPaths = append(hostPaths, r)
	}

	if kernelDP {
		kopts := []hostnet.Option{hostnet.WithPrefix(cfg.netnsPrefix), hostnet.WithLogger(log), hostnet.WithFlowSink(flowSink), hostnet.WithInternet(cfg.publicRange)}
		if cfg.internetEgress {
			log.Warn("--internet-egress: what the VPCs send through their gateways leaves this machine, masqueraded behind its address")
			kopts = append(kopts, hostnet.WithInternetEgress())
		}
		k, err := hostnet.New(kopts...)
		if err != nil {
			return fmt.Errorf("kernel dataplane: %w (see `vpcsim doctor`)", err)
		}
		defer k.Close()
		for _, w := range k.Warnings() {
			log.Warn(w)
		}
		dp, kernel = k, k
	}

	db, err := storage.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	// ECS claims the namespaces of its bridge and none mode tasks in EC2's
	// model, so the start-up reconciliation keeps them; ECS follows EC2's
	// events on EC2's bus, and publishes its own there.
	cloudOpts := []ec2sim.Option{
		ec2sim.WithAccount(cfg.account), ec2sim.WithDefaultRegion(cfg.region), ec2sim.WithLogger(log), ec2sim.WithPublicRange(cfg.publicRange),
		ec2sim.WithDataDir(cfg.dataDir), ec2sim.WithHostPaths(hostPaths),
		ec2sim.WithQuotas(cfg.quotas), ec2sim.WithConnectPublic(cfg.connectPublic)}
	if cfg.checkImages {
		cloudOpts = append(cloudOpts, ec2sim.WithImageCheck())
	}
	if db.Fresh() {
		// A new database knows nothing of what is on the machine: what
		// carries the prefix may be another vpcsim's, or an earlier one's
		// whose database is gone. It is kept, and the user is told.
		cloudOpts = append(cloudOpts, ec2sim.WithStraysKept())
		if kernelDP {
			if left, _ := leftoversOf(cfg.netnsPrefix); len(left) > 0 {
				log.Warn("the database is new and the machine holds kernel objects of this namespace prefix that it does not know; "+
					"they are kept: run `vpcsim down` (with this --data-dir and VPCSIM_NETNS_PREFIX) to remove them", "database", dbPath, "prefix", cfg.netnsPrefix, "objects", len(left), "first", left[0])
			}
		}
	}
	if kernel != nil {
		// Another vpcsim (or anything) routing the range would take its
		// traffic: refused now rather than at the first public address.
		if err := kernel.EnsureInternet(ctx); err != nil {
			return fmt.Errorf("--public-cidr %s: %w", cfg.publicRange, err)
		}
	}
	cloud, err := ec2sim.New(ctx, db, dp, cloudOpts...)
	if err != nil {
		return err
	}
	flows.Store(cloud)
	defer cloud.FlushFlowLogs()
	defer cloud.Wait()
	for _, id := range cfg.connect {
		v, err := cloud.ConnectVPC(ctx, id, true)
		if err != nil {
			return fmt.Errorf("--connect %s: %w", id, err)
		}
		log.Info("connected", "vpc", v.ID, "cidr", v.CIDR, "host", ec2sim.ConnectAddr(v.CIDR))
	}
	// Containers need root, as the kernel dataplane does: with --dataplane none,
	// tasks go through their lifecycle without processes.
	var rt ecsapi.Runtime = ecsapi.NewNopRuntime()
	if cfg.dataplane == "kernel" {
		// vpcsim itself is the init of containers with initProcessEnabled,
		// and holds the PID namespace of pidMode task tasks.
		self, err := os.Executable()
		if err != nil {
			log.Warn("initProcessEnabled and pidMode task will fail: cannot find vpcsim's own executable", "err", err)
		}
		rtOpts := append(cfg.containerd.options(), ecsrt.WithInitBinary(self), ecsrt.WithLogger(log),
			ecsrt.WithHostPaths(hostPaths))
		crt, err := ecsrt.New(ctx, cfg.dataDir, append(rtOpts, cfg.containers.runtimeOptions()...)...)
		if err != nil {
			return fmt.Errorf("containers: %w (see `vpcsim doctor`)", err)
		}
		defer crt.Close() // after ecs.Close below: containers keep running
		rt = crt
	}
	netnsOf := func(host string) string { return hostnet.NetnsPathFor(cfg.netnsPrefix, host) }
	ecsOpts := []ecsapi.Option{ecsapi.WithLogger(log), ecsapi.WithNetnsPath(netnsOf), ecsapi.WithQuotas(cfg.quotas),
		ecsapi.WithServiceTimers(ecsapi.DefaultServiceTimers.Scaled(cfg.serviceTimerScale))}
	if cfg.dataplane == "kernel" {
		// Every awsvpc task finds its metadata endpoint at 169.254.170.2 in its own network.
		listen := func(host string) (net.Listener, error) {
			return hostnet.ListenIn(netnsOf(host), metadataAddr, metadataPort)
		}
		metaDoor, err := frontdoor.New(metadataPolicy(), frontdoor.Metadata, nil)
		if err != nil {
			return err
		}
		guard := func(h http.Handler) http.Handler { return metaDoor.Guard(h, taskmeta.FrontDoor{}) }
		endpoints := taskmeta.NewEndpoints(listen, guard, log)
		defer endpoints.Close() // after ecs.Close below: tasks go on running
		ecsOpts = append(ecsOpts, endpoints.Option(), ecsapi.WithTaskNetwork(taskNet{kernel}),
			ecsapi.WithLinkStats(linkStats))
	}
	ecs, err := ecsapi.New(ctx, db, cloud, rt, ecsOpts...)
	if err != nil {
		return err
	}
	defer ecs.Close()
	params, err := ssm.New(db, ssm.WithAccount(cfg.account), ssm.WithLogger(log))
	if err != nil {
		return err
	}

	// With access keys every EC2, STS, ECS, SSM and admin request must be signed
	// by one; the front door checks the signature's header before any body
	// is read, the protocols verify it with the body.
	var queryAuth []ec2query.Option
	var jsonAuth []ecsjson.Option
	var ssmAuth []ssmjson.Option
	var verifier sigv4.Verifier
	if len(cfg.accessKeys) > 0 {
		keys := sigv4.NewKeys(cfg.accessKeys)
		verifier = keys
		queryAuth, jsonAuth = append(queryAuth, ec2query.WithVerifier(keys)), append(jsonAuth, ecsjson.WithVerifier(keys))
		ssmAuth = append(ssmAuth, ssmjson.WithVerifier(keys))
		log.Info("SigV4 signatures are verified", "keys", len(cfg.accessKeys))
	}
	limits := frontdoor.DefaultAPI
	limits.MaxConns = connectionCap(cfg.maxConns, log)
	door, err := frontdoor.New(apiPolicy(cfg), limits, verifier)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	// Every AWS API is an entry of the router's table (package awsproto).
	api, err := awsproto.NewRouter(awsproto.Table{
		JSON: []awsproto.JSONAPI{
			{TargetPrefix: ecstypes.TargetPrefix, Handler: ecsjson.NewHandler(ecs, log, cfg.region, jsonAuth...), Door: ecsjson.FrontDoor{}},
			ssmjson.New(params, log, cfg.region, append(ssmAuth, ssmjson.WithMaxBody(limits.MaxBody))...).API(),
		},
		Query:   ec2query.APIs(cloud, log, queryAuth...),
		MaxBody: limits.MaxBody,
	}, door.Guard)
	if err != nil {
		return err
	}
	srv, limited := frontdoor.NewServer(ln, newMux(api, door.Guard(adminHandler(cloud, log, verifier), adminDoor{})), limits)
	log.Info("vpcsim serving", "endpoint", "http://"+ln.Addr().String(), "dataplane", cfg.dataplane, "data", cfg.dataDir, "account", cfg.account,
		"quotas", cfg.quotas.ProfileName())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limited) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Running instances stay as they are, as EC2 keeps them through an API outage.
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Tasks outlive vpcsim, as they outlive an ECS agent restart, unless asked.
	if cfg.stopTasksOnExit {
		stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		n, err := ecs.StopAll(stopCtx, "vpcsim stopped (--stop-tasks-on-exit)")
		log.Info("stopped the tasks", "tasks", n)
		if err != nil {
			return fmt.Errorf("--stop-tasks-on-exit: %w", err)
		}
	}
	log.Info("vpcsim stopped")
	return nil
}
