// Command vpcsim makes a Linux machine behave like an AWS VPC with ECS on it:
// it serves the EC2 and ECS APIs on one local endpoint, and every subnet, ENI
// and instance it reports is a real kernel object.
//
//	vpcsim [serve] [flags]                    serve the API (the default)
//	vpcsim doctor                             what the kernel dataplane needs, and what is missing
//	vpcsim down                               remove every kernel object vpcsim made
//	vpcsim exec INSTANCE-ID -- CMD ARGS...    run a command inside an instance's network
//	vpcsim image import FILE | image ls       images for tasks, on machines without a registry
//	vpcsim logs TASK [CONTAINER] [-f]         what a task's containers print
//	vpcsim connect|disconnect VPC-ID          route this machine into a VPC, or stop
//	vpcsim sg explain ENI-ID --from IP --port N   which security group rule admits, or why none
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vpcsim/vpcsim/ecsapi/runtime/initproc"
)

func main() {
	// `vpcsim init -- CMD ...` (not in the usage: the runtime runs it) is PID 1
	// of containers with initProcessEnabled; it handles every signal itself.
	if len(os.Args) > 1 && os.Args[1] == initproc.Command {
		os.Exit(initproc.Run(os.Args[2:]))
	}
	// `vpcsim pause DIR` (not in the usage: the runtime runs it) is PID 1 of
	// the PID namespace of a task whose pidMode is task.
	if len(os.Args) > 1 && os.Args[1] == initproc.PauseCommand {
		os.Exit(initproc.Pause(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "vpcsim:", err)
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "vpcsim:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  vpcsim [serve] [--listen ADDR] [--data-dir DIR] [--region R] [--account ID] [--dataplane kernel|none]
  vpcsim doctor
  vpcsim down
  vpcsim exec INSTANCE-ID|TASK -- CMD [ARGS...]
  vpcsim image import FILE | image ls
  vpcsim logs TASK [CONTAINER] [-f]
  vpcsim connect VPC-ID | disconnect VPC-ID
  vpcsim sg explain ENI-ID --from IP --port N [--proto tcp|udp|icmp|all]
Every flag also reads an environment variable: VPCSIM_LISTEN, VPCSIM_DATA_DIR, ...
`

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "doctor":
		return doctor(os.Stdout)
	case "down":
		return down(ctx, args, os.Stdout)
	case "exec":
		return execIn(args)
	case "image":
		return imageCmd(ctx, args, os.Stdout)
	case "logs":
		return logsCmd(ctx, args, os.Stdout)
	case "connect", "disconnect":
		return connectCmd(args, cmd == "connect", os.Stdout)
	case "sg":
		return sgCmd(args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
