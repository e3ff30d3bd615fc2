package cuda

import (
	"context"
	"errors"
	"fmt"
)

// DeviceInfo is what discovery learns about one GPU.
type DeviceInfo struct {
	Ordinal      int
	Name         string
	Major, Minor int   // compute capability
	TotalMem     int64 // bytes
	SMs          int   // streaming multiprocessors
}

// ComputeCapability is "major.minor".
func (d DeviceInfo) ComputeCapability() string { return fmt.Sprintf("%d.%d", d.Major, d.Minor) }

// TransferStats are cumulative host↔device copy counters of a device.
type TransferStats struct {
	HtoDBytes, DtoHBytes     int64
	HtoDSeconds, DtoHSeconds float64
	Launches                 int64
}

// Device is one GPU as the backend sees it: the real one (package
// cuda/gpu, built with -tags cuda), or an emulation in tests. All methods
// are safe for concurrent use; the real device serialises work on its actor
// goroutine.
type Device interface {
	Info() DeviceInfo
	// MemInfo is the driver's view of the device memory (all processes).
	MemInfo() (free, total int64, err error)
	Stats() TransferStats
	Close() error
	Kernels
}

// Kernels are the device primitives the GPU implementations are built from.
// Inputs are host slices that have already been validated the way the CPU
// path validates them; each call copies what it needs to the device, runs
// and copies the results back. A failure of the device itself is returned
// as a *DeviceError; a cancelled ctx as ctx.Err().
type Kernels interface {
	PageRank(ctx context.Context, j *PageRankJob) (*PageRankResult, error)
	// Betweenness returns the raw (unscaled) Brandes sums of an unweighted
	// graph, sources 0..n-1.
	Betweenness(ctx context.Context, j *BetweennessJob) ([]float64, error)
	Degree(ctx context.Context, j *DegreeJob) ([]float64, error)
	// WeakComponents returns, for each node, the smallest node id of its
	// weakly connected component.
	WeakComponents(ctx context.Context, n int, src, dst []int32) ([]int32, error)
	// Triangles counts, for each node, the triangles through it, given the
	// oriented adjacency (each neighbour ranked above its node, ascending).
	Triangles(ctx context.Context, optr, oidx []int32) ([]int64, error)
	KMeans(ctx context.Context, j *KMeansJob) (*KMeansResult, error)
	MonteCarlo(ctx context.Context, j *MonteCarloJob) (*MonteCarloResult, error)
	// Covariance returns the n×n matrix X·Xᵀ/(t−1) of the rows of the
	// row-major n×t matrix centred.
	Covariance(ctx context.Context, centred []float64, n, t int) ([]float64, error)
}

// PageRankJob is one PageRank power iteration over the in-adjacency.
type PageRankJob struct {
	N        int
	InPtr    []int32
	InIdx    []int32
	InW      []float64 // nil when unweighted
	Inv      []float64 // 1 / out-strength, 0 for dangling nodes
	Dangling []int32
	Damping  float64
	MaxIter  int
	Tol      float64
}

// PageRankResult is the last iterate.
type PageRankResult struct {
	Scores     []float64
	Iterations int
	Converged  bool
}

// BetweennessJob is Brandes over the out-adjacency of an unweighted graph.
type BetweennessJob struct {
	N   int
	Ptr []int32
	Idx []int32
}

// DegreeJob computes degree centrality from the CSR adjacency.
type DegreeJob struct {
	N        int
	Directed bool
	Mode     int // 0 total, 1 in, 2 out (centrality.DegreeMode)
	Ptr      []int32
	Idx      []int32
	InPtr    []int32 // directed graphs
	Scale    float64 // 1/(n-1)
}

// KMeansJob is a full k-means fit: n_init k-means++ seedings (or the given
// initial centres) followed by Lloyd iterations.
type KMeansJob struct {
	Data    []float64 // n×d row-major
	N, D, K int
	MaxIter int
	Tol     float64 // absolute tolerance (already relative × mean variance)
	NInit   int
	Seed    uint64
	Init    []float64 // optional K×D
}

// KMeansResult is the best run (lowest inertia, first on ties).
type KMeansResult struct {
	Labels     []int32
	Centroids  []float64
	Inertia    float64
	Iterations int
	Converged  bool
}

// MonteCarloJob simulates pnl[p] = Drift + Σ_j Loading[j]·z[p][j] for
// p < Paths with Philox4x64-10 / ziggurat draws addressed by (Seed, p).
type MonteCarloJob struct {
	Seed    uint64
	Drift   float64
	Loading []float64
	Paths   int
	Tail    int // k, the number of worst paths
}

// MonteCarloResult is what the host needs to finish the risk numbers.
type MonteCarloResult struct {
	// BlockSums are the sums of pnl over consecutive blocks of 4096 paths,
	// and BlockSquares the sums of (pnl − mean)² with mean =
	// (Σ BlockSums) / Paths, both in block order.
	BlockSums, BlockSquares []float64
	// TailIdx are the k tail paths in ascending order, TailPnL their P&L.
	TailIdx []int
	TailPnL []float64
	// ZChunkSums are the sums of the tail paths' draws over consecutive
	// chunks of 1024 tail paths: len = chunks × len(Loading), row-major.
	ZChunkSums []float64
}

// DeviceError is a failure of the GPU itself (launch, copy, allocation,
// driver): the request may be retried on the CPU.
type DeviceError struct {
	Device int
	Op     string
	Err    error
	// Sticky errors leave the CUDA context unusable; the device is then
	// taken out of service.
	Sticky bool
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("GPU %d: %s: %v", e.Device, e.Op, e.Err)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// IsDeviceError reports whether err is (or wraps) a *DeviceError.
func IsDeviceError(err error) bool {
	var de *DeviceError
	return errors.As(err, &de)
}
