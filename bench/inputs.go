package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// workload is one kernel and its input, sent identically to every target.
type workload struct {
	Name   string // short name for tables
	Kernel string // registry id
	Nodes  int
	Edges  [][2]int
	NC1    int // requests at concurrency 1
	NHigh  int // requests at concurrency 16 and 64

	grpcReq  []byte // marshalled gokernels.v1.ExecuteRequest (input as a Struct)
	typedReq []byte // the same with typed_input (binary, no Struct)
	restBody []byte // POST /execute JSON body
}

// workloads: the cheapest kernel (degree centrality, 10 nodes) and a
// mid-size one (betweenness, 1,000 nodes).
func workloads(scale float64) []*workload {
	ring := [][2]int{}
	for i := 0; i < 10; i++ {
		ring = append(ring, [2]int{i, (i + 1) % 10})
	}
	ring = append(ring, [2]int{0, 5}, [2]int{2, 7}, [2]int{3, 8})

	rng := rand.New(rand.NewSource(1))
	mid := [][2]int{}
	for i := 1; i < 1000; i++ { // a random spanning tree keeps it connected
		mid = append(mid, [2]int{rng.Intn(i), i})
	}
	for len(mid) < 2000 {
		mid = append(mid, [2]int{rng.Intn(1000), rng.Intn(1000)})
	}
	n := func(v int) int { return max(1, int(float64(v)*scale)) }
	ws := []*workload{
		{Name: "degree-centrality, 10 nodes", Kernel: "graph/degree-centrality", Nodes: 10, Edges: ring, NC1: n(2000), NHigh: n(10000)},
		{Name: "betweenness, 1,000 nodes", Kernel: "graph/betweenness-centrality", Nodes: 1000, Edges: mid, NC1: n(20), NHigh: n(128)},
	}
	for _, w := range ws {
		if err := w.build(); err != nil {
			panic(err)
		}
	}
	return ws
}

func (w *workload) inputMap() map[string]any {
	edges := make([]any, len(w.Edges))
	for i, e := range w.Edges {
		edges[i] = []any{e[0], e[1]}
	}
	return map[string]any{"num_nodes": w.Nodes, "edges": edges}
}

func (w *workload) build() error {
	st, err := structpb.NewStruct(w.inputMap())
	if err != nil {
		return err
	}
	w.grpcReq, err = proto.Marshal(&gokernelsv1.ExecuteRequest{
		KernelId: w.Kernel,
		Payload:  &gokernelsv1.ExecuteRequest_Input{Input: st},
	})
	if err != nil {
		return err
	}
	w.restBody, err = json.Marshal(map[string]any{"kernel_id": w.Kernel, "input": w.inputMap()})
	if err != nil {
		return err
	}
	k, ok := kernelRegistry().Get(w.Kernel)
	if !ok {
		return fmt.Errorf("no kernel %s", w.Kernel)
	}
	in := k.NewInput()
	if err := jsoninput.FromStruct(st, in); err != nil {
		return err
	}
	// A generated client sends the edges in their binary form,
	// packed_edges, not as the JSON form's ListValues.
	m := in.ProtoReflect()
	fds := m.Descriptor().Fields()
	m.Clear(fds.ByName("edges"))
	packed := m.Mutable(fds.ByName("packed_edges")).List()
	for _, e := range w.Edges {
		packed.Append(protoreflect.ValueOfInt32(int32(e[0])))
		packed.Append(protoreflect.ValueOfInt32(int32(e[1])))
	}
	a, err := anypb.New(in)
	if err != nil {
		return err
	}
	w.typedReq, err = proto.Marshal(&gokernelsv1.ExecuteRequest{
		KernelId: w.Kernel,
		Payload:  &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a},
	})
	return err
}

var (
	regOnce sync.Once
	reg     *registry.Registry
)

func kernelRegistry() *registry.Registry {
	regOnce.Do(func() {
		var err error
		if reg, err = catalog.New(); err != nil {
			panic(err)
		}
	})
	return reg
}

func (w *workload) request() *gokernelsv1.ExecuteRequest { return unmarshalRequest(w.grpcReq) }

func (w *workload) typedRequest() *gokernelsv1.ExecuteRequest { return unmarshalRequest(w.typedReq) }

func unmarshalRequest(b []byte) *gokernelsv1.ExecuteRequest {
	var r gokernelsv1.ExecuteRequest
	if err := proto.Unmarshal(b, &r); err != nil {
		panic(fmt.Sprint("workload request: ", err))
	}
	return &r
}
