package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/client"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// Exit codes of the client commands, for scripts.
const (
	exitOK          = 0
	exitError       = 1 // anything not listed below
	exitUsage       = 2
	exitNotFound    = 3
	exitInvalid     = 4 // invalid argument / input
	exitUnavailable = 5 // server unreachable, not ready or draining
	exitDeadline    = 6
	exitAuth        = 7 // unauthenticated or permission denied
	exitExhausted   = 8 // rate limited or queue full
)

const clientUsage = `client commands (talk to a running server over gRPC):
  gokernels kernels list [--domain D] [--mode batch|ring]
  gokernels kernels info ID
  gokernels exec ID [-f input.json | -f - ]   (stdin when -f is omitted)
  gokernels health                             (exit 0 when ready)
  gokernels ring create|send|watch|get|list|delete ...   (see gokernels ring)

common flags: --addr (GOKERNELS_ADDR, default 127.0.0.1:50051) --api-key (GOKERNELS_API_KEY)
  --token (GOKERNELS_TOKEN) --tls --ca FILE --cert FILE --key FILE --insecure-skip-verify
  --timeout 30s --output json|table
exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 invalid input, 5 unavailable/not ready,
  6 deadline exceeded, 7 unauthenticated/permission denied, 8 rate limited/queue full
`

type clientFlags struct {
	fs     *flag.FlagSet
	opts   client.Options
	tls    bool
	output string
	// command-specific
	domain, mode, file string
}

func newClientFlags(name string) *clientFlags {
	f := &clientFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.Usage = func() { fmt.Fprint(os.Stderr, clientUsage) }
	addr := os.Getenv("GOKERNELS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:50051"
	}
	f.fs.StringVar(&f.opts.Addr, "addr", addr, "server gRPC address")
	f.fs.StringVar(&f.opts.APIKey, "api-key", os.Getenv("GOKERNELS_API_KEY"), "API key")
	f.fs.StringVar(&f.opts.Token, "token", os.Getenv("GOKERNELS_TOKEN"), "JWT bearer token")
	f.fs.BoolVar(&f.tls, "tls", false, "use TLS")
	f.fs.StringVar(&f.opts.CAFile, "ca", "", "PEM CA bundle to trust (implies --tls)")
	f.fs.StringVar(&f.opts.CertFile, "cert", "", "client certificate for mTLS (implies --tls)")
	f.fs.StringVar(&f.opts.KeyFile, "key", "", "client key for mTLS")
	f.fs.BoolVar(&f.opts.InsecureSkipVerify, "insecure-skip-verify", false, "TLS without verifying the server")
	f.fs.DurationVar(&f.opts.Timeout, "timeout", 30*time.Second, "deadline per call")
	f.fs.StringVar(&f.output, "output", "table", "json or table")
	return f
}

// parse accepts flags before and after positional arguments.
func (f *clientFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return nil, err
		}
		if f.fs.NArg() == 0 {
			break
		}
		pos = append(pos, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	if f.output != "json" && f.output != "table" {
		return nil, fmt.Errorf("--output must be json or table")
	}
	return pos, nil
}

func (f *clientFlags) dial() (*client.Client, error) {
	if f.tls && f.opts.CAFile == "" && f.opts.CertFile == "" && !f.opts.InsecureSkipVerify {
		f.opts.TLS = defaultTLS()
	}
	return client.Dial(context.Background(), f.opts)
}

// runClient handles the client subcommands; false for an unknown command.
func runClient(args []string) (int, bool) {
	switch args[0] {
	case "kernels":
		if len(args) < 2 {
			fmt.Fprint(os.Stderr, clientUsage)
			return exitUsage, true
		}
		switch args[1] {
		case "list":
			return cmdList(args[2:]), true
		case "info":
			return cmdInfo(args[2:]), true
		}
		fmt.Fprint(os.Stderr, clientUsage)
		return exitUsage, true
	case "exec":
		return cmdExec(args[1:]), true
	case "health":
		return cmdHealth(args[1:]), true
	case "ring":
		return cmdRing(args[1:]), true
	}
	return 0, false
}

