// Command pool runs gokernels in process with the embeddable pool: no
// server, typed and JSON calls, a full mailbox failing fast.
//
//	go run ./examples/pool
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/pool"
)

func main() {
	reg, err := catalog.New()
	if err != nil {
		log.Fatal(err)
	}
	p, err := pool.New(reg, pool.Config{Workers: 2, MailboxCapacity: 8, DefaultTimeout: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()

	// Typed: the generated input and output messages, the edges in their
	// binary form (packed_edges: [source0, target0, source1, target1, ...]).
	in := &graphv1.PageRankInput{NumNodes: 3, PackedEdges: []int32{0, 1, 1, 2, 2, 0}, Directed: true}
	out, err := pool.Run[*graphv1.PageRankInput, *graphv1.PageRankOutput](ctx, p, "graph/pagerank", in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pagerank:", out.GetScores())

	// JSON: the REST shape.
	js, err := p.ExecuteJSON(ctx, "graph/degree-centrality", []byte(`{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("degree:", string(js))

	if _, err := p.Execute(ctx, "graph/nope", in); errors.Is(err, pool.ErrKernelNotFound) {
		fmt.Println("unknown kernel:", err)
	}
	fmt.Printf("stats: %+v\n", p.Stats())
}
