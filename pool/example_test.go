package pool_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/pool"
)

// Run a kernel in process: degree centrality of a path 0-1-2-3.
func Example() {
	reg, err := catalog.New()
	if err != nil {
		panic(err)
	}
	p, err := pool.New(reg, pool.Config{Workers: 2, MailboxCapacity: 100, DefaultTimeout: 10 * time.Second})
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())
	out, err := p.ExecuteJSON(context.Background(), "graph/degree-centrality",
		[]byte(`{"num_nodes": 4, "edges": [[0, 1], [1, 2], [2, 3]]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: {"scores":[0.3333333333333333,0.6666666666666666,0.6666666666666666,0.3333333333333333]}
}
