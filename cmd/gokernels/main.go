// Command gokernels serves the kernel catalog over gRPC and REST, and is the
// command-line client for such a server.
//
//	gokernels serve [flags]     start the server (see --help for every flag)
//	gokernels config print      show the effective configuration
//	gokernels version           print the version
//	gokernels kernels list|info, exec, health   client commands (see usage)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gokernels/gokernels/server/observe"

	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: gokernels <command> [flags]

commands:
  serve            start the server (REST + gRPC on :8080, gRPC on :50051)
  config print     show the effective configuration (secrets redacted)
  version          print the version

`+clientUsage)
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "config":
		if len(args) < 2 || args[1] != "print" {
			fmt.Fprintln(os.Stderr, "usage: gokernels config print [serve flags]")
			return 2
		}
		cfg, err := config.Load(args[2:], os.Getenv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gokernels: invalid configuration:", err)
			return 2
		}
		fmt.Print(cfg.Print())
		return 0
	case "docs-config":
		// Prints the README configuration table (make docs).
		fmt.Print(config.MarkdownTable())
		return 0
	case "version", "--version":
		fmt.Println(observe.Version)
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	}
	if code, ok := runClient(args); ok {
		return code
	}
	fmt.Fprintf(os.Stderr, "gokernels: unknown command %q\n", args[0])
	usage()
	return 2
}

func serve(args []string) int {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gokernels: invalid configuration:", err)
		return 2
	}
	log := server.NewLogger(cfg, os.Stderr)
	server.RouteLibraryLogs(log)
	reg, err := catalog.New()
	if err != nil {
		log.Error("kernel registration failed", "error", err)
		return 1
	}
	opts, err := backendOptions(cfg, log, reg)
	if err != nil {
		log.Error("backend setup failed", "error", err)
		return 1
	}
	opts.Logger = log
	srv, err := server.New(cfg, reg, opts)
	if err != nil {
		log.Error("server setup failed", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := srv.Start(); err != nil {
		log.Error("start failed", "error", err)
		return 1
	}
	select {
	case <-ctx.Done():
		stop() // a second signal kills the process the default way
		// A drain whose timeout ran out has logged what it cut and still
		// exits 0 (README, Drain): the shutdown itself went as configured.
		var cut *server.DrainTimeoutError
		if err := srv.Shutdown(); err != nil && !errors.As(err, &cut) {
			log.Error("shutdown", "error", err)
			return 1
		}
		return 0
	case err := <-srv.Errors():
		log.Error("listener failed", "error", err)
		srv.Close()
		return 1
	}
}
