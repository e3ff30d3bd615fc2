// Defaults and helpers shared by the graph kernels.

package graph

import (
	"context"

	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// batchAndRing are the modes of kernels that also run as Ring actors.
var batchAndRing = []registry.Mode{registry.Batch, registry.Ring}

// iterations returns an optional max_iterations value or its default,
// within the server's iteration cap.
func iterations(ctx context.Context, v *int32, def int) (int, error) {
	n := def
	if v != nil {
		n = int(*v)
	}
	if err := limits.Check("max_iterations", n, limits.From(ctx).MaxIterations); err != nil {
		return 0, err
	}
	return n, nil
}

// Defaults of the optional parameters, as the proto comments state them.
const (
	defaultResolution    = 1.0
	defaultThreshold     = 1e-7 // nx.community.louvain_communities
	defaultLPAIterations = 1000
	defaultTopK          = 10
	defaultJSBase        = 2.0
	defaultK             = 3
	defaultMaxCliques    = 1000
	defaultMinSpokes     = 3
	defaultNegativeSlope = 0.2 // Veličković et al.
)
