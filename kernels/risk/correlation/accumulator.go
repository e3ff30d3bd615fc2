package correlation

import "fmt"

// Accumulator maintains the correlation matrix of a stream of observations
// (one return per series at each step) in O(n²) per update and O(n²) memory,
// independent of the stream length — what a ring kernel keeps between
// messages. It uses the multivariate Welford/Chan update of the co-moments,
// which stays accurate where the naive Σxy − n·x̄·ȳ would cancel. The data
// are shifted by the first observation (exactly, for nearby values) so that a
// large common level, such as prices around 1000, costs no precision either.
type Accumulator struct {
	n     int
	count int
	shift []float64 // the first observation
	mean  []float64 // mean of the shifted data
	m2    []float64 // co-moments Σ (x_i − x̄_i)(x_j − x̄_j), row-major n×n
	delta []float64 // scratch
}

// NewAccumulator returns an empty accumulator for n series.
func NewAccumulator(n int) *Accumulator {
	return &Accumulator{n: n, shift: make([]float64, n), mean: make([]float64, n), m2: make([]float64, n*n), delta: make([]float64, n)}
}

// Count is the number of observations added.
func (a *Accumulator) Count() int { return a.count }

// Add adds one observation vector (len n).
func (a *Accumulator) Add(obs []float64) error {
	if len(obs) != a.n {
		return fmt.Errorf("observation has %d values, want %d", len(obs), a.n)
	}
	if a.count == 0 {
		copy(a.shift, obs)
	}
	a.count++
	inv := 1 / float64(a.count)
	for i, x := range obs {
		a.delta[i] = (x - a.shift[i]) - a.mean[i] // deviation from the old mean
		a.mean[i] += a.delta[i] * inv
	}
	for i := range a.n {
		di := a.delta[i]
		row := a.m2[i*a.n : (i+1)*a.n]
		for j := i; j < a.n; j++ {
			// (y_i − old ȳ_i)·(y_j − new ȳ_j), y = x − shift
			row[j] += di * ((obs[j] - a.shift[j]) - a.mean[j])
		}
	}
	return nil
}

// Result returns the current correlation matrix and moments (needs at least
// two observations).
func (a *Accumulator) Result() (*Result, error) {
	if a.count < 2 {
		return nil, fmt.Errorf("correlation needs at least 2 observations, have %d", a.count)
	}
	n := a.n
	cov := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			c := a.m2[i*n+j] / float64(a.count-1)
			cov[i*n+j], cov[j*n+i] = c, c
		}
	}
	r := &Result{N: n, Corr: make([]float64, n*n), Means: make([]float64, n), StdDevs: make([]float64, n)}
	for i := range n {
		r.Means[i] = a.shift[i] + a.mean[i]
	}
	Fill(r, cov)
	return r, nil
}
