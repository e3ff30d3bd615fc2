// Command benchkernels times one kernel of the catalog on a JSON input file,
// the way the server runs it, for the reference-library benchmarks in
// scripts/bench (docs/benchmarks.md).
//
// The input file holds an Execute request's "input" object. One repetition
// measures, in milliseconds:
//
//	read      os.ReadFile of the input
//	decode    jsoninput.Decode into the kernel's typed input message
//	validate  protovalidate (Kernel.Validate)
//	run       the kernel on the typed input (Kernel.RunCPU): what the server
//	          spends once the request is decoded; for graph kernels this
//	          includes building the CSR graph from the edge list
//	run_cpu   CPU time (user + system, all threads) spent during run
//	e2e       read + decode + validate + run
//	prep      (graph kernels) building the kernel's graph structure alone
//	core      (graph kernels) the algorithm on a prebuilt structure, i.e.
//	          run without the CSR construction
//
// Usage:
//
//	benchkernels -kernel graph/pagerank -input in.json -reps 5
//	    prints {"kernel": ..., "reps": 5, "min": {...}, "median": {...}, "samples": [...]}
//	benchkernels -kernel graph/pagerank -input in.json -reps 5 -cpuprofile cpu.out
//	    the same, writing a CPU profile of the timed repetitions
//	benchkernels -kernel graph/pagerank -input in.json -serve
//	    reads commands from stdin, one per line, and answers each with one
//	    JSON line: "run" times the request path (read, decode, validate,
//	    run, e2e); "kernel" times run, prep and core on the input the last
//	    "run" decoded; "output PATH" writes the kernel's last output as JSON
//	    (proto field names); "quit" exits. A driver
//	    uses this to interleave our repetitions with a reference library's
//	    in the same run.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/graph/metrics"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func main() {
	kernelID := flag.String("kernel", "", "kernel id, e.g. graph/pagerank")
	input := flag.String("input", "", "JSON file holding the Execute input object")
	reps := flag.Int("reps", 5, "timed repetitions (standalone mode)")
	warmup := flag.Int("warmup", 1, "untimed repetitions first (standalone mode)")
	serve := flag.Bool("serve", false, "read run/output/quit commands from stdin")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the repetitions to this file")
	flag.Parse()
	if *kernelID == "" || *input == "" {
		fmt.Fprintln(os.Stderr, "usage: benchkernels -kernel ID -input FILE [-reps N] [-warmup N] [-serve]")
		os.Exit(2)
	}
	b, err := newBench(*kernelID, *input)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchkernels:", err)
		os.Exit(1)
	}
	if *serve {
		if err := b.serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "benchkernels:", err)
			os.Exit(1)
		}
		return
	}
	for i := 0; i < *warmup; i++ {
		if _, err := b.rep(); err != nil {
			fmt.Fprintln(os.Stderr, "benchkernels:", err)
			os.Exit(1)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchkernels:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "benchkernels:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var samples []sample
	for i := 0; i < *reps; i++ {
		s, err := b.rep()
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchkernels:", err)
			os.Exit(1)
		}
		samples = append(samples, s)
	}
	out := map[string]any{
		"kernel":     *kernelID,
		"input":      *input,
		"reps":       len(samples),
		"gomaxprocs": runtime.GOMAXPROCS(0),
		"min":        summarize(samples, func(v []float64) float64 { return v[0] }),
		"median":     summarize(samples, median),
		"samples":    samples,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// sample is one repetition's phase times in milliseconds (absent phases are
// omitted).
type sample map[string]float64

type bench struct {
	kernel *registry.Kernel
	path   string
	// core, when set, splits the kernel into the structure it builds from
	// the input (prep, e.g. the CSR graph) and the algorithm on it.
	core func(ctx context.Context, in proto.Message) (prep, run func() error)
	in   proto.Message // the last decoded input, for "kernel"
	last proto.Message // the last output, for "output"
}

func newBench(id, path string) (*bench, error) {
	reg, err := catalog.New()
	if err != nil {
		return nil, err
	}
	k, ok := reg.Get(id)
	if !ok {
		return nil, fmt.Errorf("unknown kernel %q", id)
	}
	if !k.SupportsBatch() {
		return nil, fmt.Errorf("kernel %s is not a batch kernel", id)
	}
	return &bench{kernel: k, path: path, core: cores[id]}, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// cpuTime is the process's user + system CPU time so far (all threads, the
// garbage collector's included). On a shared machine run_cpu / GOMAXPROCS
// is what "run" would take on idle cores if the work parallelised perfectly.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rep runs one repetition of every phase: the request path (read, decode,
// validate, run) and, for the graph kernels, prep + core.
func (b *bench) rep() (sample, error) {
	s, err := b.request()
	if err != nil {
		return nil, err
	}
	if err := b.split(s); err != nil {
		return nil, err
	}
	return s, nil
}

// request times the request path: read, decode, validate, run, e2e. It keeps
// the decoded input for kernel.
func (b *bench) request() (sample, error) {
	ctx := context.Background()
	t0 := time.Now()
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	in := b.kernel.NewInput()
	if err := jsoninput.Decode(data, in); err != nil {
		return nil, err
	}
	t2 := time.Now()
	if err := b.kernel.Validate(in); err != nil {
		return nil, err
	}
	t3 := time.Now()
	c0 := cpuTime()
	out, err := b.kernel.RunCPU(ctx, in)
	if err != nil {
		return nil, err
	}
	t4 := time.Now()
	c1 := cpuTime()
	b.in, b.last = in, out
	return sample{"read": ms(t1.Sub(t0)), "decode": ms(t2.Sub(t1)), "validate": ms(t3.Sub(t2)),
		"run": ms(t4.Sub(t3)), "run_cpu": ms(c1 - c0), "e2e": ms(t4.Sub(t0))}, nil
}

// kernel times run (and prep + core) on the input the last request decoded.
func (b *bench) kernelOnly() (sample, error) {
	if b.in == nil {
		if _, err := b.request(); err != nil {
			return nil, err
		}
	}
	t0, c0 := time.Now(), cpuTime()
	out, err := b.kernel.RunCPU(context.Background(), b.in)
	if err != nil {
		return nil, err
	}
	s := sample{"run": ms(time.Since(t0)), "run_cpu": ms(cpuTime() - c0)}
	b.last = out
	if err := b.split(s); err != nil {
		return nil, err
	}
	return s, nil
}

// split adds prep and core for the kernels that have them.
func (b *bench) split(s sample) error {
	if b.core == nil {
		return nil
	}
	ctx := context.Background()
	prep, run := b.core(ctx, b.in)
	t0 := time.Now()
	if err := prep(); err != nil {
		return err
	}
	t1 := time.Now()
	if err := run(); err != nil {
		return err
	}
	s["prep"], s["core"] = ms(t1.Sub(t0)), ms(time.Since(t1))
	return nil
}

func (b *bench) serve(r *os.File, w *os.File) error {
	sc := bufio.NewScanner(r)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch cmd {
		case "":
		case "run", "kernel":
			f := b.request
			if cmd == "kernel" {
				f = b.kernelOnly
			}
			s, err := f()
			if err != nil {
				return err
			}
			if err := enc.Encode(s); err != nil {
				return err
			}
		case "output":
			if b.last == nil {
				if _, err := b.request(); err != nil {
					return err
				}
			}
			data, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(b.last)
			if err != nil {
				return err
			}
			if err := os.WriteFile(arg, data, 0o644); err != nil {
				return err
			}
			if err := enc.Encode(map[string]string{"output": arg}); err != nil {
				return err
			}
		case "quit":
			return nil
		default:
			return fmt.Errorf("unknown command %q (want run, output PATH or quit)", cmd)
		}
	}
	return sc.Err()
}

func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// summarize applies f to each phase's sorted sample values.
func summarize(samples []sample, f func([]float64) float64) sample {
	keys := map[string]bool{}
	for _, s := range samples {
		for k := range s {
			keys[k] = true
		}
	}
	out := sample{}
	for k := range keys {
		var v []float64
		for _, s := range samples {
			if x, ok := s[k]; ok {
				v = append(v, x)
			}
		}
		sort.Float64s(v)
		out[k] = f(slices.Clip(v))
	}
	return out
}

func orDefault[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

// cores split the graph kernels the benchmarks compare with igraph into
// graph construction and algorithm, with the kernel's defaults.
var cores = map[string]func(ctx context.Context, in proto.Message) (prep, run func() error){
	"graph/betweenness-centrality": func(ctx context.Context, m proto.Message) (func() error, func() error) {
		in := m.(*graphv1.BetweennessCentralityInput)
		var g graphHolder
		return g.build(ctx, in), func() error {
			_, err := centrality.Betweenness(ctx, g.g, orDefault(in.Normalized, true))
			return err
		}
	},
	"graph/pagerank": func(ctx context.Context, m proto.Message) (func() error, func() error) {
		in := m.(*graphv1.PageRankInput)
		var g graphHolder
		return g.build(ctx, in), func() error {
			_, err := centrality.PageRank(ctx, g.g, orDefault(in.Damping, 0.85), int(orDefault(in.MaxIterations, 100)), orDefault(in.Tolerance, 1e-6))
			return err
		}
	},
	"graph/connected-components": func(ctx context.Context, m proto.Message) (func() error, func() error) {
		in := m.(*graphv1.ConnectedComponentsInput)
		if in.GetDirected() {
			var g graphHolder
			return g.build(ctx, in), func() error {
				if _, err := components.Weak(ctx, g.g); err != nil {
					return err
				}
				_, err := components.Strong(ctx, g.g)
				return err
			}
		}
		// The kernel runs union-find on the edge list: no CSR.
		var src, dst []int32
		return func() (err error) {
				src, dst, err = graphinput.EdgesOf(ctx, in)
				return err
			}, func() error {
				_, err := components.WeakEdges(ctx, int(in.GetNumNodes()), src, dst)
				return err
			}
	},
	"graph/triangle-counting": func(ctx context.Context, m proto.Message) (func() error, func() error) {
		in := m.(*graphv1.TriangleCountingInput)
		var g graphHolder
		return func() (err error) {
				g.g, err = graphinput.UndirectedView(ctx, in)
				return err
			}, func() error {
				_, _, err := metrics.Triangles(ctx, g.g)
				return err
			}
	},
}

type graphHolder struct{ g *csr.Graph }

func (h *graphHolder) build(ctx context.Context, in graphinput.Fields) func() error {
	return func() (err error) {
		h.g, err = graphinput.FromInput(ctx, in)
		return err
	}
}