func cmdList(args []string) int {
	f := newClientFlags("kernels list")
	f.fs.StringVar(&f.domain, "domain", "", "domain filter (graph, ml, GraphAnalytics, ...)")
	f.fs.StringVar(&f.mode, "mode", "", "batch or ring")
	if _, err := f.parse(args); err != nil {
		return exitUsage
	}
	c, err := f.dial()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	var all []*gokernelsv1.KernelInfo
	token := ""
	for {
		resp, err := c.Kernels.ListKernels(context.Background(), &gokernelsv1.ListKernelsRequest{
			Domain: f.domain, Mode: f.mode, PageSize: 500, PageToken: token})
		if err != nil {
			return fail(err)
		}
		all = append(all, resp.GetKernels()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if f.output == "json" {
		return printJSON(&gokernelsv1.ListKernelsResponse{Kernels: all, TotalCount: int32(len(all))})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tDOMAIN\tMODES\tBACKENDS")
	for _, k := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.GetId(), k.GetDomain(), strings.Join(k.GetModes(), ","), strings.Join(k.GetBackends(), ","))
	}
	w.Flush()
	return exitOK
}

func cmdInfo(args []string) int {
	f := newClientFlags("kernels info")
	pos, err := f.parse(args)
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: gokernels kernels info ID")
		return exitUsage
	}
	c, err := f.dial()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	resp, err := c.Kernels.GetKernel(context.Background(), &gokernelsv1.GetKernelRequest{KernelId: pos[0]})
	if err != nil {
		return fail(err)
	}
	k := resp.GetKernel()
	if f.output == "json" {
		return printJSON(k)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"id", k.GetId()}, {"domain", k.GetDomain()}, {"description", k.GetDescription()}, {"version", k.GetVersion()},
		{"modes", strings.Join(k.GetModes(), ",")}, {"backends", strings.Join(k.GetBackends(), ",")},
		{"input", k.GetInputType()}, {"output", k.GetOutputType()},
	} {
		fmt.Fprintf(w, "%s:\t%s\n", row[0], row[1])
	}
	w.Flush()
	return exitOK
}

func cmdExec(args []string) int {
	f := newClientFlags("exec")
	f.fs.StringVar(&f.file, "f", "-", "input JSON file; - for stdin")
	pos, err := f.parse(args)
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: gokernels exec ID [-f input.json]")
		return exitUsage
	}
	var in io.Reader = os.Stdin
	if f.file != "-" {
		file, err := os.Open(f.file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gokernels:", err)
			return exitUsage
		}
		defer file.Close()
		in = file
	}
	body, err := io.ReadAll(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gokernels:", err)
		return exitUsage
	}
	// Accept either the bare input object or a whole request body
	// {"kernel_id", "input", "metadata"} as REST clients write it.
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil {
		if inner, ok := probe["input"]; ok {
			if _, hasID := probe["kernel_id"]; hasID {
				body = inner
			}
		}
	}
	c, err := f.dial()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	resp, err := c.ExecuteJSON(context.Background(), pos[0], body, nil)
	if err != nil {
		return fail(err)
	}
	if f.output == "json" {
		return printJSON(resp)
	}
	out, _ := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp.GetOutput())
	fmt.Println(string(out))
	md := resp.GetMetadata()
	fmt.Fprintf(os.Stderr, "request %s: %s on %s in %dµs (queued %dµs)\n", resp.GetRequestId(), resp.GetKernelId(), md.GetBackend(), md.GetDurationUs(), md.GetQueueUs())
	return exitOK
}

func cmdHealth(args []string) int {
	f := newClientFlags("health")
	f.opts.MaxRetries = -1 // a probe answers now, not after retries
	if _, err := f.parse(args); err != nil {
		return exitUsage
	}
	c, err := f.dial()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Health.Ready(ctx, &gokernelsv1.ReadyRequest{}); err != nil {
		return fail(err)
	}
	resp, err := c.Health.Check(ctx, &gokernelsv1.CheckRequest{})
	if err != nil {
		return fail(err)
	}
	if f.output == "json" {
		printJSON(resp)
	} else {
		fmt.Printf("%s (version %s, up %.0fs)\n", resp.GetStatus(), resp.GetVersion(), resp.GetUptimeSeconds())
		for name, comp := range resp.GetComponents() {
			fmt.Printf("  %-10s %s %s\n", name, comp.GetStatus(), comp.GetMessage())
		}
	}
	if resp.GetStatus() == "unhealthy" {
		return exitUnavailable
	}
	return exitOK
}

func printJSON(m proto.Message) int {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(m)
	if err != nil {
		return fail(err)
	}
	fmt.Println(string(b))
	return exitOK
}

// fail prints the error and maps its gRPC code to an exit code.
func fail(err error) int {
	st, ok := status.FromError(err)
	if !ok {
		fmt.Fprintln(os.Stderr, "gokernels:", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return exitDeadline
		}
		return exitError
	}
	fmt.Fprintf(os.Stderr, "gokernels: %s: %s\n", st.Code(), st.Message())
	for _, d := range st.Details() {
		if m, ok := d.(proto.Message); ok {
			b, _ := protojson.Marshal(m)
			fmt.Fprintf(os.Stderr, "  %s\n", b)
		}
	}
	switch st.Code() {
	case codes.NotFound:
		return exitNotFound
	case codes.InvalidArgument, codes.FailedPrecondition, codes.Unimplemented:
		return exitInvalid
	case codes.Unavailable:
		return exitUnavailable
	case codes.DeadlineExceeded:
		return exitDeadline
	case codes.Unauthenticated, codes.PermissionDenied:
		return exitAuth
	case codes.ResourceExhausted:
		return exitExhausted
	}
	return exitError
}
