package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/frontdoor"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// config is what serve is told by flags and VPCSIM_* environment variables;
// a flag given wins over the variable.
type config struct {
	listen      string
	dataDir     string
	region      string
	account     string
	dataplane   string
	netnsPrefix string
	containerd  containerdFlags
	connect     []string
	// stopTasksOnExit stops every task when serve ends on SIGTERM or SIGINT;
	// by default they keep running, as tasks outlive an ECS agent restart.
	stopTasksOnExit bool
	// accessKeys (access key ID → secret) turns SigV4 verification on; it is
	// required when listen is not a loopback address.
	accessKeys map[string]string
	// hostPaths are the directories the operator opened to the API
	// (--host-path): absolute, without symbolic links, existing.
	hostPaths  []string
	containers containerConfig
	// allowedHosts and allowedOrigins widen who may drive the API beyond this
	// machine's loopback names and non-browser clients (see apiPolicy);
	// serviceTimerScale multiplies the ECS service scheduler's waits
	// (ecsapi.ServiceTimers): tests shorten ECS's minutes to seconds.
	serviceTimerScale float64
	// maxConns caps the API's connections.
	allowedHosts, allowedOrigins []string
	maxConns                     int
	// quotas bound what callers can make (--quotas, --quota).
	quotas quota.Limits
	// connectPublic lets vpcsim connect route VPCs beyond the private ranges.
	connectPublic bool
	// publicRange is vpcsim's internet: public and Elastic IPs come from it,
	// and the machine holds its first address (--public-cidr).
	publicRange netip.Prefix
	// internetEgress lets the VPCs' traffic beyond the machine out,
	// masqueraded (--internet-egress).
	internetEgress bool
	// checkImages makes RunInstances refuse unknown images (--check-images).
	checkImages bool
}

func parseServeFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", env("VPCSIM_LISTEN", "127.0.0.1:4566"), "address of the API endpoint")
	fs.StringVar(&c.dataDir, "data-dir", env("VPCSIM_DATA_DIR", defaultDataDir()), "directory of the SQLite database and runtime state")
	fs.StringVar(&c.region, "region", env("VPCSIM_REGION", "us-east-1"), "region of requests that carry no SigV4 scope")
	fs.StringVar(&c.account, "account", env("VPCSIM_ACCOUNT", "000000000000"), "account ID of every resource")
	fs.StringVar(&c.dataplane, "dataplane", env("VPCSIM_DATAPLANE", "kernel"), "kernel: real namespaces, bridges and veths (needs root); none: the API alone")
	fs.StringVar(&c.netnsPrefix, "netns-prefix", netnsPrefix(), "prefix of the namespaces vpcsim makes (tests keep theirs apart with it)")
	c.containerd.add(fs)
	fs.BoolVar(&c.stopTasksOnExit, "stop-tasks-on-exit", envBool("VPCSIM_STOP_TASKS_ON_EXIT"), "stop every task on SIGTERM or SIGINT (by default tasks keep running, as through an ECS agent restart)")
	connect := fs.String("connect", env("VPCSIM_CONNECT", ""), "comma-separated VPC IDs to route this machine into at start (see `vpcsim connect`)")
	fs.BoolVar(&c.connectPublic, "connect-public", envBool("VPCSIM_CONNECT_PUBLIC"), "let `vpcsim connect` route VPCs outside 10/8, 172.16/12, 192.168/16 and 100.64/10 (addresses someone else has on the internet)")
	publicCIDR := fs.String("public-cidr", env("VPCSIM_PUBLIC_CIDR", ec2sim.DefaultPublicRange.String()), "vpcsim's internet: the range public and Elastic IPs come from (this machine holds its first address); servers on one machine need ranges of their own")
	fs.BoolVar(&c.internetEgress, "internet-egress", envBool("VPCSIM_INTERNET_EGRESS"), "let what instances and tasks send through internet and NAT gateways beyond this machine out, masqueraded behind its address (turns the machine's IPv4 forwarding on); off by default: the internet is this machine")
	fs.BoolVar(&c.checkImages, "check-images", envBool("VPCSIM_CHECK_IMAGES"), "RunInstances refuses an image that is neither in the built-in catalogue nor registered (InvalidAMIID.NotFound), as EC2 does; off by default, so that tests may name made-up AMIs")
	profile := fs.String("quotas", env("VPCSIM_QUOTAS", quota.ProfileLocal), "bounds on resources: local (protect this machine) or aws (a fresh AWS account's default quotas)")
	overrides := fs.String("quota", env("VPCSIM_QUOTA", ""), "NAME=N[,NAME=N...]: set single quotas on top of --quotas (see the README's table)")
	// Its variable is read after Parse, not as the default: -h prints defaults.
	keyList := fs.String("access-keys", "", "AKID:SECRET[,AKID:SECRET...]: verify every request's SigV4 signature against these keys (required beyond loopback; also VPCSIM_ACCESS_KEYS)")
	keyFile := fs.String("access-keys-file", env("VPCSIM_ACCESS_KEYS_FILE", ""), "file of one AKID:SECRET a line (mode 0600), instead of secrets on the command line")
	hostPaths := envList("VPCSIM_HOST_PATHS", string(os.PathListSeparator))
	fs.Var(hostPaths, "host-path", "a directory the API may name host files in: `file` flow log destinations, local environmentFiles, host volumes' sourcePath (repeatable; also VPCSIM_HOST_PATHS, colon-separated)")
	addContainerFlags(fs, &c.containers)
	hosts, origins := envList("VPCSIM_ALLOWED_HOSTS", ","), envList("VPCSIM_ALLOWED_ORIGINS", ",")
	fs.Var(hosts, "allowed-host", "a `NAME` or address clients reach the API by, besides localhost, 127.0.0.0/8, ::1 and the --listen address (repeatable)")
	fs.Var(origins, "allowed-origin", "an `ORIGIN` (scheme://host[:port]) whose web pages may call the API (repeatable; by default none may)")
	timerScale := fs.String("service-timer-scale", env("VPCSIM_SERVICE_TIMER_SCALE", "1"), "multiply the ECS service scheduler's waits by this (0.001 to 1; e.g. 0.01 makes the 15-minute retry cap 9 s); the API still reports what was configured")
	maxConns := fs.String("max-connections", env("VPCSIM_MAX_CONNECTIONS", strconv.Itoa(frontdoor.DefaultAPI.MaxConns)), "most connections the API holds at once (idle ones are closed for new ones)")
	if err := fs.Parse(args); err != nil {
		return c, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if abs, err := filepath.Abs(c.dataDir); err == nil {
		c.dataDir = abs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := c.containers.withEnvironment(set); err != nil {
		return c, usageError{err.Error()}
	}
	quotas, err := quota.Parse(*profile, *overrides)
	if err != nil {
		return c, usageError{"--quotas/--quota: " + err.Error()}
	}
	c.quotas = quotas
	if c.publicRange, err = parsePublicRange(*publicCIDR); err != nil {
		return c, usageError{"--public-cidr: " + err.Error()}
	}
	for _, id := range strings.Split(*connect, ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.connect = append(c.connect, id)
		}
	}
	switch c.dataplane {
	case "kernel", "none":
	default:
		return c, usageError{fmt.Sprintf("--dataplane must be kernel or none, not %q", c.dataplane)}
	}
	c.allowedHosts, c.allowedOrigins = hosts.values, origins.values
	if c.maxConns, err = strconv.Atoi(*maxConns); err != nil || c.maxConns < 1 {
		return c, usageError{fmt.Sprintf("--max-connections must be a positive number, not %q", *maxConns)}
	}
	if c.serviceTimerScale, err = strconv.ParseFloat(*timerScale, 64); err != nil || !(c.serviceTimerScale >= 0.001 && c.serviceTimerScale <= 1) {
		return c, usageError{fmt.Sprintf("--service-timer-scale must be a number from 0.001 to 1, not %q", *timerScale)}
	}
	if _, err := frontdoor.New(apiPolicy(c), frontdoor.DefaultAPI, nil); err != nil {
		return c, usageError{err.Error()}
	}
	if len(c.account) != 12 || strings.Trim(c.account, "0123456789") != "" {
		return c, usageError{fmt.Sprintf("--account must be 12 digits, not %q", c.account)}
	}
	if *keyList == "" {
		*keyList = os.Getenv("VPCSIM_ACCESS_KEYS")
	}
	keys, err := parseAccessKeys(*keyList, *keyFile)
	if err != nil {
		return c, usageError{err.Error()}
	}
	c.accessKeys = keys
	if c.hostPaths, err = checkHostPaths(hostPaths.values); err != nil {
		return c, usageError{err.Error()}
	}
	// Beyond loopback anyone who reaches the port could run containers as
	// root: serve refuses before it opens anything.
	if len(keys) == 0 && !isLoopback(c.listen) {
		return c, usageError{fmt.Sprintf("--listen %s is reachable from other machines, and there vpcsim serves only requests signed with SigV4 by known keys: "+
			"give them with --access-keys AKID:SECRET or --access-keys-file FILE (VPCSIM_ACCESS_KEYS, VPCSIM_ACCESS_KEYS_FILE), or listen on 127.0.0.1", c.listen)}
	}
	return c, nil
}

