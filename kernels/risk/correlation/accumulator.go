package correlation

import "fmt"

// Accumulator maintains the correlation matrix of a stream of observations
// (one return per series at each step) in O(n²) per update and O(n²) memory,
// independent of the stream length — what a ring kernel keeps between
// messages. It uses the multivariate Welford/Chan update of the co-moments,
// which stays accurate where the naive Σxy − n·x̄·ȳ would cancel. The data
// are shifted by the first observation (exactly, for nearby values) so that a
// large common level, such as prices around 1000, costs no precision either.
//
// Its fields are exported so a ring can save it (encoding/json writes every
// float64 in its shortest exact form, so a round trip is lossless).
type Accumulator struct {
	N     int       `json:"n"`
	Count int       `json:"count"`
	Shift []float64 `json:"shift"` // the first observation
	Mean  []float64 `json:"mean"`  // mean of the shifted data
	M2    []float64 `json:"m2"`    // co-moments Σ (x_i − x̄_i)(x_j − x̄_j), upper triangle of row-major n×n
	delta []float64 // scratch
}

// NewAccumulator returns an empty accumulator for n series.
func NewAccumulator(n int) *Accumulator {
	return &Accumulator{N: n, Shift: make([]float64, n), Mean: make([]float64, n), M2: make([]float64, n*n), delta: make([]float64, n)}
}

// Add adds one observation vector (len n).
func (a *Accumulator) Add(obs []float64) error {
	if len(obs) != a.N {
		return fmt.Errorf("observation has %d values, want %d", len(obs), a.N)
	}
	if len(a.delta) != a.N {
		a.delta = make([]float64, a.N)
	}
	if a.Count == 0 {
		copy(a.Shift, obs)
	}
	a.Count++
	inv := 1 / float64(a.Count)
	for i, x := range obs {
		a.delta[i] = (x - a.Shift[i]) - a.Mean[i] // deviation from the old mean
		a.Mean[i] += a.delta[i] * inv
	}
	for i := range a.N {
		di := a.delta[i]
		row := a.M2[i*a.N : (i+1)*a.N]
		for j := i; j < a.N; j++ {
			// (y_i − old ȳ_i)·(y_j − new ȳ_j), y = x − shift
			row[j] += di * ((obs[j] - a.Shift[j]) - a.Mean[j])
		}
	}
	return nil
}

// Remove takes back an observation added earlier (a sliding window's
// oldest): the Welford update run backwards. With m the mean after and m'
// the mean without obs, adding obs to the rest added (obs−m')(obs−m)ᵀ to
// the co-moments, which Remove subtracts. At least two observations must
// remain. Rounding accumulates over many removals; a window rebuilds from
// its observations now and then (see risk's correlation ring).
func (a *Accumulator) Remove(obs []float64) error {
	if len(obs) != a.N {
		return fmt.Errorf("observation has %d values, want %d", len(obs), a.N)
	}
	if a.Count < 3 {
		return fmt.Errorf("remove needs at least 3 observations, have %d", a.Count)
	}
	if len(a.delta) != a.N {
		a.delta = make([]float64, a.N)
	}
	inv := 1 / float64(a.Count-1)
	after := make([]float64, a.N) // y − m, m the mean with obs
	for i, x := range obs {
		y := x - a.Shift[i]
		after[i] = y - a.Mean[i]
		a.Mean[i] -= after[i] * inv // m' = m − (y − m)/(c − 1)
		a.delta[i] = y - a.Mean[i]  // y − m'
	}
	a.Count--
	for i := range a.N {
		di := a.delta[i]
		row := a.M2[i*a.N : (i+1)*a.N]
		for j := i; j < a.N; j++ {
			row[j] -= di * after[j]
		}
	}
	return nil
}

// Result returns the current correlation matrix and moments (needs at least
// two observations).
func (a *Accumulator) Result() (*Result, error) {
	if a.Count < 2 {
		return nil, fmt.Errorf("correlation needs at least 2 observations, have %d", a.Count)
	}
	n := a.N
	cov := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			c := a.M2[i*n+j] / float64(a.Count-1)
			cov[i*n+j], cov[j*n+i] = c, c
		}
	}
	r := &Result{N: n, Corr: make([]float64, n*n), Means: make([]float64, n), StdDevs: make([]float64, n)}
	for i := range n {
		r.Means[i] = a.Shift[i] + a.Mean[i]
	}
	Fill(r, cov)
	return r, nil
}
