package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
)

// containerConfig is what the operator opens or bounds for containers: the
// flags that widen their confinement, and their limits.
type containerConfig struct {
	insecureRegistries  *listFlag // HOST[:PORT], pulled over plain HTTP or from loopback
	hostDevices         *listFlag // host devices linuxParameters.devices may map
	allowHostNamespaces bool      // pidMode/ipcMode host may share this machine's
	taskPidsLimit       int64
	logMaxSize          int64
}

// addContainerFlags declares the container flags of serve on fs; their
// variables are read after Parse (see parsed).
func addContainerFlags(fs *flag.FlagSet, c *containerConfig) {
	c.taskPidsLimit = ecsrt.DefaultTaskPidsLimit
	c.logMaxSize = ecsrt.DefaultLogMaxSize
	c.insecureRegistries, c.hostDevices = envList("VPCSIM_INSECURE_REGISTRIES", ","), envList("VPCSIM_HOST_DEVICES", ",")
	fs.Var(c.insecureRegistries, "insecure-registry", "HOST[:PORT] of a registry that may be pulled from over plain HTTP or without a verified certificate, or on this machine's loopback (repeatable; also VPCSIM_INSECURE_REGISTRIES, comma-separated)")
	fs.Var(c.hostDevices, "host-device", "PATH of a host device (or a directory of them) that task definitions' linuxParameters.devices may map into containers (repeatable; also VPCSIM_HOST_DEVICES, comma-separated)")
	fs.BoolVar(&c.allowHostNamespaces, "allow-host-namespaces", envBool("VPCSIM_ALLOW_HOST_NAMESPACES"), "let tasks with pidMode or ipcMode host share this machine's process or IPC namespace")
	fs.Func("task-pids-limit", fmt.Sprintf("most processes of one task's containers together; 0: no limit (default %d; also VPCSIM_TASK_PIDS_LIMIT)", ecsrt.DefaultTaskPidsLimit), func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("not a number of processes: %q", v)
		}
		c.taskPidsLimit = n
		return nil
	})
	fs.Func("container-log-max-size", "size at which a container's log file is rotated (one older file is kept), e.g. 10m (the default), 512k, 1g (also VPCSIM_CONTAINER_LOG_MAX_SIZE)", func(v string) error {
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		c.logMaxSize = n
		return nil
	})
}

// withEnvironment fills in from VPCSIM_* what the flags left unset; a flag
// given wins over its variable.
func (c *containerConfig) withEnvironment(set map[string]bool) error {
	if v := os.Getenv("VPCSIM_TASK_PIDS_LIMIT"); v != "" && !set["task-pids-limit"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("VPCSIM_TASK_PIDS_LIMIT: not a number of processes: %q", v)
		}
		c.taskPidsLimit = n
	}
	if v := os.Getenv("VPCSIM_CONTAINER_LOG_MAX_SIZE"); v != "" && !set["container-log-max-size"] {
		n, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("VPCSIM_CONTAINER_LOG_MAX_SIZE: %w", err)
		}
		c.logMaxSize = n
	}
	for _, d := range c.hostDevices.values {
		if !strings.HasPrefix(d, "/") {
			return fmt.Errorf("--host-device %s: give an absolute path", d)
		}
	}
	for _, r := range c.insecureRegistries.values {
		if strings.Contains(r, "/") {
			return fmt.Errorf("--insecure-registry %s: give HOST or HOST:PORT, without a scheme or path", r)
		}
	}
	return nil
}

// runtimeOptions are the runtime's options for this configuration.
func (c containerConfig) runtimeOptions() []ecsrt.Option {
	return []ecsrt.Option{
		ecsrt.WithInsecureRegistries(c.insecureRegistries.values...), ecsrt.WithHostDevices(c.hostDevices.values...),
		ecsrt.WithHostNamespaces(c.allowHostNamespaces), ecsrt.WithTaskPidsLimit(c.taskPidsLimit),
		ecsrt.WithLogMaxSize(c.logMaxSize),
	}
}

// parseSize reads a size as Docker's --log-opt max-size does: bytes, or a
// number with k, m or g (KiB, MiB, GiB).
func parseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k':
			mult, s = 1<<10, s[:len(s)-1]
		case 'm':
			mult, s = 1<<20, s[:len(s)-1]
		case 'g':
			mult, s = 1<<30, s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size: %q (bytes, or a number with k, m or g)", v)
	}
	return n * mult, nil
}