// checkHostPaths resolves the --host-path directories: each must be an
// absolute path of an existing directory. Symbolic links in the operator's
// own path are resolved here, once, so that what the API names is compared
// with the real directory.
func checkHostPaths(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("--host-path %s: must be an absolute path", d)
		}
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			return nil, fmt.Errorf("--host-path %s: %w", d, err)
		}
		if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--host-path %s: not a directory", d)
		}
		out = append(out, real)
	}
	return out, nil
}

// listFlag is a repeatable flag whose default is an environment variable
// that lists values with sep between them; given once, the flag replaces the
// variable's list. Each value may itself be such a list.
type listFlag struct {
	values []string
	sep    string
	set    bool
}

func envList(name, sep string) *listFlag {
	l := &listFlag{sep: sep}
	l.add(os.Getenv(name))
	return l
}

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.values, l.sep)
}

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	l.add(v)
	return nil
}

func (l *listFlag) add(v string) {
	for _, s := range strings.Split(v, l.sep) {
		if s = strings.TrimSpace(s); s != "" {
			l.values = append(l.values, s)
		}
	}
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// envBool reads a boolean variable as flag does (1, t, true, ...); anything
// else, or nothing, is false.
func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// containerdFlags say which containerd holds vpcsim's containers and images:
// serve, image and down read them alike.
type containerdFlags struct {
	address   string // "": vpcsim's own, under the data directory
	namespace string
}

func (c *containerdFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&c.address, "containerd-address", env("VPCSIM_CONTAINERD_ADDRESS", ""), "socket of an existing containerd to use instead of vpcsim's own")
	fs.StringVar(&c.namespace, "containerd-namespace", env("VPCSIM_CONTAINERD_NAMESPACE", ecsrt.DefaultNamespace),
		"containerd namespace of vpcsim's containers and images (vpcsims that share one containerd each need their own)")
}

// options are the runtime's options for these flags.
func (c containerdFlags) options() []ecsrt.Option {
	return []ecsrt.Option{ecsrt.WithContainerdAddress(c.address), ecsrt.WithNamespace(c.namespace)}
}

// netnsPrefix is shared by serve and exec, so exec finds what serve made.
func netnsPrefix() string { return env("VPCSIM_NETNS_PREFIX", "vs-") }

// defaultDataDir is /var/lib/vpcsim for root, else $XDG_DATA_HOME/vpcsim.
func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/vpcsim"
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "vpcsim")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "vpcsim")
}

// parsePublicRange checks --public-cidr: an IPv4 range of at least a /24,
// given by its network address.
func parsePublicRange(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	switch {
	case err != nil || !p.Addr().Is4():
		return p, fmt.Errorf("%q is not an IPv4 CIDR block", v)
	case p.Bits() > 24:
		return p, fmt.Errorf("%s is smaller than a /24", p)
	case p != p.Masked():
		return p, fmt.Errorf("%s is not a network address (%s?)", p, p.Masked())
	case !ec2sim.DefaultPublicRange.Contains(p.Addr()):
		// Any other range is someone's on the internet: this machine would
		// stop reaching them.
		return p, fmt.Errorf("%s is outside %s (RFC 2544, reserved for testing)", p, ec2sim.DefaultPublicRange)
	}
	return p, nil
}
